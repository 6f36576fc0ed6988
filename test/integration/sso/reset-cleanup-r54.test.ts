import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDependencies } from '../../../functions/composition/dependencies.js';
import {
  accounts as accountsFactory,
  platformConsents as platformConsentsFactory,
} from '../../../functions/composition/factories.js';
import { parseIdNumber } from '../../../shared/identifiers/id-number.js';
import { personLookupKey } from '../../../shared/identifiers/lookup-key.js';
import type { AccountStore } from '../../../shared/identity/account-store.js';
import type { PlatformConsents } from '../../../shared/identity/sign-in-revocation.js';
import { phoneDigest } from '../../../shared/identity/sms-codes.js';
import { newIdNumber } from '../../support/in-memory-identity.js';
import { CarrierOfNumbers, outbox } from '../../support/in-memory-sms.js';
import { getWithToken } from '../../support/licences.js';
import {
  authorizationRequest,
  callbackOf,
  demoPlatform,
  exchange,
  runFlow,
  type RelyingParty,
} from '../../support/oidc-flows.js';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.js';
import { openAccount, putInRegistry, uidOf, walletToken } from '../../support/sharing-flows.js';
import { UserAgent } from '../../support/user-agent.js';

/**
 * Review R54: the reconciler finishing a reset's owed clean-up (shared/identity/owed-cleanup.ts).
 *
 * - R54-1: it spared every sign-in of the mark's second, which the mark counts as after it only because
 *   the reset's own clean-up ended them all; an intruder signed in within that second, just before the
 *   reset, kept a session and tokens accepted for good once the mark was taken off.
 * - R54-2: the owner signing in again in the browser they had used before continued the grant of before
 *   the reset (the session keeps its grant for the platform), which the reconciler then withdrew: the
 *   owner's fresh sign-in ended.
 */
const faults = { failWithdrawal: false, failUnmarking: 0 };

/** The runtime's own consents, failing the next withdrawal on request: the reset's clean-up dies there. */
function faultyConsents(consents: PlatformConsents): PlatformConsents {
  return {
    withdrawAll: (personId, acting, options) => {
      if (faults.failWithdrawal) {
        faults.failWithdrawal = false;
        return Promise.reject(new Error('injected: the clean-up failed after the reset’s save'));
      }
      return consents.withdrawAll(personId, acting, options);
    },
  };
}

/** The runtime's own accounts, failing the next saves that take a clean-up's mark off, on request. */
function faultyAccounts(accounts: AccountStore): AccountStore {
  return new Proxy(accounts, {
    get(target, property, receiver) {
      if (property !== 'save') return Reflect.get(target, property, receiver) as unknown;
      const save: AccountStore['save'] = (account, ...rest) => {
        if (faults.failUnmarking > 0 && account.proofCleanup === undefined && account.signInsEnded) {
          faults.failUnmarking -= 1;
          return Promise.reject(new Error('injected: the account’s write failed'));
        }
        return target.save(account, ...rest);
      };
      return save;
    },
  });
}

let runtime: TestRuntime;
let platform: RelyingParty;
const carrier = new CarrierOfNumbers();
const browser = () =>
  new UserAgent(runtime.baseUrl, [`${runtime.baseUrl}/demo/callback`, `${runtime.baseUrl}/wallet/callback`]);

