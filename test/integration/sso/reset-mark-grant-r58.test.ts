import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDependencies } from '../../../functions/composition/dependencies.js';
import { finishOwedCleanup } from '../../../shared/identity/owed-cleanup.js';
import { parseIdNumber } from '../../../shared/identifiers/id-number.js';
import { personLookupKey } from '../../../shared/identifiers/lookup-key.js';
import type { SharingGrant } from '../../../shared/sharing/authorizations.js';
import { newIdNumber } from '../../support/in-memory-identity.js';
import { CarrierOfNumbers } from '../../support/in-memory-sms.js';
import {
  authorizationRequest,
  callbackOf,
  demoPlatform,
  exchange,
  runFlow,
  type RelyingParty,
} from '../../support/oidc-flows.js';
import type { TestRuntime } from '../../support/runtime.js';
import { openAccount, putInRegistry, startRuntimeWithCarrier } from '../../support/sharing-flows.js';
import { UserAgent } from '../../support/user-agent.js';

/**
 * Review R58 L1: while a reset's clean-up is owed, the provider and the reconciler must agree on the
 * grants of the mark's own second. The provider took a grant by its `iat` (whole seconds) and continued
 * one of the mark's second, while the reconciler then ended it (its bound, the mark's second + 1): the
 * owner's sign-in made just after the reset, in that second, was continued and then withdrawn; an
 * intruder's made just before it was continued until the reconciler ran. A grant now carries the
 * millisecond it was made (`madeAt`), which both compare with the mark's own time.
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

/** A person signed in at the demo platform in `ua`, consent given: the account, and the platform's grant. */
async function signedIn(tag: string) {
  const person = { idNumber: newIdNumber(), name: '测试' + tag, password: 'owner-pass-' + tag };
  await putInRegistry(runtime, person.idNumber, person.name);
  await openAccount(runtime, person);
  const ua = browser();
  const request = await authorizationRequest(platform, { scope: 'openid profile' });
  await callbackOf(ua, request.url, { username: person.idNumber, password: person.password });
  const accountId = await withDeps(async (deps) => {
    const key = await personLookupKey(deps.lookupMac, parseIdNumber(person.idNumber, new Date()));
    return (await deps.accounts.findByLookupKey(key))!.id;
  });
  const grants = await withDeps((deps) => deps.sharingGrants.listOf(accountId));
  expect(grants).toHaveLength(1);
  return { person, ua, accountId, grant: grants[0]! };
}

/** A reset's mark at `at`, its clean-up owed (it failed after the account's save). */
async function markReset(accountId: string, at: Date) {
  await withDeps(async (deps) => {
    const account = (await deps.accounts.findById(accountId))!;
    await deps.accounts.save({
      ...account,
      proofCleanup: {},
      signInsEnded: { at: at.toISOString(), version: account.version + 1 },
    });
  });
}

/** The reconciler finishing the owed clean-up, as its run does (functions/pending-work-reconciler.ts). */
async function reconcile(accountId: string, since: Date) {
  return withDeps((deps) =>
    finishOwedCleanup(accountId, since.toISOString(), {
      accounts: deps.accounts,
      passkeys: deps.passkeys,
      signIns: deps.signIns,
      platformConsents: deps.platformConsents,
    }),
  );
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
    await markReset(accountId, at);

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
    await markReset(accountId, at);

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
