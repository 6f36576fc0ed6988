import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dpopSigningAlgs } from '../../../shared/http/dpop.js';
import { postJson } from '../../support/http-api.js';
import {
  adminToken,
  authorizationRequest,
  citizenAnswers,
  type RelyingParty,
} from '../../support/oidc-flows.js';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.js';
import { licenceAccess, sharingBrowser, throughStepUps } from '../../support/sharing-flows.js';

/**
 * The DPoP challenge (RFC 9449 §7.1) over real HTTP: a public app (no secret) holds a DPoP-bound access
 * token for a share of the citizen's driving licence, from the provider, through openid-client. Each way
 * the API refuses it answers 401 with `WWW-Authenticate: DPoP error="…", error_description="…",
 * algs="ES256 Ed25519 EdDSA"`: the token sent as Bearer (`invalid_token`: a copy of it needs its key), a
 * proof missing or made for another URL (`invalid_dpop_proof`), a token unknown to us (`invalid_token`).
 * openid-client reads the challenge as a relying party does, and the app's own proper request succeeds.
 */

let runtime: TestRuntime;
let app: RelyingParty;
let dpop: client.DPoPHandle;
let accessToken: string;
const algs = `algs="${dpopSigningAlgs.join(' ')}"`;

beforeAll(async () => {
  runtime = await startTestRuntime();
  const registered = await postJson(runtime, '/admin/clients', await adminToken(runtime), {
    name: 'DPoP 质询测试应用',
    redirectUris: ['https://dpop-app.example/callback'],
    scopes: ['openid', 'profile'],
    authorizationDetailsTypes: ['licence_access'],
    tokenEndpointAuthMethod: 'none',
  });
  expect(registered.status).toBe(201);
  const { clientId } = (await registered.json()) as { clientId: string };
  const config = await client.discovery(new URL(runtime.baseUrl), clientId, undefined, client.None(), {
    execute: [client.allowInsecureRequests],
  });
  app = { clientId, clientSecret: '', redirectUri: 'https://dpop-app.example/callback', config };
  dpop = client.getDPoPHandle(config, await client.randomDPoPKeyPair('ES256'));
  const request = await authorizationRequest(app, {
    scope: 'openid profile',
    authorization_details: JSON.stringify([licenceAccess(['driving-licence'], '办理机动车登记业务')]),
  });
  const outcome = await throughStepUps(runtime, sharingBrowser(runtime), request.url, {
    answers: citizenAnswers(runtime),
    phone: runtime.credentials.citizen.phone,
  });
  const tokens = await client.authorizationCodeGrant(
    config,
    outcome.callback!,
    { pkceCodeVerifier: request.codeVerifier, expectedNonce: request.nonce, expectedState: request.state },
    undefined,
    { DPoP: dpop },
  );
  expect(tokens.token_type).toBe('dpop');
  accessToken = tokens.access_token;
});
afterAll(() => runtime?.close());

const sharedLicences = () => new URL(`${runtime.baseUrl}/shared/licences`);

/** The challenge and the problem's code of a refused request. */
async function refusal(response: Response) {
  const body = (await response.json()) as { code?: string };
  return { status: response.status, code: body.code, challenge: response.headers.get('www-authenticate') };
}

describe('a DPoP-bound token refused over HTTP', () => {
  it('sent as a Bearer token: 401 invalid_token, challenged in the DPoP scheme with the proofs’ algorithms', async () => {
    const response = await fetch(sharedLicences(), { headers: { authorization: `Bearer ${accessToken}` } });
    expect(await refusal(response)).toEqual({
      status: 401,
      code: 'invalid_token',
      challenge:
        'DPoP error="invalid_token", error_description="The access token is bound to a DPoP key: send it as ' +
        `Authorization: DPoP <token>, with a DPoP proof", ${algs}`,
    });
  });

  it('sent as DPoP without a proof, or with a proof for another URL: 401 invalid_dpop_proof, with the algorithms', async () => {
    const withoutProof = await refusal(
      await fetch(sharedLicences(), { headers: { authorization: `DPoP ${accessToken}` } }),
    );
    expect(withoutProof).toMatchObject({ status: 401, code: 'invalid_dpop_proof' });
    expect(withoutProof.challenge).toMatch(/^DPoP error="invalid_dpop_proof", error_description="[^"]+", /);
    expect(withoutProof.challenge!.endsWith(algs)).toBe(true);

    // A proof the app made for another of our URLs (its `htu`), replayed here by whoever caught it.
    let captured: { authorization: string; dpop: string } | undefined;
    app.config[client.customFetch] = (url, options) => {
      const headers = new Headers(options.headers);
      captured = { authorization: headers.get('authorization')!, dpop: headers.get('dpop')! };
      return fetch(url, { method: options.method, headers });
    };
    try {
      await client.fetchProtectedResource(
        app.config,
        accessToken,
        new URL(`${runtime.baseUrl}/healthz`),
        'GET',
        undefined,
        undefined,
        { DPoP: dpop },
      );
    } finally {
      delete app.config[client.customFetch];
    }
    expect(captured!.authorization).toBe(`DPoP ${accessToken}`);
    const elsewhere = await refusal(
      await fetch(sharedLicences(), {
        headers: { authorization: captured!.authorization, dpop: captured!.dpop },
      }),
    );
    expect(elsewhere).toMatchObject({ status: 401, code: 'invalid_dpop_proof' });
    expect(elsewhere.challenge).toMatch(/^DPoP error="invalid_dpop_proof", error_description="[^"]+", /);
    expect(elsewhere.challenge!.endsWith(algs)).toBe(true);
  });

  it('reads as a challenge in openid-client: an unknown token is invalid_token, the algorithms named; the app’s own request succeeds', async () => {
    const unknown = client.fetchProtectedResource(
      app.config,
      `${accessToken.slice(0, -4)}AAAA`,
      sharedLicences(),
      'GET',
      undefined,
      undefined,
      { DPoP: dpop },
    );
    const error = await unknown.then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(client.WWWAuthenticateChallengeError);
    const challenge = (error as client.WWWAuthenticateChallengeError).cause[0]!;
    expect(challenge.scheme).toBe('dpop');
    expect(challenge.parameters).toMatchObject({
      error: 'invalid_token',
      algs: dpopSigningAlgs.join(' '),
    });
    expect((error as client.WWWAuthenticateChallengeError).response.status).toBe(401);

    const read = await client.fetchProtectedResource(
      app.config,
      accessToken,
      sharedLicences(),
      'GET',
      undefined,
      undefined,
      { DPoP: dpop },
    );
    expect(read.status).toBe(200);
  });
});