beforeAll(async () => {
  runtime = await startTestRuntime(
    undefined,
    { PENDING_WORK_AGE_SECONDS: '0' },
    {
      carrier: (operator) => carrier.using(operator.lookupMac),
      platformConsents: (operator) => faultyConsents(platformConsentsFactory(operator)),
      accounts: (operator) => faultyAccounts(accountsFactory(operator)),
    },
  );
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

/** A sign-in by password at the demo platform: its tokens, and the wallet's token of the same session. */
async function signedIn(person: { idNumber: string; password: string }) {
  const ua = browser();
  const request = await authorizationRequest(platform, { scope: 'openid profile' });
  const { callback } = await callbackOf(ua, request.url, {
    username: person.idNumber,
    password: person.password,
  });
  const platformTokens = await exchange(platform, request, callback);
  return { ua, platform: platformTokens.access_token, wallet: await walletToken(runtime, ua) };
}

/** The owner's reset page open and its code sent: where to post, and what. */
async function resetPage(owner: { idNumber: string; phone: string }) {
  const ua = browser();
  const atLogin = await runFlow(ua, (await authorizationRequest(platform)).url, {});
  const url = new URL(`/interaction/${uidOf(atLogin.page!.html)}/reset`, runtime.baseUrl);
  const fields = { idNumber: owner.idNumber, phone: owner.phone };
  await ua.navigate(url, { form: { ...fields, send: '1' } });
  const code = (await outbox(runtime)).filter((m) => m.to === owner.phone).at(-1)?.code;
  return {
    submit: (password: string) => ua.request(url.pathname, { form: { ...fields, code: code!, password } }),
  };
}

async function userinfo(token: string) {
  const discovery = await fetch(`${runtime.baseUrl}/.well-known/openid-configuration`);
  const { userinfo_endpoint: endpoint } = (await discovery.json()) as { userinfo_endpoint: string };
  return fetch(endpoint, { headers: { authorization: `Bearer ${token}` } });
}

/** An owner at level 3 with a proven phone: their reset is by a code to it. */
async function ownerOf(tag: string, phone: string) {
  const owner = { idNumber: newIdNumber(), name: '测试' + tag, phone, password: 'owner-old-pass-' + tag };
  await putInRegistry(runtime, owner.idNumber, owner.name);
  carrier.add(owner);
  await openAccount(runtime, owner);
  const lookupKey = await withDeps(async (deps) =>
    personLookupKey(deps.lookupMac, parseIdNumber(owner.idNumber, new Date())),
  );
  const accountOf = () => withDeps((deps) => deps.accounts.findByLookupKey(lookupKey));
  const { id: accountId } = (await accountOf())!;
  await withDeps(async (deps) =>
    deps.accounts.save({
      ...(await deps.accounts.findById(accountId))!,
      assurance: 'in-person-verified',
      provenPhone: await phoneDigest(deps.lookupMac, owner.phone),
    }),
  );
  return { owner, accountId, accountOf };
}

describe('review R54: the reconciler finishing a reset’s owed clean-up', () => {
  it('R54-1: ends an intruder’s sign-in made in the mark’s second, just before the reset', async () => {
    const { owner, accountId, accountOf } = await ownerOf('r54a', '+8613900071541');
    // Until the intruder's sign-in and the reset fall in one second (the reset page is ready ahead: the
    // owner is typing the code), each try changing the password again.
    for (let attempt = 0; attempt < 8; attempt++) {
      const page = await resetPage(owner);
      while (Date.now() % 1000 > 20) await sleep(2);
      const intruder = await signedIn(owner);
      faults.failWithdrawal = true;
      const password = `owner-new-pass-r54a-${attempt}`;
      const reset = await page.submit(password);
      faults.failWithdrawal = false;
      owner.password = password;
      expect(reset.status).toBe(500);
      const saved = (await accountOf())!;
      expect(saved.proofCleanup).toBeDefined();
      const markSecond = Math.floor(Date.parse(saved.signInsEnded!.at) / 1000);
      const grants = await withDeps((deps) => deps.sharingGrants.listOf(accountId));
      const sameSecond = grants.some((grant) => grant.grantedAt === markSecond);
      await runtime.runSchedule('pending-work-reconciler');
      expect((await accountOf())!.proofCleanup).toBeUndefined();
      if (!sameSecond) continue;
      // The intruder's sign-in, made before the reset in its second, is gone with the rest.
      expect(await withDeps((deps) => deps.sharingGrants.listOf(accountId))).toEqual([]);
      expect((await userinfo(intruder.platform)).status).toBe(401);
      expect((await getWithToken(runtime, '/me/licences', intruder.wallet)).status).toBe(401);
      const silent = await runFlow(intruder.ua, (await authorizationRequest(platform)).url, {});
      expect(silent.callback).toBeUndefined();
      return;
    }
    throw new Error('the intruder’s sign-in and the reset never fell in one second');
  });

  it('R54-1: a reset whose mark could not be taken off signs no one in, whom the reconciler would sign out', async () => {
    const { owner, accountOf } = await ownerOf('r54c', '+8613900071543');
    const page = await resetPage(owner);
    // The clean-up done, the two writes taking its mark off fail: the reconciler does it again, ending
    // every sign-in of the mark's second, so the reset's own would be ended too.
    faults.failUnmarking = 2;
    const reset = await page.submit('owner-new-pass-r54c');
    const failed = faults.failUnmarking;
    faults.failUnmarking = 0;
    expect(failed).toBe(0);
    // The password is changed: the page says so and sends the owner to sign in with it (no error page
    // leaving them guessing), but signs no one in itself (no redirect to the platform).
    expect(reset.status).toBe(200);
    const answer = await reset.text();
    expect(answer).toContain('您的新密码已生效。请使用新密码登录。');
    expect(answer).toMatch(/<a class="button" id="sign-in" href="\/interaction\/[^"]+"\s*>\s*使用新密码登录/);
    expect((await accountOf())!.proofCleanup).toBeDefined();
    await runtime.runSchedule('pending-work-reconciler');
    expect((await accountOf())!.proofCleanup).toBeUndefined();
    // The password is the new one: the owner signs in with it, and that sign-in stands.
    const after = await signedIn({ idNumber: owner.idNumber, password: 'owner-new-pass-r54c' });
    await runtime.runSchedule('pending-work-reconciler');
    expect((await userinfo(after.platform)).status).toBe(200);
  });

  it('R54-2: the owner signing in again in the same browser keeps that sign-in past the reconciler', async () => {
    const { owner, accountId, accountOf } = await ownerOf('r54b', '+8613900071542');
    const before = await signedIn(owner);
    await sleep(1100);
    const page = await resetPage(owner);
    faults.failWithdrawal = true;
    const reset = await page.submit('owner-new-pass-r54b');
    faults.failWithdrawal = false;
    expect(reset.status).toBe(500);
    const markSecond = Math.floor(Date.parse((await accountOf())!.signInsEnded!.at) / 1000);
    await sleep(1100);
    // The owner, in the browser they had used before, signs in with the new password.
    const request = await authorizationRequest(platform, { scope: 'openid profile' });
    const { callback } = await callbackOf(before.ua, request.url, {
      username: owner.idNumber,
      password: 'owner-new-pass-r54b',
    });
    const tokens = await exchange(platform, request, callback);
    // A grant of its own, made after the reset: the one of before is not continued.
    const grants = await withDeps((deps) => deps.sharingGrants.listOf(accountId));
    expect(grants.filter((grant) => grant.grantedAt > markSecond)).toHaveLength(1);
    expect((await userinfo(tokens.access_token)).status).toBe(200);
    await runtime.runSchedule('pending-work-reconciler');
    expect((await accountOf())!.proofCleanup).toBeUndefined();
    expect((await userinfo(tokens.access_token)).status).toBe(200);
    expect((await userinfo(before.platform)).status).toBe(401);
    const silent = await runFlow(before.ua, (await authorizationRequest(platform)).url, {});
    expect(silent.callback).toBeDefined();
  });
});
