import * as z from 'zod';
import type { AuditTrail } from '../audit/audit-trail.js';
import type { Clock } from '../clock.js';
import { ConflictError, NotFoundError } from '../errors.js';
import { logger } from '../logger.js';
import type { LicenceEvent, LicenceRecord, StoredStatus } from './licence.js';
import type { LicenceStore } from './licence-store.js';
import type { StatusListStore } from './status-list-store.js';
import { reasonText, statusReason, statusReasonCodes } from './status-reasons.js';
import { actedBy } from './issuer-actor.js';

/**
 * A status change: the status, and why: a preset `reasonCode` of that status (`statusReasons`), a free
 * `reason`, or both (the preset, with a note). `other`, or no code at all (API clients from before the
 * codes), needs the free text. A code of another status, or an unknown one, is refused naming the field.
 */
export const changeStatusInput = z
  .strictObject({
    status: z.enum(['valid', 'suspended', 'revoked']),
    reasonCode: z.enum(statusReasonCodes).optional().meta({
      description: 'A preset reason of the target status (see docs/console.md); `other` needs `reason`',
    }),
    reason: z.string().trim().min(1).max(500).optional().meta({
      description: 'Free text: required without `reasonCode` or with `other`; a note to a preset otherwise',
    }),
  })
  .superRefine((input, context) => {
    if (input.reasonCode !== undefined && !statusReason(input.status, input.reasonCode)) {
      context.addIssue({
        code: 'custom',
        path: ['reasonCode'],
        message: `not a reason for the status ${input.status}`,
      });
    }
    if (input.reason === undefined && (input.reasonCode === undefined || input.reasonCode === 'other')) {
      context.addIssue({
        code: 'custom',
        path: ['reason'],
        message: input.reasonCode === 'other' ? 'required with the reason code other' : 'required',
      });
    }
  });
export type ChangeStatusInput = z.output<typeof changeStatusInput>;

/** Token Status List values: 0 valid, 1 invalid (our revoked), 2 suspended. */
export const statusListValue = { valid: 0, revoked: 1, suspended: 2 } as const satisfies Record<
  StoredStatus,
  number
>;

const actions: Record<StoredStatus, LicenceEvent['action']> = {
  valid: 'reinstated',
  suspended: 'suspended',
  revoked: 'revoked',
};

export interface ChangeStatusDependencies {
  licences: LicenceStore;
  statusLists: StatusListStore;
  audit: AuditTrail;
  clock: Clock;
}

/**
 * Suspends (暂扣), reinstates, or revokes (吊销/撤销) a licence of the caller's issuer. Revocation is
 * final. The licence record changes in one conditional write under its `version`, with the history entry
 * in the same write; then the status list (derived state) takes the new value. Asking for the status a
 * licence already has changes nothing and re-applies it to the status list, which repairs a list an
 * earlier failure left behind.
 *
 * @example
 * ```ts
 * await changeLicenceStatus(id, { status: 'suspended', reason: '交通违法记满12分' }, { issuerId, clientId }, deps);
 * ```
 */
export async function changeLicenceStatus(
  id: string,
  input: ChangeStatusInput,
  context: {
    issuerId: string;
    clientId: string;
    /** The clerk who made the change through the issuer console (`issuer-actor.ts`). */
    clerk?: string;
    requestId?: string;
    /** A revocation by a re-issue (`reissue-licence.ts`): the licence issued in its place. */
    replacedBy?: string;
    /**
     * Change only a licence in this status (a re-issue's revocation, which must not end a suspension
     * made since it read the licence): another status is a 409 `licence_changed`.
     */
    from?: StoredStatus;
  },
  deps: ChangeStatusDependencies,
): Promise<LicenceRecord> {
  const current = await deps.licences.get(id);
  // Another issuer's licence is not found, rather than forbidden: its existence is not theirs to learn.
  if (!current || current.issuerId !== context.issuerId)
    throw new NotFoundError(`No licence ${id} of this issuer`, 'licence_not_found');

  let licence = current;
  if (context.from && current.status !== context.from && current.status !== input.status) {
    throw new ConflictError('The licence changed meanwhile; read it again and retry', 'licence_changed');
  }
  if (current.status !== input.status) {
    if (current.status === 'revoked') {
      throw new ConflictError(
        'A revoked licence cannot change status: revocation is final',
        'licence_revoked',
      );
    }
    const at = new Date(deps.clock.now()).toISOString();
    const reason = reasonText(input.status, input.reasonCode, input.reason);
    licence = await deps.licences.save({
      ...current,
      status: input.status,
      statusReason: reason,
      history: [
        ...current.history,
        {
          at,
          action: actions[input.status],
          ...actedBy(context),
          reason,
          ...(input.reasonCode ? { reasonCode: input.reasonCode } : {}),
          ...(context.replacedBy ? { replacedBy: context.replacedBy } : {}),
          requestId: context.requestId,
        },
      ],
    });
    await deps.audit
      .record({
        at,
        ...actedBy(context),
        action: `licence.${actions[input.status]}`,
        licenceId: id,
        issuerId: current.issuerId,
        licenceType: current.type,
        holderMasked: current.holder.masked,
        requestId: context.requestId,
        reason,
        // The code too, so that supervision can tell a replacement from a loss of licences (a re-issue's
        // revocation, which alone names the licence replacing it, is no bulk revocation).
        ...(input.reasonCode ? { reasonCode: input.reasonCode } : {}),
        ...(context.replacedBy ? { replacedBy: context.replacedBy } : {}),
      })
      .catch((error: unknown) =>
        logger.error('audit entry not written', { licenceId: id, error: String(error) }),
      );
  }
  // A concurrent change of this licence may have saved a newer status while this list write waited (it
  // retries under contention), and written the list before it: write again until the list carries the
  // status of the version read after the write. The last writer then always leaves the latest status. A
  // late write over a revocation is not even momentary: the store never overwrites a revoked entry.
  for (let applied = licence; ;) {
    await deps.statusLists.setStatus(
      applied.statusList.listId,
      applied.statusList.idx,
      statusListValue[applied.status],
    );
    const latest = await deps.licences.get(id);
    if (!latest || latest.version === applied.version) break;
    applied = latest;
  }
  return licence;
}
