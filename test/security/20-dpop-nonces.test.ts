import { createHash, hkdfSync, randomUUID } from 'node:crypto';
import { exportJWK, SignJWT, type JWTPayload } from 'jose';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  adminToken,
  authorizationRequest,
  callbackOf,
  citizenAnswers,
  registerPlatform,
  type RelyingParty,
} from '../support/oidc-flows.js';
import { buildDependencies } from '../../functions/composition/dependencies.js';
import { derivedSecret, dpopNonceSecret } from '../../shared/sso/derived-secrets.js';
import { startTestRuntime, type TestRuntime } from '../support/runtime.js';
import { UserAgent } from '../support/user-agent.js';

/**
 * DPoP with server nonces (RFC 9449 §8). The token endpoint took a proof with no nonce, fresh by its `iat`
 * alone: whoever held a platform's DPoP key for a moment (a leaked key file, a compromised build) could
 * make proofs then for any time to come, and with a copy of the refresh token refresh it later, for the
 * weeks the token lasts, without the key. Now the token and pushed authorization endpoints take a proof
 * only with a nonce the service issued in the last minutes (`400 use_dpop_nonce` and a `DPoP-Nonce`
 * header otherwise, which openid-client retries with), stateless across containers.
 *
 * Over real HTTP with openid-client as the platform: a DPoP-bound code flow and refresh, userinfo and our
 * API; a proof made in advance, with no nonce or a forged one, refused, and the refresh token left as it
 * was for its holder.
 */

let runtime: TestRuntime;
let rp: RelyingParty;

beforeAll(async () => {
  runtime = await startTestRuntime();
  rp = await registerPlatform(runtime, await adminToken(runtime), {
    name: 'DPoP 随机数 Nonces',
    redirectUris: ['https://dpop-nonces.example/cb'],
    scopes: ['openid', 'profile', 'licences', 'offline_access'],
    firstParty: true,
  });
});
afterAll(() => runtime?.close());

/** What the platform's library received from the token endpoint, in order: status, error, nonce header. */
interface Answered {
  status: number;
  error?: string;
  nonce: string | null;
}

/** `rp`'s openid-client configuration, recording each answer of the token endpoint in `answers`. */
function recording(answers: Answered[]): client.Configuration {
  const config = rp.config;
  const tokenEndpoint = config.serverMetadata().token_endpoint!;
  config[client.customFetch] = async (url, options) => {
    const response = await fetch(url, options as RequestInit);
    if (url === tokenEndpoint) {
      const body = (await response
        .clone()
        .json()
        .catch(() => ({}))) as { error?: string };
      answers.push({
        status: response.status,
        ...(body.error ? { error: body.error } : {}),
        nonce: response.headers.get('dpop-nonce'),
      });
    }
    return response;
  };
  return config;
}

/** A DPoP proof made by hand, as someone holding the key could make it at any time (no nonce unless given). */
async function proofFor(
  keys: CryptoKeyPair,
  claims: { htm: string; htu: string; iat: number; nonce?: string; ath?: string } & JWTPayload,
): Promise<string> {
  return new SignJWT({ jti: randomUUID(), ...claims })
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: await exportJWK(keys.publicKey) })
    .sign(keys.privateKey);
}

const now = () => Math.floor(Date.now() / 1000);

