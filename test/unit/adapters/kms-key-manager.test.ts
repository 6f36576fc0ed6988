import { CreateKeyCommand, type KMSClient } from '@aws-sdk/client-kms';
import { describe, expect, it } from 'vitest';
import { KmsKeyManager } from '../../../shared/adapters/kms/key-manager.js';

/** A KMS client that records each command's input and answers CreateKey with a key. */
function recordingClient() {
  const sent: Array<{ name: string; input: Record<string, unknown> }> = [];
  const client = {
    send: async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
      sent.push({ name: command.constructor.name, input: command.input });
      return command instanceof CreateKeyCommand
        ? { KeyMetadata: { KeyId: 'k-1', Arn: 'arn:aws-cn:kms:cn-north-1:111122223333:key/k-1' } }
        : {};
    },
  } as unknown as KMSClient;
  return { client, sent };
}

describe('KmsKeyManager (review R50 F1)', () => {
  it('creates a single-Region key under the fixed policy, bypassing the lockout check the policy would fail', async () => {
    // The issuer key policy gives the caller (admin) no kms:PutKeyPolicy, so KMS's lockout safety check
    // would refuse the key: the request says so, as the admin role's CreateKey grant requires.
    const policy = JSON.stringify({ Version: '2012-10-17', Statement: [] });
    const { client, sent } = recordingClient();
    await new KmsKeyManager(client, policy).createSigningKey({ description: 'issuer key', tags: {} });
    const [create] = sent;
    expect(create?.name).toBe('CreateKeyCommand');
    expect(create?.input).toMatchObject({
      KeySpec: 'ECC_NIST_P256',
      KeyUsage: 'SIGN_VERIFY',
      Policy: policy,
      BypassPolicyLockoutSafetyCheck: true,
    });
    expect(create?.input.MultiRegion).toBeUndefined();
  });

  it('sends neither policy nor bypass without a fixed policy (KMS’s default policy: the account decides)', async () => {
    const { client, sent } = recordingClient();
    await new KmsKeyManager(client).createSigningKey({ description: 'local key', tags: {} });
    expect(sent[0]?.input.Policy).toBeUndefined();
    expect(sent[0]?.input.BypassPolicyLockoutSafetyCheck).toBeUndefined();
  });
});
