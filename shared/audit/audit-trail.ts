import * as z from 'zod';

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
        'For status changes: the preset reason code (`reissued`, `holder-request`, …) when one was given; absent on entries written before it was recorded',
    }),
    replacedBy: z.string().optional().meta({
      description:
        'For the revocation of a re-issue (`POST /licences/{id}/reissue`): the licence that replaced this one',
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
        'For a bulk read (`licences.exported`, `licences.listed`): the licences it answered (a CSV export: its rows)',
    }),
    filters: z.string().optional().meta({
      description:
        'For a bulk read: the search, as `name=value` pairs joined by `&`; a holder’s number or name only by its filter’s name, never its value',
    }),
    targetClientId: z.string().optional().meta({
      description:
        'For a change to an OAuth client (`client.secret_rotated`): the client changed (`actor` is the operator’s)',
    }),
    secretVersion: z.int().optional().meta({
      description: 'For `client.secret_rotated`: the version of the new secret (never the secret itself)',
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
/** `GET /admin/audit?licence=`: the licence whose trail is asked for. */
export const auditQuery = z.strictObject({ licence: z.string().min(1).max(200) });

/** What `GET /admin/audit` answers: a licence's entries, oldest first. */
export const auditTrailSchema = z.object({ items: z.array(auditEntrySchema) }).meta({ title: 'AuditTrail' });

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
 * How an entry recorded after the fact is written: the audit entries of a licence change's pending work
 * (shared/licence/pending-work.ts), which a request, its retry and the reconciler may each try to write,
 * late, and after a write whose outcome was unknown.
 */
export interface RecordOnce {
  /**
   * The entry's own key (its licence, the version of the change that recorded it, its index there): the
   * entry is written at most once under it, and a second `record` with the same key is a no-op that
   * resolves (the first may have landed even if it failed). Nothing is looked up first.
   */
  key: string;
  /**
   * When it is being written (RFC 3339): the entry goes on a chain of this UTC day, which may be later than
   * its `at`, so that an entry finished after midnight never opens a chain on a day already checkpointed.
   */
  writtenAt: string;
}

/** Append-only: `record` never overwrites, and nothing updates or deletes an entry. */
export interface AuditTrail {
  record(entry: AuditEntry, once?: RecordOnce): Promise<void>;
  /** The entries about one licence, oldest first. */
  forLicence(licenceId: string): Promise<AuditEntry[]>;
}
