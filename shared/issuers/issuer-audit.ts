import type { AuditEntry, AuditTrail } from '../audit/audit-trail.js';
import type { Clock } from '../clock.js';
import { issuerAuditPrefix, saveWithTrace, type PendingWorkIndex } from '../pending-work/pending-work.js';
import type { Issuer } from './issuer.js';
import type { IssuerStore } from './issuer-store.js';

/** What saving an operator's change of an issuer with its audit entry takes. */
export interface IssuerChangeDependencies {
  issuers: IssuerStore;
  /** The pending work of operators' changes: their own index, neither licences' nor withdrawals'. */
  operatorAudit: PendingWorkIndex;
  audit: AuditTrail;
  clock: Clock;
}

/**
 * The key the audit entry of the change that writes `version` of an issuer is written once under, and the
 * id of the pending work that carries it: each version is written by one change only (a conditional
 * write), so the request and the reconciler write its one entry between them.
 *
 * @example
 * ```ts
 * issuerAuditKey('iss_4Zq0bS0e6jyU2KQ1', 7); // 'issuer-changed#iss_4Zq0bS0e6jyU2KQ1#7'
 * ```
 */
export const issuerAuditKey = (issuerId: string, version: number) =>
  `${issuerAuditPrefix}${issuerId}#${version}`;

/**
 * Saves an operator's change of an issuer (a key rotated or withdrawn, the issuer withdrawn) and its audit
 * entry together ({@link saveWithTrace}): the entry is saved as pending work in the issuer's own write
 * (`IssuerStore.saveWithAudit`), so that no change is ever made untraced, then written once under its key
 * and the pending work removed. An entry that cannot be written now stays saved: the change stands and is
 * answered, and the reconciler writes it a minute later. Answers the issuer saved; `ConflictError`
 * `issuer_changed` when it changed since it was read.
 *
 * @example
 * ```ts
 * const saved = await saveIssuerChange({ ...issuer, status: 'withdrawn' }, { at, actor, action: 'issuer.withdrawn', issuerId }, deps);
 * ```
 */
export function saveIssuerChange(
  issuer: Issuer,
  entry: AuditEntry,
  deps: IssuerChangeDependencies,
): Promise<Issuer> {
  return saveWithTrace(
    issuerAuditKey(issuer.id, issuer.version + 1),
    entry,
    (trace) => deps.issuers.saveWithAudit(issuer, trace),
    { ...deps, pendingAudit: deps.operatorAudit },
  );
}
