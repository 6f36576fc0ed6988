import { DecryptCommand, EncryptCommand, type KMSClient } from '@aws-sdk/client-kms';
import { InternalError } from '../../errors.js';
import type { PiiCipher } from '../../identity/pii-cipher.js';

/**
 * {@link PiiCipher} on an AWS KMS symmetric key (`SYMMETRIC_DEFAULT`, `ENCRYPT_DECRYPT`): one Encrypt
 * per registration, one Decrypt per `id_number` claim. Direct KMS encryption suits values this small
 * (KMS takes up to 4 KiB); CloudTrail then records every decryption of an ID number.
 *
 * @example
 * ```ts
 * const pii = new KmsPiiCipher(kms, 'alias/elicence-pii');
 * const sealed = await pii.encrypt(idNumber, { purpose: 'id-number', account: id });
 * ```
 */
export class KmsPiiCipher implements PiiCipher {
  constructor(
    private readonly kms: KMSClient,
    /** Key id, key ARN, alias name (`alias/...`) or alias ARN. */
    readonly keyId: string,
  ) {}

  async encrypt(plaintext: string, context: Record<string, string>): Promise<string> {
    const { CiphertextBlob } = await this.kms.send(
      new EncryptCommand({
        KeyId: this.keyId,
        Plaintext: new TextEncoder().encode(plaintext),
        EncryptionContext: context,
      }),
    );
    if (!CiphertextBlob) throw new InternalError('KMS returned no ciphertext', 'kms_no_ciphertext');
    return Buffer.from(CiphertextBlob).toString('base64');
  }

  async decrypt(ciphertext: string, context: Record<string, string>): Promise<string> {
    const { Plaintext } = await this.kms.send(
      new DecryptCommand({
        // Pinned: a ciphertext under any other key is refused, not decrypted with whatever key it names.
        KeyId: this.keyId,
        CiphertextBlob: Buffer.from(ciphertext, 'base64'),
        EncryptionContext: context,
      }),
    );
    if (!Plaintext) throw new InternalError('KMS returned no plaintext', 'kms_no_plaintext');
    return new TextDecoder().decode(Plaintext);
  }
}
