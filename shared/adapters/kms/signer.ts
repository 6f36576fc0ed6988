import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { GetPublicKeyCommand, SignCommand, type KMSClient } from '@aws-sdk/client-kms';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { InternalError } from '../../errors.js';
import { derToJose, lowS } from '../../crypto/der.js';
import type { KeyObjectSigner } from '../../crypto/signer.js';

interface PublicKeyInfo {
  /** The key's ARN as KMS reported it: signing uses it, so the signing key is the one behind `kid`. */
  keyArn: string;
  jwk: Readonly<JWK>;
  kid: string;
  keyObject: KeyObject;
}

/**
 * Public keys per container, per client, per key id: one GetPublicKey per key for the life of a Lambda
 * container. The promise is cached so that concurrent first calls share one request; a failed request is
 * forgotten so the next call tries again. Keyed by client too, so that two endpoints (tests, regions) using
 * the same alias never share an entry.
 */
const publicKeys = new WeakMap<KMSClient, Map<string, Promise<PublicKeyInfo>>>();

function unsupported(keyId: string, reason: string): InternalError {
  return new InternalError(`KMS key ${keyId} cannot sign ES256: ${reason}`, 'unsupported_key');
}

async function fetchPublicKey(kms: KMSClient, keyId: string): Promise<PublicKeyInfo> {
  const response = await kms.send(new GetPublicKeyCommand({ KeyId: keyId }));
  if (response.KeySpec !== 'ECC_NIST_P256') throw unsupported(keyId, `key spec ${response.KeySpec}`);
  if (response.KeyUsage !== 'SIGN_VERIFY') throw unsupported(keyId, `key usage ${response.KeyUsage}`);
  if (!response.PublicKey || !response.KeyId) throw unsupported(keyId, 'no public key returned');
  const keyObject = createPublicKey({ key: Buffer.from(response.PublicKey), format: 'der', type: 'spki' });
  const exported = keyObject.export({ format: 'jwk' });
  if (exported.kty !== 'EC' || exported.crv !== 'P-256' || !exported.x || !exported.y) {
    throw unsupported(keyId, 'public key is not on P-256');
  }
  const members = { kty: 'EC', crv: 'P-256', x: exported.x, y: exported.y };
  const kid = await calculateJwkThumbprint(members, 'sha256');
  const jwk = Object.freeze({ ...members, kid, alg: 'ES256', use: 'sig' });
  return { keyArn: response.KeyId, jwk, kid, keyObject };
}

function cachedPublicKey(kms: KMSClient, keyId: string): Promise<PublicKeyInfo> {
  let byKeyId = publicKeys.get(kms);
  if (!byKeyId) {
    byKeyId = new Map();
    publicKeys.set(kms, byKeyId);
  }
  const cached = byKeyId.get(keyId);
  if (cached) return cached;
  const pending = fetchPublicKey(kms, keyId);
  byKeyId.set(keyId, pending);
  pending.catch(() => {
    if (byKeyId.get(keyId) === pending) byKeyId.delete(keyId);
  });
  return pending;
}

/**
 * ES256 {@link KeyObjectSigner} backed by an AWS KMS `ECC_NIST_P256` / `SIGN_VERIFY` key: the private key never
 * leaves KMS. Data is hashed locally (SHA-256) and KMS signs the digest (`MessageType: DIGEST`), so
 * input size is unbounded and only 32 bytes travel; KMS's DER signature is returned in JOSE `r‖s` form,
 * always low-S (verifiers refuse the other).
 *
 * The public key is read once per container (GetPublicKey) and its RFC 7638 thumbprint is the `kid`.
 * Signing uses the key ARN that GetPublicKey reported, so an alias re-pointed during the container's
 * life cannot produce signatures under a stale `kid`.
 *
 * SDK errors (after the client's retries) propagate unchanged; a key of the wrong kind throws
 * `InternalError` `unsupported_key`, an unreadable signature `invalid_signature_encoding`.
 *
 * @example
 * ```ts
 * const signer = new KmsSigner(createKmsClient({ region: 'cn-north-1' }), 'alias/platform-signing');
 * const header = { alg: signer.alg, kid: await signer.kid(), typ: 'JWT' };
 * const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
 * const jws = `${signingInput}.${b64url(await signer.sign(new TextEncoder().encode(signingInput)))}`;
 * ```
 */
export class KmsSigner implements KeyObjectSigner {
  readonly alg = 'ES256' as const;

  constructor(
    private readonly kms: KMSClient,
    /** Key id, key ARN, alias name (`alias/...`) or alias ARN. */
    readonly keyId: string,
  ) {}

  /** The public JWK with `kid`, `alg: ES256` and `use: sig`; a fresh copy on every call. */
  async publicJwk(): Promise<JWK> {
    const { jwk } = await cachedPublicKey(this.kms, this.keyId);
    return { ...jwk };
  }

  /** RFC 7638 JWK thumbprint (SHA-256, base64url) of the public key. */
  async kid(): Promise<string> {
    return (await cachedPublicKey(this.kms, this.keyId)).kid;
  }

  /** The public key as a Node `KeyObject`, for consumers that need it synchronously after one await. */
  async publicKey(): Promise<KeyObject> {
    return (await cachedPublicKey(this.kms, this.keyId)).keyObject;
  }

  /** Signs SHA-256(`data`) and returns the 64-byte JOSE signature. */
  async sign(data: Uint8Array): Promise<Uint8Array> {
    const { keyArn } = await cachedPublicKey(this.kms, this.keyId);
    const digest = createHash('sha256').update(data).digest();
    const response = await this.kms.send(
      new SignCommand({
        KeyId: keyArn,
        Message: digest,
        MessageType: 'DIGEST',
        SigningAlgorithm: 'ECDSA_SHA_256',
      }),
    );
    if (!response.Signature) {
      throw new InternalError('KMS returned no signature', 'invalid_signature_encoding');
    }
    // KMS returns either of the two valid `s`; only the low one is ever published (see `lowS`).
    return lowS(derToJose(response.Signature, 32));
  }
}
