import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  citizenAnswers,
  adminToken,
  authorizationRequest,
  callbackOf,
  exchange,
  getWithToken,
  registerPlatform,
  runFlow,
  signIn,
  walletPlatform,
  type RelyingParty,
} from '../../support/oidc-flows.js';
import { licenceAccess } from '../../support/sharing-flows.js';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.js';
import { parseForm, UserAgent } from '../../support/user-agent.js';

/**
 * DynamoDB calls per sign-in, as the embedded DynamoDB counts them (`runtime.dynamo.stats()`): counts, not
 * timings, so exact. Each is what a citizen waits for in AWS, a network round trip apiece. The containers
 * are warm (a flow ran first), as they are for all but the first request of a Lambda container; what a
 * warm container keeps is the client metadata (docs/architecture.md, "Caches"), never a session, grant,
 * token, account or throttle counter.
 */

let runtime: TestRuntime;
let platform: RelyingParty;

async function counted<T>(run: () => Promise<T>): Promise<{ result: T; calls: number; by: string }> {
  const dynamo = runtime.dynamo!;
  dynamo.resetStats();
  const result = await run();
  const stats = dynamo.stats();
  const calls = Object.values(stats).reduce((sum, n) => sum + n, 0);
  return { result, calls, by: JSON.stringify(stats) };
}

beforeAll(async () => {
  runtime = await startTestRuntime();
  platform = await registerPlatform(runtime, await adminToken(runtime), {
    name: '往返 Round trips',
    redirectUris: ['https://round-trips.example/cb'],
    scopes: ['openid', 'profile'],
    // As `npm run bench` registers its platform: no consent page, so the flow is the sign-in itself.
    firstParty: true,
  });
});
afterAll(() => runtime?.close());

/** authorize → (the sign-in page, if no session) → code → token, openid-client as the relying party. */
async function flow(ua: UserAgent, answers: { username?: string; password?: string } = {}) {
  const request = await authorizationRequest(platform, { scope: 'openid profile' });
  const { callback } = await callbackOf(ua, request.url, answers);
  return exchange(platform, request, callback);
}

describe('DynamoDB calls per sign-in (warm containers)', () => {
  const browser = () => new UserAgent(runtime.baseUrl);
  const password = () => citizenAnswers(runtime);
  let signedIn: UserAgent;

  beforeAll(async () => {
    signedIn = browser();
    await flow(signedIn, password()); // warms every container on the way
  });

  // A password login, 10: authorize (none: the interaction is saved in its sealed cookie); the sign-in
  // page (none: the interaction read from its cookie, the scan-to-login code stored only if its QR image
  // is fetched); the password (the three throttle counters claimed in one transaction, ID number claim
  // get, account get, the three counters forgiven in another; the interaction read from and saved to its
  // cookie); resume (the interaction marked used, a conditional put, account get, then the grant, code
  // and session in one batch write before the answer); token (as below, 3).
  it('a password login (authorize, sign-in page, password, code, token) makes at most 10', async () => {
    const { calls, by } = await counted(() => flow(browser(), password()));
    expect(calls, by).toBeLessThanOrEqual(10);
    // The throttle's claims and forgivenesses: one transaction each, however many counters.
    expect(JSON.parse(by)).toMatchObject({ TransactWriteItems: 2 });
  });

  // A single sign-on, 6: authorize (session get; its grant for this client and its account in one batch
  // get; code put); token (the client throttle counter, the code and the session, grant and account its
  // value names, sealed (shared/sso/code-ids.ts), in one batch get; code consumed, conditionally; access
  // token put).
  it('a single sign-on (authorize with the session cookie, code, token) makes at most 6', async () => {
    const { result, calls, by } = await counted(() => flow(signedIn));
    expect(result.claims()?.sub).toBeTypeOf('string');
    expect(calls, by).toBeLessThanOrEqual(6);
  });

  it('a bearer check reads the token once, whichever kind it is', async () => {
    const { access_token: personal } = await flow(signedIn);
    const machine = await adminToken(runtime);
    // The first request of the container also reads each client's registration (kept CLIENT_CACHE_SECONDS).
    for (const token of [personal, machine]) await getWithToken(runtime, '/me/licences', token);
    for (const token of [personal, machine]) {
      // /me/licences wants scope `licences`, which neither has: the answer follows the token read alone.
      const { result, calls, by } = await counted(() => getWithToken(runtime, '/me/licences', token));
      expect([401, 403]).toContain(result.status);
      expect(calls, by).toBe(1);
    }
  });

  // A token bound to its sign-in session (no offline_access) is accepted while that session holds it:
  // its session and grant are read, one BatchGetItem, after the token (one round trip more than a token
  // that outlives the session); when the container does not keep the client's registration yet, that
  // read goes in the same batch rather than one of its own.
  it('a token bound to its session costs one BatchGetItem more, the client’s registration folded into it', async () => {
    const app = async (name: string) =>
      registerPlatform(runtime, await adminToken(runtime), {
        name,
        redirectUris: ['https://round-trips.example/app'],
        scopes: ['openid', 'licences', 'offline_access'],
        firstParty: true,
      });
    const read = (token: string) => counted(() => getWithToken(runtime, '/me/licences', token));
    // Not bound: the sign-in gave offline_access. Its calls, warm, are the route's own and the token's.
    const lasting = await signIn(await app('往返 Lasting'), browser(), password(), {
      scope: 'openid licences offline_access',
      prompt: 'consent',
    });
    await read(lasting.tokens.access_token);
    const unbound = await read(lasting.tokens.access_token);
    expect(unbound.result.status).toBe(200);
    expect(JSON.parse(unbound.by)).not.toHaveProperty('BatchGetItem');
    // Bound, of a client this container has not read yet, then of one it keeps: one call more, either way.
    const bound = (await signIn(await app('往返 Bound'), browser(), password(), { scope: 'openid licences' }))
      .tokens.access_token;
    for (let i = 0; i < 2; i++) {
      const { result, calls, by } = await read(bound);
      expect(result.status).toBe(200);
      expect(JSON.parse(by)).toMatchObject({ BatchGetItem: 1 });
      expect(calls, by).toBe(unbound.calls + 1);
    }
  });
});

