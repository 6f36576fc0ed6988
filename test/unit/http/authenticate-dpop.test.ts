import { createHash, createSecretKey, randomUUID } from 'node:crypto';
import {
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  SignJWT,
  UnsecuredJWT,
  type JWK,
  type JWTPayload,
} from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { AuthenticationError } from '../../../shared/http/api-handler.js';
import { authenticate, type AccessTokenRecord } from '../../../shared/http/authenticate.js';
import { dpopProofWindowSeconds } from '../../../shared/http/dpop.js';
import type { HttpEvent } from '../../../shared/http/types.js';
import { InMemoryDpopProofLedger } from '../../support/in-memory.js';

/**
 * DPoP (RFC 9449) at our API's edge, in `authenticate`: a token bound to a key only with a proof by that
 * key for this request, used once; an unbound token only as Bearer, with no more work than before.
 */

const publicUrl = 'https://id.gov.example';
const now = 1_800_000_000;
const boundToken = 'bound_' + 'a'.repeat(40);
const plainToken = 'plain_' + 'b'.repeat(40);
const path = '/shared/licences';
const url = `${publicUrl}${path}`;

let keys: CryptoKeyPair;
let jwk: JWK;
let records: Map<string, AccessTokenRecord>;

beforeAll(async () => {
  keys = (await generateKeyPair('ES256', { extractable: true })) as CryptoKeyPair;
  jwk = await exportJWK(keys.publicKey);
  const jkt = await calculateJwkThumbprint(jwk);
  const base = { clientId: 'cl_platform', scope: 'licences', aud: publicUrl, exp: now + 600 };
  records = new Map<string, AccessTokenRecord>([
    [boundToken, { ...base, jkt }],
    [plainToken, base],
    ['certificate_' + 'c'.repeat(30), { ...base, 'x5t#S256': 'abc' }],
  ]);
});

const athOf = (token: string) => createHash('sha256').update(token).digest('base64url');

/** A proof as a platform's library makes it, for the bound token and this request, unless told otherwise. */
async function proof(
  claims: JWTPayload = {},
  header: Record<string, unknown> = {},
  signer: CryptoKeyPair = keys,
): Promise<string> {
  return new SignJWT({ htm: 'GET', htu: url, ath: athOf(boundToken), jti: randomUUID(), iat: now, ...claims })
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk, ...header })
    .sign(signer.privateKey);
}

/** Runs `authenticate` on a request, counting the token lookups and keeping the ledger. */
async function attempt(
  authorization: string,
  dpop?: string,
  { method = 'GET', scope = 'licences', rawPath = path } = {},
) {
  const ledger = new InMemoryDpopProofLedger();
  let lookups = 0;
  const lookup = async (token: string) => {
    lookups += 1;
    return records.get(token);
  };
  const event = {
    rawPath,
    requestContext: { http: { method } },
    headers: { authorization, ...(dpop === undefined ? {} : { dpop }) },
  } as unknown as HttpEvent;
  const outcome = await authenticate(event, lookup, {
    audience: publicUrl,
    requiredScope: scope,
    nowSeconds: now,
    dpop: { proofs: ledger, publicUrl },
  }).then(
    (caller) => ({ caller, error: undefined }),
    (error: unknown) => ({ caller: undefined, error: error as AuthenticationError }),
  );
  return { ...outcome, lookups, ledger };
}

/** The refusal of an attempt: status, code, challenge, message. */
function refusalOf(outcome: Awaited<ReturnType<typeof attempt>>) {
  expect(outcome.error).toBeInstanceOf(AuthenticationError);
  const { status, code, challenge, message } = outcome.error!;
  return { status, code, challenge, message };
}

