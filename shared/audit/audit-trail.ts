import * as z from 'zod';
import { InvalidInputError } from '../errors.js';

/**
 * One trace of a state change (网上留痕). It names who did what to which licence and when; the holder
 * appears only in masked form.
 */
export const auditEntrySchema = z
  .object({
    at: z.string().meta({ description: 'RFC 3339' }),
    actor: z.string().meta({ description: 'The OAuth client (or account) that acted' }),
    clerk: z.string().optional().meta({
      description:
        'When a counter clerk acted through the issuer console: the clerk’s reference (their pairwise subject at the console, never a name or ID number); `actor` is then the console’s client',
    }),
    action: z.string().meta({ description: '`licence.issued`, `licence.revoked`, `licence.verified`, …' }),
    licenceId: z.string().optional(),
    issuerId: z.string().optional(),
    holderMasked: z.string().optional(),
    requestId: z.string().optional(),
    reason: z.string().optional(),
    reasonCode: z.string().optional().meta({
      description:
        'For status changes: the preset reason code (`reissued`, `holder-request`, …) when one was given; absent on entries written before it was recorded. For `authorization.ended` (a grant the OpenID provider ended itself): its cause, `refresh_token_reused`, `code_replayed` or `token_revoked`',
    }),
    replacedBy: z.string().optional().meta({
      description:
        'For the revocation of a re-issue (`POST /licences/{id}/reissue`): the licence that replaced this one. For `licence.reissue_given_up` (a clerk revoked the replacement of an unfinished re-issue, which gives it up): that replacement',
    }),
    verdict: z.string().optional().meta({ description: 'For verifications: the verdict given' }),
    licenceType: z
      .string()
      .optional()
      .meta({ description: 'The licence type (`driving-licence`), on entries about one licence' }),
    purpose: z
      .string()
      .optional()
      .meta({ description: 'For shares with a platform (授权用证): the purpose the platform stated' }),
    peerId: z.string().optional().meta({
      description: 'The peer platform (跨地区互认) an entry is about, or whose licence was verified',
    }),
    chain: z.string().optional().meta({
      description:
        'The hash chain the entry is on (`<YYYY-MM-DD>.<writer>`); absent on entries older than chains',
    }),
    seq: z.number().int().optional().meta({ description: "The entry's position on its chain, from 1" }),
    prevHash: z
      .string()
      .optional()
      .meta({ description: "The previous entry's `hash` (hex SHA-256); for seq 1 the chain's genesis hash" }),
    hash: z.string().optional().meta({
      description:
        'SHA-256 (hex) of `{ chain, seq, prevHash, contentDigest }` as canonical JSON, `contentDigest` the SHA-256 of the rest (docs/supervision.md)',
    }),
    holderCommitment: z.string().optional().meta({
      description:
        "The commitment to the entry's holder (whose usage record it is in): SHA-256 (hex) over a salt new for every entry and the holder's lookup key, both stored, never answered, so two entries of one holder share nothing; `none` for an entry of nobody's record; absent on entries written before commitments (docs/supervision.md)",
    }),
    holderAttribution: z.literal('mismatch').optional().meta({
      description:
        "Present only when the service found the entry's holder does not match its `holderCommitment` (re-attributed or hidden): `npm run audit:verify` reports it. Not part of the content hashed",
    }),
    format: z.literal('pdf').optional().meta({
      description:
        'For a verification of a printable licence’s file (`POST /verify/pdf`): `pdf`; absent for a scanned QR code (`POST /verify`)',
    }),
    count: z.int().optional().meta({
      description:
        'For a bulk read (`licences.exported`, `licences.listed`): the licences it answered (a CSV export: its rows); for a person’s export of their data (`data.exported`): the licences in it',
    }),
    filters: z.string().optional().meta({
      description:
        'For a bulk read: the search, as `name=value` pairs joined by `&`; a holder’s number or name only by its filter’s name, never its value',
    }),
    targetClientId: z.string().optional().meta({
      description:
        'For a change to an OAuth client (`client.secret_rotated`, `client.updated`): the client changed (`actor` is the operator’s)',
    }),
    secretVersion: z.int().optional().meta({
      description: 'For `client.secret_rotated`: the version of the new secret (never the secret itself)',
    }),
    withdrawal: z.string().optional().meta({
      description:
        'For a withdrawal saved in several writes (`authorization.withdrawn`, a platform’s sign-ins past what one write holds): the withdrawal’s own id, the same on each of its entries. Absent when it took one write',
    }),
    part: z.int().optional().meta({
      description: 'With `withdrawal`: which of its entries this is, 1 to `parts`, in the order written',
    }),
    parts: z.int().optional().meta({
      description:
        'With `withdrawal`: how many entries it was planned in (one per write), so that a missing one shows',
    }),
    accountId: z.string().optional().meta({
      description:
        'For `identity.released`: the account whose ID number was released (its opaque internal id, `acc_…`, never a number), so that only that account’s usage record shows it (review R45 F1); absent on entries written before. For `data.exported`: the account whose data was exported',
    }),
    entityCreditCode: z.string().optional().meta({
      description:
        'For `entity.representative_changed`: the enterprise whose legal representative the registry changed (its unified social credit code)',
    }),
    entityName: z.string().optional().meta({
      description: 'For `entity.representative_changed`: the enterprise’s name as the registry records it',
    }),
    representativeTerm: z.string().optional().meta({
      description:
        'For `entity.representative_changed`: the new representative’s term (opaque; docs/accounts.md), the same on both entries of one change',
    }),
    representativeRole: z.enum(['former', 'new']).optional().meta({
      description:
        'For `entity.representative_changed`: whose entry this is, one per person (`holderMasked` their masked number, their lookup key stored, never answered): the representative the registry no longer names (`former`), or the one it names now (`new`)',
    }),
    claimedLicenceId: z.string().optional().meta({
      description:
        'For a verification whose signature failed: the licence id the scan claimed (unverified), what supervision counts forged scans of',
    }),
  })
  .meta({
    title: 'AuditEntry',
    examples: [
      {
        at: '2026-03-01T09:30:00.000Z',
        actor: 'iss_3kq9x',
        action: 'licence.issued',
        licenceId: '1.2.156.3005.2.003.11110000000021135M.0001.1.3',
        issuerId: 'iss_3kq9x',
        holderMasked: '110105********002X',
      },
    ],
  });
