/**
 * The detached signatures of printable licences (`GET …/pdf.jws`), kept per container for a short while:
 * each request used to render the PDF again and ask KMS for a signature (a KMS Sign, billed and
 * rate-limited per account), although the bytes, and so what the signature says, change only when
 * something they depend on does. docs/printable-licence.md, "The signature's cache".
 *
 * What it keeps is keyed (`cachedPdfSignature` in ./licence-pdf.ts) by everything the bytes depend on
 * (`printLicence`'s inputs: the licence's record by its id and version, which every write bumps; its
 * status at the time, which passing its `validUntil` changes without a write; the layout; the issuer's
 * id, name and credit code, and its version, which a withdrawal or key rotation bumps) and by who signs
 * (`iss` and the signing key's `kid`, the thumbprint of the key itself: a rotated platform or issuer key
 * never serves a signature of the key before). The route's checks (who may read the licence, whether its issuer may act) all run
 * before the lookup, on every request: the cache only stands in for rendering and signing.
 *
 * This module holds the cache alone (no renderer), for the composition to build one per container.
 *
 * @packageDocumentation
 */
import type { Clock } from '../clock.js';

/**
 * How long a signature is served again: its `iat` is at most this old. Short, so that a signature
 * fetched now says it was signed now, give or take five minutes.
 */
export const pdfSignatureLifetimeMs = 5 * 60_000;
/** How many signatures a container keeps (a few KB of memory): the least recently served go first. */
export const pdfSignatureCacheEntries = 200;

/**
 * Signatures by what they sign, least recently served first (a `Map` keeps insertion order; a hit moves
 * its entry to the end). A signature still being made is shared by the requests that ask meanwhile, and
 * forgotten if it fails.
 *
 * @example
 * ```ts
 * const cache = new PdfSignatureCache(systemClock);
 * const jws = await cache.get(key, () => signLicencePdf(pdf, subject, signing));
 * ```
 */
export class PdfSignatureCache {
  readonly #entries = new Map<string, { jws: Promise<string>; until: number }>();

  constructor(
    private readonly clock: Clock,
    private readonly lifetimeMs = pdfSignatureLifetimeMs,
    private readonly maxEntries = pdfSignatureCacheEntries,
  ) {}

  /** The signature kept under `key` if younger than the lifetime, else `sign()`'s, kept from now on. */
  get(key: string, sign: () => Promise<string>): Promise<string> {
    const now = this.clock.now();
    const kept = this.#entries.get(key);
    this.#entries.delete(key);
    if (kept && now < kept.until) {
      this.#entries.set(key, kept);
      return kept.jws;
    }
    const entry = { jws: sign(), until: now + this.lifetimeMs };
    this.#entries.set(key, entry);
    for (const oldest of this.#entries.keys()) {
      if (this.#entries.size <= this.maxEntries) break;
      this.#entries.delete(oldest);
    }
    entry.jws.catch(() => {
      if (this.#entries.get(key) === entry) this.#entries.delete(key);
    });
    return entry.jws;
  }

  /** How many signatures are kept (for tests). */
  get size(): number {
    return this.#entries.size;
  }
}
