import * as z from 'zod';
import type { AuditEntry } from '../audit/audit-trail.js';
import { ConflictError, NotFoundError } from '../errors.js';
import type { LicenceEvent, LicenceRecord, StoredStatus } from './licence.js';
import {
  applyStatus,
  completeChange,
  finishPendingWork,
  pendingAudit,
  withoutPending,
  writeMarked,
  type PendingWorkDependencies,
} from './pending-work.js';
import { reasonText, statusReason, statusReasonCodes } from './status-reasons.js';
import { actedBy } from './issuer-actor.js';
import { refusePersonalData } from '../identifiers/personal-data-in-text.js';

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
    reason: z.string().trim().min(1).max(500).superRefine(refusePersonalData).optional().meta({
      description:
        'Free text: required without `reasonCode` or with `other`; a note to a preset otherwise. Kept in the audit chain and shown to supervisors: text holding a resident ID number or a mobile number is refused (`personal_data_in_text`)',
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
        // The code clients translate from (docs/api.md), as for any other missing member.
        params: { code: 'required' },
      });
    }
  });
export type ChangeStatusInput = z.output<typeof changeStatusInput>;

export { statusListValue } from './pending-work.js';

const actions: Record<StoredStatus, LicenceEvent['action']> = {
  valid: 'reinstated',
  suspended: 'suspended',
  revoked: 'revoked',
};

/** The licences, their status lists, the audit trail and the pending-work pointers, and a clock. */
export type ChangeStatusDependencies = PendingWorkDependencies;

/**
 * Suspends (暂扣), reinstates, or revokes (吊销/撤销) a licence of the caller's issuer. Revocation is
 * final. The licence record changes in one conditional write under its `version`, with the history entry
 * and, as pending work, the audit entry and the status list's new value in the same write (a pointer to
 * it written just before); then the status list (derived state) takes the new value and the audit entry
 * is written, and the pending work is cleared (shared/licence/pending-work.ts). A failure half-way leaves
 * the work recorded: asking for the status a licence already has changes nothing and finishes it (and
 * re-applies the status to the status list in any case), and the reconciler finishes it a minute later.
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

  if (context.from && current.status !== context.from && current.status !== input.status) {
    throw new ConflictError('The licence changed meanwhile; read it again and retry', 'licence_changed');
  }
  if (current.status === input.status) {
    // Nothing to change: finish what an earlier change left, and write the status into the list again
    // whoever holds that work (idempotent), which repairs a list any earlier failure left behind.
    const finished = await finishPendingWork(current, deps);
    await applyStatus(finished, deps);
    return withoutPending(finished);
  }
  if (current.status === 'revoked') {
    throw new ConflictError('A revoked licence cannot change status: revocation is final', 'licence_revoked');
  }
  const at = new Date(deps.clock.now()).toISOString();
  const reason = reasonText(input.status, input.reasonCode, input.reason);
  const changed: AuditEntry = {
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
  };
  const claim = await deps.pendingWork.mark(id, new Date(at));
  const saved = await writeMarked(id, claim, deps, () =>
    deps.licences.save({
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
      // Work an earlier change left undone is carried, and completed with this one's.
      pending: {
        since: current.pending?.since ?? at,
        audit: [...(current.pending?.audit ?? []), ...pendingAudit(id, current.version + 1, [changed])],
        statusList: { ...current.statusList, status: input.status },
      },
    }),
  );
  // The status list failing (`status_list_contended`) is answered (503: retry); the change is recorded.
  await completeChange(saved, claim, deps);
  return withoutPending(saved);
}