/**
 * `GET /admin/audit?licence=&limit=&cursor=`: the licence whose trail is asked for, a page of at most
 * `limit` entries (1–1000, 100 by default), after `cursor`. A licence whose QR code is scanned millions
 * of times has millions of entries: no request reads them all (SRE review M7).
 */
export const auditQuery = z.strictObject({
  licence: z.string().min(1).max(200),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().min(1).max(400).optional().meta({ description: 'The `cursor` of the previous page' }),
});

/** What `GET /admin/audit` answers: a page of a licence's entries, oldest first. */
export const auditTrailSchema = z
  .object({
    items: z.array(auditEntrySchema),
    after: z
      .strictObject({
        at: z.string().meta({ description: 'RFC 3339' }),
        position: z.string().meta({ description: "Where the page starts on the licence's list (opaque)" }),
        entry: auditEntrySchema.nullable().meta({
          description:
            "The entry the cursor stands on (the previous page's last), as `items` are answered; `null` when it is no longer on the licence's list: the list was changed since the cursor was answered",
        }),
      })
      .optional()
      .meta({ description: 'Asked with a `cursor`: where the page starts; absent on the first page' }),
    cursor: z
      .string()
      .optional()
      .meta({ description: 'Present when more entries follow: pass it back as `cursor`' }),
  })
  .meta({ title: 'AuditTrail' });

/**
 * One entry of the audit trail (`GET /admin/audit` lists them). `holderKey` is the licence holder's
 * lookup key (the keyed MAC of their ID number or credit code, as the licence stores it, never the
 * number itself): whose usage record (用证记录) a share, verification or presentation belongs to.
 * `holderSalt` is the entry's own random salt of its `holderCommitment` (shared/supervision/audit-chain.ts
 * `commitHolder`), which the entry's hash covers, so that re-filing an entry under another holder shows.
 * Both are stored, never answered.
 */
