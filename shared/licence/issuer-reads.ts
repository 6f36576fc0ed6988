/**
 * Issuers' reads of a person's licences, in that person's usage record (用证记录; privacy review L4): an
 * issuing agency that reads one of its licences by id (`GET /licences/{id}`) or one of its renderings (QR
 * code, printable PDF and its signature), or searches its licences by holder (`POST /licences/search` with
 * `holder` or `holderName`), has looked at that person's licences, which PIPL lets
 * the person know of (who, when, what). Each licence read is one audit entry, `licence.issuer_read`,
 * carrying the holder's lookup key (so it is in their record), the licence and its type, and the issuer;
 * the person reads the agency's name, never the clerk (the entry's `clerk` reference stays in the audit
 * trail for supervision, as on every act of a clerk).
 *
 * Listings without a holder's filter are not recorded per licence: they read an agency's register, not one
 * person's licences, and one entry per licence of every page paged through would be most of the trail.
 *
 * @packageDocumentation
 */
import type { AuditEntry, AuditTrail } from '../audit/audit-trail.js';
import type { LicenceRecord } from './licence.js';

/** The audit action of an issuer's read of one licence. */
export const issuerReadAction = 'licence.issuer_read';

/** Who read: the issuer, its client (the console's for a clerk), the clerk's reference, the request. */
export interface IssuerReader {
  issuerId: string;
  clientId: string;
  clerk?: string | undefined;
  requestId?: string | undefined;
}

/**
 * Records `licences` as read by `by`, one entry each, all recorded at once: on an audit trail with group
 * commit (the licences function's) they go as TransactWriteItems of up to 25 puts, so that a search answering 100
 * licences costs 4 writes, not 100. Resolves once every entry is written; a read that could not be recorded
 * is not answered (the caller awaits this before it answers).
 *
 * @example
 * ```ts
 * await recordIssuerReads(page.items, { issuerId, clientId, clerk, requestId }, { audit, clock });
 * ```
 */
export async function recordIssuerReads(
  licences: readonly LicenceRecord[],
  by: IssuerReader,
  deps: { audit: AuditTrail; clock: { now(): number } },
): Promise<void> {
  // 1. One instant for the whole read: the entries of one search sort together in the record.
  const at = new Date(deps.clock.now()).toISOString();
  // 2. One entry per licence, filed under its holder (the licence's own lookup key, never the number).
  const entries = licences.map((licence): AuditEntry => ({
    at,
    actor: by.clientId,
    ...(by.clerk ? { clerk: by.clerk } : {}),
    action: issuerReadAction,
    issuerId: by.issuerId,
    licenceId: licence.id,
    licenceType: licence.type,
    holderKey: licence.holder.lookupKey,
    ...(by.requestId ? { requestId: by.requestId } : {}),
  }));
  // 3. Recorded together: the group commit batches what is recorded while no write is in flight.
  await Promise.all(entries.map((entry) => deps.audit.record(entry)));
}
