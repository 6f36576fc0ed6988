import type { AuditEntry, AuditTrail } from '../audit/audit-trail.js';
import type { Clock } from '../clock.js';
import { NotFoundError } from '../errors.js';
import { clientAuditPrefix, saveWithTrace, type PendingWorkIndex } from '../pending-work/pending-work.js';
import { randomId } from '../random-id.js';
import type { ClientChange, ClientStore } from './client-store.js';

/** What changing a client with its audit entry takes. */
export interface ClientChangeDependencies {
  clients: ClientStore;
  /** The pending work of operators' changes (`admin`'s own index). */
  operatorAudit: PendingWorkIndex;
  audit: AuditTrail;
  clock: Clock;
}

/**
 * Writes an operator's change of a client's members (`ClientStore.update`) and its audit entry as one
 * (`saveWithTrace`): the entry is saved as pending work in the client's own write, under a key of its own
 * (`client-changed#<client id>#<change id>`: the record has no version to name the change by), then written
 * once and the pending work removed; an entry that cannot be written now is left to the reconciler, the
 * change standing (with `discloses`, the answer withheld: `saveWithTrace`). A client not registered (or
 * deleted meanwhile) is 404 `client_not_found`, nothing written.
 *
 * @example
 * ```ts
 * await saveClientChange('cl_8Hk2mQ0xV3', { set: { events_uri } }, { at, actor, action: 'client.updated', targetClientId }, deps);
 * ```
 */
export async function saveClientChange(
  clientId: string,
  change: ClientChange,
  entry: AuditEntry,
  deps: ClientChangeDependencies,
  options: { discloses?: boolean } = {},
): Promise<void> {
  await saveWithTrace(
    `${clientAuditPrefix}${clientId}#${randomId('chg')}`,
    entry,
    async (trace) => {
      if (!(await deps.clients.update(clientId, change, trace))) {
        throw new NotFoundError(`No client ${clientId.slice(0, 64)}`, 'client_not_found');
      }
    },
    { ...deps, pendingAudit: deps.operatorAudit },
    options,
  );
}
