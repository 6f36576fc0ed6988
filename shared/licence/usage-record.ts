import type { AuditEntry } from '../audit/audit-trail.js';

/** One page of a usage record: entries newest first, and where the next page starts. */
export interface UsagePage {
  items: AuditEntry[];
  /** Opaque; absent on the last page. */
  cursor?: string;
}

/**
 * The usage record (用证记录): the audit entries that carry a holder's lookup key (`holderKey`: shares,
 * verifications and presentations of their licences), read per holder, newest first. It reads the
 * entries the audit trail (`AuditTrail`) wrote; it writes nothing.
 *
 * Contract: `forHolders` merges the entries of every key given, newest first (entries of one instant in a
 * stable order), at most `limit` of them; `cursor` is present when more follow and, passed back, answers
 * the entries after the last one answered, each once. A cursor that is not one this port made is an
 * `InvalidInputError` (`invalid_cursor`, naming `cursor`). No key, or an unknown one, is an empty page.
 *
 * With `action` (an audit action, e.g. `licence.shared`, or several), only entries of that action are answered, so that
 * a flood of one kind (anonymous verifications of a printed QR code) cannot bury the others: a page holds
 * the newest `limit` entries of that action after the cursor, however many of another kind are newer (the
 * Dynamo adapter reads an index by holder and action). Only while that index is not yet complete (before
 * the deployment's backfill) may an adapter bound how many entries it reads for one such page: a page may
 * then hold fewer than `limit` entries, even none, while `cursor` says more may follow; following the
 * cursors answers every matching entry once either way.
 *
 * @example
 * ```ts
 * const first = await usage.forHolders([person.lookupKey], { limit: 20 });
 * const next = first.cursor ? await usage.forHolders([person.lookupKey], { limit: 20, cursor: first.cursor }) : undefined;
 * const shares = await usage.forHolders([person.lookupKey], { limit: 20, action: 'licence.shared' });
 * ```
 */
export interface UsageRecord {
  forHolders(holderKeys: readonly string[], page: UsagePageRequest): Promise<UsagePage>;
}

/**
 * Which page of a usage record: at most `limit` entries, after `cursor`, of `action` only if given: one
 * audit action, or several (a kind of the record that gathers several, as a counter's proof), the page then
 * holding the newest `limit` entries of any of them.
 */
export interface UsagePageRequest {
  limit: number;
  cursor?: string;
  action?: string | readonly string[];
}

/** The audit actions a page asks for ({@link UsagePageRequest.action}), as a list; undefined for all. */
export function actionsOf(page: UsagePageRequest): readonly string[] | undefined {
  if (page.action === undefined) return undefined;
  return typeof page.action === 'string' ? [page.action] : [...new Set(page.action)];
}

/**
 * The cursor that continues after an entry's position, and the position a cursor carries (refused
 * unless one of these): the audit trail's own, shared with the listing of a licence's entries.
 */
export { entryCursor as usageCursor, positionOfCursor as positionOf } from '../audit/audit-trail.js';
