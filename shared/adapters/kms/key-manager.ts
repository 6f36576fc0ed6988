import {
  CreateAliasCommand,
  CreateKeyCommand,
  ScheduleKeyDeletionCommand,
  type KMSClient,
} from '@aws-sdk/client-kms';
import { InternalError } from '../../errors.js';
import type { KeyManager } from '../../crypto/key-manager.js';

/** The shortest window KMS allows: a mistaken deletion can still be cancelled within it. */
const PENDING_WINDOW_IN_DAYS = 7;

/**
 * {@link KeyManager} on AWS KMS: ES256 signing keys (`ECC_NIST_P256`, `SIGN_VERIFY`), tagged, optionally
 * aliased, with a fixed key policy when one is given (production; sent with `BypassPolicyLockoutSafetyCheck`,
 * since that policy lets the caller not change it); without it KMS applies its default policy (the account's
 * IAM decides). Always single-Region.
 *
 * @example
 * ```ts
 * const keys = new KmsKeyManager(kms, keyPolicyJson);
 * const { keyId } = await keys.createSigningKey({
 *   description: 'Issuer 91350100M000100Y43 licence signing key',
 *   tags: { issuer: 'issuer-123' },
 *   alias: 'alias/issuer-123',
 * });
 * ```
 */
export class KmsKeyManager implements KeyManager {
  constructor(
    private readonly kms: KMSClient,
    private readonly policy?: string,
  ) {}

  async createSigningKey(input: {
    description: string;
    tags: Record<string, string>;
    alias?: string;
  }): Promise<{ keyId: string; arn: string }> {
    const created = await this.kms.send(
      new CreateKeyCommand({
        KeySpec: 'ECC_NIST_P256',
        KeyUsage: 'SIGN_VERIFY',
        Description: input.description,
        Tags: Object.entries(input.tags).map(([TagKey, TagValue]) => ({ TagKey, TagValue })),
        // The fixed policy gives the caller no kms:PutKeyPolicy (review R50 F1: nothing of the service may
        // re-policy an issuer key), which KMS's lockout safety check would refuse; its root statement keeps
        // the key manageable by the account's IAM, so nothing is locked out (infra/constructs/issuer-keys.ts).
        ...(this.policy === undefined ? {} : { Policy: this.policy, BypassPolicyLockoutSafetyCheck: true }),
      }),
    );
    const keyId = created.KeyMetadata?.KeyId;
    const arn = created.KeyMetadata?.Arn;
    if (!keyId || !arn) throw new InternalError('KMS CreateKey returned no key id', 'kms_no_key');
    if (input.alias !== undefined) {
      try {
        await this.kms.send(new CreateAliasCommand({ AliasName: input.alias, TargetKeyId: keyId }));
      } catch (error) {
        // Without its alias nobody can find the key: retire it rather than leave it billed and orphaned.
        await this.scheduleDeletion(keyId).catch(() => undefined);
        throw error;
      }
    }
    return { keyId, arn };
  }

  async scheduleDeletion(keyId: string): Promise<void> {
    await this.kms.send(
      new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: PENDING_WINDOW_IN_DAYS }),
    );
  }
}
