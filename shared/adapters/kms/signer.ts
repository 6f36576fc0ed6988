import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { GetPublicKeyCommand, SignCommand, type KMSClient } from '@aws-sdk/client-kms';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { InternalError } from '../../errors.js';
import { derToJose, lowS } from '../../crypto/der.js';
import type { KeyObjectSigner, RsaKeyObjectSigner } from '../../crypto/signer.js';

interface PublicKeyInfo {
  /** The key's ARN as KMS reported it: signing uses it, so the signing key is the one behind `kid`. */
  keyArn: string;
  jwk: Readonly<JWK>;
  kid: string;
  keyObject: KeyObject;
}

/** The key kinds the signers use: KMS key spec, JOSE algorithm, KMS signing algorithm. */
const kinds = {
  ES256: { keySpec: 'ECC_NIST_P256', signingAlgorithm: 'ECDSA_SHA_256' },
  RS256: { keySpec: 'RSA_2048', signingAlgorithm: 'RSASSA_PKCS1_V1_5_SHA_256' },
} as const;
type Alg = keyof typeof kinds;

/**
 * Public keys per container, per client, per key id: one GetPublicKey per key for the life of a Lambda
 * container. The promise is cached so that concurrent first calls share one request; a failed request is
 * forgotten so the next call tries again. Keyed by client too, so that two endpoints (tests, regions) using
 * the same alias never share an entry.
 */
const publicKeys = new WeakMap<KMSClient, Map<string, Promise<PublicKeyInfo>>>();

function unsupported(keyId: string, alg: Alg, reason: string): InternalError {
  return new InternalError(`KMS key ${keyId} cannot sign ${alg}: ${reason}`, 'unsupported_key');
}

/** The JWK members of a public key that its RFC 7638 thumbprint covers, or why it is not of `alg`'s kind. */
function thumbprintMembers(keyObject: KeyObject, alg: Alg): Record<string, string> | string {
  const exported = keyObject.export({ format: 'jwk' });
  if (alg === 'ES256') {
    if (exported.kty !== 'EC' || exported.crv !== 'P-256' || !exported.x || !exported.y) {
      return 'public key is not on P-256';
    }
    return { kty: 'EC', crv: 'P-256', x: exported.x, y: exported.y };
  }
  if (
    exported.kty !== 'RSA' ||
    !exported.n ||
    !exported.e ||
    keyObject.asymmetricKeyDetails?.modulusLength !== 2048
  ) {
    return 'public key is not a 2048-bit RSA key';
  }
  return { kty: 'RSA', n: exported.n, e: exported.e };
}

async function fetchPublicKey(kms: KMSClient, keyId: string, alg: Alg): Promise<PublicKeyInfo> {
  const response = await kms.send(new GetPublicKeyCommand({ KeyId: keyId }));
  if (response.KeySpec !== kinds[alg].keySpec) throw unsupported(keyId, alg, `key spec ${response.KeySpec}`);
  if (response.KeyUsage !== 'SIGN_VERIFY') throw unsupported(keyId, alg, `key usage ${response.KeyUsage}`);
  if (!response.PublicKey || !response.KeyId) throw unsupported(keyId, alg, 'no public key returned');
  const keyObject = createPublicKey({ key: Buffer.from(response.PublicKey), format: 'der', type: 'spki' });
  const members = thumbprintMembers(keyObject, alg);
  if (typeof members === 'string') throw unsupported(keyId, alg, members);
  const kid = await calculateJwkThumbprint(members as JWK, 'sha256');
  const jwk = Object.freeze({ ...members, kid, alg, use: 'sig' });
  return { keyArn: response.KeyId, jwk, kid, keyObject };
}

function cachedPublicKey(kms: KMSClient, keyId: string, alg: Alg): Promise<PublicKeyInfo> {
  let byKeyId = publicKeys.get(kms);
  if (!byKeyId) {
    byKeyId = new Map();
    publicKeys.set(kms, byKeyId);
  }
  const entry = `${alg} ${keyId}`;
  const cached = byKeyId.get(entry);
  if (cached) return cached;
  const pending = fetchPublicKey(kms, keyId, alg);
  byKeyId.set(entry, pending);
  pending.catch(() => {
    if (byKeyId.get(entry) === pending) byKeyId.delete(entry);
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
    const { jwk } = await cachedPublicKey(this.kms, this.keyId, 'ES256');
    return { ...jwk };
  }

  /** RFC 7638 JWK thumbprint (SHA-256, base64url) of the public key. */
  async kid(): Promise<string> {
    return (await cachedPublicKey(this.kms, this.keyId, 'ES256')).kid;
  }

  /** The public key as a Node `KeyObject`, for consumers that need it synchronously after one await. */
  async publicKey(): Promise<KeyObject> {
    return (await cachedPublicKey(this.kms, this.keyId, 'ES256')).keyObject;
  }

  /** Signs SHA-256(`data`) and returns the 64-byte JOSE signature. */
  async sign(data: Uint8Array): Promise<Uint8Array> {
    const { keyArn } = await cachedPublicKey(this.kms, this.keyId, 'ES256');
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

/**
 * RS256 {@link RsaKeyObjectSigner} backed by an AWS KMS `RSA_2048` / `SIGN_VERIFY` key, for relying
 * parties whose OpenID library expects the algorithm OpenID Connect makes mandatory (RS256): the private
 * key never leaves KMS. As {@link KmsSigner}: the data is hashed locally and KMS signs the digest
 * (`RSASSA_PKCS1_V1_5_SHA_256`, `MessageType: DIGEST`), one Sign call per signature; the signature is
 * returned as KMS gives it (PKCS #1 v1.5 is already the JWS form); the public key is read once per
 * container and its RFC 7638 thumbprint is the `kid`; signing uses the ARN GetPublicKey reported.
 *
 * @example
 * ```ts
 * const signer = new KmsRsaSigner(createKmsClient({ region: 'cn-north-1' }), 'alias/elicence-platform-rsa');
 * const jwk = await signer.publicJwk(); // { kty: 'RSA', n, e, kid, alg: 'RS256', use: 'sig' }
 * ```
 */
export class KmsRsaSigner implements RsaKeyObjectSigner {
  readonly alg = 'RS256' as const;

  constructor(
    private readonly kms: KMSClient,
    /** Key id, key ARN, alias name (`alias/...`) or alias ARN. */
    readonly keyId: string,
  ) {}

  /** The public JWK with `kid`, `alg: RS256` and `use: sig`; a fresh copy on every call. */
  async publicJwk(): Promise<JWK> {
    return { ...(await cachedPublicKey(this.kms, this.keyId, 'RS256')).jwk };
  }

  async kid(): Promise<string> {
    return (await cachedPublicKey(this.kms, this.keyId, 'RS256')).kid;
  }

  async publicKey(): Promise<KeyObject> {
    return (await cachedPublicKey(this.kms, this.keyId, 'RS256')).keyObject;
  }

  /** Signs SHA-256(`data`) with RSASSA-PKCS1-v1_5 and returns the 256-byte signature. */
  async sign(data: Uint8Array): Promise<Uint8Array> {
    const { keyArn } = await cachedPublicKey(this.kms, this.keyId, 'RS256');
    const response = await this.kms.send(
      new SignCommand({
        KeyId: keyArn,
        Message: createHash('sha256').update(data).digest(),
        MessageType: 'DIGEST',
        SigningAlgorithm: kinds.RS256.signingAlgorithm,
      }),
    );
    if (response.Signature?.length !== 256) {
      throw new InternalError('KMS returned no RSA-2048 signature', 'invalid_signature_encoding');
    }
    return response.Signature;
  }
}
