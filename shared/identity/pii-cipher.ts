/**
 * Encrypts personal data that must be recoverable (the ID number for the `id_number` claim) with a key
 * that never leaves its keystore. The context is bound to the ciphertext (authenticated, not secret):
 * a ciphertext copied to another account's record does not decrypt there.
 */
export interface PiiCipher {
  /** The ciphertext, base64. */
  encrypt(plaintext: string, context: Record<string, string>): Promise<string>;
  /** Throws when the ciphertext or its context does not check out. */
  decrypt(ciphertext: string, context: Record<string, string>): Promise<string>;
}
