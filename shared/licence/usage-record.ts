import { InvalidInputError } from '../errors.js';
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
 * With `action` (an audit action, e.g. `licence.shared`), only entries of that action are answered, so that
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

/** Which page of a usage record: at most `limit` entries, after `cursor`, of `action` only if given. */
export interface UsagePageRequest {
  limit: number;
  cursor?: string;
  action?: string;
}

/**
 * Where an entry stands in every usage record: its time and its unique id (`<at>#<id>`), which also
 * orders entries of one instant. Cursors carry the position of the last entry answered.
 */
const position = /^\d{4}-\d{2}-\d{2}T[0-9:.Z+-]{1,30}#[A-Za-z0-9_-]{1,64}$/;

/**
 * The cursor that continues after `entryPosition` (`<at>#<id>`), for the adapters of {@link UsageRecord}.
 *
 * @example
 * ```ts
 * usageCursor('2026-12-05T02:31:00.000Z#audit_x'); // 'MjAyNi0xMi0wNVQwMjozMTowMC4wMDBaI2F1ZGl0X3g'
 * ```
 */
export function usageCursor(entryPosition: string): string {
  return Buffer.from(entryPosition, 'utf8').toString('base64url');
}

/**
 * The position a cursor of {@link usageCursor} carries; anything else is refused (`invalid_cursor`), so
 * that no caller-made text reaches a key condition.
 *
 * @example
 * ```ts
 * positionOf(usageCursor('2026-12-05T02:31:00.000Z#audit_x')); // '2026-12-05T02:31:00.000Z#audit_x'
 * ```
 */
export function positionOf(cursor: string): string {
  const decoded = /^[A-Za-z0-9_-]{1,200}$/.test(cursor)
    ? Buffer.from(cursor, 'base64url').toString('utf8')
    : '';
  if (!position.test(decoded) || usageCursor(decoded) !== cursor) {
    const message = 'not a cursor of this usage record';
    throw new InvalidInputError(`Invalid request: cursor: ${message}`, 'invalid_cursor', {
      errors: [{ path: 'cursor', message }],
    });
  }
  return decoded;
}
