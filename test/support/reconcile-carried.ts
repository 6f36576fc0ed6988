import type { AuditTrail } from '../../shared/audit/audit-trail.js';
import type { SecurityNoticeOutbox } from '../../shared/pending-work/pending-work.js';
import { reconcilePendingWork, type CarriedIndexes } from '../../shared/reconciler/reconcile-pending-work.js';
import { RecordedSecurityNotices } from './in-memory-sms.js';
import { InMemoryLicenceStore, InMemoryPendingWork, InMemoryStatusListStore } from './in-memory-licence.js';

/**
 * The reconciler's run (every minute) at `at` (epoch ms) over the indexes of carried pointers given (the
 * others empty; no licence has any work), as `pending-work-reconciler` runs it: what is older than a
 * minute, its claim lapsed.
 *
 * @example
 * ```ts
 * await reconcileCarriedAt(clock.now() + 120_000, { accountAudit: entities.pendingAudit }, audit);
 * ```
 */
export function reconcileCarriedAt(
  at: number,
  indexes: Partial<CarriedIndexes>,
  audit: AuditTrail,
  /** Where the notices the pointers owe are recorded (by default, a record no test reads). */
  securityNotices: SecurityNoticeOutbox = new RecordedSecurityNotices(),
): ReturnType<typeof reconcilePendingWork> {
  return reconcilePendingWork(
    {
      licences: new InMemoryLicenceStore(),
      statusLists: new InMemoryStatusListStore(),
      pendingWork: new InMemoryPendingWork(),
      pendingAudit: new InMemoryPendingWork(),
      operatorAudit: new InMemoryPendingWork(),
      accountAudit: new InMemoryPendingWork(),
      providerAudit: new InMemoryPendingWork(),
      ...indexes,
      audit,
      securityNotices,
      clock: { now: () => at },
    },
    { minAgeSeconds: 60, limit: 100 },
  );
}
