import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';

/** What an {@link encryptionKey} may set beyond the defaults (a description is required). */
export type EncryptionKeyProps = Omit<
  kms.KeyProps,
  'description' | 'enableKeyRotation' | 'rotationPeriod'
> & {
  description: string;
};

/**
 * A symmetric KMS key that encrypts data at rest (a table, a backup vault, a topic, a secret). Every such
 * key of the stack rotates its material yearly (cdk-nag `AwsSolutions-KMS5`; MLPS asks for key rotation)
 * and is retained when the stack goes, because what it encrypted may outlive the stack (recovery points,
 * retained tables and secrets). A key whose ciphertexts are all gone with the stack (an alarm topic's)
 * says so with its own `removalPolicy`.
 *
 * @example
 * ```ts
 * const key = encryptionKey(this, 'Key', { description: 'elicence backup vault encryption key' });
 * ```
 */
export function encryptionKey(scope: Construct, id: string, props: EncryptionKeyProps): kms.Key {
  // Only a symmetric key rotates its material in KMS; the type keeps rotation out of `props`, but an object
  // built elsewhere could still carry it, so rotation is set after them, and another key spec refused.
  if (props.keySpec !== undefined && props.keySpec !== kms.KeySpec.SYMMETRIC_DEFAULT) {
    throw new Error(`encryptionKey ${id}: a symmetric key (SYMMETRIC_DEFAULT), got ${props.keySpec}`);
  }
  return new kms.Key(scope, id, {
    removalPolicy: RemovalPolicy.RETAIN,
    ...props,
    enableKeyRotation: true,
    rotationPeriod: Duration.days(365),
  });
}
