import { SignCommand } from '@aws-sdk/client-kms';

/**
 * A KMS `Sign` of an all-zero SHA-256 digest with `KeyId`: what a test sends to see whether a function's
 * role may sign with a key (the local grant guard refuses it as IAM would), the signature itself unused.
 */
export const signDigest = (KeyId: string) =>
  new SignCommand({
    KeyId,
    Message: new Uint8Array(32),
    MessageType: 'DIGEST',
    SigningAlgorithm: 'ECDSA_SHA_256',
  });
