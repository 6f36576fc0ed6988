/** Creates and retires signing keys (one per issuer), whatever keystore holds them. */
export interface KeyManager {
  /** Creates an ES256 (P-256) signing key; `alias` must start with `alias/`. */
  createSigningKey(input: {
    description: string;
    tags: Record<string, string>;
    alias?: string;
  }): Promise<{ keyId: string; arn: string }>;
  /** Schedules the key's deletion; it refuses to sign from now on. */
  scheduleDeletion(keyId: string): Promise<void>;
}