describe('a token bound to a DPoP key', () => {
  it('sent as a bare Bearer token is refused: 401 invalid_token with a DPoP challenge, nothing marked', async () => {
    const outcome = await attempt(`Bearer ${boundToken}`);
    expect(refusalOf(outcome)).toMatchObject({
      status: 401,
      code: 'invalid_token',
      challenge: expect.stringMatching(
        /^DPoP error="invalid_token", error_description="[^"]+", algs="ES256 Ed25519 EdDSA"$/,
      ),
    });
    expect(outcome.ledger.expiries.size).toBe(0);
  });

  it('is accepted with the DPoP scheme and a proof by its key, which is marked used until its window ends', async () => {
    const outcome = await attempt(`DPoP ${boundToken}`, await proof());
    expect(outcome.error).toBeUndefined();
    expect(outcome.caller?.clientId).toBe('cl_platform');
    expect([...outcome.ledger.expiries.values()]).toEqual([now + dpopProofWindowSeconds + 1]);
  });

  it('takes the scheme in any case, as Bearer', async () => {
    const outcome = await attempt(`dpop ${boundToken}`, await proof());
    expect(outcome.error).toBeUndefined();
  });

  it('accepts an Ed25519 proof, as discovery says', async () => {
    const ed = (await generateKeyPair('Ed25519', { extractable: true })) as CryptoKeyPair;
    const edJwk = await exportJWK(ed.publicKey);
    records.set('ed_' + 'e'.repeat(40), {
      ...records.get(boundToken)!,
      jkt: await calculateJwkThumbprint(edJwk),
    });
    const edProof = await new SignJWT({
      htm: 'GET',
      htu: url,
      ath: athOf('ed_' + 'e'.repeat(40)),
      jti: 'j1',
      iat: now,
    })
      .setProtectedHeader({ alg: 'Ed25519', typ: 'dpop+jwt', jwk: edJwk })
      .sign(ed.privateKey);
    expect((await attempt(`DPoP ${'ed_' + 'e'.repeat(40)}`, edProof)).error).toBeUndefined();
  });

  it('refuses a proof used before: the same proof twice in one ledger', async () => {
    const ledger = new InMemoryDpopProofLedger();
    const once = await proof();
    const event = {
      rawPath: path,
      requestContext: { http: { method: 'GET' } },
      headers: { authorization: `DPoP ${boundToken}`, dpop: once },
    } as unknown as HttpEvent;
    const run = () =>
      authenticate(event, async (t) => records.get(t), {
        audience: publicUrl,
        requiredScope: 'licences',
        nowSeconds: now,
        dpop: { proofs: ledger, publicUrl },
      });
    await expect(run()).resolves.toMatchObject({ clientId: 'cl_platform' });
    await expect(run()).rejects.toMatchObject({ status: 401, code: 'invalid_dpop_proof' });
  });

  it('accepts a proof whose htu carries a query and fragment (they are ignored), and a request with a query', async () => {
    const outcome = await attempt(`DPoP ${boundToken}`, await proof({ htu: `${url}?page=2#top` }));
    expect(outcome.error).toBeUndefined();
  });

  it.each<[string, () => Promise<string | undefined>, RegExp]>([
    ['no proof', async () => undefined, /needs a DPoP header/],
    ['an empty proof', async () => '', /needs a DPoP header/],
    [
      'two proofs (two headers, joined by the gateway)',
      async () => `${await proof()},${await proof()}`,
      /one DPoP proof/,
    ],
    ['a proof of another type', () => proof({}, { typ: 'JWT' }), /typ dpop\+jwt/],
    ['a proof with no jwk', () => proof({}, { jwk: undefined }), /public key in its jwk/],
    [
      'a proof carrying its private key',
      async () => proof({}, { jwk: await exportJWK(keys.privateKey) }),
      /public key/,
    ],
    [
      'a proof whose jwk is not the key that signed it',
      async () => {
        const other = (await generateKeyPair('ES256', { extractable: true })) as CryptoKeyPair;
        return proof({}, {}, other);
      },
      /signed/,
    ],
    [
      'an unsigned proof (alg none, no signature part)',
      async () =>
        new UnsecuredJWT({ htm: 'GET', htu: url, ath: athOf(boundToken), jti: 'x', iat: now }).encode(),
      /one DPoP proof, a compact JWT/,
    ],
    [
      'a proof signed with a shared secret (HS256)',
      async () =>
        new SignJWT({ htm: 'GET', htu: url, ath: athOf(boundToken), jti: 'x', iat: now })
          .setProtectedHeader({
            alg: 'HS256',
            typ: 'dpop+jwt',
            jwk: { kty: 'oct', k: 'c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0' } as JWK,
          })
          .sign(createSecretKey(Buffer.from('secretsecretsecretsecretsecret!!'))),
      /signed/,
    ],
    [
      'a proof made too long ago',
      () => proof({ iat: now - dpopProofWindowSeconds - 1 }),
      /iat must be within 60 seconds/,
    ],
    [
      'a proof made in the future',
      () => proof({ iat: now + dpopProofWindowSeconds + 1 }),
      /iat must be within/,
    ],
    ['a proof without iat', () => proof({ iat: undefined }), /iat must be within/],
    ['a proof without jti', () => proof({ jti: undefined }), /needs a jti/],
    ['a proof with a jti of 300 characters', () => proof({ jti: 'j'.repeat(300) }), /needs a jti/],
    ['a proof for another method', () => proof({ htm: 'POST' }), /htm must be this request's method, GET/],
    [
      'a proof for another path',
      () => proof({ htu: `${publicUrl}/me/licences` }),
      /htu must be this request's URL, https:\/\/id\.gov\.example\/shared\/licences/,
    ],
    ['a proof for another host', () => proof({ htu: `https://evil.example${path}` }), /htu must be/],
    [
      'a proof for http instead of https',
      () => proof({ htu: `http://id.gov.example${path}` }),
      /htu must be/,
    ],
    ['a proof with an htu that is no URL', () => proof({ htu: 'shared/licences' }), /htu must be/],
    ['a proof without ath', () => proof({ ath: undefined }), /ath must be/],
    ['a proof for another token', () => proof({ ath: athOf(plainToken) }), /ath must be/],
  ])('refuses %s: 401 invalid_dpop_proof, nothing marked', async (_what, make, message) => {
    const outcome = await attempt(`DPoP ${boundToken}`, await make());
    expect(refusalOf(outcome)).toMatchObject({
      status: 401,
      code: 'invalid_dpop_proof',
      message: expect.stringMatching(message),
      challenge: expect.stringMatching(/^DPoP error="invalid_dpop_proof", .*algs="ES256 Ed25519 EdDSA"$/),
    });
    expect(outcome.ledger.expiries.size).toBe(0);
  });

  it('refuses a good proof by another key than the token’s (a thief’s own key)', async () => {
    const thief = (await generateKeyPair('ES256', { extractable: true })) as CryptoKeyPair;
    const thiefJwk = await exportJWK(thief.publicKey);
    const outcome = await attempt(`DPoP ${boundToken}`, await proof({}, { jwk: thiefJwk }, thief));
    expect(refusalOf(outcome)).toMatchObject({
      status: 401,
      code: 'invalid_dpop_proof',
      message: expect.stringMatching(/not signed by the key the access token is bound to/),
    });
    expect(outcome.ledger.expiries.size).toBe(0);
  });

  it('takes the htu from the public URL and the path, never a Host header', async () => {
    const event = await attempt(`DPoP ${boundToken}`, await proof({ htu: `https://evil.example${path}` }));
    expect(event.error?.code).toBe('invalid_dpop_proof');
    // A path that starts with `//` stays a path of our host.
    const slashes = await attempt(`DPoP ${boundToken}`, await proof({ htu: 'https://evil.example/x' }), {
      rawPath: '//evil.example/x',
    });
    expect(slashes.error?.code).toBe('invalid_dpop_proof');
  });

  it('answers a missing scope with a 403 in the DPoP scheme, and marks nothing', async () => {
    const outcome = await attempt(`DPoP ${boundToken}`, await proof(), { scope: 'admin' });
    expect(refusalOf(outcome)).toMatchObject({
      status: 403,
      code: 'insufficient_scope',
      challenge: expect.stringMatching(/^DPoP error="insufficient_scope"/),
    });
    expect(outcome.ledger.expiries.size).toBe(0);
  });
});

