import { createHash, randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload } from 'jose';
import * as oauth from 'oauth4webapi';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onboardIssuer } from '../support/http-api.js';
import { CarrierOfNumbers } from '../support/in-memory-sms.js';
import { drivingLicenceBody, issued, type LicenceJson } from '../support/licences.js';
import { adminToken, callbackOf, discover } from '../support/oidc-flows.js';
import { clientCredentialsToken, type TestRuntime } from '../support/runtime.js';
import {
  licenceAccess,
  newPerson,
  registerSharingPlatform,
  sharingBrowser,
  startRuntimeWithCarrier,
  steppedUpToConsent,
} from '../support/sharing-flows.js';

/**
 * Review R25 (High): the token endpoint issues DPoP-bound tokens (RFC 9449: `token_type` DPoP, the key's
 * thumbprint `jkt` in the token's record), but our API's bearer check took only the `Bearer` scheme and
 * never read the binding. So a platform that turned DPoP on in its library got 401 from every API route,
 * and anyone holding a copy of a bound token (a person's share, a verifier app's token) used it with a
 * bare `Authorization: Bearer <token>` and no proof, while userinfo (the provider's own) refused it.
 *
 * Over real HTTP, with oauth4webapi and openid-client as the platform and the verifier app: a bound token
 * is refused as Bearer (401, a DPoP challenge), accepted with the DPoP scheme and a good proof, and
 * refused with a proof for another URL or method, a replayed proof, a wrong `ath`, a proof of another
 * key, or none; an unbound token with the DPoP scheme is refused too. The token and pushed authorization
 * endpoints ask for a DPoP nonce (`20-dpop-nonces.test.ts`): oauth4webapi's requests retry once with it.
 */

let runtime: TestRuntime;
let as: oauth.AuthorizationServer;
const carrier = new CarrierOfNumbers();
const insecure = { [oauth.allowInsecureRequests]: true } as const;

/** A DPoP key pair as a platform keeps it (extractable public half: the libraries put it in the proof). */
const newKeyPair = () => generateKeyPair('ES256', { extractable: true }) as Promise<CryptoKeyPair>;

/**
 * `request` once more when the token or pushed authorization endpoint asks for a DPoP nonce
 * (`use_dpop_nonce`, RFC 9449 §8): oauth4webapi keeps the nonce of that answer in the DPoP handle but
 * leaves the retry to its caller (openid-client retries itself).
 */
async function withNonceRetry<T>(request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (error) {
    if (!oauth.isDPoPNonceError(error)) throw error;
    return request();
  }
}

/** The base64url SHA-256 of an access token: a proof's `ath` (RFC 9449 §4.2). */
const athOf = (token: string) => createHash('sha256').update(token).digest('base64url');

/** A DPoP proof made by hand, for the proofs a library would never make. */
async function proof(
  keys: CryptoKeyPair,
  claims: { htm: string; htu: string; ath?: string } & JWTPayload,
  header: { typ?: string; jwk?: JWK } = {},
): Promise<string> {
  const jwk = header.jwk ?? (await exportJWK(keys.publicKey));
  return new SignJWT({ jti: randomUUID(), ...claims })
    .setProtectedHeader({ alg: 'ES256', typ: header.typ ?? 'dpop+jwt', jwk })
    .setIssuedAt(typeof claims.iat === 'number' ? claims.iat : undefined)
    .sign(keys.privateKey);
}

