import type { StatusList, StatusValue } from '../../packages/verifier/src/status-list.js';

/**
 * Entries per status list: 2^17 = 131,072 licences, 32 KiB uncompressed at 2 bits each. Large enough for
 * herd privacy (a fetch reveals little about which licence is checked) and few lists per issuer; small
 * enough that the list, even incompressible, and its signed token fit one DynamoDB item (< 400 KB) and
 * a verifier downloads at most ~44 KB. Fixed: a licence's `(listId, idx)` is derived from its serial.
 */
export const LIST_SIZE = 2 ** 17;

/** Issuer ids as `randomId` makes them (`iss_…`): URL-safe and without the `.` that separates the list number. */
const issuerIdPattern = /^[A-Za-z0-9_-]{1,100}$/;
const listIdPattern = /^([A-Za-z0-9_-]{1,100})\.(0|[1-9]\d{0,14})$/;

/** Where a licence's status lives: reserved once at issuance and written into its credential. */
export interface StatusListAllocation {
  /** The issuer's serial number, from 0: the n-th allocation for this issuer is serial n - 1. */
  serial: number;
  /** `<issuerId>.<list number>`, URL-safe; list number = `floor(serial / LIST_SIZE)`. */
  listId: string;
  /** `serial % LIST_SIZE`: the entry in that list. */
  idx: number;
}

/** A status list as it stands. */
export interface StatusListSnapshot {
  listId: string;
  /** Counts status changes; 0 for a list never changed (all valid). */
  revision: number;
  /** The list in the draft's JSON form, compressed, ready to sign. */
  statusList: StatusList;
  /** The last signed token, whatever revision it was signed at. */
  token: SignedStatusList | undefined;
  /**
   * The `iat` of the last token signed for this list, kept across the status changes that drop the token
   * itself: the next token is dated after it (R32 M1, `signed-at.ts`). A status change also counts the
   * second it was made in (R33 L1: a token signed over the revision before it may have been served
   * unsaved) and keeps a token saved while it was being made. Absent before any was signed or changed (or
   * for a list last signed before 2026-12 and changed since).
   */
  lastIat?: number;
  /** False when nothing is stored for this list yet (it then reads as all valid). */
  stored: boolean;
}

/** A signed Status List Token kept with its list, so that it is signed once per revision. */
export interface SignedStatusList {
  jws: string;
  /** The list revision it was signed at. */
  revision: number;
  /** Its `sub`: a token for another base URL (another port, another stage) is not reused. */
  uri: string;
  iat: number;
  exp: number;
}

/**
 * Where status lists are kept. The licence record is the truth; a list is derived state, written after the
 * licence changed and repairable by writing the same value again.
 *
 * - `allocate` reserves the next serial of an issuer in one atomic write: concurrent callers get distinct,
 *   consecutive serials from 0. Record the result (issuance keeps it in its idempotency record) so that a
 *   retry reuses it instead of allocating again; a serial is skipped only when its caller dies before
 *   recording it (nothing then refers to it).
 * - `setStatus` is idempotent: setting the value an entry already has changes nothing (no new revision).
 * - `setStatus` never overwrites a revoked entry (`StatusType.INVALID`, 1): revocation is final, and a
 *   writer holding an older version of the licence (a reinstatement or suspension that lost a race to the
 *   revocation) would otherwise publish the licence as valid until its corrective write, or for good if it
 *   died first. Writing another value over it changes nothing (no new revision).
 * - `find` of a list never written answers an all-valid snapshot with `stored: false`; whether the list
 *   exists at all is {@link allocated}'s to say.
 * - `saveToken` keeps a signed token if the list is still at the token's revision and nobody else stored a
 *   token since `seen` was read; it answers whether it did (losing that race is harmless).
 */
export interface StatusListStore {
  allocate(issuerId: string): Promise<StatusListAllocation>;
  setStatus(listId: string, idx: number, value: StatusValue): Promise<void>;
  find(listId: string): Promise<StatusListSnapshot>;
  /** How many serials the issuer has allocated: list `n` exists once `n * LIST_SIZE < allocated`. */
  allocated(issuerId: string): Promise<number>;
  saveToken(listId: string, token: SignedStatusList, seen: StatusListSnapshot): Promise<boolean>;
}

/**
 * The list and entry of an issuer's serial.
 *
 * @example
 * ```ts
 * allocationFor('iss_x', 131_073); // { serial: 131073, listId: 'iss_x.1', idx: 1 }
 * ```
 */
export function allocationFor(issuerId: string, serial: number): StatusListAllocation {
  if (!issuerIdPattern.test(issuerId)) throw new RangeError(`Not an issuer id: ${JSON.stringify(issuerId)}`);
  if (!Number.isSafeInteger(serial) || serial < 0) throw new RangeError(`Not a serial: ${serial}`);
  return { serial, listId: `${issuerId}.${Math.floor(serial / LIST_SIZE)}`, idx: serial % LIST_SIZE };
}

/**
 * The issuer and list number of a list id, or `undefined` if it is not one.
 *
 * @example
 * ```ts
 * parseListId('iss_x.1'); // { issuerId: 'iss_x', list: 1 }
 * ```
 */
export function parseListId(listId: string): { issuerId: string; list: number } | undefined {
  const match = listIdPattern.exec(listId);
  if (!match?.[1] || match[2] === undefined) return undefined;
  const list = Number(match[2]);
  return Number.isSafeInteger(list * LIST_SIZE) ? { issuerId: match[1], list } : undefined;
}

/**
 * The URI of a status list: the `sub` of its token and the `uri` that credentials reference
 * (`status.status_list.uri`).
 *
 * @example
 * ```ts
 * statusListUri('https://id.example.gov.cn', 'iss_x.0'); // 'https://id.example.gov.cn/status-lists/iss_x.0'
 * ```
 */
export function statusListUri(issuerUrl: string, listId: string): string {
  return `${issuerUrl}/status-lists/${encodeURIComponent(listId)}`;
}
