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
import { ConfigError, type Config } from '../../shared/config.js';

/**
 * Makes sure the key `keyId` (the value of the setting `variable`) exists. A missing alias (`alias/…`) is
 * created, with a new key behind it: the local runtime's default. A key id or ARN names a key that must
 * already exist (an operator pointing the setting at a key of an external KMS endpoint): it cannot be
 * created under that name, so a missing one is a configuration error naming the setting, never a key
 * made up in its place, and an existing one is used as it is.
 */
async function ensureKey(
  kms: KMSClient,
  variable: string,
  keyId: string,
  KeySpec: KeySpec,
  KeyUsage: KeyUsageType,
  description: string,
) {
  try {
    await kms.send(new DescribeKeyCommand({ KeyId: keyId }));
    return;
  } catch (error) {
    if (!(error instanceof NotFoundException)) throw error;
  }
  if (!keyId.startsWith('alias/')) {
    throw new ConfigError([
      {
        variable,
        message: `names the key ${JSON.stringify(keyId)}, which the KMS endpoint does not have: create it or name an alias (alias/…), which is created when missing`,
      },
    ]);
  }
  const { KeyMetadata } = await kms.send(
    new CreateKeyCommand({ KeySpec, KeyUsage, Description: description }),
  );
  await kms.send(new CreateAliasCommand({ AliasName: keyId, TargetKeyId: KeyMetadata?.KeyId }));
}

/**
 * Creates the platform's own keys when absent (in AWS the CDK stack creates them): the ES256 key that
 * signs ID tokens and the trust list, the ES256 key that signs presentations (and the holder's printable
 * licences), the ES256 key that signs withdrawal notices to platforms, the ES256 key that signs audit checkpoints, the RSA key that signs RS256 ID tokens, the HMAC key for lookup keys and derived secrets,
 * the web pages' HMAC key, the OpenID provider's interaction HMAC key, the HMAC key of client secrets, the HMAC key of the audit listings' cursors, and the symmetric key that encrypts ID numbers for the `id_number` claim.
 * Only a setting that names an alias gets a key made for it; one naming a key id or ARN must name a key
 * that exists (a `ConfigError` naming the setting otherwise).
 *
 * @example
 * ```ts
 * await ensurePlatformKeys(kms, loadConfig({ PLATFORM_KEY_ID: 'alias/elicence-platform' })); // created if missing
 * ```
 */
export async function ensurePlatformKeys(kms: KMSClient, config: Config): Promise<void> {
  await ensureKey(
    kms,
    'PLATFORM_KEY_ID',
    config.platformKeyId,
    'ECC_NIST_P256',
    'SIGN_VERIFY',
    'elicence platform signing key',
  );
  await ensureKey(
    kms,
    'AUDIT_KEY_ID',
    config.auditKeyId,
    'ECC_NIST_P256',
    'SIGN_VERIFY',
    'elicence audit-checkpoint signing key',
  );
  await ensureKey(
    kms,
    'PRESENTATION_KEY_ID',
    config.presentationKeyId,
    'ECC_NIST_P256',
    'SIGN_VERIFY',
    'elicence presentation signing key (presentations, holder PDF signatures; never ID tokens)',
  );
  await ensureKey(
    kms,
    'NOTICE_KEY_ID',
    config.noticeKeyId,
    'ECC_NIST_P256',
    'SIGN_VERIFY',
    'elicence withdrawal notice signing key (Security Event Tokens to platforms; never ID tokens)',
  );
  await ensureKey(
    kms,
    'PLATFORM_RSA_KEY_ID',
    config.platformRsaKeyId,
    'RSA_2048',
    'SIGN_VERIFY',
    'elicence platform RSA signing key (RS256 ID tokens)',
  );
  await ensureKey(
    kms,
    'LOOKUP_MAC_KEY_ID',
    config.lookupMacKeyId,
    'HMAC_256',
    'GENERATE_VERIFY_MAC',
    'elicence lookup and secret MAC key',
  );
  await ensureKey(
    kms,
    'WEB_KEY_ID',
    config.webKeyId,
    'HMAC_256',
    'GENERATE_VERIFY_MAC',
    'elicence web pages MAC key',
  );
  await ensureKey(
    kms,
    'INTERACTION_KEY_ID',
    config.interactionKeyId,
    'HMAC_256',
    'GENERATE_VERIFY_MAC',
    'elicence OpenID provider interaction MAC key',
  );
  await ensureKey(
    kms,
    'CLIENT_SECRET_KEY_ID',
    config.clientSecretKeyId,
    'HMAC_256',
    'GENERATE_VERIFY_MAC',
    'elicence OAuth client secret MAC key',
  );
  await ensureKey(
    kms,
    'CURSOR_KEY_ID',
    config.cursorKeyId,
    'HMAC_256',
    'GENERATE_VERIFY_MAC',
    'elicence audit trail listing cursors MAC key',
  );
  await ensureKey(
    kms,
    'PII_KEY_ID',
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
    [config.presentationKeyId, 'presentation'],
    ...config.presentationPreviousKeyIds.map((id): [string, 'previousPresentation'] => [
      id,
      'previousPresentation',
    ]),
    [config.noticeKeyId, 'notice'],
    ...config.noticePreviousKeyIds.map((id): [string, 'previousNotice'] => [id, 'previousNotice']),
    [config.lookupMacKeyId, 'lookupMac'],
    [config.webKeyId, 'web'],
    [config.interactionKeyId, 'interaction'],
    [config.clientSecretKeyId, 'clientSecret'],
    [config.cursorKeyId, 'cursor'],
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
