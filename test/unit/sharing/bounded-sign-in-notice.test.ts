import { describe, expect, it } from 'vitest';
import { withdrawEveryAuthorization, type StoredGrant } from '../../../shared/sharing/authorizations.js';
import { securityEventClaims, withdrawalEvents } from '../../../shared/sharing/withdrawal-notices.js';
import { TestClock } from '../../support/in-memory-identity.js';
import { InMemorySharingGrants } from '../../support/in-memory-sharing.js';

/**
 * Review R54-2 (b): the reconciler finishing a reset's owed clean-up withdraws the platforms' sign-ins made
 * before the reset's mark and spares the person's since. The platform's notice said only "sign-in
 * withdrawn" for the `sub`, which docs/integrating.md tells the platform to end every session of: the
 * person's new sign-in there, spared by the reconciler, was ended by the platform all the same. A bounded
 * withdrawal's notice now says which sign-ins it ends (`signed_in_before`).
 */
const markSecond = 1_796_000_000;

function world() {
  const clock = new TestClock();
  const grants = new InMemorySharingGrants(clock);
  const clientReader = {
    find: async (clientId: string) =>
      clientId === 'cl_platform'
        ? { client_id: clientId, events_uri: 'https://platform.example/events' }
        : undefined,
  };
  const deps = { sharingGrants: grants, clientReader, clock, subjectAt: async () => 'pairwise-sub' };
  const signIn = (iat: number): StoredGrant => ({
    accountId: 'acc_reset',
    clientId: 'cl_platform',
    openid: { scope: 'openid profile' },
    iat,
    exp: iat + 86_400 * 400,
  });
  return { grants, deps, signIn };
}

describe('a platform’s sign-ins withdrawn by a reset’s clean-up finished later (review R54-2)', () => {
  it('tells the platform which sign-ins ended: those before the bound, the person’s since spared', async () => {
    const { grants, deps, signIn } = world();
    grants.saveGrant('g_before', signIn(markSecond - 30));
    grants.saveGrant('g_since', signIn(markSecond + 5));

    await withdrawEveryAuthorization('acc_reset', deps, undefined, { grantedBefore: markSecond + 1 });

    expect((await grants.listOf('acc_reset')).map((grant) => grant.id)).toEqual(['g_since']);
    const [notice, ...more] = await grants.notices.due(Date.now() + 60_000, 100);
    expect(more).toEqual([]);
    expect(notice).toMatchObject({ grantIds: ['g_before'], signedInBefore: markSecond + 1 });
    const claims = securityEventClaims(notice!, 'https://id.example', markSecond + 60);
    expect(claims.sub).toBe('pairwise-sub');
    expect(claims.events[withdrawalEvents['sign-in-withdrawn']]).toEqual({
      grant_ids: ['g_before'],
      scopes: ['openid', 'profile'],
      signed_in_before: markSecond + 1,
      withdrawn_at: expect.any(Number),
    });
  });

  it('says nothing of a bound for a withdrawal of every sign-in (the person’s, a closure)', async () => {
    const { grants, deps, signIn } = world();
    grants.saveGrant('g_any', signIn(markSecond));
    await withdrawEveryAuthorization('acc_reset', deps);
    const [notice] = await grants.notices.due(Date.now() + 60_000, 100);
    expect(notice?.signedInBefore).toBeUndefined();
    const event = securityEventClaims(notice!, 'https://id.example', markSecond).events[
      withdrawalEvents['sign-in-withdrawn']
    ];
    expect(event).not.toHaveProperty('signed_in_before');
  });
});
