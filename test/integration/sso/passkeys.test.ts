import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newIdNumber } from '../../support/in-memory-identity.js';
import { postJson } from '../../support/http-api.js';
import {
  adminToken,
  authorizationRequest,
  exchange,
  getWithToken,
  registerPlatform,
  runFlow,
  signIn,
  walletPlatform,
  type RelyingParty,
  citizenAnswers,
} from '../../support/oidc-flows.js';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.js';
import { SoftwareAuthenticator } from '../../support/software-authenticator.js';
import { UserAgent } from '../../support/user-agent.js';

/**
 * Passkeys over real HTTP: the holder API's `/me/passkeys` (enrolment at level 3 only) and the sign-in
 * page's passkey endpoints, with a software authenticator answering as the browser's would.
 */
let runtime: TestRuntime;
let platform: RelyingParty;
let citizenToken: string;
let wallet: RelyingParty;
let authenticator: SoftwareAuthenticator;

beforeAll(async () => {
  runtime = await startTestRuntime();
  platform = await registerPlatform(runtime, await adminToken(runtime), {
    name: 'Passkey platform',
    redirectUris: ['https://passkey-rp.example/cb'],
    scopes: ['openid', 'profile', 'licences'],
    firstParty: true,
  });
  // Passkeys are managed in the wallet: the holder API's passkey routes take the wallet's tokens only.
  wallet = await walletPlatform(runtime);
  const { tokens } = await signIn(
    wallet,
    new UserAgent(runtime.baseUrl, [wallet.redirectUri]),
    citizenAnswers(runtime),
    { scope: 'openid licences' },
  );
  citizenToken = tokens.access_token;
  authenticator = new SoftwareAuthenticator(new URL(runtime.baseUrl).origin);
});
afterAll(() => runtime?.close());

/** A DELETE with the citizen's password typed again (removing a passkey asks for it, as enrolling does). */
const del = (path: string, token: string) =>
  fetch(`${runtime.baseUrl}${path}`, {
    method: 'DELETE',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ password: runtime.credentials.citizen.password }),
  });

describe('/me/passkeys', () => {
  it('enrols a passkey for a person signed in at level 3, and lists it', async () => {
    const options = await postJson(runtime, '/me/passkeys/options', citizenToken, {});
    expect(options.status).toBe(200);
    const optionsJson = (await options.json()) as Parameters<SoftwareAuthenticator['register']>[0];
    expect(optionsJson.rp.id).toBe('localhost');
    const enrolled = await postJson(runtime, '/me/passkeys', citizenToken, {
      name: '测试钥匙',
      password: runtime.credentials.citizen.password,
      response: authenticator.register(optionsJson),
    });
    expect(enrolled.status).toBe(201);
    const listed = await getWithToken(runtime, '/me/passkeys', citizenToken);
    const { items } = (await listed.json()) as { items: Array<Record<string, unknown>> };
    expect(items).toEqual([expect.objectContaining({ id: authenticator.credentialId, name: '测试钥匙' })]);
    expect(JSON.stringify(items)).not.toContain('publicKey');
  });

  it('answers bad input with a 400 naming the field, never a 500', async () => {
    const missing = await postJson(runtime, '/me/passkeys', citizenToken, { name: 'x' });
    expect(missing.status).toBe(400);
    expect(JSON.stringify(await missing.json())).toContain('response');
    const forged = await postJson(runtime, '/me/passkeys', citizenToken, {
      password: runtime.credentials.citizen.password,
      response: {
        id: 'abc',
        rawId: 'abc',
        type: 'public-key',
        response: { clientDataJSON: 'e30', attestationObject: 'oA' },
      },
    });
    expect(forged.status).toBe(400);
    expect(await forged.json()).toMatchObject({ code: 'invalid_passkey' });
    expect((await del('/me/passkeys/unknown-id', citizenToken)).status).toBe(404);
    expect((await del('/me/passkeys/not*an*id', citizenToken)).status).toBe(404);
  });

  // Review finding: a platform holding a person's level-3 token with scope `licences` could enrol a
  // passkey of its own making (attestation `none` proves no authenticator) and then sign in as them.
  it("refuses another platform's level-3 token (403 wallet_only): passkeys are managed in the wallet", async () => {
    const { tokens } = await signIn(platform, new UserAgent(runtime.baseUrl), citizenAnswers(runtime), {
      scope: 'openid licences',
    });
    for (const response of [
      await getWithToken(runtime, '/me/passkeys', tokens.access_token),
      await postJson(runtime, '/me/passkeys/options', tokens.access_token, {}),
      await postJson(runtime, '/me/passkeys', tokens.access_token, { response: {} }),
      await del(`/me/passkeys/${authenticator.credentialId}`, tokens.access_token),
    ]) {
      expect(response.status).toBe(403);
      expect(await response.json()).toMatchObject({ code: 'wallet_only' });
    }
  });

  it('refuses a person below level 3 (403 insufficient_assurance), and a caller without a token', async () => {
    const person = { idNumber: newIdNumber(), name: '李自述', password: 'a-long-enough-password-1' };
    expect((await postJson(runtime, '/accounts', undefined, { ...person, consent: true })).status).toBe(201);
    const { tokens } = await signIn(
      wallet,
      new UserAgent(runtime.baseUrl, [wallet.redirectUri]),
      { username: person.idNumber, password: person.password },
      { scope: 'openid licences' },
    );
    for (const response of [
      await getWithToken(runtime, '/me/passkeys', tokens.access_token),
      await postJson(runtime, '/me/passkeys/options', tokens.access_token, {}),
      await del(`/me/passkeys/${authenticator.credentialId}`, tokens.access_token),
    ]) {
      expect(response.status).toBe(403);
      expect(await response.json()).toMatchObject({ code: 'insufficient_assurance' });
    }
    expect((await fetch(`${runtime.baseUrl}/me/passkeys`)).status).toBe(401);
  });
});

