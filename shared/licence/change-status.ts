import * as z from 'zod';
import type { AuditEntry } from '../audit/audit-trail.js';
import { ConflictError, NotFoundError, ServiceError } from '../errors.js';
import type { LicenceEvent, LicenceRecord, ReplacementRevocation, StoredStatus } from './licence.js';
import {
  applyStatus,
  completeChange,
  finishPendingWork,
  pendingAudit,
  withoutPending,
  writeMarked,
  type PendingWorkDependencies,
} from './pending-work.js';
import { reasonText, statusReason, statusReasonCodes, type StatusReasonCode } from './status-reasons.js';
import { actedBy } from './issuer-actor.js';
import { refusePersonalData } from '../identifiers/personal-data-in-text.js';
import { printableText } from '../printable-text.js';

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
    reason: printableText(500, { multiLine: true }).superRefine(refusePersonalData).optional().meta({
      description:
        'Free text: required without `reasonCode` or with `other`; a note to a preset otherwise. Kept in the audit chain and shown to supervisors: text holding a resident ID number or a mobile number is refused (`personal_data_in_text`), and so is a control or format character, U+FFFD or a lone surrogate (`invalid_characters`)',
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

/** Whether `licence` was revoked by its re-issue as `replacement` (and not for another reason). */
export function revokedBy(licence: LicenceRecord, replacement: string): boolean {
  const revocation = licence.history.findLast((event) => event.action === 'revoked');
  return revocation?.replacedBy === replacement;
}

/**
 * The replacement a re-issue of `licence` claimed (`replacedBy`) while that re-issue is not finished: the
 * licence was not revoked by it (review R38 M1). Undefined when there is none, or the re-issue is done.
 */
export function unfinishedReissue(licence: LicenceRecord): string | undefined {
  const claimed = licence.replacedBy;
  if (!claimed || revokedBy(licence, claimed) || reissueGivenUp(licence, claimed)) return undefined;
  return claimed;
}

/**
 * Whether the re-issue of `licence` as `replacement` was given up: a clerk revoked that replacement before
 * the licence was revoked by it (marked on the licence first: {@link giveUpReissue}, review R40 F1).
 */
export function reissueGivenUp(licence: LicenceRecord, replacement: string): boolean {
  return licence.reissueGivenUp === replacement;
}

/**
 * A licence's status and reason, for the licence replacing it (a re-issue left unfinished): the same
 * preset code, with a note naming the replaced licence; or the replaced licence's reason text, with the
 * note. `text` is the reason as stored (`reasonText`).
 *
 * @example
 * ```ts
 * carriedStatus(old.id, 'suspended', 'investigation', '涉嫌违法违规，调查期间暂扣');
 * // { status: 'suspended', reasonCode: 'investigation', reason: '随被替换的证照 … 一同暂扣' }
 * ```
 */
export function carriedStatus(
  fromId: string,
  status: 'revoked' | 'suspended',
  code: string | undefined,
  text: string | undefined,
): ChangeStatusInput {
  const preset = code && code !== 'other' && statusReason(status, code) ? code : undefined;
  const note = `随被替换的证照 ${fromId} 一同${status === 'revoked' ? '撤销' : '暂扣'}`;
  return preset
    ? { status, reasonCode: preset as ChangeStatusInput['reasonCode'], reason: note }
    : { status, reason: text ? `${text}（${note}）` : note };
}

/**
 * A status change refused because a re-issue of the licence is not finished: its replacement
 * (`replacedBy`) is written and the licence not yet revoked by it. Retrying the re-issue finishes it;
 * then the replacement's status is the one to change (docs/operating.md, "Re-issuing the licences of a withdrawn key").
 */
export class ReissuePendingError extends ConflictError {
  constructor(
    message: string,
    readonly replacedBy: string,
  ) {
    super(message, 'reissue_pending');
  }
}

/**
 * A clerk's revocation of the replacement of a given-up re-issue (`replacementRevocation`, recorded with
 * the mark) not made yet: the reconciler makes it shortly, whatever the old licence's status
 * ({@link revokeGivenUpReplacement}). Answered to a re-issue of the old licence (there is nothing to
 * choose: the old licence stays as it is), and to a revocation of the old licence, which is refused until
 * the replacement is revoked: made now, the reconciler would then revoke the replacement too and leave the
 * holder no licence (review R56-1). And to a re-issue of the replacement itself (`refused: 'reissue'`,
 * review R58): re-issued, it would be revoked `reissued` and its own replacement left valid beside the old
 * licence (the reconciler, finding it revoked, makes nothing). `replacementStatus` is the replacement's
 * status as read.
 */
export class ReplacementRevocationPendingError extends ConflictError {
  constructor(
    id: string,
    readonly replacedBy: string,
    readonly replacementStatus: string,
    refused?: 'revoke' | 'reissue',
  ) {
    super(
      `A clerk's revocation of ${replacedBy} (now ${replacementStatus}), the replacement of an unfinished re-issue of ${id}, is recorded and will be made shortly; ${id} is left as it is` +
        (refused === 'revoke'
          ? `: it cannot be revoked until ${replacedBy} is, or the holder would be left with no licence; retry once ${replacedBy} is revoked`
          : refused === 'reissue'
            ? `: ${replacedBy} is not re-issued, or its replacement would be left valid beside ${id}`
            : ''),
      'replacement_revocation_pending',
    );
  }
}

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
     * A suspension or revocation passed on from the licence this one replaces (`carriedStatus`): made as
     * part of that licence's change, it does not give up the re-issue (see {@link giveUpReissue}).
     */
    carried?: boolean;
    /**
     * The reconciler making a revocation a clerk's request recorded and did not make
     * ({@link revokeGivenUpReplacement}): refused, it stays recorded, to be made on a later run (R48).
     */
    fromRecord?: boolean;
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
  // A re-issue's revocation finds its re-issue given up since it looked (its replacement revoked: R40 F1).
  // This read is the one the write below is conditional on: a mark written after it makes the write fail.
  if (context.replacedBy && reissueGivenUp(current, context.replacedBy) && current.status !== 'revoked') {
    throw new ConflictError('The licence changed meanwhile; read it again and retry', 'licence_changed');
  }
  // A re-issue of this licence left unfinished (review R38 M1): its replacement is valid already, so a
  // suspension or revocation goes to the replacement first, then here (a failure between the two leaves
  // both revoked or suspended, or this one unchanged: retrying the change finishes it). The re-issue's
  // own revocation (`replacedBy`) is what finishes it, and passes nothing on.
  const pending = context.replacedBy ? undefined : unfinishedReissue(current);
  const final = current.status === 'revoked' && input.status !== 'revoked';
  if (pending && input.status !== 'valid' && !final) {
    const text = reasonText(input.status, input.reasonCode, input.reason);
    await passOn(current, pending, carriedStatus(id, input.status, input.reasonCode, text), context, deps);
  } else if (pending && current.status === 'suspended') {
    const replacement = await deps.licences.get(pending);
    // A claim whose licence was never written (or was revoked: the re-issue was given up) holds nothing back.
    if (replacement && replacement.status !== 'revoked') {
      throw new ReissuePendingError(
        `Licence ${id} is being re-issued as ${pending}, and its suspension was passed on to it: finish the re-issue (POST /licences/${id}/reissue again), then reinstate ${pending}`,
        pending,
      );
    }
  }
  // The replacement of a re-issue not finished, revoked by a clerk (a duplicate, review R38 L1): the re-issue
  // is given up first, on the licence it replaces, so that it cannot revoke that one any more (R40 F1).
  // The mark holds this revocation as asked, and keeps that licence's pointer until it is made: a process
  // gone before it is made leaves it to the reconciler (`revokeGivenUpReplacement`). A revocation refused
  // (a 409 `licence_changed`: the replacement changed meanwhile) is answered as refused, and so is not
  // made later by the reconciler in the clerk's name either (review R46-2): the mark gives it up. Only the
  // request that recorded it gives it up (review R48): a retry finding it recorded, or the reconciler making
  // it, refused, leaves it recorded (the clerk's request that recorded it was not refused: it died), and
  // the reconciler makes it on a later run. Neither the claim (missing where another completer held the
  // pointer) nor the request id (the reconciler's run carries the clerk's) tells that request apart.
  if (input.status === 'revoked' && current.status !== 'revoked')
    await refuseWhileRevocationOwed(current, deps);
  const givenUp =
    input.status === 'revoked' && current.status !== 'revoked' && !context.carried && !context.replacedBy
      ? await giveUpReissue(current, input, context, deps)
      : undefined;
  if (!givenUp) return applyChange(current, input, context, deps);
  let revoked: LicenceRecord;
  try {
    revoked = await applyChange(current, input, context, deps);
  } catch (error) {
    if (error instanceof ServiceError && error.expose && givenUp.recorded && !context.fromRecord)
      await dropReplacementRevocation(givenUp, deps);
    else if (givenUp.claim)
      await deps.pendingWork.release(givenUp.old.id, givenUp.claim).catch(() => undefined);
    throw error;
  }
  // The mark's own work (its audit entry), and its pointer gone now that the revocation is made. A failure
  // here is logged where it failed and left to the reconciler: the revocation asked for stands.
  await completeChange(givenUp.old, givenUp.claim, deps).catch(() => undefined);
  return revoked;
}

/**
 * Refuses the revocation of `licence` while a clerk's revocation of the replacement of its given-up
 * re-issue is recorded and not made (review R56-1): the reconciler makes that one whatever this licence's
 * status, so revoking this one too would leave the holder none. Refused, not made and the recorded one
 * dropped: the request that recorded it may still be running and revoke the replacement a moment later, and
 * a reconciler's run may have read it already. This read is the one the write is conditional on (the
 * licence's version): a revocation recorded after it makes the write fail, and the retry reads it.
 */
async function refuseWhileRevocationOwed(
  licence: LicenceRecord,
  deps: ChangeStatusDependencies,
): Promise<void> {
  const replacementId = licence.reissueGivenUp;
  if (!licence.replacementRevocation || !replacementId || licence.replacedBy !== replacementId) return;
  const replacement = await deps.licences.get(replacementId);
  if (!replacement || !replacementRevocationOwed(licence, replacement)) return;
  throw new ReplacementRevocationPendingError(licence.id, replacementId, replacement.status, 'revoke');
}

/**
 * Whether a clerk's revocation of `replacement`, recorded with the give-up mark on `replaced`
 * (`replacementRevocation`), is still to be made: the one condition behind `replacement_revocation_pending`,
 * whether the old licence is the one being revoked (above) or its replacement the one being re-issued
 * (reissue-licence.ts, review R58).
 */
export function replacementRevocationOwed(replaced: LicenceRecord, replacement: LicenceRecord): boolean {
  return (
    Boolean(replaced.replacementRevocation) &&
    replaced.replacedBy === replacement.id &&
    reissueGivenUp(replaced, replacement.id) &&
    replacement.status !== 'revoked' &&
    replacement.issuerId === replaced.issuerId
  );
}

/** The change itself, once what it passes on or gives up is done (see {@link changeLicenceStatus}). */
async function applyChange(
  current: LicenceRecord,
  input: ChangeStatusInput,
  context: Parameters<typeof changeLicenceStatus>[2],
  deps: ChangeStatusDependencies,
): Promise<LicenceRecord> {
  const id = current.id;
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

/**
 * Gives up the unfinished re-issue that wrote `replacement`, before that replacement is revoked (review R40
 * F1): marks the licence it replaces (`reissueGivenUp`) in one conditional write under that licence's
 * `version`. The re-issue revokes the old licence only under the version it read, and only when it finds
 * no such mark (`reissue-licence.ts`, `finishReissue`): of the two writes, one fails and reads again. The
 * mark written first, the re-issue ends in a 409 `replacement_revoked` and the old licence stays valid;
 * the re-issue's revocation first, the re-issue is finished and the replacement is revoked like any
 * licence. Nothing is written for a replacement whose re-issue is finished or overtaken (the old licence
 * revoked for another reason), nor for a licence that replaces none.
 *
 * The same write records the revocation asked (`replacementRevocation`) and, as pending work, the mark's
 * own audit entry (`licence.reissue_given_up`), after marking the old licence's pointer: a process gone
 * before the replacement's revocation leaves the pointer, and the reconciler revokes the replacement as
 * asked ({@link revokeGivenUpReplacement}); the pointer stays until the replacement is revoked
 * (`completePendingWork`). Answers the old licence and the claim on its pointer, for the caller to
 * complete once the replacement is revoked, and whether this call recorded the revocation (`recorded`);
 * a mark written already with its revocation (a retry, the reconciler) is answered as found.
 */
async function giveUpReissue(
  replacement: LicenceRecord,
  input: ChangeStatusInput,
  context: { issuerId: string; clientId: string; clerk?: string; requestId?: string },
  deps: ChangeStatusDependencies,
): Promise<{ old: LicenceRecord; claim: string | undefined; recorded: boolean } | undefined> {
  if (!replacement.replaces) return undefined;
  for (let turn = 0; ; turn++) {
    const old = await deps.licences.get(replacement.replaces);
    if (!old || old.issuerId !== context.issuerId || old.status === 'revoked') return undefined;
    if (old.replacedBy !== replacement.id) return undefined;
    // Marked by an earlier attempt of this revocation: its work is completed once the replacement is revoked.
    // An attempt refused since gave up what it asked (review R46-2): this one records its own again.
    const marked = reissueGivenUp(old, replacement.id);
    if (marked && old.replacementRevocation) return { old, claim: undefined, recorded: false };
    const at = new Date(deps.clock.now()).toISOString();
    const reason = reasonText('revoked', input.reasonCode, input.reason);
    const entry: AuditEntry = {
      at,
      ...actedBy(context),
      action: 'licence.reissue_given_up',
      licenceId: old.id,
      issuerId: old.issuerId,
      licenceType: old.type,
      holderMasked: old.holder.masked,
      requestId: context.requestId,
      reason,
      ...(input.reasonCode ? { reasonCode: input.reasonCode } : {}),
      replacedBy: replacement.id,
    };
    const revocation: ReplacementRevocation = {
      at,
      ...actedBy(context),
      ...(input.reasonCode ? { reasonCode: input.reasonCode } : {}),
      ...(input.reason ? { reason: input.reason } : {}),
      ...(context.requestId ? { requestId: context.requestId } : {}),
    };
    const claim = await deps.pendingWork.mark(old.id, new Date(at));
    try {
      const saved = await writeMarked(old.id, claim, deps, () =>
        deps.licences.save({
          ...old,
          reissueGivenUp: replacement.id,
          replacementRevocation: revocation,
          // The mark's entry once: a mark found (its revocation given up since) has had its own.
          ...(marked
            ? {}
            : {
                pending: {
                  ...old.pending,
                  since: old.pending?.since ?? at,
                  audit: [...(old.pending?.audit ?? []), ...pendingAudit(old.id, old.version + 1, [entry])],
                },
              }),
        }),
      );
      return { old: saved, claim, recorded: true };
    } catch (error) {
      // Changed meanwhile (the re-issue's revocation, or another change): read it again.
      const changed = error instanceof ConflictError && error.code === 'licence_changed';
      if (!changed || turn >= 3) throw error;
    }
  }
}

/**
 * The revocation of the replacement recorded with the mark (`replacementRevocation`, {@link giveUpReissue})
 * refused (review R46-2): the clerk is answered with the refusal (a 409 `licence_changed`: the replacement
 * changed meanwhile), so the reconciler must not make it a minute later in their name. Removed from the
 * licence the replacement replaces in a conditional write under its version (read again on a conflict),
 * the mark itself kept: the re-issue stays given up (retried, a 409 `replacement_revoked`), and the clerk,
 * having read the replacement again, revokes it or not. Then the mark's own work is completed (its audit
 * entry) and its pointer removed, nothing being owed any more. A failure here (a crash, the table
 * unavailable) leaves the revocation recorded, for the reconciler to make as a request gone would. Called
 * only by the request that recorded it (review R48: see {@link changeLicenceStatus}).
 */
async function dropReplacementRevocation(
  givenUp: { old: LicenceRecord; claim: string | undefined },
  deps: ChangeStatusDependencies,
): Promise<void> {
  try {
    for (let turn = 0; turn < 4; turn++) {
      const old = await deps.licences.get(givenUp.old.id);
      if (!old?.replacementRevocation) break;
      const { replacementRevocation: _dropped, ...kept } = old;
      let saved: LicenceRecord;
      try {
        saved = await deps.licences.save(kept);
      } catch (error) {
        if (error instanceof ConflictError && error.code === 'licence_changed') continue;
        throw error;
      }
      await completeChange(saved, givenUp.claim, deps);
      return;
    }
  } catch {
    // Left recorded: the reconciler makes it (see above).
  }
  if (givenUp.claim) await deps.pendingWork.release(givenUp.old.id, givenUp.claim).catch(() => undefined);
}

/**
 * The reconciler's part of a given-up re-issue (the R40 leftover): `licence` carries the mark and the
 * clerk's revocation of its replacement as asked (`replacementRevocation`), and the replacement is not
 * revoked yet (the clerk's request died between the mark and the revocation): revokes it as asked, in the
 * clerk's name, with their reason and request id (the entry is the reconciler's to write, its actor the
 * clerk's client). Nothing is done otherwise (no such mark, the replacement revoked already or gone).
 * Refused (a 409: the replacement changed meanwhile, say suspended by another clerk), the revocation stays
 * recorded and the error goes to the reconciler, which releases the pointer: a later run makes it (R48).
 *
 * @example
 * ```ts
 * await revokeGivenUpReplacement(old, deps); // reconciler, before the old licence's pending work
 * ```
 */
export async function revokeGivenUpReplacement(
  licence: LicenceRecord,
  deps: ChangeStatusDependencies,
): Promise<void> {
  const asked = licence.replacementRevocation;
  const replacementId = licence.reissueGivenUp;
  if (!asked || !replacementId || licence.replacedBy !== replacementId) return;
  const replacement = await deps.licences.get(replacementId);
  if (!replacement || replacement.status === 'revoked' || replacement.issuerId !== licence.issuerId) return;
  // The clerk's request as recorded, not parsed again: it passed the input's rules of its day, and a rule
  // added since (printable text, session 27: a tab, a zero-width space) must not make the revocation fail
  // on every reconciler run, never made (review R64-2).
  const input: ChangeStatusInput = {
    status: 'revoked',
    ...(asked.reasonCode ? { reasonCode: asked.reasonCode as StatusReasonCode } : {}),
    ...(asked.reason ? { reason: asked.reason } : {}),
  };
  await changeLicenceStatus(
    replacementId,
    input,
    {
      issuerId: licence.issuerId,
      clientId: asked.actor,
      ...(asked.clerk ? { clerk: asked.clerk } : {}),
      ...(asked.requestId ? { requestId: asked.requestId } : {}),
      fromRecord: true,
    },
    deps,
  );
}

/**
 * Passes a suspension or revocation of `from` on to the replacement its unfinished re-issue wrote
 * (`replacementId`), or, where that one was itself re-issued since (possible before R38 M1), to the
 * licence standing in for it now; that change passes it on again down an unfinished re-issue of its own.
 * A replacement not (yet) written has nothing to take: the re-issue, when it writes it, gives it the
 * status of the licence it replaces (`reissue-licence.ts`, `finishReissue`).
 */
async function passOn(
  from: LicenceRecord,
  replacementId: string,
  change: ChangeStatusInput,
  context: { issuerId: string; clientId: string; clerk?: string; requestId?: string },
  deps: ChangeStatusDependencies,
): Promise<void> {
  let target = await deps.licences.get(replacementId);
  for (let hops = 0; target && hops < 32; hops++) {
    const next = target.status === 'revoked' && target.replacedBy;
    if (!next || !revokedBy(target, next)) break;
    target = await deps.licences.get(next);
  }
  if (!target || target.issuerId !== from.issuerId) return;
  if (target.status === 'revoked' && change.status !== 'revoked') return;
  const { issuerId, clientId, clerk, requestId } = context;
  await changeLicenceStatus(
    target.id,
    change,
    { issuerId, clientId, carried: true, ...(clerk ? { clerk } : {}), ...(requestId ? { requestId } : {}) },
    deps,
  );
}
