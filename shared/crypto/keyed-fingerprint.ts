import { createHmac } from 'node:crypto';
import type { Mac } from './mac.js';

/**
 * A keyed fingerprint of text (HMAC-SHA-256 under a key derived once per container from the KMS MAC
 * key): for remembering requests that carry personal data without storing anything a table reader
 * could brute-force, and without a KMS call per request.
 *
 * @example
 * ```ts
 * const fingerprint = keyedFingerprint(mac, 'idempotency/v1');
 * await fingerprint(canonicalJson(body)); // 'pX3…' (base64url)
 * ```
 */
export function keyedFingerprint(mac: Mac, label: string): (text: string) => Promise<string> {
  let key: Promise<Uint8Array> | undefined;
  return async (text) => {
    key ??= mac.mac(new TextEncoder().encode(`elicence/${label}`)).catch((error: unknown) => {
      key = undefined;
      throw error;
    });
    return createHmac('sha256', await key)
      .update(text)
      .digest('base64url');
  };
}