export type AuditEntry = z.output<typeof auditEntrySchema> & { holderKey?: string; holderSalt?: string };

/**
 * How long an entry's key ({@link RecordOnce}) keeps a second write under it out: 35 days from its first
 * write, after which the table's TTL may delete its mark (`audit-once#`). What it guards against is a
 * completer writing a licence change's pending entry again after it landed, and how late that can come is
 * bounded by how long the entry stays pending after its write:
 *
 * - racing completers and retries: minutes (a claim's 60 s lease, the longest completer's own timeout,
 *   60 s for `pending-work-reconciler`, and the SDK's retries within it);
 * - work left pending after its entry was written (the status list or the record's clear failed): the
 *   reconciler tries again every minute, rewriting under the same key, until an operator fixes the cause;
 *   its `UnfinishedWrites` alarm fires within 5 minutes (docs/operating.md), so days at the very worst;
 * - the service table restored to an earlier point (point-in-time recovery and the daily backups reach
 *   35 days back, infra/constructs/backup.ts): a record restored with pending work finds the marks of the
 *   entries written since, so long as the point is within this lifetime.
 *
 * So 35 days covers every way a duplicate can arrive but a restore from a monthly backup (kept a year),
 * and costs one small item per licence change for that long instead of forever. A mark past its time but
 * not yet deleted (TTL deletes late; dynalite never) still keeps a write out: never weaker than before.
 */
export const recordOnceSeconds = 35 * 24 * 60 * 60;

/**
 * How an entry recorded after the fact is written: the audit entries of a change's pending work (a licence
 * change's, a withdrawal's: shared/pending-work/pending-work.ts), which a request, its retry and the reconciler
 * may each try to write, late, and after a write whose outcome was unknown.
 */
export interface RecordOnce {
  /**
   * The entry's own key (its licence, the version of the change that recorded it, its index there): the
   * entry is written at most once under it, and a second `record` with the same key within
   * {@link recordOnceSeconds} of the first write is a no-op that resolves (the first may have landed even
   * if it failed). Nothing is looked up first.
   */
  key: string;
  /**
   * When it is being written (RFC 3339): the entry goes on a chain of this UTC day, which may be later than
   * its `at`, so that an entry finished after midnight never opens a chain on a day already checkpointed.
   */
  writtenAt: string;
}

/**
 * Append-only: `record` never overwrites, and nothing updates or deletes an entry. It reads nothing back:
 * a licence's entries are read a page at a time ({@link LicenceAuditPages}), never whole (a flooded
 * licence has millions).
 */
export interface AuditTrail {
  record(entry: AuditEntry, once?: RecordOnce): Promise<void>;
}

/** Which page of a licence's entries: at most `limit`, after `cursor` (a cursor of an earlier page). */
export interface AuditPageRequest {
  limit: number;
  cursor?: string;
}

/** A page of audit entries, and where the next starts (opaque; absent on the last page). */
export interface AuditPage {
  items: AuditEntry[];
  cursor?: string;
}

/**
 * Where a page of a licence's list starts, when it was asked after a cursor: the place the cursor carries
 * ({@link listPlace}, opaque) and its time, so that a reader can say where the page's stretch begins
 * without knowing what a cursor holds.
 */
export interface PageStart {
  /** RFC 3339. */
  at: string;
  position: string;
  /**
   * The entry the cursor stands on (the last one the page before answered), read in the same query as the
   * page; `null` when it is no longer on the licence's list (taken off since the cursor was answered: the
   * list was changed). Sealing a cursor proves the service answered it, not that its entry is still
   * listed (security review R14 L2), so the page says which, and a reader checks it.
   */
  entry: AuditEntry | null;
}

/**
 * A page of a licence's list ({@link LicenceAuditPages}): the entries, each one's place in the list
 * (`positions`, one per item, in order; {@link listPlace}), and, after a cursor, where the page starts
 * (`after`). A page holds every place after `after` up to its last entry's (to the end, on the last page).
 */
