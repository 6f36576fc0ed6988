/**
 * Audit entries of an issuer's bulk reads (网上留痕 for reads, docs/supervision.md "Bulk reads"): a CSV
 * export of the console (`licences.exported`, up to 5,000 holders' names, masked numbers and reasons per
 * call) and a listing filtered by a holder's number or name (`licences.listed`, which tells which licences one person or
 * entity holds from this issuer). Neither names anyone: the search is recorded with the values of its
 * non-personal filters and only the names of the personal ones.
 *
 * Other listings are not recorded: one entry per page (20 to 100 licences) of every search an agency's
 * staff page through would be most of the trail. An export is, being how a console session (stolen or
 * not) copies the holder list in a few clicks; so is a search by holder, however small.
 *
 * @packageDocumentation
 */
import type { AuditEntry } from '../audit/audit-trail.js';

/** Filters whose values identify a holder: recorded by name only. */
export const personalSearchFilters = ['holder', 'holderName'] as const;

/** The filters a bulk read may carry (`GET /licences`, the console's search). */
export interface BulkReadSearch {
  status?: string | undefined;
  type?: string | undefined;
  holder?: string | undefined;
  holderName?: string | undefined;
  number?: string | undefined;
  issuedFrom?: string | undefined;
  issuedTo?: string | undefined;
  sort?: string | undefined;
  /** Only licences of withdrawn keys (`'true'`): the re-issue list, recorded like any other filter. */
  keyWithdrawn?: string | undefined;
}

/** Recorded with their values: none identifies a holder. A part of a licence number is recorded by name. */
const valuedFilters = ['status', 'type', 'issuedFrom', 'issuedTo', 'sort', 'keyWithdrawn'] as const;
const namedFilters = [...personalSearchFilters, 'number'] as const;

/**
 * The search as recorded: `status=valid&type=driving-licence&holderName`, values URI-encoded, holders'
 * filters by name only; `''` for none.
 *
 * @example
 * ```ts
 * recordedFilters({ status: 'valid', holder: '110105199001011234' }); // 'status=valid&holder'
 * ```
 */
export function recordedFilters(search: BulkReadSearch): string {
  const parts: string[] = [];
  for (const name of valuedFilters) {
    const value = search[name];
    if (value) parts.push(`${name}=${encodeURIComponent(value)}`);
  }
  for (const name of namedFilters) if (search[name]) parts.push(name);
  return parts.join('&');
}

/**
 * The audit entry of one bulk read by an issuer's client (and clerk, when one read): who, which issuer, how many licences, which
 * search. Never a holder's number or name.
 *
 * @example
 * ```ts
 * await deps.audit.record(bulkReadEntry('licences.exported', search, { at, actor: clientId, issuerId, count: 120 }));
 * ```
 */
export function bulkReadEntry(
  action: 'licences.exported' | 'licences.listed',
  search: BulkReadSearch,
  context: {
    at: string;
    actor: string;
    /** The clerk who read, through the issuer console (`issuer-actor.ts`). */
    clerk?: string | undefined;
    issuerId?: string | undefined;
    count: number;
    requestId?: string;
  },
): AuditEntry {
  return {
    at: context.at,
    actor: context.actor,
    ...(context.clerk ? { clerk: context.clerk } : {}),
    action,
    ...(context.issuerId ? { issuerId: context.issuerId } : {}),
    count: context.count,
    filters: recordedFilters(search),
    ...(context.requestId ? { requestId: context.requestId } : {}),
  };
}
