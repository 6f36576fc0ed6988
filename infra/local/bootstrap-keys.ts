import {
  CreateAliasCommand,
  CreateKeyCommand,
  DescribeKeyCommand,
  NotFoundException,
  type KeySpec,
  type KeyUsageType,
  type KMSClient,
} from '@aws-sdk/client-kms';
import type { KeyRole } from '../../functions/grants.js';
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
 * signs ID tokens, presentations and the trust list, the ES256 key that signs audit checkpoints, the RSA key that signs RS256 ID tokens, the HMAC key for lookup keys and derived secrets,
 * the web pages' HMAC key, the OpenID provider's interaction HMAC key, and the symmetric key that encrypts ID numbers for the `id_number` claim.
 */
export async function ensurePlatformKeys(kms: KMSClient, config: Config): Promise<void> {
  await ensureKey(kms, config.platformKeyId, 'ECC_NIST_P256', 'SIGN_VERIFY', 'elicence platform signing key');
  await ensureKey(
    kms,
    config.auditKeyId,
    'ECC_NIST_P256',
    'SIGN_VERIFY',
    'elicence audit-checkpoint signing key',
  );
  await ensureKey(
    kms,
    config.platformRsaKeyId,
    'RSA_2048',
    'SIGN_VERIFY',
    'elicence platform RSA signing key (RS256 ID tokens)',
  );
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
    config.interactionKeyId,
    'HMAC_256',
    'GENERATE_VERIFY_MAC',
    'elicence OpenID provider interaction MAC key',
  );
  await ensureKey(
    kms,
    config.piiKeyId,
    'SYMMETRIC_DEFAULT',
    'ENCRYPT_DECRYPT',
    'elicence personal data encryption key',
  );
}

/**
 * The service's own keys by every id a call may name them with (alias, key id, ARN: signers sign by the
 * ARN that GetPublicKey returned), for the local grant guard. A previous platform key that does not exist
 * is left out.
 */
export async function serviceKeyRoles(kms: KMSClient, config: Config): Promise<Map<string, KeyRole>> {
  const named: Array<[string, Exclude<KeyRole, 'issuer'>]> = [
    [config.platformKeyId, 'platform'],
    ...config.platformPreviousKeyIds.map((id): [string, 'previousPlatform'] => [id, 'previousPlatform']),
    [config.platformRsaKeyId, 'platformRsa'],
    ...config.platformRsaPreviousKeyIds.map((id): [string, 'previousPlatformRsa'] => [
      id,
      'previousPlatformRsa',
    ]),
    [config.auditKeyId, 'audit'],
    ...config.auditPreviousKeyIds.map((id): [string, 'previousAudit'] => [id, 'previousAudit']),
    [config.lookupMacKeyId, 'lookupMac'],
    [config.webKeyId, 'web'],
    [config.interactionKeyId, 'interaction'],
    [config.piiKeyId, 'pii'],
  ];
  const roles = new Map<string, KeyRole>();
  for (const [keyId, role] of named) {
    roles.set(keyId, role);
    try {
      const { KeyMetadata } = await kms.send(new DescribeKeyCommand({ KeyId: keyId }));
      for (const id of [KeyMetadata?.KeyId, KeyMetadata?.Arn]) if (id) roles.set(id, role);
    } catch (error) {
      if (!(error instanceof NotFoundException)) throw error;
    }
  }
  return roles;
}
