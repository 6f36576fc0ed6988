import type { AuditEntry } from '../audit/audit-trail.js';

/** China Standard Time, UTC+8 all year (no daylight saving): the day the supervising office counts in. */
const chinaOffsetMs = 8 * 3_600_000;

/**
 * The China-time (UTC+8) calendar day of an instant, `YYYY-MM-DD`: statistics and alerts are kept per
 * such day (API.md: "days in China time"), so 2026-03-01T17:00Z counts on 2026-03-02.
 *
 * @example
 * ```ts
 * chinaDay('2026-03-01T17:00:00.000Z'); // '2026-03-02'
 * ```
 */
export function chinaDay(at: string | number): string {
  const ms = typeof at === 'number' ? at : Date.parse(at);
  return new Date(ms + chinaOffsetMs).toISOString().slice(0, 10);
}

/** The instant (epoch ms) at which China-time day `day` (`YYYY-MM-DD`) begins. */
export function chinaDayStart(day: string): number {
  return Date.parse(`${day}T00:00:00.000Z`) - chinaOffsetMs;
}

/** `day` moved by `delta` days (`YYYY-MM-DD` in, out). */
export function addDays(day: string, delta: number): string {
  return new Date(Date.parse(`${day}T00:00:00.000Z`) + delta * 86_400_000).toISOString().slice(0, 10);
}

/**
 * An audit entry as supervision reads it: with, for a verification whose signature failed, the licence
 * id the scan claimed (`claimedLicenceId`, unverified, written by shared/verification/verify-scan.ts).
 */
export type SupervisedEntry = AuditEntry & { claimedLicenceId?: string };

/**
 * What supervision reads of a stored audit item (from the stream, or from the table by a replay): the
 * fields the statistics and the rules use, and the entry's place on its chain (`chain`, `seq`: its id,
 * `auditEntryId`), never the holder's lookup key or masked number; `undefined` without `at` and `action`.
 * Both paths read an entry through this, so that an entry has the same id whichever read it.
 *
 * @example
 * ```ts
 * supervisedEntryOf({ pk, sk, at, action: 'licence.verified', actor: 'cl_1', verdict: 'valid', chain, seq: 3 });
 * // { at, action: 'licence.verified', actor: 'cl_1', verdict: 'valid', chain, seq: 3 }
 * ```
 */
export function supervisedEntryOf(item: Record<string, unknown>): SupervisedEntry | undefined {
  const text = (name: string) => (typeof item[name] === 'string' ? (item[name] as string) : undefined);
  const at = text('at');
  const action = text('action');
  if (!at || !action) return undefined;
  return {
    at,
    action,
    actor: text('actor') ?? 'anonymous',
    ...(text('licenceId') ? { licenceId: text('licenceId') } : {}),
    ...(text('issuerId') ? { issuerId: text('issuerId') } : {}),
    ...(text('licenceType') ? { licenceType: text('licenceType') } : {}),
    ...(text('verdict') ? { verdict: text('verdict') } : {}),
    ...(text('claimedLicenceId') ? { claimedLicenceId: text('claimedLicenceId') } : {}),
    // A bulk read's rows (licences.exported): what the bulk-export alert counts.
    ...(typeof item.count === 'number' ? { count: item.count } : {}),
    ...(text('reasonCode') ? { reasonCode: text('reasonCode') } : {}),
    ...(text('replacedBy') ? { replacedBy: text('replacedBy') } : {}),
    ...(text('chain') && typeof item.seq === 'number' ? { chain: text('chain'), seq: item.seq } : {}),
  };
}

/** What statistics and alert rules count: the audit actions about licences. */
export const countedActions = ['issued', 'suspended', 'reinstated', 'revoked', 'verified', 'shared'] as const;
export type CountedAction = (typeof countedActions)[number];

/** Supervised but not counted in the statistics: an issuer's CSV exports (the bulk-export alert rule). */
export type SupervisedAction = CountedAction | 'exported';

/** Placeholder for an issuer or licence type the entry does not name (a malformed scan names neither). */
export const unknownPart = '-';

/**
 * One supervised event, read from an audit entry: no holder data at all (the entry's masked holder and
 * lookup key are dropped here, so nothing downstream can store or publish them).
 */
export interface SupervisionEvent {
  at: string;
  action: SupervisedAction;
  /** The OAuth client that acted (a verifier app, an issuer's client), or `anonymous`. */
  actor: string;
  issuerId: string;
  licenceType: string;
  licenceId?: string;
  /** The licence a scan whose signature failed claimed to be (unverified): what forged scans target. */
  claimedLicenceId?: string;
  verdict?: string;
  /** For an export: the rows it answered (the audit entry's `count`). */
  rows?: number;
  /**
   * For a revocation that replaced the licence by a re-issue (`reissued`, naming the licence replacing
   * it, which only the re-issue writes): no licence is lost, so the bulk-status-change rule skips it.
   */
  replaced?: true;
}

/**
 * The supervised event an audit entry records, or `undefined` for entries that are not about a licence's
 * issuance, status, verification or sharing (accounts, sign-ins, presentations).
 *
 * @example
 * ```ts
 * toSupervisionEvent({ at, actor: 'cl_1', action: 'licence.verified', verdict: 'malformed' });
 * // { at, actor: 'cl_1', action: 'verified', verdict: 'malformed', issuerId: '-', licenceType: '-' }
 * ```
 */
export function toSupervisionEvent(entry: SupervisedEntry): SupervisionEvent | undefined {
  if (entry.action === 'licences.exported') return exportEvent(entry);
  if (!entry.action.startsWith('licence.')) return undefined;
  const action = entry.action.slice('licence.'.length);
  if (!(countedActions as readonly string[]).includes(action)) return undefined;
  if (typeof entry.at !== 'string' || Number.isNaN(Date.parse(entry.at))) return undefined;
  return {
    at: entry.at,
    action: action as CountedAction,
    actor: entry.actor || 'anonymous',
    issuerId: entry.issuerId ?? unknownPart,
    licenceType: entry.licenceType ?? unknownPart,
    ...(entry.licenceId ? { licenceId: entry.licenceId } : {}),
    ...(entry.claimedLicenceId && !entry.licenceId ? { claimedLicenceId: entry.claimedLicenceId } : {}),
    ...(action === 'verified' ? { verdict: entry.verdict ?? 'unknown' } : {}),
    // The code alone is any issuer's to give (PATCH …/status takes `reissued`): only the re-issue also
    // names the replacement, so a mass revocation cannot pass as replacements by its code.
    ...(action === 'revoked' && entry.reasonCode === 'reissued' && entry.replacedBy
      ? { replaced: true as const }
      : {}),
  };
}

/** A console CSV export (shared/licence/bulk-reads.ts) as the bulk-export rule counts it: its rows. */
function exportEvent(entry: SupervisedEntry): SupervisionEvent | undefined {
  if (typeof entry.at !== 'string' || Number.isNaN(Date.parse(entry.at))) return undefined;
  const rows = typeof entry.count === 'number' && entry.count > 0 ? Math.floor(entry.count) : 0;
  return {
    at: entry.at,
    action: 'exported',
    actor: entry.actor || 'anonymous',
    issuerId: entry.issuerId ?? unknownPart,
    licenceType: unknownPart,
    rows,
  };
}
