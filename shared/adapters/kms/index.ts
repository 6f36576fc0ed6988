import type { KMSClient } from '@aws-sdk/client-kms';
import type { Config } from '../../config.js';
import type { KeyManager } from '../../crypto/key-manager.js';
import type { Mac } from '../../crypto/mac.js';
import type { KeyObjectSigner, RsaKeyObjectSigner } from '../../crypto/signer.js';
import type { EnvelopeSealer } from '../../crypto/envelope-sealer.js';
import type { PiiCipher } from '../../identity/pii-cipher.js';
import { createKmsClient } from './client.js';
import { KmsEnvelopeSealer } from './envelope-sealer.js';
import { KmsKeyManager } from './key-manager.js';
import { KmsMac } from './mac.js';
import { KmsPiiCipher } from './pii-cipher.js';
import { KmsRsaSigner, KmsSigner } from './signer.js';

/*
 * The composition root's way in to the KMS adapters: one connection per container, and one builder per
 * port, each returning the port, so that the composition names no SDK type and builds no SDK client.
 */

/**
 * KMS as the KMS adapters of one container share it: the one client (its connections, and the signers'
 * cache of public keys, which is per client). The composition passes it to the builders below and looks no
 * further; the local launcher (`infra/`) guards and closes it and bootstraps the platform keys with it.
 */
export type KmsConnection = KMSClient;

/**
 * Connects to the configured KMS (AWS by region, or an emulator / LocalStack endpoint). Makes no network
 * call: the client connects on first use.
 *
 * @example
 * ```ts
 * const kms = connectKms(loadConfig());
 * const signer = kmsSigner(kms, config.platformKeyId);
 * ```
 */
export function connectKms(config: Pick<Config, 'region' | 'kmsEndpoint'>): KmsConnection {
  return createKmsClient({ region: config.region, endpoint: config.kmsEndpoint });
}

/** Signs with the KMS key `keyId` (key id, ARN or alias). */
export const kmsSigner = (kms: KmsConnection, keyId: string): KeyObjectSigner => new KmsSigner(kms, keyId);
/** Signs RS256 with the KMS `RSA_2048` key `keyId` (ID tokens of platforms registered for RS256). */
export const kmsRsaSigner = (kms: KmsConnection, keyId: string): RsaKeyObjectSigner =>
  new KmsRsaSigner(kms, keyId);
/** HMACs with the KMS key `keyId`. */
export const kmsMac = (kms: KmsConnection, keyId: string): Mac => new KmsMac(kms, keyId);
/** Creates issuer keys; `policy` is the key policy they are created with (the account default if omitted). */
export const kmsKeyManager = (kms: KmsConnection, policy: string | undefined): KeyManager =>
  new KmsKeyManager(kms, policy);
/** Encrypts and decrypts personal data under the KMS key `keyId`. */
export const kmsPiiCipher = (kms: KmsConnection, keyId: string): PiiCipher => new KmsPiiCipher(kms, keyId);
/** Seals larger values (a batch's items) with a data key from the KMS key `keyId` per value. */
export const kmsEnvelopeSealer = (kms: KmsConnection, keyId: string): EnvelopeSealer =>
  new KmsEnvelopeSealer(kms, keyId);