describe('a token bound to no key', () => {
  it('as Bearer: accepted with one lookup and no ledger call, as before DPoP', async () => {
    const outcome = await attempt(`Bearer ${plainToken}`, await proof());
    expect(outcome.error).toBeUndefined();
    expect(outcome.lookups).toBe(1);
    expect(outcome.ledger.expiries.size).toBe(0);
  });

  it('with the DPoP scheme, even with a good proof: 401 invalid_token in the DPoP scheme', async () => {
    const outcome = await attempt(`DPoP ${plainToken}`, await proof({ ath: athOf(plainToken) }));
    expect(refusalOf(outcome)).toMatchObject({
      status: 401,
      code: 'invalid_token',
      message: expect.stringMatching(/not bound to a DPoP key/),
      challenge: expect.stringMatching(/^DPoP error="invalid_token"/),
    });
    expect(outcome.ledger.expiries.size).toBe(0);
  });
});

it('refuses a token bound to a client certificate, which this API cannot check', async () => {
  const outcome = await attempt(`Bearer certificate_${'c'.repeat(30)}`);
  expect(refusalOf(outcome)).toMatchObject({ status: 401, code: 'invalid_token' });
});

it('answers an unknown token sent with a good-looking proof in the DPoP scheme', async () => {
  const unknown = 'unknown_' + 'd'.repeat(40);
  const outcome = await attempt(`DPoP ${unknown}`, await proof({ ath: athOf(unknown) }));
  expect(refusalOf(outcome)).toMatchObject({
    status: 401,
    code: 'invalid_token',
    challenge: expect.stringMatching(/^DPoP error="invalid_token"/),
  });
});
