import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RelyingParty } from '../../support/oidc-flows.js';
import { resetMarkRuntime } from '../../support/reset-mark.js';
import type { TestRuntime } from '../../support/runtime.js';

/**
 * Review R63 F1: while a reset's clean-up is owed (it failed after the save), a session of the mark's own
 * second is accepted (review R44: it counts as after the mark), and a grant made after the mark is
 * continued and spared by the reconciler (review R58 L1). An intruder who signed in with the old password
 * in that second could come back before the reconciler ran, get a new grant (made after the mark) and a
 * refresh token from that session, and keep it for good: the reconciler ended the session and the old
 * grant, never the new grant's tokens. It now ends codes and tokens by the sign-in behind them (their
 * `authTime`, an access token's `auth_time`), as it ends sessions: the mark's second included.
 */
const marks = resetMarkRuntime();
const { userinfo, intruderThenOwedReset, offlineTokens, reconcile, refreshWith, silentSignIn } = marks;
let runtime: TestRuntime;
let platform: RelyingParty;

beforeAll(async () => {
  ({ runtime, platform } = await marks.start());
});
afterAll(() => runtime?.close());

/**
 * The intruder, from the session of the mark's second, asks `rp` for a refresh token (consent asked, so a
 * grant is made after the mark); the tokens work until the reconciler runs, and none of them after it.
 */
async function intruderShutOutAt(rp: RelyingParty, tag: string) {
  const { intruder, accountId, at } = await intruderThenOwedReset(tag);
  const tokens = await offlineTokens(intruder, rp);
  expect((await userinfo(tokens.access_token)).status).toBe(200);

  expect(await reconcile(accountId, at)).toBe('finished');

  expect((await userinfo(tokens.access_token)).status).toBe(401);
  expect(await refreshWith(rp, tokens.refresh_token!)).toBe('invalid_grant');
  // Nor does the browser sign in again: its session, of the mark's second, is ended.
  const again = await silentSignIn(intruder, rp);
  expect(again.callback?.searchParams.get('error')).toBe('login_required');
}

describe('review R63 F1: a sign-in of the mark’s second gets no token that outlives the reconciler', () => {
  it('at the platform it signed in to: the new grant’s refresh and access tokens end with the session', async () => {
    await intruderShutOutAt(platform, 'r63a');
  });

  it('at another platform, where it had no grant before the reset', async () => {
    const other = await marks.offlinePlatform('other r63');
    await intruderShutOutAt(other, 'r63b');
  });
});
