import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SharingGrant } from '../../../shared/sharing/authorizations.js';
import { authorizationRequest, exchange, runFlow, type RelyingParty } from '../../support/oidc-flows.js';
import { resetMarkRuntime } from '../../support/reset-mark.js';
import type { TestRuntime } from '../../support/runtime.js';

/**
 * Review R58 L1: while a reset's clean-up is owed, the provider and the reconciler must agree on the
 * grants of the mark's own second. The provider took a grant by its `iat` (whole seconds) and continued
 * one of the mark's second, while the reconciler then ended it (its bound, the mark's second + 1): the
 * owner's sign-in made just after the reset, in that second, was continued and then withdrawn; an
 * intruder's made just before it was continued until the reconciler ran. A grant now carries the
 * millisecond it was made (`madeAt`), which both compare with the mark's own time.
 */
const marks = resetMarkRuntime();
const { browser, withDeps, userinfo, markOwedReset, reconcile } = marks;
let runtime: TestRuntime;
let platform: RelyingParty;

beforeAll(async () => {
  ({ runtime, platform } = await marks.start());
});
afterAll(() => runtime?.close());

/** A person signed in at the demo platform in `ua`, consent given: the account, and the platform's grant. */
async function signedIn(tag: string) {
  const person = await marks.openedAccount(tag, 'owner-pass-');
  const ua = browser();
  await marks.signInAtDemo(ua, person);
  const accountId = await marks.accountIdOf(person.idNumber);
  const grants = await withDeps((deps) => deps.sharingGrants.listOf(accountId));
  expect(grants).toHaveLength(1);
  return { person, ua, accountId, grant: grants[0]! };
}

const grantsOf = (accountId: string) =>
  withDeps(async (deps) => (await deps.sharingGrants.listOf(accountId)).map((grant) => grant.id));

/** The millisecond `grant` was made, as well as the listing knows it. */
const madeAtOf = (grant: SharingGrant) => (grant as { madeAt?: number }).madeAt;

describe('review R58 L1: the provider and the reconciler agree on a grant of the mark’s own second', () => {
  it('a grant made after the mark, in its second, is continued and outlives the reconciler', async () => {
    const { person, ua, accountId, grant } = await signedIn('r58a');
    // The reset marked the account at the very start of the grant's second: the grant was made after it.
    const at = new Date(grant.grantedAt * 1000);
    await markOwedReset(accountId, at);

    // A second later, the owner signs in again at the platform in that browser (a sign-in of a later
    // second than the mark's, which the reconciler spares): the platform's grant is continued (no consent
    // page asked again).
    await sleep(1100);
    const request = await authorizationRequest(platform, { scope: 'openid profile', prompt: 'login' });
    const flow = await runFlow(ua, request.url, {
      username: person.idNumber,
      password: person.password,
      consent: false,
    });
    expect(flow.stoppedAt).toBeUndefined();
    const tokens = await exchange(platform, request, flow.callback!);
    expect((await userinfo(tokens.access_token)).status).toBe(200);

    // The reconciler spares the grant, and the tokens of it: that sign-in stands.
    expect(await reconcile(accountId, at)).toBe('finished');
    expect(await grantsOf(accountId)).toContain(grant.id);
    expect((await userinfo(tokens.access_token)).status).toBe(200);
  });

  it('a grant made before the mark, in its second, is not continued, and the reconciler ends it', async () => {
    const { person, ua, accountId, grant } = await signedIn('r58b');
    // The reset marked the account just after the grant was made, in the same second.
    const madeAt = madeAtOf(grant);
    const at = new Date(madeAt === undefined ? grant.grantedAt * 1000 + 999 : madeAt + 1);
    expect(Math.floor(at.getTime() / 1000)).toBe(grant.grantedAt);
    await markOwedReset(accountId, at);

    // The platform asks again in that browser: the grant is not continued, so consent is asked again.
    const request = await authorizationRequest(platform, { scope: 'openid profile' });
    const flow = await runFlow(ua, request.url, {
      username: person.idNumber,
      password: person.password,
      consent: false,
    });
    expect(flow.stoppedAt).toBe('consent');

    expect(await reconcile(accountId, at)).toBe('finished');
    expect(await grantsOf(accountId)).not.toContain(grant.id);
  });
});
