import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseIdNumber } from '../../../shared/identifiers/id-number.js';
import { personLookupKey } from '../../../shared/identifiers/lookup-key.js';
import { finishOwedCleanup } from '../../../shared/identity/owed-cleanup.js';
import {
  authorizationRequest,
  runFlow,
  sessionOf,
  signIn,
  walletPlatform,
  type RelyingParty,
} from '../../support/oidc-flows.js';
import { asReconciler } from '../../support/reset-mark.js';
import { UserAgent } from '../../support/user-agent.js';
import { approverOf } from '../../../shared/web/wallet/scan-login-approver.js';
import { withRuntimeDeps, type TestRuntime } from '../../support/runtime.js';
import {
  answerScan,
  pollScan,
  showSignIn,
  startScanLoginRuntime,
  walletSignedIn,
} from '../../support/scan-login.js';

/**
 * Review R67-1: an intruder who knew the old password signed in to the wallet in second S; the owner's
 * reset marked the account at S.999 and its clean-up failed (owed). After the mark, the intruder's own
 * desktop showed a platform's sign-in and the wallet confirmed its QR code (its sign-in, of the mark's
 * second, counts as after the mark). The reconciler then ended the wallet's session and took the mark off;
 * the desktop went on afterwards and got a session dated S, which nothing would ever end: silent sign-ins
 * at every platform, and the wallet at that desktop.
 */
let runtime: TestRuntime;
let rp: RelyingParty;
beforeAll(async () => {
  ({ runtime, rp } = await startScanLoginRuntime(120, 1));
});
afterAll(() => runtime?.close());

describe('review R67-1: a scan-to-login confirmed by a wallet sign-in of the mark’s second', () => {
  it('is refused while the clean-up is owed, so no session outlives the reconciler', async () => {
    // The runtime's citizen, at level 3 (a scan-to-login needs it); this file's only test marks them.
    const person = runtime.credentials.citizen;
    // The intruder, who knows the password, signs in to the wallet in second S.
    const wallet = await walletSignedIn(runtime, person.idNumber, person.password);
    const loginTs = (await sessionOf(runtime, wallet)).payload.loginTs as number;
    const at = new Date(loginTs * 1000 + 999);
    // The owner's reset marks the account at S.999; its clean-up failed after the save (owed).
    const accountId = await withRuntimeDeps(runtime, async (deps) => {
      const key = await personLookupKey(deps.lookupMac, parseIdNumber(person.idNumber, new Date()));
      const account = (await deps.accounts.findByLookupKey(key))!;
      await deps.accounts.save({
        ...account,
        proofCleanup: {},
        signInsEnded: { at: at.toISOString(), version: account.version + 1 },
      });
      return account.id;
    });
    await sleep(1100);
    // After the mark, before the reconciler: the intruder's desktop shows a platform's sign-in, and the
    // wallet answers its QR code. Refused: the wallet is sent to sign in again.
    const shown = await showSignIn(runtime, rp, {});
    const answered = await answerScan(wallet, shown.link, 'confirm');
    expect(answered.status).toBe(303);
    // The reconciler finishes the owed clean-up, with its own IAM grant, and takes the mark off.
    const outcome = await withRuntimeDeps(runtime, (deps) => {
      asReconciler(deps.doc, runtime);
      return finishOwedCleanup(accountId, at.toISOString(), deps);
    });
    expect(outcome).toBe('finished');
    await expect(sessionOf(runtime, wallet)).rejects.toThrow();
    // The desktop goes on: it is not signed in, there or at the platform's next request.
    const done = await pollScan(shown, 'continue');
    expect(done.leftTo).toBeUndefined();
    const again = await authorizationRequest(rp, { prompt: 'none' });
    const silent = await runFlow(shown.browser, again.url);
    expect(silent.callback?.searchParams.get('code') ?? null).toBeNull();
    expect(silent.callback?.searchParams.get('error')).toBe('login_required');
  });

  it('a wallet approving as the reconciler finishes: its session is read after the account', async () => {
    const person = runtime.credentials.citizen;
    // The intruder's wallet sign-in (its access token, bound to its session) in second S.
    const wallet = new UserAgent(runtime.baseUrl, [`${runtime.baseUrl}/wallet/callback`]);
    const answers = { username: person.idNumber, password: person.password };
    const accessToken = (
      await signIn(await walletPlatform(runtime), wallet, answers, { scope: 'openid licences' })
    ).tokens.access_token;
    const loginTs = (await sessionOf(runtime, wallet)).payload.loginTs as number;
    const at = new Date(loginTs * 1000 + 999);
    const accountId = await withRuntimeDeps(runtime, async (deps) => {
      const key = await personLookupKey(deps.lookupMac, parseIdNumber(person.idNumber, new Date()));
      const account = (await deps.accounts.findByLookupKey(key))!;
      await deps.accounts.save({
        ...account,
        proofCleanup: {},
        signInsEnded: { at: at.toISOString(), version: account.version + 1 },
      });
      return account.id;
    });
    await sleep(1100);
    // The reconciler runs to its end just before the approval reads the account (after its token).
    const approver = await withRuntimeDeps(runtime, (deps) => {
      let ran = false;
      const accounts = new Proxy(deps.accounts, {
        get(target, property, receiver) {
          if (property !== 'findById') return Reflect.get(target, property, receiver) as unknown;
          return async (id: string) => {
            if (!ran) {
              ran = true;
              expect(
                await withRuntimeDeps(runtime, (reconciler) => {
                  asReconciler(reconciler.doc, runtime);
                  return finishOwedCleanup(accountId, at.toISOString(), reconciler);
                }),
              ).toBe('finished');
            }
            return target.findById(id);
          };
        },
      });
      const session = { accessToken, accessTokenExpiresAt: 0, idToken: 'x', sub: 'x' };
      return approverOf(session, { accessTokens: deps.accessTokens, accounts, clock: deps.clock });
    });
    expect(approver).toBeUndefined();
  });
});
