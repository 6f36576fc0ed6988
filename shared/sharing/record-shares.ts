import type { AuditTrail } from '../audit/audit-trail.js';
import type { LicenceRecord } from '../licence/licence.js';

/**
 * Records that a platform was handed some of a person's licences (`licence.shared`, one audit entry per
 * licence: the platform, the licence, its type and issuer, the holder's lookup key, the purpose when the
 * platform stated one), before the answer goes: a share that could not be recorded is not made. The
 * holder's usage record (用证记录) lists these entries.
 *
 * @example
 * ```ts
 * await recordShares({ clientId, at, purposeOf: () => '办理车辆登记' }, held.map((h) => h.licence), deps);
 * ```
 */
export async function recordShares(
  share: {
    clientId: string;
    at: string;
    /** The purpose the platform stated for this licence's type, if it stated one. */
    purposeOf?: (licence: LicenceRecord) => string | undefined;
    requestId?: string;
  },
  licences: readonly LicenceRecord[],
  deps: { audit: AuditTrail },
): Promise<void> {
  await Promise.all(
    licences.map((licence) => {
      const purpose = share.purposeOf?.(licence);
      return deps.audit.record({
        at: share.at,
        action: 'licence.shared',
        actor: share.clientId,
        licenceId: licence.id,
        licenceType: licence.type,
        issuerId: licence.issuerId,
        holderKey: licence.holder.lookupKey,
        ...(purpose ? { purpose } : {}),
        ...(share.requestId ? { requestId: share.requestId } : {}),
      });
    }),
  );
}
