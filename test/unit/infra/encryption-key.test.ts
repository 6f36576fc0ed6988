import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import { describe, expect, it } from 'vitest';
import { encryptionKey, type EncryptionKeyProps } from '../../../infra/constructs/encryption-key.js';

/** The stack's data keys (tables, vaults, topics, secrets) all come from `encryptionKey`. */
describe('encryptionKey', () => {
  const keyOf = (props: EncryptionKeyProps) => {
    const stack = new Stack(new App());
    encryptionKey(stack, 'Key', props);
    const template = Template.fromStack(stack);
    const [logicalId, key] = Object.entries(template.findResources('AWS::KMS::Key'))[0]!;
    return { logicalId, key: key as { Properties: Record<string, unknown>; DeletionPolicy?: string } };
  };

  it('rotates yearly and is retained with the stack, unless a key whose data goes with it says so', () => {
    const { key } = keyOf({ description: 'a table key' });
    expect(key.Properties).toMatchObject({ EnableKeyRotation: true, RotationPeriodInDays: 365 });
    expect(key.DeletionPolicy).toBe('Retain');
    expect(
      keyOf({ description: 'a topic key', removalPolicy: RemovalPolicy.DESTROY }).key.DeletionPolicy,
    ).toBe('Delete');
  });

  it('keeps rotation on even when props built elsewhere try to turn it off', () => {
    const sneaky = { description: 'a key', enableKeyRotation: false } as EncryptionKeyProps;
    expect(keyOf(sneaky).key.Properties).toMatchObject({
      EnableKeyRotation: true,
      RotationPeriodInDays: 365,
    });
  });

  it('refuses an asymmetric or HMAC key spec, which KMS cannot rotate', () => {
    for (const keySpec of [kms.KeySpec.RSA_2048, kms.KeySpec.ECC_NIST_P256, kms.KeySpec.HMAC_256]) {
      expect(() => keyOf({ description: 'a key', keySpec })).toThrow(/a symmetric key/);
    }
  });
});
