import { describe, expect, it } from 'vitest';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { DirectoryPerson, IdentityDirectory } from '../../../shared/identity/identity-directory.js';
import { grantEndedBy, signInEndedBy } from '../../../shared/identity/person-account.js';
import { accountFinder } from '../../../shared/sso/find-account.js';
import { InMemoryAudit, TestClock } from '../../support/in-memory-identity.js';

/**
 * Review R44 F1: the provider's account lookup (at the authorization endpoint and its resume, the token
 * endpoint and userinfo) refuses every sign-in made before a takeover or a reset ended the account's
 * sign-ins, from the account it reads anyway; an account without that mark (every one before this change)
 * refuses none.
 */
const endedAt = '2026-03-01T08:00:10.500Z';
const markSecond = Math.floor(Date.parse(endedAt) / 1000);
const marked: DirectoryPerson = {
  id: 'acc_owner',
  name: '王小明',
  acr: 'urn:elicence:loa:2',
  version: 7,
  signInsEnded: { at: endedAt, version: 7 },
};
const unmarked: DirectoryPerson = { id: 'acc_owner', name: '王小明', acr: 'urn:elicence:loa:2', version: 4 };

function finder(person: DirectoryPerson) {
  const directory = { findPerson: async () => person } as unknown as IdentityDirectory;
  return accountFinder(directory, (id) => `pairwise-${id}`, {
    audit: new InMemoryAudit(),
    clock: new TestClock(),
  });
}

function context(oidc: { route?: string; session?: Record<string, unknown>; result?: unknown }) {
  return { oidc: { client: { clientId: 'platform' }, ...oidc } } as unknown as KoaContextWithOIDC;
}

describe('sign-ins made before the account’s sign-ins were ended', () => {
  it('a code, refresh or access token of an earlier second gets nothing; one of that second or later does', async () => {
    const find = finder(marked);
    const lookup = (token: object) => find(context({ route: 'token' }), 'acc_owner', token as never);
    expect(await lookup({ authTime: markSecond - 1 })).toBeUndefined();
    expect(await lookup({ extra: { auth_time: markSecond - 3600 } })).toBeUndefined();
    // The owner's own sign-in by the reset falls in the mark's second, or later.
    expect(await lookup({ authTime: markSecond })).toMatchObject({ accountId: 'acc_owner' });
    expect(await lookup({ extra: { auth_time: markSecond + 60 } })).toMatchObject({ accountId: 'acc_owner' });
    // A token that does not say when its person signed in was made before the mark was kept.
    expect(await lookup({})).toBeUndefined();
  });

  it('a session signed in before asks for a sign-in again', async () => {
    const find = finder(marked);
    const at = (loginTs: number) =>
      find(context({ route: 'authorization', session: { accountId: 'acc_owner', loginTs } }), 'acc_owner');
    expect(await at(markSecond - 1)).toBeUndefined();
    expect(await at(markSecond + 1)).toMatchObject({ accountId: 'acc_owner' });
  });

  it('a step resumed after is judged by the account version it checked, and leaves the session signed out', async () => {
    const find = finder(marked);
    const resume = (login: Record<string, unknown>) => {
      // The provider's resume has made the result the session's already (its `ts`, or now).
      const session: Record<string, unknown> = {
        accountId: 'acc_owner',
        loginTs: login['ts'] ?? markSecond + 5,
      };
      return { session, ctx: context({ route: 'resume', session, result: { login } }) };
    };
    // Typed before the reset, in the same second as its mark: refused, whatever the clock.
    const before = resume({ accountId: 'acc_owner', ts: markSecond, version: 6 });
    expect(await find(before.ctx, 'acc_owner')).toBeUndefined();
    expect(before.session).toEqual({});
    // The reset's own sign-in (the version it saved), in that same second: signed in.
    const own = resume({ accountId: 'acc_owner', ts: markSecond, version: 7 });
    expect(await find(own.ctx, 'acc_owner')).toMatchObject({ accountId: 'acc_owner' });
    expect(own.session).toMatchObject({ accountId: 'acc_owner', loginTs: markSecond });
    // A result saved before this change (no time, no version) could be from before the mark: refused.
    expect(await find(resume({ accountId: 'acc_owner' }).ctx, 'acc_owner')).toBeUndefined();
  });

  it('an account without the mark refuses nothing: sessions and tokens made before this change go on', async () => {
    const find = finder(unmarked);
    expect(await find(context({ route: 'token' }), 'acc_owner', {} as never)).toMatchObject({
      accountId: 'acc_owner',
    });
    expect(
      await find(
        context({
          route: 'resume',
          session: { accountId: 'acc_owner' },
          result: { login: { accountId: 'acc_owner' } },
        }),
        'acc_owner',
      ),
    ).toMatchObject({ accountId: 'acc_owner' });
    expect(signInEndedBy({ ts: 1 }, undefined)).toBe(false);
  });
});

describe('grants made before the account’s sign-ins were ended (review R58 L1)', () => {
  const mark = { at: '2026-05-28T20:26:41.500Z', version: 7 };
  const second = Math.floor(Date.parse(mark.at) / 1000);

  it('takes a grant of the mark’s own second by the millisecond it was made', () => {
    expect(grantEndedBy({ iat: second, madeAt: Date.parse(mark.at) - 1 }, mark)).toBe(true);
    expect(grantEndedBy({ iat: second, madeAt: Date.parse(mark.at) }, mark)).toBe(false);
    expect(grantEndedBy({ iat: second, madeAt: Date.parse(mark.at) + 300 }, mark)).toBe(false);
  });

  it('takes one kept without its millisecond by its second, the mark’s own included; none without a mark', () => {
    expect(grantEndedBy({ iat: second }, mark)).toBe(true);
    expect(grantEndedBy({ iat: second + 1 }, mark)).toBe(false);
    expect(grantEndedBy({}, mark)).toBe(true);
    expect(grantEndedBy({ iat: second - 5 }, undefined)).toBe(false);
  });
});
