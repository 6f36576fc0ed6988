import {
  CreateAliasCommand,
  CreateKeyCommand,
  DescribeKeyCommand,
  NotFoundException,
  type KeySpec,
  type KeyUsageType,
  type KMSClient,
} from '@aws-sdk/client-kms';
import type { Config } from '../../shared/config.js';

async function ensureKey(
  kms: KMSClient,
  alias: string,
  KeySpec: KeySpec,
  KeyUsage: KeyUsageType,
  description: string,
) {
  try {
    await kms.send(new DescribeKeyCommand({ KeyId: alias }));
    return;
  } catch (error) {
    if (!(error instanceof NotFoundException)) throw error;
  }
  const { KeyMetadata } = await kms.send(
    new CreateKeyCommand({ KeySpec, KeyUsage, Description: description }),
  );
  await kms.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: KeyMetadata?.KeyId }));
}

/**
 * Creates the platform's own keys when absent (in AWS the CDK stack creates them): the ES256 key that
 * signs ID tokens, presentations and the trust list, the HMAC key for lookup keys and derived secrets,
 * the web pages' HMAC key, and the symmetric key that encrypts ID numbers for the `id_number` claim.
 */
export async function ensurePlatformKeys(kms: KMSClient, config: Config): Promise<void> {
  await ensureKey(kms, config.platformKeyId, 'ECC_NIST_P256', 'SIGN_VERIFY', 'elicence platform signing key');
  await ensureKey(
    kms,
    config.lookupMacKeyId,
    'HMAC_256',
    'GENERATE_VERIFY_MAC',
    'elicence lookup and secret MAC key',
  );
  await ensureKey(kms, config.webKeyId, 'HMAC_256', 'GENERATE_VERIFY_MAC', 'elicence web pages MAC key');
  await ensureKey(
    kms,
    config.piiKeyId,
    'SYMMETRIC_DEFAULT',
    'ENCRYPT_DECRYPT',
    'elicence personal data encryption key',
  );
}