/** A request to our API with `authorization` and, when given, a `DPoP` header. */
function call(
  path: string,
  authorization: string,
  dpop?: string,
  init: { method?: string; body?: unknown } = {},
): Promise<Response> {
  return fetch(`${runtime.baseUrl}${path}`, {
    method: init.method ?? 'GET',
    headers: {
      authorization,
      ...(dpop ? { dpop } : {}),
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
}

/** A refusal: its status, problem code and the scheme and error of its challenge. */
async function refusal(response: Response) {
  const text = await response.text();
  const challenge = response.headers.get('www-authenticate') ?? '';
  return {
    status: response.status,
    code: (JSON.parse(text) as { code?: string }).code,
    scheme: challenge.split(' ')[0],
    error: /error="([^"]+)"/.exec(challenge)?.[1],
  };
}

const invalidToken = { status: 401, code: 'invalid_token', scheme: 'DPoP', error: 'invalid_token' };
const invalidProof = {
  status: 401,
  code: 'invalid_dpop_proof',
  scheme: 'DPoP',
  error: 'invalid_dpop_proof',
};

let licence: LicenceJson;

beforeAll(async () => {
  runtime = await startRuntimeWithCarrier(carrier);
  const issuer = new URL(runtime.baseUrl);
  as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, insecure));
  const admin = await adminToken(runtime);
  const driving = await onboardIssuer(runtime, admin, { licenceTypes: ['driving-licence'] });
  const drivingIssuer = await clientCredentialsToken(runtime, driving, 'licences:issue');
  const person = await newPerson(runtime, carrier);
  licence = await issued(
    runtime,
    drivingIssuer,
    drivingLicenceBody(person.idNumber, { holderName: person.name }),
  );
  share.person = person;
  share.platform = await registerSharingPlatform(runtime, admin, 'DPoP 测试平台', 'https://dpop.example');
});
afterAll(() => runtime?.close());

const share = {} as {
  person: Awaited<ReturnType<typeof newPerson>>;
  platform: Awaited<ReturnType<typeof registerSharingPlatform>>;
};

it('discovery offers DPoP with the algorithms our API checks', () => {
  expect(as.dpop_signing_alg_values_supported).toEqual(['ES256', 'Ed25519', 'EdDSA']);
});

