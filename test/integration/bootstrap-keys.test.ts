import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateKeyCommand, ListAliasesCommand, type KMSClient } from '@aws-sdk/client-kms';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensurePlatformKeys, serviceKeyRoles } from '../../infra/local/bootstrap-keys.js';
import { startKmsEmulator, type KmsEmulator } from '../../infra/local/kms-emulator.js';
import { createKmsClient } from '../../shared/adapters/kms/client.js';
import { ConfigError, loadConfig } from '../../shared/config.js';

/**
 * The local runtime creates its own keys when absent (`infra/local/bootstrap-keys.ts`), under the aliases
 * its settings name. A setting may also name a key by id or ARN, e.g. a key of an external KMS endpoint:
 * that key is used as it is, and when it does not exist the runtime says which setting names what,
 * rather than failing on an alias it cannot create.
 */

const REGION = 'cn-north-1';
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const defaultAliases = [
  'alias/elicence-audit',
  'alias/elicence-client-secret',
  'alias/elicence-cursor-mac',
  'alias/elicence-interaction-mac',
  'alias/elicence-lookup-mac',
  'alias/elicence-notice',
  'alias/elicence-pii',
  'alias/elicence-platform',
  'alias/elicence-platform-rsa',
  'alias/elicence-presentation',
  'alias/elicence-web',
];

let dataDir: string;
let emulator: KmsEmulator;
let kms: KMSClient;

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'elicence-bootstrap-keys-'));
  emulator = await startKmsEmulator({ dataDir });
  kms = createKmsClient({ region: REGION, endpoint: emulator.endpoint, credentials, maxAttempts: 1 });
});
afterEach(async () => {
  kms.destroy();
  await emulator.close();
  await rm(dataDir, { recursive: true, force: true });
});

async function aliases(): Promise<Array<{ name: string; target?: string }>> {
  const { Aliases } = await kms.send(new ListAliasesCommand({}));
  return (Aliases ?? [])
    .map((alias) => ({ name: alias.AliasName!, target: alias.TargetKeyId }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

describe('ensurePlatformKeys', () => {
  it('creates a key under each alias the settings name, once', async () => {
    await ensurePlatformKeys(kms, loadConfig({}));
    const first = await aliases();
    expect(first.map((alias) => alias.name)).toEqual(defaultAliases);
    await ensurePlatformKeys(kms, loadConfig({}));
    expect(await aliases()).toEqual(first);
  });

  it('refuses a key id that names no key, naming the setting and the id, and creates nothing', async () => {
    const missing = randomUUID();
    const error = await rejection(ensurePlatformKeys(kms, loadConfig({ PLATFORM_KEY_ID: missing })));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toBe(
      `Invalid configuration: PLATFORM_KEY_ID names the key "${missing}", which the KMS endpoint does not have: create it or name an alias (alias/…), which is created when missing`,
    );
    expect((error as ConfigError).issues.map((issue) => issue.variable)).toEqual(['PLATFORM_KEY_ID']);
    // The platform key is the first: nothing was created before the refusal.
    expect(await aliases()).toEqual([]);
  });

  it('refuses a key ARN that names no key, whichever setting names it', async () => {
    const missing = `arn:aws-cn:kms:${REGION}:000000000000:key/${randomUUID()}`;
    const error = await rejection(ensurePlatformKeys(kms, loadConfig({ PII_KEY_ID: missing })));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain(`PII_KEY_ID names the key "${missing}"`);
    expect(error.message).toContain('create it or name an alias');
    // The keys before it were made as usual; none under the ARN.
    expect((await aliases()).map((alias) => alias.name)).not.toContain(missing);
  });

  it('uses a key named by id or ARN as it is: no key or alias is made for it', async () => {
    const created = async (keySpec: 'ECC_NIST_P256' | 'SYMMETRIC_DEFAULT') => {
      const { KeyMetadata } = await kms.send(
        new CreateKeyCommand({
          KeySpec: keySpec,
          KeyUsage: keySpec === 'ECC_NIST_P256' ? 'SIGN_VERIFY' : 'ENCRYPT_DECRYPT',
        }),
      );
      return KeyMetadata!;
    };
    const platform = await created('ECC_NIST_P256');
    const pii = await created('SYMMETRIC_DEFAULT');
    const config = loadConfig({ PLATFORM_KEY_ID: platform.Arn, PII_KEY_ID: pii.KeyId });
    await ensurePlatformKeys(kms, config);
    const made = await aliases();
    expect(made.map((alias) => alias.name)).toEqual(
      defaultAliases.filter((name) => name !== 'alias/elicence-platform' && name !== 'alias/elicence-pii'),
    );
    expect(made.map((alias) => alias.target)).not.toContain(platform.KeyId);
    expect(made.map((alias) => alias.target)).not.toContain(pii.KeyId);
    // And the local grant guard knows them by those keys.
    const roles = await serviceKeyRoles(kms, config);
    expect(roles.get(platform.KeyId!)).toBe('platform');
    expect(roles.get(pii.Arn!)).toBe('pii');
    // The presentation key is a key of its own, never the platform key (review R7 M1).
    const presentation = made.find((alias) => alias.name === 'alias/elicence-presentation')!;
    expect(roles.get('alias/elicence-presentation')).toBe('presentation');
    expect(roles.get(presentation.target!)).toBe('presentation');
    expect(presentation.target).not.toBe(platform.KeyId);
    // So is the notice key (review R31 L1).
    const notice = made.find((alias) => alias.name === 'alias/elicence-notice')!;
    expect(roles.get(notice.target!)).toBe('notice');
    expect(notice.target).not.toBe(platform.KeyId);
  });
});
