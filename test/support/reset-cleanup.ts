import type { buildDependencies } from '../../functions/composition/dependencies.js';
import {
  accounts as accountsFactory,
  platformConsents as platformConsentsFactory,
} from '../../functions/composition/factories.js';
import { parseIdNumber } from '../../shared/identifiers/id-number.js';
import { personLookupKey } from '../../shared/identifiers/lookup-key.js';
import type { AccountStore } from '../../shared/identity/account-store.js';
import type { PlatformConsents } from '../../shared/identity/sign-in-revocation.js';
import { phoneDigest } from '../../shared/identity/sms-codes.js';
import { CarrierOfNumbers, outbox } from './in-memory-sms.js';
import {
  authorizationRequest,
  callbackOf,
  demoPlatform,
  exchange,
  runFlow,
  type RelyingParty,
} from './oidc-flows.js';
import { startTestRuntime, withRuntimeDeps, type TestRuntime } from './runtime.js';
import { openAccount, putInRegistry, uidOf, walletToken } from './sharing-flows.js';
import { UserAgent } from './user-agent.js';

/** What the runtime of {@link failingCleanupRuntime} fails next, on request. */
export interface CleanupFaults {
  /** The next withdrawal of an account's consents fails: a reset's clean-up dies at its first step. */
  failWithdrawal: boolean;
  /** So many of the next saves that take a clean-up's mark off fail. */
  failUnmarking: number;
}

/** The runtime's own consents, failing the next withdrawal on request: the reset's clean-up dies there. */
function faultyConsents(consents: PlatformConsents, faults: CleanupFaults): PlatformConsents {
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
function faultyAccounts(accounts: AccountStore, faults: CleanupFaults): AccountStore {
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

/**
 * A runtime for the tests of a reset's mark and its clean-up, started by `startRuntime` with the demo
 * platform (`start()` in `beforeAll`, then the runtime's `close()` in `afterAll`), and what every one of
 * them does with it: a browser that stops at the demo platform's and the wallet's callbacks, the
 * runtime's dependencies for a piece of work, the provider's userinfo and a person's account id.
 */
export function resetTestRuntime(startRuntime: () => Promise<TestRuntime>) {
  let started: { runtime: TestRuntime; platform: RelyingParty } | undefined;
  const current = () => {
    if (!started) throw new Error('the reset test runtime is not started');
    return started;
  };
  const browser = () => {
    const { baseUrl } = current().runtime;
    return new UserAgent(baseUrl, [`${baseUrl}/demo/callback`, `${baseUrl}/wallet/callback`]);
  };
  const withDeps = <T>(work: (deps: ReturnType<typeof buildDependencies>) => Promise<T>): Promise<T> =>
    withRuntimeDeps(current().runtime, work);
  return {
    current,
    browser,
    withDeps,

    async start(): Promise<{ runtime: TestRuntime; platform: RelyingParty }> {
      const runtime = await startRuntime();
      try {
        started = { runtime, platform: await demoPlatform(runtime) };
      } catch (error) {
        await runtime.close();
        throw error;
      }
      return started;
    },

    /** The provider's userinfo, asked with `token`. */
    async userinfo(token: string) {
      const discovery = await fetch(`${current().runtime.baseUrl}/.well-known/openid-configuration`);
      const { userinfo_endpoint: endpoint } = (await discovery.json()) as { userinfo_endpoint: string };
      return fetch(endpoint, { headers: { authorization: `Bearer ${token}` } });
    },

    /** The id of the account of the person numbered `idNumber`. */
    accountIdOf(idNumber: string): Promise<string> {
      return withDeps(async (deps) => {
        const key = await personLookupKey(deps.lookupMac, parseIdNumber(idNumber, new Date()));
        return (await deps.accounts.findByLookupKey(key))!.id;
      });
    },
  };
}

/**
 * The local runtime of the tests of a reset whose clean-up fails after the account's save (the reconciler
 * finishing it, the mark refusing what came before meanwhile), and their flows. Its reconciler takes
 * pending work at once (`PENDING_WORK_AGE_SECONDS` 0); its carrier knows the phones `carrier` is given;
 * `faults` fails the clean-up's consents or its mark's write on request. `start()` in `beforeAll`, then
 * the runtime's `close()` in `afterAll`.
 */
export function failingCleanupRuntime() {
  const faults: CleanupFaults = { failWithdrawal: false, failUnmarking: 0 };
  const carrier = new CarrierOfNumbers();
  const base = resetTestRuntime(() =>
    startTestRuntime(
      undefined,
      { PENDING_WORK_AGE_SECONDS: '0' },
      {
        carrier: (operator) => carrier.using(operator.lookupMac),
        platformConsents: (operator) => faultyConsents(platformConsentsFactory(operator), faults),
        accounts: (operator) => faultyAccounts(accountsFactory(operator), faults),
      },
    ),
  );
  const { current, browser, withDeps } = base;
  return {
    faults,
    carrier,
    browser,
    withDeps,
    start: base.start,
    userinfo: base.userinfo,

    /** A sign-in by password at the demo platform: its tokens, and the wallet's token of the same session. */
    async signedIn(person: { idNumber: string; password: string }) {
      const { runtime, platform } = current();
      const ua = browser();
      const request = await authorizationRequest(platform, { scope: 'openid profile' });
      const { callback } = await callbackOf(ua, request.url, {
        username: person.idNumber,
        password: person.password,
      });
      const platformTokens = await exchange(platform, request, callback);
      return { ua, platform: platformTokens.access_token, wallet: await walletToken(runtime, ua) };
    },

    /** The owner's reset page open and its code sent: where to post, and what. */
    async resetPage(owner: { idNumber: string; phone: string }) {
      const { runtime, platform } = current();
      const ua = browser();
      const atLogin = await runFlow(ua, (await authorizationRequest(platform)).url, {});
      const url = new URL(`/interaction/${uidOf(atLogin.page!.html)}/reset`, runtime.baseUrl);
      const fields = { idNumber: owner.idNumber, phone: owner.phone };
      await ua.navigate(url, { form: { ...fields, send: '1' } });
      const code = (await outbox(runtime)).filter((m) => m.to === owner.phone).at(-1)?.code;
      return {
        submit: (password: string) =>
          ua.request(url.pathname, { form: { ...fields, code: code!, password } }),
      };
    },

    /**
     * The owner's account opened and proven at a counter with their phone (level 3: a password sign-in
     * reaches it), so that the phone resets the password (no takeover): its id, and a read of it.
     */
    async provenOwner(owner: { idNumber: string; name: string; phone: string; password: string }) {
      const { runtime } = current();
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
      return { accountId, accountOf };
    },
  };
}