describe('DynamoDB calls per withdrawal (DELETE /me/authorizations/{id}, warm containers)', () => {
  let sharing: RelyingParty;
  let token: string;
  const browser = () => new UserAgent(runtime.baseUrl, [`${runtime.baseUrl}/wallet/callback`]);

  beforeAll(async () => {
    sharing = await registerPlatform(runtime, await adminToken(runtime), {
      name: '往返撤回 Round trips',
      redirectUris: ['https://round-trips.example/share'],
      scopes: ['openid', 'profile'],
      authorizationDetailsTypes: ['licence_access'],
    });
    const wallet = await walletPlatform(runtime);
    token = (await signIn(wallet, browser(), citizenAnswers(runtime), { scope: 'openid licences' })).tokens
      .access_token;
  });

  /** The citizen shares their driving licence with the platform: the id of the share to withdraw. */
  async function shared(): Promise<string> {
    await signIn(sharing, browser(), citizenAnswers(runtime), {
      scope: 'openid profile',
      authorization_details: JSON.stringify([licenceAccess(['driving-licence'], '办理往返测试业务')]),
    });
    const listed = await getWithToken(runtime, '/me/authorizations', token);
    const { items } = (await listed.json()) as { items: Array<{ id: string; client: { id: string } }> };
    return items.find((item) => item.client.id === sharing.clientId)!.id;
  }

  const withdraw = (id: string) =>
    fetch(`${runtime.baseUrl}/me/authorizations/${id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${token}` },
    });

  // A share's withdrawal, 12: the token, the grant, the platform's registration (first-party or not, its
  // events endpoint) and the person's pairwise subject read (5 GetItem); the wallet's token is bound to
  // its sign-in session, so that session and the token's grant are read (one BatchGetItem: a logout ends
  // the token at our API, docs/openid-connect.md; 10 before); the share's tokens found and
  // deleted (revokeByGrantId: a Query, then one DeleteItem per item, in parallel: its access and refresh
  // tokens; never a BatchWriteItem, whose puts IAM cannot tell from its deletes, R31 H1); one transaction (the grant deleted, the notice
  // queued, the audit entry's pointer put already claimed for this request); the entry written once (the
  // trail's own transaction) and the pointer removed (DeleteItem). No UpdateItem: the pointer was claimed
  // by a write of its own before (11 with one BatchWriteItem for the tokens, before R31).
  it('a share’s withdrawal makes 12 (its two tokens deleted in parallel), its audit entry’s pointer claimed by its transaction', async () => {
    expect((await withdraw(await shared())).status).toBe(204); // warms the containers on the way
    const id = await shared();
    const { result, calls, by } = await counted(() => withdraw(id));
    expect(result.status).toBe(204);
    expect(JSON.parse(by)).toEqual({
      GetItem: 5,
      BatchGetItem: 1,
      Query: 1,
      TransactWriteItems: 2,
      DeleteItem: 3,
    });
    expect(calls, by).toBe(12);
  });
});

describe('DynamoDB calls per consent resume (a browser already signed in, warm containers)', () => {
  let thirdParty: RelyingParty;
  let signedIn: UserAgent;

  beforeAll(async () => {
    thirdParty = await registerPlatform(runtime, await adminToken(runtime), {
      name: '往返同意 Round trips',
      redirectUris: ['https://round-trips.example/consent'],
      scopes: ['openid', 'profile'],
    });
    signedIn = new UserAgent(runtime.baseUrl);
    await flow(signedIn, citizenAnswers(runtime)); // a provider session, and warm containers
    // Its consent page once (not answered): the client's first consent is the one counted below, no grant
    // of it to read (a second consent reads the grant the first made: one GetItem more).
    await consentPage();
  });

  /** authorize with the session cookie, up to the consent page (not answered). */
  async function consentPage() {
    const request = await authorizationRequest(thirdParty, { scope: 'openid profile', prompt: 'consent' });
    const outcome = await runFlow(signedIn, request.url, { consent: false });
    expect(outcome.stoppedAt).toBe('consent');
    return outcome.page!;
  }

  // The consent answer and its resume in a browser with a provider session, 7 (9 before the session was
  // renewed inside the resume's transaction): the answer (Session GetItem; the new Grant, PutItem); the
  // resume (Session GetItem; the interaction marked used, a conditional PutItem; account GetItem; the
  // Grant GetItem; then the code, the grant and the session, its put conditional on the one held, in one
  // TransactWriteItems before the answer). Nothing of the consent page before it, nor the token after.
  it('the consent answer and its resume make 7', async () => {
    const page = await consentPage();
    const form = parseForm(page.html)!;
    const { result, calls, by } = await counted(() =>
      signedIn.navigate(new URL(form.action, page.url), { form: form.fields }),
    );
    expect(result.leftTo?.href).toContain('https://round-trips.example/consent');
    expect(JSON.parse(by)).toEqual({ GetItem: 4, PutItem: 2, TransactWriteItems: 1 });
    expect(calls, by).toBe(7);
  });
});
