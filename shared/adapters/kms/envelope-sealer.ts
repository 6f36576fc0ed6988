import { DecryptCommand, GenerateDataKeyCommand, type KMSClient } from '@aws-sdk/client-kms';
import { canonicalJson } from '../../canonical-json.js';
import { AesGcmSealer } from '../../crypto/aes-gcm-sealer.js';
import type { EnvelopeSealer } from '../../crypto/envelope-sealer.js';
import { InternalError } from '../../errors.js';

/**
 * {@link EnvelopeSealer} on an AWS KMS symmetric key: one `GenerateDataKey` (AES-256, under the context)
 * per sealed value and one `Decrypt` per opening; the value itself is sealed with AES-256-GCM
 * ({@link AesGcmSealer}) under the data key, bound to the canonical JSON of the context. The wire form is
 * `<wrapped data key, base64url>.<iv ‖ ciphertext ‖ tag, base64url>`. CloudTrail records each opening,
 * with its context, as it does each decryption of an ID number.
 *
 * @example
 * ```ts
 * const sealer = new KmsEnvelopeSealer(kms, 'alias/elicence-pii');
 * const sealed = await sealer.seal({ purpose: 'batch-items', batch: 'bat_…', chunk: '0' }, items);
 * await sealer.open({ purpose: 'batch-items', batch: 'bat_…', chunk: '0' }, sealed); // items
 * ```
 */
export class KmsEnvelopeSealer implements EnvelopeSealer {
  constructor(
    private readonly kms: KMSClient,
    /** Key id, key ARN, alias name (`alias/...`) or alias ARN. */
    readonly keyId: string,
  ) {}

  async seal(context: Record<string, string>, value: unknown): Promise<string> {
    const { Plaintext, CiphertextBlob } = await this.kms.send(
      new GenerateDataKeyCommand({ KeyId: this.keyId, KeySpec: 'AES_256', EncryptionContext: context }),
    );
    if (!Plaintext || !CiphertextBlob) throw new InternalError('KMS returned no data key', 'kms_no_data_key');
    try {
      const sealed = await new AesGcmSealer(() => Promise.resolve(Plaintext)).seal(
        canonicalJson(context),
        value,
      );
      return `${Buffer.from(CiphertextBlob).toString('base64url')}.${sealed}`;
    } finally {
      // The clear data key is used for this one value: nothing keeps it.
      Plaintext.fill(0);
    }
  }

  async open(context: Record<string, string>, sealed: string): Promise<unknown> {
    const [wrapped, ciphertext, ...rest] = sealed.split('.');
    if (!wrapped || !ciphertext || rest.length > 0) throw new Error('not an envelope-sealed value');
    const { Plaintext } = await this.kms.send(
      new DecryptCommand({
        // Pinned: a data key wrapped by any other key is refused, not unwrapped with whatever key it names.
        KeyId: this.keyId,
        CiphertextBlob: Buffer.from(wrapped, 'base64url'),
        EncryptionContext: context,
      }),
    );
    if (!Plaintext) throw new InternalError('KMS returned no plaintext', 'kms_no_plaintext');
    try {
      return await new AesGcmSealer(() => Promise.resolve(Plaintext)).open(
        canonicalJson(context),
        ciphertext,
      );
    } finally {
      Plaintext.fill(0);
    }
  }
}
