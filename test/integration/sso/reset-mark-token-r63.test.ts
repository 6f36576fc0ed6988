import * as client from 'openid-client';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDependencies } from '../../../functions/composition/dependencies.js';
import { finishOwedCleanup } from '../../../shared/identity/owed-cleanup.js';
import { parseIdNumber } from '../../../shared/identifiers/id-number.js';
import { personLookupKey } from '../../../shared/identifiers/lookup-key.js';
import { newIdNumber } from '../../support/in-memory-identity.js';
import { CarrierOfNumbers } from '../../support/in-memory-sms.js';
import {
  adminToken,
  authorizationRequest,
  callbackOf,
  demoPlatform,
  exchange,
  registerPlatform,
  runFlow,
  sessionOf,
  type RelyingParty,
} from '../../support/oidc-flows.js';
import type { TestRuntime } from '../../support/runtime.js';
import { openAccount, putInRegistry, startRuntimeWithCarrier } from '../../support/sharing-flows.js';
import { UserAgent } from '../../support/user-agent.js';

/**
 * Review R63 F1: while a reset's clean-up is owed (it failed after the save), a session of the mark's own
 * second is accepted (review R44: it counts as after the mark), and a grant made after the mark is
 * continued and spared by the reconciler (review R58 L1). An intruder who signed in with the old password
 * in that second could come back before the reconciler ran, get a new grant (made after the mark) and a
 * refresh token from that session, and keep it for good: the reconciler ended the session and the old
 * grant, never the new grant's tokens. It now ends codes and tokens by the sign-in behind them (their
 * `authTime`, an access token's `auth_time`), as it ends sessions: the mark's second included.
 */
let runtime: TestRuntime;
let platform: RelyingParty;
const carrier = new CarrierOfNumbers();
const browser = () => new UserAgent(runtime.baseUrl, [`${runtime.baseUrl}/demo/callback`]);

beforeAll(async () => {
  runtime = await startRuntimeWithCarrier(carrier);
  platform = await demoPlatform(runtime);
});
afterAll(() => runtime?.close());

async function withDeps<T>(work: (deps: ReturnType<typeof buildDependencies>) => Promise<T>): Promise<T> {
  const deps = buildDependencies(runtime.config);
  try {
    return await work(deps);
  } finally {
    deps.doc.destroy();
    deps.kms.destroy();
  }
}

async function userinfo(token: string) {
  const discovery = await fetch(`${runtime.baseUrl}/.well-known/openid-configuration`);
  const { userinfo_endpoint: endpoint } = (await discovery.json()) as { userinfo_endpoint: string };
  return fetch(endpoint, { headers: { authorization: `Bearer ${token}` } });
}

/**
 * An intruder who knows the password signs in at the demo platform in some second; the owner's reset
 * marks the account at the end of that second, and its clean-up fails after the save (owed). Answers the
 * intruder's browser, the account and the mark.
 */
async function intruderThenOwedReset(tag: string) {
  const person = { idNumber: newIdNumber(), name: '测试' + tag, password: 'old-pass-' + tag };
  await putInRegistry(runtime, person.idNumber, person.name);
  await openAccount(runtime, person);
  const intruder = browser();
  const first = await authorizationRequest(platform, { scope: 'openid profile' });
  await callbackOf(intruder, first.url, { username: person.idNumber, password: person.password });
  const loginTs = (await sessionOf(runtime, intruder)).payload.loginTs as number;
  const at = new Date(loginTs * 1000 + 999);
  const accountId = await withDeps(async (deps) => {
    const key = await personLookupKey(deps.lookupMac, parseIdNumber(person.idNumber, new Date()));
    const account = (await deps.accounts.findByLookupKey(key))!;
    await deps.accounts.save({
      ...account,
      proofCleanup: {},
      signInsEnded: { at: at.toISOString(), version: account.version + 1 },
    });
    return account.id;
  });
  // The intruder comes back after the mark, before the reconciler runs.
  await sleep(1100);
  return { intruder, accountId, at };
}

/** The reconciler finishing the owed clean-up, as its run does (functions/pending-work-reconciler.ts). */
function reconcile(accountId: string, at: Date) {
  return withDeps((deps) =>
    finishOwedCleanup(accountId, at.toISOString(), {
      accounts: deps.accounts,
      passkeys: deps.passkeys,
      signIns: deps.signIns,
      platformConsents: deps.platformConsents,
    }),
  );
}

/**
 * The intruder, from the session of the mark's second, asks `rp` for a refresh token (consent asked, so a
 * grant is made after the mark); the tokens work until the reconciler runs, and none of them after it.
 */
async function intruderShutOutAt(rp: RelyingParty, tag: string) {
  const { intruder, accountId, at } = await intruderThenOwedReset(tag);
  const request = await authorizationRequest(rp, {
    scope: 'openid profile offline_access',
    prompt: 'consent',
  });
  const flow = await runFlow(intruder, request.url, { consent: true });
  expect(flow.stoppedAt).toBeUndefined();
  const tokens = await exchange(rp, request, flow.callback!);
  expect(tokens.refresh_token).toBeDefined();
  expect((await userinfo(tokens.access_token)).status).toBe(200);

  expect(await reconcile(accountId, at)).toBe('finished');

  expect((await userinfo(tokens.access_token)).status).toBe(401);
  const refreshed = await client.refreshTokenGrant(rp.config, tokens.refresh_token!).then(
    (answer) => answer.access_token,
    (error: unknown) => (error as { error?: string }).error,
  );
  expect(refreshed).toBe('invalid_grant');
  // Nor does the browser sign in again: its session, of the mark's second, is ended.
  const silent = await authorizationRequest(rp, { scope: 'openid profile', prompt: 'none' });
  const again = await runFlow(intruder, silent.url);
  expect(again.callback?.searchParams.get('error')).toBe('login_required');
}

describe('review R63 F1: a sign-in of the mark’s second gets no token that outlives the reconciler', () => {
  it('at the platform it signed in to: the new grant’s refresh and access tokens end with the session', async () => {
    await intruderShutOutAt(platform, 'r63a');
  });

  it('at another platform, where it had no grant before the reset', async () => {
    const other = await registerPlatform(runtime, await adminToken(runtime), {
      name: 'other r63',
      redirectUris: [`${runtime.baseUrl}/demo/callback`],
      scopes: ['openid', 'profile', 'offline_access'],
    });
    await intruderShutOutAt(other, 'r63b');
  });
});