/** A refresh at the token endpoint with `proof`, as a thief with the refresh token would send it. */
function refreshWith(refreshToken: string, proof: string): Promise<Response> {
  return fetch(`${runtime.baseUrl}/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${rp.clientId}:${rp.clientSecret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
      dpop: proof,
    },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }),
  });
}

describe('a platform’s DPoP-bound sign-in and refresh through openid-client', () => {
  let keys: CryptoKeyPair;
  let dpop: client.DPoPHandle;
  let tokens: client.TokenEndpointResponse & client.TokenEndpointResponseHelpers;
  const answers: Answered[] = [];

  beforeAll(async () => {
    keys = (await client.randomDPoPKeyPair('ES256')) as CryptoKeyPair;
    const config = recording(answers);
    dpop = client.getDPoPHandle(config, keys);
    const request = await authorizationRequest(rp, {
      scope: 'openid profile licences offline_access',
      prompt: 'consent',
    });
    const { callback } = await callbackOf(
      new UserAgent(runtime.baseUrl),
      request.url,
      citizenAnswers(runtime),
    );
    tokens = await client.authorizationCodeGrant(
      config,
      callback,
      { pkceCodeVerifier: request.codeVerifier, expectedNonce: request.nonce, expectedState: request.state },
      undefined,
      { DPoP: dpop },
    );
  });

  it('the code exchange is asked for a nonce once, then gives DPoP-bound tokens', () => {
    expect(tokens.token_type).toBe('dpop');
    expect(tokens.refresh_token).toBeTypeOf('string');
    // The first proof had no nonce: `400 use_dpop_nonce` with a nonce, which the library retried with.
    expect(answers).toEqual([
      { status: 400, error: 'use_dpop_nonce', nonce: expect.stringMatching(/^[\w-]{43}$/) },
      { status: 200, nonce: null },
    ]);
  });

  it('the refresh goes through with the nonce the library holds, and the tokens stay bound', async () => {
    answers.length = 0;
    const refreshed = await client.refreshTokenGrant(rp.config, tokens.refresh_token!, undefined, {
      DPoP: dpop,
    });
    expect(refreshed.token_type).toBe('dpop');
    expect(answers.at(-1)).toMatchObject({ status: 200 });
    tokens = refreshed;
  });

  it('userinfo and our API take the bound token with the library’s proofs, asking for no nonce', async () => {
    const userinfo = await client.fetchUserInfo(rp.config, tokens.access_token, client.skipSubjectCheck, {
      DPoP: dpop,
    });
    expect(userinfo.sub).toBeTypeOf('string');
    const api = await client.fetchProtectedResource(
      rp.config,
      tokens.access_token,
      new URL(`${runtime.baseUrl}/me/licences`),
      'GET',
      undefined,
      undefined,
      { DPoP: dpop },
    );
    expect(api.status, await api.clone().text()).toBe(200);
    expect(api.headers.get('dpop-nonce')).toBeNull();
  });

  it('a refresh proof made in advance, with no nonce, is refused: 400 use_dpop_nonce, OAuth-shaped', async () => {
    // Made by someone who held the key for a moment: one "made" four minutes ago, one for three minutes
    // from now. Both were within the `iat` window the provider allows a proof without a nonce.
    const htu = `${runtime.baseUrl}/token`;
    for (const iat of [now() - 240, now() + 180]) {
      const response = await refreshWith(
        tokens.refresh_token!,
        await proofFor(keys, { htm: 'POST', htu, iat }),
      );
      expect(response.status, String(iat)).toBe(400);
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      expect(response.headers.get('dpop-nonce')).toMatch(/^[\w-]{43}$/);
      expect(await response.json()).toEqual({
        error: 'use_dpop_nonce',
        error_description: expect.any(String),
      });
    }
  });

  it('a proof with a nonce the service never issued is refused the same way', async () => {
    const forged = createHash('sha256').update('a guess').digest('base64url');
    const response = await refreshWith(
      tokens.refresh_token!,
      await proofFor(keys, { htm: 'POST', htu: `${runtime.baseUrl}/token`, iat: now(), nonce: forged }),
    );
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toBe('use_dpop_nonce');
  });

  it('the nonces come from the provider’s own key: one computed from the lookup key is refused', async () => {
    // oidc-provider's nonce of the coming minute: HKDF-SHA-256 of the secret, the minute as 8 bytes
    // big-endian for salt, `DPoP` for info. The lookup key's holders (licences, me, accounts, batches,
    // sms-codes) must not be able to compute it; the interaction key is the provider's alone.
    const minute = Buffer.alloc(8);
    minute.writeBigUInt64BE(BigInt(Math.floor(now() / 60) + 1));
    const nonceOf = (secret: Uint8Array) =>
      Buffer.from(hkdfSync('sha256', secret, minute, 'DPoP', 32)).toString('base64url');
    const deps = buildDependencies(runtime.config);
    try {
      const htu = `${runtime.baseUrl}/token`;
      const fromLookupKey = nonceOf(await derivedSecret(deps.lookupMac, 'dpop-nonce/v1'));
      const refused = await refreshWith(
        tokens.refresh_token!,
        await proofFor(keys, { htm: 'POST', htu, iat: now(), nonce: fromLookupKey }),
      );
      expect(((await refused.json()) as { error: string }).error).toBe('use_dpop_nonce');
      // The provider's own (the interaction key's derivation) is what it answers with.
      expect(refused.headers.get('dpop-nonce')).toBe(nonceOf(await dpopNonceSecret(deps.interactionMac)));
    } finally {
      deps.doc.destroy();
      deps.kms.destroy();
    }
  });

  it('userinfo takes a proof with a stale nonce as one without it: by its iat (review R43 L1)', async () => {
    // The nonce oauth4webapi's handle still holds from a token request ten minutes ago (it sends it to
    // every endpoint of the origin): the provider's own derivation, for a minute long past.
    const minute = Buffer.alloc(8);
    minute.writeBigUInt64BE(BigInt(Math.floor(now() / 60) - 10));
    const deps = buildDependencies(runtime.config);
    let stale: string;
    try {
      const secret = await dpopNonceSecret(deps.interactionMac);
      stale = Buffer.from(hkdfSync('sha256', secret, minute, 'DPoP', 32)).toString('base64url');
    } finally {
      deps.doc.destroy();
      deps.kms.destroy();
    }
    const htu = `${runtime.baseUrl}/userinfo`;
    const ath = createHash('sha256').update(tokens.access_token).digest('base64url');
    const userinfo = async (iat: number) =>
      fetch(htu, {
        headers: {
          authorization: `DPoP ${tokens.access_token}`,
          dpop: await proofFor(keys, { htm: 'GET', htu, iat, ath, nonce: stale }),
        },
      });
    const fresh = await userinfo(now());
    expect(fresh.status, await fresh.clone().text()).toBe(200);
    expect(((await fresh.json()) as { sub?: string }).sub).toBeTypeOf('string');
    // A new nonce with it, for the library to keep.
    expect(fresh.headers.get('dpop-nonce')).toMatch(/^[\w-]{43}$/);
    // Made in advance (an iat ten minutes old), it is refused as a proof without a nonce is.
    const early = await userinfo(now() - 600);
    expect(early.status).toBe(401);
    expect(early.headers.get('www-authenticate')).toMatch(/use_dpop_nonce/);
    // The token endpoint, which asks for a nonce, refuses the stale one whatever the iat.
    const refused = await refreshWith(
      tokens.refresh_token!,
      await proofFor(keys, { htm: 'POST', htu: `${runtime.baseUrl}/token`, iat: now(), nonce: stale }),
    );
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: string }).error).toBe('use_dpop_nonce');
  });

  it('a refusal for want of a nonce writes nothing: no token, no mark, no throttle count', async () => {
    const htu = `${runtime.baseUrl}/token`;
    runtime.dynamo!.resetStats();
    const response = await refreshWith(
      tokens.refresh_token!,
      await proofFor(keys, { htm: 'POST', htu, iat: now() }),
    );
    const stats = runtime.dynamo!.stats();
    expect(response.status).toBe(400);
    const writes = ['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems'];
    expect(
      Object.keys(stats).filter((call) => writes.includes(call)),
      JSON.stringify(stats),
    ).toEqual([]);
  });

  it('the refused refreshes left the refresh token as it was: its holder, with a fresh nonce, refreshes', async () => {
    // The contract by hand, as an integrator without one of these libraries meets it: the nonce of the
    // refusal, in a new proof.
    const htu = `${runtime.baseUrl}/token`;
    const asked = await refreshWith(
      tokens.refresh_token!,
      await proofFor(keys, { htm: 'POST', htu, iat: now() }),
    );
    expect(asked.status).toBe(400);
    const nonce = asked.headers.get('dpop-nonce')!;
    const response = await refreshWith(
      tokens.refresh_token!,
      await proofFor(keys, { htm: 'POST', htu, iat: now(), nonce }),
    );
    expect(response.status, await response.clone().text()).toBe(200);
    expect(((await response.json()) as { token_type: string }).token_type).toBe('DPoP');
  });
});

it('the pushed authorization endpoint asks for a nonce too (a proof there binds the code, dpop_jkt)', async () => {
  const keys = (await client.randomDPoPKeyPair('ES256')) as CryptoKeyPair;
  const htu = `${runtime.baseUrl}/request`;
  const par = rp.config.serverMetadata().pushed_authorization_request_endpoint!;
  expect(par).toBe(htu);
  const response = await fetch(par, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${rp.clientId}:${rp.clientSecret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
      dpop: await proofFor(keys, { htm: 'POST', htu, iat: now() }),
    },
    body: new URLSearchParams({
      client_id: rp.clientId,
      response_type: 'code',
      redirect_uri: rp.redirectUri,
      scope: 'openid',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
    }),
  });
  expect(response.status, await response.clone().text()).toBe(400);
  expect(((await response.json()) as { error: string }).error).toBe('use_dpop_nonce');
  expect(response.headers.get('dpop-nonce')).toMatch(/^[\w-]{43}$/);
});