export interface LicenceAuditPage extends AuditPage {
  positions: string[];
  after?: PageStart;
}

/**
 * A licence's entries a page at a time, oldest first: what the API answers (`GET /admin/audit`,
 * `GET /supervision/audit?licence=`), bounded however many entries the licence has.
 *
 * Contract: at most `limit` entries, oldest first (entries of one instant in a fixed order); `cursor` is present
 * when more follow and, passed back, answers the entries after the last one answered, each once. A
 * cursor this port did not make is an `InvalidInputError` (`invalid_cursor`, naming `cursor`). Each entry
 * comes with its place in the list (`positions`, {@link listPlace}: ordered as text as the list is), and a
 * page asked after a cursor says where it starts (`after`: the cursor's place and time, and the entry the
 * cursor stands on, or `null` when that entry is no longer on the list).
 */
export interface LicenceAuditPages {
  licencePage(licenceId: string, page: AuditPageRequest): Promise<LicenceAuditPage>;
}

/**
 * Where an entry stands in the trail's time-ordered indexes (a licence's, a holder's): its time and its
 * unique id (`<at>#<id>`), which also orders entries of one instant. Cursors carry the position of the
 * last entry answered.
 */
const entryPosition = /^\d{4}-\d{2}-\d{2}T[0-9:.Z+-]{1,30}#[A-Za-z0-9_-]{1,64}$/;

/**
 * The cursor that continues after `position` (`<at>#<id>`), for the adapters' paged listings.
 *
 * @example
 * ```ts
 * entryCursor('2026-12-05T02:31:00.000Z#audit_x'); // 'MjAyNi0xMi0wNVQwMjozMTowMC4wMDBaI2F1ZGl0X3g'
 * ```
 */
export function entryCursor(position: string): string {
  return Buffer.from(position, 'utf8').toString('base64url');
}

/**
 * The position a cursor of {@link entryCursor} carries; anything else is refused (`invalid_cursor`), so
 * that no caller-made text reaches a key condition.
 *
 * @example
 * ```ts
 * positionOfCursor(entryCursor('2026-12-05T02:31:00.000Z#audit_x')); // '2026-12-05T02:31:00.000Z#audit_x'
 * ```
 */
export function positionOfCursor(cursor: string): string {
  const decoded = /^[A-Za-z0-9_-]{1,200}$/.test(cursor)
    ? Buffer.from(cursor, 'base64url').toString('utf8')
    : '';
  if (!entryPosition.test(decoded) || entryCursor(decoded) !== cursor) {
    const message = 'not a cursor of this listing';
    throw new InvalidInputError(`Invalid request: cursor: ${message}`, 'invalid_cursor', {
      errors: [{ path: 'cursor', message }],
    });
  }
  return decoded;
}

/**
 * The place answered for a position (`<at>#<id>`, or any sort key of a list): opaque to clients, but
 * ordered as text as the list is (hex of its UTF-8 bytes: DynamoDB orders sort keys by those bytes, and
 * hex keeps that order), so that a reader can tell whether an entry falls within a page's stretch without
 * knowing the key format. Not a cursor: cursors stay {@link entryCursor}'s.
 *
 * @example
 * ```ts
 * listPlace('2026-12-05T02:31:00.000Z#a') < listPlace('2026-12-05T02:31:00.000Z#b'); // true
 * ```
 */
export function listPlace(position: string): string {
  return Buffer.from(position, 'utf8').toString('hex');
}

/**
 * Where a page asked after a cursor starts, from the position the cursor carries ({@link positionOfCursor},
 * which refuses a cursor this listing did not make): that position's place ({@link listPlace}) and its time.
 *
 * @example
 * ```ts
 * pageStart(positionOfCursor(cursor), anchor); // { at: '2026-12-05T02:31:00.000Z', position: '3230…', entry: anchor }
 * ```
 */
export function pageStart(position: string, entry: AuditEntry | null): PageStart {
  return { at: position.slice(0, position.indexOf('#')), position: listPlace(position), entry };
}
