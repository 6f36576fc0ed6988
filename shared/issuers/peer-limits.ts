/**
 * How large a peer platform's trust list may be, and how much room our own signed trust list has for the
 * peers' issuers (跨地区互认, docs/peers.md, "Limits"). Both are stored as single DynamoDB items (a peer's
 * record holds its signed list and the issuers accepted from it; our trust list is one item), and an item
 * is at most 400 KB: without these bounds a large peer list made its registration fail with a 500, and two
 * mid-sized ones made every `GET /trust-list` fail until a peer was removed (review R23 H1).
 *
 * @packageDocumentation
 */
import type { TrustListIssuer, TrustListPayload } from '../../packages/verifier/src/trust-list.js';

/**
 * The bounds of a peer's trust list, each from what our own lists need: an issuer's name is at most 100
 * characters and it may issue at most 50 licence types (`POST /admin/issuers`), ids are `iss_` and 16
 * characters, an issuer publishes its current key and those rotated out (10 generations), and the bytes
 * (128 KiB, about 200 issuers of ours with two keys and a few types, or fewer with batch keys) leave the
 * peer's record well under DynamoDB's 400 KB once the accepted issuers are stored beside the signed list.
 *
 * Batch keys are bounded by those bytes only, not by a count (review R36 M1): a peer running this service
 * certifies them as it imports, and a count of 20 froze such a peer at its 21st. Each takes about 1,290
 * characters of the signed list (about 970 bytes of JSON, base64url-encoded), so 128 KiB holds about 100
 * batch keys in all beside a few issuers: the bytes, not a count, protect the peer's record (docs/peers.md, "Limits").
 */
export const peerTrustListLimits = {
  /** The signed list as fetched (the compact JWS), in bytes: read no further. */
  bytes: 128 * 1024,
  /** Entries of the list, whether we accept them or not. */
  issuers: 200,
  /** Public keys of one issuer (`jwks.keys`). */
  keysPerIssuer: 10,
  /** Licence types of one issuer. */
  licenceTypesPerIssuer: 50,
  /** An issuer's name, in characters. */
  nameChars: 100,
  /** An issuer's id: 1 to 64 letters, digits, `_` or `-` (it is a path segment and a list id's prefix). */
  idChars: 64,
} as const;

const idPattern = new RegExp(`^[A-Za-z0-9_-]{1,${peerTrustListLimits.idChars}}$`);

/**
 * The first bound of {@link peerTrustListLimits} a verified peer list breaks, said in words (the issuer id
 * and the limit), or `undefined` when it keeps them all. Every entry counts, those we would drop too:
 * the whole signed list is stored.
 *
 * @example
 * ```ts
 * peerTrustListOverLimit(payload); // 'it names 900 issuers (at most 200)'
 * ```
 */
export function peerTrustListOverLimit(payload: Pick<TrustListPayload, 'issuers'>): string | undefined {
  const limits = peerTrustListLimits;
  if (payload.issuers.length > limits.issuers) {
    return `it names ${payload.issuers.length} issuers (at most ${limits.issuers})`;
  }
  for (const entry of payload.issuers) {
    const over = entryOverLimit(entry);
    if (over) return `issuer ${JSON.stringify(entry.id.slice(0, 80))}: ${over}`;
  }
  return undefined;
}

function entryOverLimit(entry: TrustListIssuer): string | undefined {
  const limits = peerTrustListLimits;
  if (!idPattern.test(entry.id)) {
    return `its id is not 1 to ${limits.idChars} letters, digits, _ or -`;
  }
  const nameChars = [...entry.name].length;
  if (nameChars > limits.nameChars)
    return `its name has ${nameChars} characters (at most ${limits.nameChars})`;
  const counts: Array<[string, number, number]> = [
    ['keys', entry.jwks.keys.length, limits.keysPerIssuer],
    ['licence types', entry.licenceTypes?.length ?? 0, limits.licenceTypesPerIssuer],
  ];
  for (const [what, count, max] of counts) {
    if (count > max) return `it has ${count} ${what} (at most ${max})`;
  }
  return undefined;
}

/**
 * The longest trust list of ours (the signed compact JWS, in characters): the item that stores it is at
 * most 400 KB (409,600 bytes) with its other attributes, and this leaves 50 KB of those to spare.
 */
export const TRUST_LIST_MAX_CHARS = 350 * 1024;

/** The JWS header (`alg`, `typ`, a 43-character `kid`) in base64url is about 100 characters: bounded above. */
const HEADER_CHARS = 200;
/** An ES256 signature in base64url. */
const SIGNATURE_CHARS = 86;

/** The UTF-8 bytes of `value` as JSON, as it is signed. */
export function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value), 'utf8');
}

/**
 * The characters of a trust list signed over a payload of `payloadBytes` (JSON, UTF-8): base64url, the
 * header bounded above, the signature. A bound from above, as {@link TRUST_LIST_MAX_PAYLOAD_BYTES} is.
 */
export function signedListChars(payloadBytes: number): number {
  return HEADER_CHARS + 1 + Math.ceil((payloadBytes * 4) / 3) + 1 + SIGNATURE_CHARS;
}

/** The payload bytes a trust list may have for its signed JWS to stay within {@link TRUST_LIST_MAX_CHARS}. */
export const TRUST_LIST_MAX_PAYLOAD_BYTES = Math.floor(
  ((TRUST_LIST_MAX_CHARS - HEADER_CHARS - SIGNATURE_CHARS - 2) * 3) / 4,
);

/**
 * Which peers' issuers fit in our trust list beside our own: the peers in the order given (oldest
 * registration first), each whole or not at all, while the entries' JSON (a comma each) fits in `room`
 * bytes; a peer that does not fit is left out, and the later ones are still tried.
 *
 * @example
 * ```ts
 * const { within, leftOut } = peersThatFit(entries, TRUST_LIST_MAX_PAYLOAD_BYTES - jsonBytes(ourPayload));
 * ```
 */
export function peersThatFit<T extends { peer: string }>(
  entries: readonly T[],
  room: number,
): { within: T[]; leftOut: Array<{ peer: string; bytes: number }> } {
  const byPeer = new Map<string, { entries: T[]; bytes: number }>();
  for (const entry of entries) {
    const group = byPeer.get(entry.peer) ?? { entries: [], bytes: 0 };
    group.entries.push(entry);
    group.bytes += jsonBytes(entry) + 1;
    byPeer.set(entry.peer, group);
  }
  const within: T[] = [];
  const leftOut: Array<{ peer: string; bytes: number }> = [];
  let left = room;
  for (const [peer, group] of byPeer) {
    if (group.bytes <= left) {
      within.push(...group.entries);
      left -= group.bytes;
    } else {
      leftOut.push({ peer, bytes: group.bytes });
    }
  }
  return { within, leftOut };
}
