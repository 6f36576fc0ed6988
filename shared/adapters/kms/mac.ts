import { GenerateMacCommand, type KMSClient } from '@aws-sdk/client-kms';
import { InternalError } from '../../errors.js';
import type { Mac } from '../../crypto/mac.js';

/**
 * HMAC-SHA-256 {@link Mac} backed by an AWS KMS `HMAC_256` / `GENERATE_VERIFY_MAC` key (GenerateMac).
 * KMS accepts at most 4096 bytes of message; lookup keys are far smaller.
 *
 * @example
 * ```ts
 * const lookupKey = await new KmsMac(kms, 'alias/identity-lookup').mac(new TextEncoder().encode(idNumber));
 * ```
 */
export class KmsMac implements Mac {
  constructor(
    private readonly kms: KMSClient,
    /** Key id, key ARN, alias name (`alias/...`) or alias ARN. */
    readonly keyId: string,
  ) {}

  async mac(data: Uint8Array): Promise<Uint8Array> {
    const response = await this.kms.send(
      new GenerateMacCommand({ KeyId: this.keyId, Message: data, MacAlgorithm: 'HMAC_SHA_256' }),
    );
    if (!response.Mac) throw new InternalError('KMS returned no MAC', 'kms_no_mac');
    return response.Mac;
  }
}
