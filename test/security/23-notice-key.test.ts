import { SignCommand } from '@aws-sdk/client-kms';
import {
  createRemoteJWKSet,
  decodeProtectedHeader,
  jwtVerify,
  type JSONWebKeySet,
  type JWK,
  type JWTPayload,
} from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dependencies } from '../../functions/composition/dependencies.js';
import { LocalAccessDenied } from '../../infra/local/grant-guard.js';
import { kmsSigner } from '../../shared/adapters/kms/index.js';
import { loadConfig } from '../../shared/config.js';
import { signCompactJws } from '../../shared/crypto/compact-jws.js';
import type { Signer } from '../../shared/crypto/signer.js';
import { securityEventClaims } from '../../shared/sharing/withdrawal-notices.js';
import { functionKms, idTokenSignedBy, signDigest, relyingPartyAccepts } from '../support/function-kms.js';
import { demoPlatform, type RelyingParty } from '../support/oidc-flows.js';
import { startTestRuntime, type TestRuntime } from '../support/runtime.js';

/**
 * Review R31, L1: the `notices` function (no route; it reads the notice queue and the platforms'
 * metadata, and posts to their events endpoints) signed the withdrawal notices with the platform key, the
 * key of `jwks_uri` that signs every ID token. A foothold in `notices` could therefore sign in as anyone
 * at every relying platform.
 *
 * Now `notices` signs with a notice key of its own, published at `/.well-known/notices-jwks.json` and
 * never in `jwks_uri`. The attacker below is a compromised `notices`: it has that function's KMS client, as
 * the local runtime builds it (the KMS emulator behind the grant guard that refuses what IAM would).
 */

let runtime: TestRuntime;
let platform: RelyingParty;
const config = loadConfig({});

beforeAll(async () => {
  runtime = await startTestRuntime();
  platform = await demoPlatform(runtime);
});
afterAll(() => runtime?.close());

/** `notices`'s KMS client, guarded by its grants as the local runtime guards each function's container. */
const noticesKms = () => functionKms(runtime, 'notices');

/** An ID token for `sub` at the demo platform, as the provider would sign it, signed by `signer`. */
const idToken = (signer: Signer, claims: Record<string, unknown> = {}) =>
  idTokenSignedBy(runtime, platform, signer, claims);

/** A withdrawal notice to the demo platform, as `notices` signs it (shared/sharing/withdrawal-notices.ts). */
function notice(signer: Signer): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const claims = securityEventClaims(
    {
      id: 'evt_test',
      clientId: platform.clientId,
      subject: 'pairwise-sub',
      event: 'sign-in-withdrawn',
      grantIds: ['g1'],
      licenceTypes: [],
      scopes: ['openid'],
      withdrawnAt: now,
    },
    runtime.baseUrl,
    now,
  );
  return signCompactJws({ typ: 'secevent+jwt' }, claims, signer);
}

/** What a relying platform does with an ID token it is handed: jose against the discovered `jwks_uri`. */
const idTokenVerifierAccepts = (token: string) => relyingPartyAccepts(runtime, platform, token);

/** What a platform's events endpoint does (docs/integrating.md): jose against the notices JWKS. */
function noticeVerifier(token: string): Promise<{ payload: JWTPayload }> {
  return jwtVerify(token, createRemoteJWKSet(new URL(`${runtime.baseUrl}/.well-known/notices-jwks.json`)), {
    issuer: runtime.baseUrl,
    audience: platform.clientId,
    typ: 'secevent+jwt',
    algorithms: ['ES256'],
  });
}

async function jwks(path: string): Promise<JWK[]> {
  const response = await fetch(`${runtime.baseUrl}${path}`);
  expect(response.status).toBe(200);
  return ((await response.json()) as JSONWebKeySet).keys;
}

describe('the notices function cannot mint an ID token (review R31 L1)', () => {
  it('is refused Sign on the platform key by the grant guard, and signs notices with their own key', async () => {
    const kms = await noticesKms();
    try {
      const sign = (keyId: string) => signDigest(kms, keyId);
      // What a compromised `notices` would do: sign with the key relying platforms trust for ID tokens.
      await expect(sign(config.platformKeyId)).rejects.toThrow(
        'Function notices is not granted kms:Sign on the platform key',
      );
      await expect(idToken(kmsSigner(kms, config.platformKeyId))).rejects.toBeInstanceOf(LocalAccessDenied);
      await expect(
        kms.send(
          new SignCommand({
            KeyId: config.platformRsaKeyId,
            Message: new Uint8Array(32),
            MessageType: 'DIGEST',
            SigningAlgorithm: 'RSASSA_PKCS1_V1_5_SHA_256',
          }),
        ),
      ).rejects.toBeInstanceOf(LocalAccessDenied);
      // What it is for: the notice key.
      expect((await sign(config.noticeKeyId)).Signature?.length).toBeGreaterThan(60);
    } finally {
      kms.destroy();
    }
  });

  it('signs notices a platform verifies against the notices JWKS, and ID tokens no relying party accepts', async () => {
    const kms = await noticesKms();
    try {
      const noticeSigner = kmsSigner(kms, config.noticeKeyId);
      // A notice verifies as docs/integrating.md says, with the notice key's kid.
      const signed = await notice(noticeSigner);
      expect(decodeProtectedHeader(signed)).toMatchObject({
        typ: 'secevent+jwt',
        alg: 'ES256',
        kid: await noticeSigner.kid(),
      });
      const { payload } = await noticeVerifier(signed);
      expect(payload).toMatchObject({ aud: platform.clientId, sub: 'pairwise-sub', jti: 'evt_test' });
      // The forgery: an ID token signed with the notice key is refused at jwks_uri.
      expect(await idTokenVerifierAccepts(await idToken(noticeSigner))).toBe(false);
      // The control: the same claims signed with the platform key are accepted (what `notices` could
      // sign before), so the check above is the relying party's real one.
      expect(await idTokenVerifierAccepts(await idToken(dependencies().platformSigner))).toBe(true);
      // Nor does the notices JWKS take what the platform key signs: the two sets share no key.
      await expect(noticeVerifier(await notice(dependencies().platformSigner))).rejects.toMatchObject({
        code: 'ERR_JWKS_NO_MATCHING_KEY',
      });
    } finally {
      kms.destroy();
    }
  });

  it('publishes the notice key at its own JWKS only, never at jwks_uri', async () => {
    const noticeJwk = await dependencies().noticeSigner.publicJwk();
    const notices = await jwks('/.well-known/notices-jwks.json');
    expect(notices).toEqual([
      {
        kty: 'EC',
        crv: 'P-256',
        x: noticeJwk.x,
        y: noticeJwk.y,
        kid: noticeJwk.kid,
        alg: 'ES256',
        use: 'sig',
      },
    ]);
    const discovery = (await (await fetch(`${runtime.baseUrl}/.well-known/openid-configuration`)).json()) as {
      jwks_uri: string;
    };
    expect(discovery.jwks_uri).toBe(`${runtime.baseUrl}/.well-known/jwks.json`);
    const idTokenKeys = await jwks('/.well-known/jwks.json');
    expect(idTokenKeys.some((key) => key.x === noticeJwk.x || key.kid === noticeJwk.kid)).toBe(false);
    expect(notices.some((key) => idTokenKeys.some((other) => other.kid === key.kid))).toBe(false);
  });
});
