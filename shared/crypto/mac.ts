/**
 * Computes a keyed MAC (HMAC-SHA-256) with a key that never leaves its keystore.
 *
 * Used for lookup keys of personal identifiers: equal inputs give equal MACs, so a normalised ID number
 * can be found without being stored in clear.
 */
export interface Mac {
  mac(data: Uint8Array): Promise<Uint8Array>;
}