describe('a person’s share, bound to the platform’s key (oauth4webapi: PAR, DPoP)', () => {
  let keys: CryptoKeyPair;
  let dpop: oauth.DPoPHandle;
  let token: string;
  const path = '/shared/licences';
  const url = () => `${runtime.baseUrl}${path}`;

  beforeAll(async () => {
    const { person, platform } = share;
    keys = await newKeyPair();
    const oauthClient: oauth.Client = { client_id: platform.clientId, id_token_signed_response_alg: 'ES256' };
    dpop = oauth.DPoP(oauthClient, keys);
    const auth = oauth.ClientSecretBasic(platform.clientSecret);
    const codeVerifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const pushed = await withNonceRetry(async () =>
      oauth.processPushedAuthorizationResponse(
        as,
        oauthClient,
        await oauth.pushedAuthorizationRequest(
          as,
          oauthClient,
          auth,
          new URLSearchParams({
            redirect_uri: platform.redirectUri,
            response_type: 'code',
            scope: 'openid',
            state,
            code_challenge: await oauth.calculatePKCECodeChallenge(codeVerifier),
            code_challenge_method: 'S256',
            authorization_details: JSON.stringify([licenceAccess(['driving-licence'], '办理车驾管业务')]),
          }),
          { ...insecure, DPoP: dpop },
        ),
      ),
    );
    const authorize = new URL(as.authorization_endpoint!);
    authorize.search = new URLSearchParams({
      client_id: platform.clientId,
      request_uri: pushed.request_uri,
    }).toString();
    const ua = sharingBrowser(runtime);
    const consent = await steppedUpToConsent(runtime, ua, authorize, person);
    const { callback } = await callbackOf(ua, consent.url, {});
    const params = oauth.validateAuthResponse(as, oauthClient, callback, state);
    const tokens = await withNonceRetry(async () =>
      oauth.processAuthorizationCodeResponse(
        as,
        oauthClient,
        await oauth.authorizationCodeGrantRequest(
          as,
          oauthClient,
          auth,
          params,
          platform.redirectUri,
          codeVerifier,
          { ...insecure, DPoP: dpop },
        ),
      ),
    );
    expect(tokens.token_type).toBe('dpop');
    token = tokens.access_token;
  });

  it('a bare Bearer copy of the token reads nothing: 401 invalid_token, with a DPoP challenge', async () => {
    const response = await call(path, `Bearer ${token}`);
    expect(await refusal(response)).toEqual(invalidToken);
  });

  it('the platform reads the share through its library: DPoP scheme and a fresh proof each time', async () => {
    for (let i = 0; i < 2; i++) {
      const response = await oauth.protectedResourceRequest(
        token,
        'GET',
        new URL(url()),
        new Headers(),
        null,
        { ...insecure, DPoP: dpop },
      );
      expect(response.status, await response.clone().text()).toBe(200);
      const { items } = (await response.json()) as { items: LicenceJson[] };
      expect(items.map((item) => item.id)).toEqual([licence.id]);
    }
  });

  it('the library understands the refusal of a proof: a DPoP challenge it parses', async () => {
    const error = await oauth
      .protectedResourceRequest(token, 'GET', new URL(url()), new Headers(), null, {
        ...insecure,
        DPoP: oauth.DPoP({}, await newKeyPair()),
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(oauth.WWWAuthenticateChallengeError);
    const [challenge] = (error as oauth.WWWAuthenticateChallengeError).cause;
    expect(challenge?.scheme).toBe('dpop');
    expect(challenge?.parameters.error).toBe('invalid_dpop_proof');
    expect(challenge?.parameters.algs).toBe('ES256 Ed25519 EdDSA');
  });

  it('the same token is refused with a proof for another URL, or another method', async () => {
    const ath = athOf(token);
    for (const claims of [
      { htm: 'GET', htu: `${runtime.baseUrl}/me/licences`, ath },
      { htm: 'GET', htu: `https://elsewhere.example${path}`, ath },
      { htm: 'POST', htu: url(), ath },
    ]) {
      const response = await call(path, `DPoP ${token}`, await proof(keys, claims));
      expect(await refusal(response), JSON.stringify(claims)).toEqual(invalidProof);
    }
  });

  it('a proof with the query string dropped from htu, as RFC 9449 says, is accepted', async () => {
    const dropped = await proof(keys, { htm: 'GET', htu: `${url()}?ignored=1#x`, ath: athOf(token) });
    expect((await call(`${path}?ignored=1`, `DPoP ${token}`, dropped)).status).toBe(200);
  });

  it('a proof is used once: the same proof again is refused', async () => {
    const once = await proof(keys, { htm: 'GET', htu: url(), ath: athOf(token) });
    expect((await call(path, `DPoP ${token}`, once)).status).toBe(200);
    expect(await refusal(await call(path, `DPoP ${token}`, once))).toEqual(invalidProof);
  });

  it('a proof for another token (wrong ath), or with none, is refused', async () => {
    for (const ath of [athOf(`${token}x`), undefined]) {
      const response = await call(path, `DPoP ${token}`, await proof(keys, { htm: 'GET', htu: url(), ath }));
      expect(await refusal(response)).toEqual(invalidProof);
    }
  });

  it('a proof signed by another key (a thief’s own) is refused', async () => {
    const thief = await newKeyPair();
    const response = await call(
      path,
      `DPoP ${token}`,
      await proof(thief, { htm: 'GET', htu: url(), ath: athOf(token) }),
    );
    expect(await refusal(response)).toEqual(invalidProof);
  });

  it('the DPoP scheme without a proof, or with a stale one, is refused', async () => {
    expect(await refusal(await call(path, `DPoP ${token}`))).toEqual(invalidProof);
    const stale = await proof(keys, {
      htm: 'GET',
      htu: url(),
      ath: athOf(token),
      iat: Math.floor(Date.now() / 1000) - 120,
    });
    expect(await refusal(await call(path, `DPoP ${token}`, stale))).toEqual(invalidProof);
  });
});

describe('a verifier app’s client-credentials token, bound to its key (openid-client)', () => {
  let keys: CryptoKeyPair;
  let config: client.Configuration;
  let dpop: client.DPoPHandle;
  let token: string;
  const url = () => `${runtime.baseUrl}/verify`;
  const body = () => ({ qr: licence.credential });

  beforeAll(async () => {
    keys = await newKeyPair();
    config = await discover(runtime.baseUrl, runtime.credentials.verifier);
    dpop = client.getDPoPHandle(config, keys);
    const tokens = await client.clientCredentialsGrant(config, { scope: 'licences:verify' }, { DPoP: dpop });
    expect(tokens.token_type).toBe('dpop');
    token = tokens.access_token;
  });

  it('POST /verify with a bare Bearer copy: 401, not an anonymous answer and not the disclosed fields', async () => {
    const response = await call('/verify', `Bearer ${token}`, undefined, { method: 'POST', body: body() });
    expect(await refusal(response)).toEqual(invalidToken);
  });

  it('POST /verify through the library with a proof: the verifier’s answer, with the disclosed fields', async () => {
    const response = await client.fetchProtectedResource(
      config,
      token,
      new URL(url()),
      'POST',
      JSON.stringify(body()),
      new Headers({ 'content-type': 'application/json' }),
      { DPoP: dpop },
    );
    expect(response.status, await response.clone().text()).toBe(200);
    const answer = (await response.json()) as { verdict: string; licence?: { fields?: unknown } };
    expect(answer.verdict).toBe('valid');
    expect(answer.licence?.fields).toEqual(licence.fields);
  });

  it('refuses a proof for another route or method, a replay, a wrong ath, another key', async () => {
    const ath = athOf(token);
    const thief = await newKeyPair();
    const replayed = await proof(keys, { htm: 'POST', htu: url(), ath });
    const init = { method: 'POST', body: body() };
    expect((await call('/verify', `DPoP ${token}`, replayed, init)).status).toBe(200);
    for (const bad of [
      await proof(keys, { htm: 'POST', htu: `${runtime.baseUrl}/verify/pdf`, ath }),
      await proof(keys, { htm: 'GET', htu: url(), ath }),
      replayed,
      await proof(keys, { htm: 'POST', htu: url(), ath: athOf('another-token') }),
      await proof(thief, { htm: 'POST', htu: url(), ath }),
      await proof(keys, { htm: 'POST', htu: url(), ath }, { typ: 'JWT' }),
    ]) {
      expect(await refusal(await call('/verify', `DPoP ${token}`, bad, init))).toEqual(invalidProof);
    }
  });

  it('refuses a proof carrying the private key', async () => {
    const jwk = await exportJWK(keys.privateKey);
    const response = await call(
      '/verify',
      `DPoP ${token}`,
      await proof(keys, { htm: 'POST', htu: url(), ath: athOf(token) }, { jwk }),
      { method: 'POST', body: body() },
    );
    expect(await refusal(response)).toEqual(invalidProof);
  });
});

it('an unbound token sent with the DPoP scheme is refused: it was not issued for a key', async () => {
  const keys = await newKeyPair();
  const token = await clientCredentialsToken(runtime, runtime.credentials.verifier, 'licences:verify');
  const url = `${runtime.baseUrl}/verify`;
  const response = await call(
    '/verify',
    `DPoP ${token}`,
    await proof(keys, { htm: 'POST', htu: url, ath: athOf(token) }),
    { method: 'POST', body: { qr: licence.credential } },
  );
  expect(await refusal(response)).toEqual(invalidToken);
  // As Bearer it still works, as it always did.
  const bearer = await call('/verify', `Bearer ${token}`, undefined, {
    method: 'POST',
    body: { qr: licence.credential },
  });
  expect(bearer.status).toBe(200);
});
