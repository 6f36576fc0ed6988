import { isLowS, type Es256Verifier, type PublicJwk } from './crypto.js';
import { isThenable } from './maybe-promise.js';

/**
 * Imported keys, by their coordinates: each trusted key is imported once (WebCrypto `importKey` or
 * Node's `createPublicKey` cost more than a verification), whatever object carries it.
 *
 * @example
 * ```ts
 * const keys = new KeyCache(nodeEs256);
 * const ok = await keys.verify(jwk, signature, signingInput);
 * ```
 */
export class KeyCache {
  private readonly keys = new Map<string, unknown>();
  /** The same, by the JWK object itself: a trust store hands out the same objects, so no string is built. */
  private readonly byObject = new WeakMap<PublicJwk, unknown>();

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each implementation has its own key type
  constructor(private readonly crypto: Es256Verifier<any>) {}

  /**
   * Whether `signature` is an ES256 signature of `data` by `jwk`. Synchronous when the key is imported
   * and the implementation is (`nodeEs256`): the hot path then allocates no promise.
   */
  verify(jwk: PublicJwk, signature: Uint8Array, data: Uint8Array): boolean | Promise<boolean> {
    const known = this.byObject.get(jwk);
    if (known !== undefined) return this.check(known, signature, data);
    const id = `${jwk.x}.${jwk.y}`;
    const key = this.keys.get(id);
    if (key !== undefined) {
      this.byObject.set(jwk, key);
      return this.check(key, signature, data);
    }
    return (async () => {
      const imported = await this.crypto.importKey(jwk);
      // Bounded: a trust list names few keys, but a long-lived verifier should not grow without end.
      if (this.keys.size >= 1024) this.keys.clear();
      this.keys.set(id, imported);
      this.byObject.set(jwk, imported);
      return this.check(imported, signature, data);
    })();
  }

  private check(key: unknown, signature: Uint8Array, data: Uint8Array): boolean | Promise<boolean> {
    // Whatever the implementation: a high-S twin of a valid signature is refused (see `isLowS`).
    if (!isLowS(signature)) return false;
    const verified: unknown = this.crypto.verify(key, signature, data);
    // Any thenable, not only this realm's Promise (see `maybe-promise.ts`); only `true` holds.
    return isThenable(verified) ? Promise.resolve(verified).then((ok) => ok === true) : verified === true;
  }
}