describe('signing in with a passkey', () => {
  /** A sign-in started in `ua`, stopped at the sign-in page: its interaction uid. */
  async function atSignInPage(ua: UserAgent, params: Record<string, string> = {}) {
    const request = await authorizationRequest(platform, { scope: 'openid profile', ...params });
    const outcome = await ua.navigate(request.url);
    const uid = /\/interaction\/([^/?]+)/.exec(outcome.page?.url.pathname ?? '')?.[1];
    if (!uid) throw new Error('no sign-in page');
    return { request, uid };
  }
  // As the page's script fetches: the browser keeps the cookies of the answer (the sign-in's state).
  const post = (ua: UserAgent, path: string, body: unknown, origin = new URL(runtime.baseUrl).origin) =>
    ua.request(path, {
      method: 'POST',
      headers: { accept: 'application/json', origin, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('signs in at level 3 with amr swk, and a replay of the assertion is refused', async () => {
    const ua = new UserAgent(runtime.baseUrl);
    const { request, uid } = await atSignInPage(ua);
    const options = await post(ua, `/interaction/${uid}/passkeyoptions`, {});
    expect(options.status).toBe(200);
    const assertion = authenticator.assert((await options.json()) as never);
    const answer = await post(ua, `/interaction/${uid}/passkey`, assertion);
    expect(answer.status).toBe(200);
    const { location } = (await answer.json()) as { location: string };
    const replay = await post(ua, `/interaction/${uid}/passkey`, assertion);
    expect(replay.status).toBe(401);
    expect(await replay.json()).toMatchObject({ error: 'invalid_passkey' });

    const outcome = await ua.navigate(location);
    expect(outcome.leftTo).toBeDefined();
    const tokens = await exchange(platform, request, outcome.leftTo!);
    expect(tokens.claims()).toMatchObject({ acr: 'urn:elicence:loa:3', amr: ['swk'] });
  });

  it('answers a platform asking for level 3 (acr_values) by a passkey', async () => {
    const ua = new UserAgent(runtime.baseUrl);
    const { request, uid } = await atSignInPage(ua, { acr_values: 'urn:elicence:loa:3' });
    const options = await post(ua, `/interaction/${uid}/passkeyoptions`, {});
    const answer = await post(
      ua,
      `/interaction/${uid}/passkey`,
      authenticator.assert((await options.json()) as never),
    );
    const outcome = await ua.navigate(((await answer.json()) as { location: string }).location);
    const tokens = await exchange(platform, request, outcome.leftTo!);
    expect(tokens.claims()?.acr).toBe('urn:elicence:loa:3');
  });

  it('refuses another site’s request, another browser’s (no interaction cookie), and a malformed body', async () => {
    const ua = new UserAgent(runtime.baseUrl);
    const { uid } = await atSignInPage(ua);
    const crossSite = await post(ua, `/interaction/${uid}/passkeyoptions`, {}, 'https://evil.example');
    expect(crossSite.status).toBe(403);
    const stranger = await post(new UserAgent(runtime.baseUrl), `/interaction/${uid}/passkeyoptions`, {});
    expect(stranger.status).toBeGreaterThanOrEqual(400);
    expect(stranger.status).toBeLessThan(500);
    const malformed = await post(ua, `/interaction/${uid}/passkey`, { id: 'x' });
    expect(malformed.status).toBe(400);
    const notJson = await fetch(new URL(`/interaction/${uid}/passkey`, runtime.baseUrl), {
      method: 'POST',
      headers: {
        cookie: ua.cookieHeader(new URL(`/interaction/${uid}/passkey`, runtime.baseUrl)),
        origin: new URL(runtime.baseUrl).origin,
      },
      body: '{',
    });
    expect(notJson.status).toBe(400);
  });

  // Issue 13, item 8: an agent or representative acting for an enterprise signs in at level 3 the same ways.
  it('signs the legal representative in for the enterprise by passkey, at level 3, acting for it', async () => {
    const { entity } = runtime.credentials;
    const entityPlatform = await registerPlatform(runtime, await adminToken(runtime), {
      name: 'Enterprise platform',
      redirectUris: ['https://passkey-entity-rp.example/cb'],
      scopes: ['openid', 'profile', 'entity'],
      firstParty: true,
    });
    const ua = new UserAgent(runtime.baseUrl);
    const request = await authorizationRequest(entityPlatform, {
      scope: 'openid profile entity',
      acr_values: 'urn:elicence:loa:3',
    });
    const signInPage = await ua.navigate(request.url);
    const uid = /\/interaction\/([^/?]+)/.exec(signInPage.page?.url.pathname ?? '')?.[1];
    const options = await post(ua, `/interaction/${uid}/passkeyoptions`, {});
    const answer = await post(
      ua,
      `/interaction/${uid}/passkey`,
      authenticator.assert((await options.json()) as never),
    );
    expect(answer.status).toBe(200);
    const { location } = (await answer.json()) as { location: string };
    const flow = await runFlow(ua, location, { entity: entity.creditCode });
    expect(flow.steps).toContain('entity');
    const tokens = await exchange(entityPlatform, request, flow.callback!);
    expect(tokens.claims()).toMatchObject({ acr: 'urn:elicence:loa:3', amr: ['swk'] });
    // The entity's claims at userinfo (OpenID Connect Core §5.4: an access token was issued).
    const sub = tokens.claims()!.sub;
    expect(await client.fetchUserInfo(entityPlatform.config, tokens.access_token, sub)).toMatchObject({
      subject_type: 'legal_person',
      credit_code: entity.creditCode,
      act: { sub: expect.any(String) },
    });
  });

  it('no longer signs in with a removed passkey', async () => {
    expect((await del(`/me/passkeys/${authenticator.credentialId}`, citizenToken)).status).toBe(204);
    const ua = new UserAgent(runtime.baseUrl);
    const { uid } = await atSignInPage(ua);
    const options = await post(ua, `/interaction/${uid}/passkeyoptions`, {});
    const answer = await post(
      ua,
      `/interaction/${uid}/passkey`,
      authenticator.assert((await options.json()) as never),
    );
    expect(answer.status).toBe(401);
  });
});
