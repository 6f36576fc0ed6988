import { SignCommand } from '@aws-sdk/client-kms';
import { decodeJwt, decodeProtectedHeader, type JWK } from 'jose';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dependencies } from '../../functions/composition/dependencies.js';
import { serviceKeyRoles } from '../../infra/local/bootstrap-keys.js';
import { LocalAccessDenied } from '../../infra/local/grant-guard.js';
import { kmsSigner } from '../../shared/adapters/kms/index.js';
import { loadConfig } from '../../shared/config.js';
import { signCompactJws } from '../../shared/crypto/compact-jws.js';
import type { Signer } from '../../shared/crypto/signer.js';
import { emulatorKms } from '../support/http-api.js';
import {
  functionKms,
  idTokenSignedBy,
  signDigest,
  relyingPartyAccepts as platformAccepts,
} from '../support/function-kms.js';
import {
  authorizationRequest,
  callbackOf,
  citizenAnswers,
  demoPlatform,
  discover,
  exchange,
  type RelyingParty,
} from '../support/oidc-flows.js';
import { startTestRuntime, type TestRuntime } from '../support/runtime.js';
import { UserAgent } from '../support/user-agent.js';

/**
 * Review R7, M1 (treated as High): presentations were signed by the platform key, which also signs every
 * ID token, so the holder API (`me`: internet-facing, passkeys, sharing, usage, entities) held kms:Sign on
 * the key every relying platform trusts. A compromised `me` could sign an ID token for anyone.
 *
 * Now `me` signs with the presentation key alone, published under the trust list's signature and never
 * in `jwks_uri`. The attacker below is a compromised `me`: it has that function's KMS client, as the local
 * runtime builds it (the runtime's KMS emulator behind the grant guard that refuses what IAM would).
 */

let runtime: TestRuntime;
let platform: RelyingParty;
const config = loadConfig({});

beforeAll(async () => {
  runtime = await startTestRuntime();
  platform = await demoPlatform(runtime);
});
afterAll(() => runtime?.close());

/** `me`'s KMS client, guarded by its grants as the local runtime guards each function's container. */
const meKms = () => functionKms(runtime, 'me');

/** An ID token for `sub` at the demo platform, as the provider would sign it, signed by `signer`. */
const idToken = (signer: Signer, claims: Record<string, unknown> = {}) =>
  idTokenSignedBy(runtime, platform, signer, claims);

/** What a relying platform does with an ID token it is handed: jose against the discovered `jwks_uri`. */
const relyingPartyAccepts = (token: string) => platformAccepts(runtime, platform, token);

describe('the holder API cannot mint an ID token (review R7 M1)', () => {
  it('is refused Sign on the platform key by the grant guard, and signs presentations with their own key', async () => {
    const kms = await meKms();
    try {
      const sign = (keyId: string) => signDigest(kms, keyId);
      // What a compromised `me` would do: sign with the key relying platforms trust for ID tokens, by
      // its alias or its ARN.
      await expect(sign(config.platformKeyId)).rejects.toThrow(
        'Function me is not granted kms:Sign on the platform key',
      );
      await expect(sign(await arnOf('platform'))).rejects.toThrow(
        'Function me is not granted kms:Sign on the platform key',
      );
      // So no ID token comes out of it, nor an RS256 one from the RSA platform key.
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
      // What it is for: the presentation key.
      expect((await sign(config.presentationKeyId)).Signature?.length).toBeGreaterThan(60);
    } finally {
      kms.destroy();
    }
  });

  it('signs with the presentation key an ID token no relying party accepts: that key is not in jwks_uri', async () => {
    const kms = await meKms();
    try {
      const presentationSigner = kmsSigner(kms, config.presentationKeyId);
      const forged = await idToken(presentationSigner);
      expect(decodeProtectedHeader(forged).kid).toBe(await presentationSigner.kid());
      expect(await relyingPartyAccepts(forged)).toBe(false);
      // Under the platform key's kid it is a bad signature.
      const spoofed = Object.assign(Object.create(presentationSigner) as Signer, {
        alg: 'ES256' as const,
        kid: () => dependencies().platformSigner.kid(),
        sign: (data: Uint8Array) => presentationSigner.sign(data),
      });
      expect(await relyingPartyAccepts(await idToken(spoofed))).toBe(false);

      // The control: the same claims signed with the platform key are accepted, so the check above is
      // the relying party's real one, and what `me` could do before.
      expect(await relyingPartyAccepts(await idToken(dependencies().platformSigner))).toBe(true);

      // jwks_uri names the ID-token keys only: never a presentation key, under any kid.
      const published = (await (await fetch(`${runtime.baseUrl}/.well-known/jwks.json`)).json()) as {
        keys: JWK[];
      };
      const presentationJwk = await dependencies().presentationSigner.publicJwk();
      expect(published.keys.some((key) => key.x === presentationJwk.x)).toBe(false);
    } finally {
      kms.destroy();
    }
  });

  it('is refused by openid-client (with signature checks) when the token endpoint hands it over', async () => {
    const kms = await meKms();
    try {
      const presentationSigner = kmsSigner(kms, config.presentationKeyId);
      /** A sign-in whose token response carries `swap(id_token)` instead, checked as a careful RP does. */
      const signInWith = async (swap: (idToken: string) => Promise<string>) => {
        const rp: RelyingParty = { ...platform, config: await discover(runtime.baseUrl, platform) };
        // Validates the ID token's signature against jwks_uri even over TLS (non-repudiation).
        client.enableNonRepudiationChecks(rp.config);
        rp.config[client.customFetch] = async (url, options) => {
          const response = await fetch(url, options as RequestInit);
          if (new URL(url).pathname !== '/token' || !response.ok) return response;
          const body = (await response.json()) as { id_token: string };
          return Response.json({ ...body, id_token: await swap(body.id_token) });
        };
        const request = await authorizationRequest(rp, {});
        const { callback } = await callbackOf(
          new UserAgent(runtime.baseUrl, [rp.redirectUri]),
          request.url,
          citizenAnswers(runtime),
        );
        return exchange(rp, request, callback);
      };
      // The provider's own header and claims, another signature.
      const resigned = (signer: Signer) => async (token: string) => {
        const { alg: _alg, kid: _kid, ...header } = decodeProtectedHeader(token);
        return signCompactJws(header as { typ: string }, decodeJwt(token), signer);
      };

      // As the provider signed it, and re-signed by the platform key: accepted (the harness is sound).
      await expect(signInWith(async (token) => token)).resolves.toBeDefined();
      await expect(signInWith(resigned(dependencies().platformSigner))).resolves.toBeDefined();
      // Re-signed by the presentation key, the one `me` holds: refused.
      // Refused: jwks_uri has no key for it (oauth4webapi's OAUTH_KEY_SELECTION_FAILED).
      await expect(signInWith(resigned(presentationSigner))).rejects.toMatchObject({
        code: 'OAUTH_KEY_SELECTION_FAILED',
      });
    } finally {
      kms.destroy();
    }
  });
});

/** The ARN of one of the service's own keys, as signers name it after GetPublicKey. */
async function arnOf(role: 'platform'): Promise<string> {
  const kms = emulatorKms(runtime);
  try {
    const roles = await serviceKeyRoles(kms, config);
    const arn = [...roles].find(([id, named]) => named === role && id.startsWith('arn:'))?.[0];
    if (!arn) throw new Error(`no ARN for the ${role} key`);
    return arn;
  } finally {
    kms.destroy();
  }
}
