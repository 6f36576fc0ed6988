/**
 * `POST /licences/{id}/reissue` (重新签发), the use case: a licence issued again under the issuer's
 * current key, in place of one that must go (its key was withdrawn after a compromise, or the QR code of
 * a lost licence must stop working), and the old one revoked with the reason `reissued`.
 *
 * @packageDocumentation
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../canonical-json.js';
import { ConflictError, ForbiddenError, InvalidInputError, NotFoundError } from '../errors.js';
import type { Issuer } from '../issuers/issuer.js';
import { holderDivision, inJurisdiction, jurisdictionOf } from '../issuers/jurisdiction.js';
import { findLicenceType } from './catalogue.js';
import {
  carriedStatus,
  changeLicenceStatus,
  ReissuePendingError,
  ReplacementRevocationPendingError,
  reissueGivenUp,
  replacementRevocationOwed,
  revokeGivenUpReplacement,
  revokedBy,
  unfinishedReissue,
  type ChangeStatusDependencies,
  type ChangeStatusInput,
} from './change-status.js';
import {
  assertCredentialFits,
  credentialStillVerifies,
  issueChecked,
  IssuerKeyWithdrawnError,
  type IssueLicenceDependencies,
} from './issue-licence.js';
import { effectiveStatus, type LicenceRecord } from './licence.js';

/** A re-issue refused because the licence was re-issued already: `replacedBy` is the licence in its place. */
export class LicenceReissuedError extends ConflictError {
  constructor(
    id: string,
    readonly replacedBy: string,
  ) {
    super(`Licence ${id} was already re-issued as ${replacedBy}`, 'licence_reissued');
  }
}

/**
 * A re-issue overtaken by a status change of the licence it replaces, made between its claim and its
 * revocation (a clerk revoked or suspended the old licence meanwhile): the replacement was given the same
 * status, so no valid licence comes out of it (docs/operating.md, "Re-issuing the licences of a withdrawn key"). `status` is the
 * status both now have; the code is stable (`licence_revoked_during_reissue` on every retry of a revoked
 * one, `licence_suspended_during_reissue` on the attempt that carried the suspension over).
 */
export class ReissueOvertakenError extends ConflictError {
  constructor(
    id: string,
    readonly replacedBy: string,
    readonly status: 'revoked' | 'suspended',
  ) {
    super(
      status === 'revoked'
        ? `Licence ${id} was revoked during its re-issue; its replacement ${replacedBy} is revoked with the same reason`
        : `Licence ${id} was suspended during its re-issue; its replacement ${replacedBy} is suspended in its place (reinstate that one when the suspension ends)`,
      status === 'revoked' ? 'licence_revoked_during_reissue' : 'licence_suspended_during_reissue',
    );
  }
}

/**
 * A re-issue whose replacement was revoked meanwhile (a clerk saw two valid licences after a failed
 * attempt, or during a slow one, and revoked the new one): the re-issue was given up, and the old licence
 * is left as it is (review R38 L1; on every turn of its last step too, review R40 F1). `replacedBy` names the revoked replacement. The re-issue cannot run again (its slot and
 * id are taken): to replace the licence, issue a new one (`POST /licences`) and revoke this one.
 */
export class ReplacementRevokedError extends ConflictError {
  constructor(
    id: string,
    readonly replacedBy: string,
  ) {
    super(
      `The replacement ${replacedBy} written by an earlier attempt to re-issue ${id} was revoked since; ${id} is left as it is`,
      'replacement_revoked',
    );
  }
}

/**
 * A re-issue given up by a clerk's revocation of its replacement (the mark, `reissueGivenUp`, review R40
 * F1) while that replacement is **not** revoked and no revocation of it is owed: the revocation was
 * refused after the mark (a 409: the replacement changed meanwhile, review R46-2), and so given up. Apart
 * from {@link ReplacementRevokedError}, whose words say the replacement was revoked, so that nobody is
 * told a licence was revoked that was not; and from {@link ReplacementRevocationPendingError}, when the
 * revocation is recorded and the reconciler will make it (review R56-1). The message states each licence's
 * status as read (the replacement may be suspended, not valid): the re-issue cannot run again (the mark
 * stands); revoke the replacement to keep this licence, or revoke this one (for another reason) to keep
 * the replacement.
 */
export class ReissueGivenUpError extends ConflictError {
  constructor(
    id: string,
    readonly replacedBy: string,
    status: { old: string; replacement: string | undefined },
  ) {
    super(
      `The re-issue of ${id} was given up by a clerk's revocation of its replacement ${replacedBy}, which was refused; ${id} is ${status.old}${status.replacement ? ` and ${replacedBy} is ${status.replacement}` : ''}: revoke ${replacedBy} to keep ${id}, or revoke ${id} to keep ${replacedBy}`,
      'reissue_given_up',
    );
  }
}

/**
 * The refusal of a re-issue whose replacement `replacement` was revoked or whose re-issue a clerk gave up
 * (`reissueGivenUp`), or undefined when neither: `replacement_revoked` when the replacement is revoked,
 * `replacement_revocation_pending` when a clerk's revocation of it is recorded and not made yet (the
 * reconciler makes it, whatever the old licence's status: review R56-1), `reissue_given_up` when only the
 * mark stands (its revocation refused).
 */
function givenUpRefusal(
  old: LicenceRecord,
  replacementId: string,
  replacement: LicenceRecord | undefined,
): ConflictError | undefined {
  if (replacement?.status === 'revoked') return new ReplacementRevokedError(old.id, replacementId);
  if (!reissueGivenUp(old, replacementId)) return undefined;
  if (old.replacementRevocation && replacement)
    return new ReplacementRevocationPendingError(old.id, replacementId, replacement.status);
  return new ReissueGivenUpError(old.id, replacementId, {
    old: old.status,
    replacement: replacement?.status,
  });
}

export interface ReissueContext {
  issuerId: string;
  clientId: string;
  /** The clerk who re-issues through the issuer console (`issuer-actor.ts`). */
  clerk?: string;
  requestId?: string;
}

/**
 * The idempotency key of the re-issue of one licence, the same on every attempt: a retry of a re-issue
 * that died after writing the new licence finds it under this key (while the issuance record lasts,
 * 24 hours) instead of issuing another. `reissue:` and a UUID (version 8) made from the old licence's
 * id: the prefix keeps it out of the clients' keys (an `Idempotency-Key` must be a bare UUID), so no
 * client of the issuer can take it first and block the re-issue (as `batch:` does for batch items).
 *
 * @example
 * ```ts
 * reissueIdempotencyKey('1.2.156.3005.2.003.…'); // 'reissue:5d1c…-…-8…': always the same for that id
 * ```
 */
export function reissueIdempotencyKey(licenceId: string): string {
  const bytes = createHash('sha256').update(`licence-reissue/v1:${licenceId}`).digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x80;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `reissue:${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * Re-issues a licence of the caller's issuer: a new licence with the same type, holder, fields and
 * validity, signed by the issuer's current key, and the old one revoked (`reissued`), each naming the
 * other (`replaces`, `replacedBy`, in the records, their histories and the audit trail).
 *
 * Any licence that is valid now may be re-issued, whatever key signed it: a withdrawn key is the case
 * this exists for, and the same step replaces a licence whose QR code must stop working (补发). A
 * suspended licence is refused (its replacement would be valid: the suspension would end by the back
 * door; reinstate it first, or re-issue and suspend the new one), as are expired (nothing to replace) and
 * revoked ones. A correction is not a re-issue: it changes fields, so it is a new `POST /licences` and a
 * revocation `information-error`.
 *
 * The holder is taken from the old record as stored (kind, name, masked number, lookup key): the raw
 * number is neither needed nor kept. The fields are the stored ones (sensitive ones already masked).
 *
 * Safe to retry at any point, with no transaction (single-item conditional writes only):
 *
 * 1. the old licence is read; a licence of another issuer is not found (404), as on every
 *    `/licences/{id}` route; a revoked one is a 409 (`licence_reissued` naming its replacement, else
 *    `licence_revoked`);
 * 2. the issuance runs under an idempotency key derived from the old licence's id
 *    ({@link reissueIdempotencyKey}), so every attempt reuses the same slot, id and credential;
 * 3. before the new licence is written, its id is claimed on the old record (`replacedBy`, one
 *    conditional write under its `version`): a claim naming another licence that exists means another
 *    re-issue won (409 `licence_reissued`); one naming a licence never written (an attempt died before
 *    writing it, and its issuance record has since expired) is taken over;
 * 4. the new licence is written (`issueChecked`, steps 2 to 5 of the issuance);
 * 5. the old licence is revoked with the reason `reissued`, its history entry naming the new licence,
 *    and its status list entry set (`changeLicenceStatus`).
 *
 * A retry after a failure between 4 and 5 finds the claim and its licence, and only revokes; nobody
 * retrying, the reconciler does, about a minute later ({@link finishUnfinishedReissue}: step 3 marks the
 * old licence's pending-work pointer, which stays until the old licence is revoked). If the licence an
 * earlier attempt wrote was revoked since (a clerk's duplicate), the re-issue is given up: a retry is a
 * 409 `replacement_revoked` and the old licence is left valid (review R38 L1). So is an attempt during
 * which a clerk revokes the replacement, whenever it happens before step 5's write (review R40 F1): the
 * clerk's revocation first marks the old licence (`reissueGivenUp`, under its version), every turn of
 * step 5 looks for that mark and for a revoked replacement before writing, and step 5's write is
 * conditional on the version it read without the mark. A licence written by a
 * re-issue not yet finished is not re-issued in turn (409 `reissue_pending`).
 *
 * The old licence's status may change between 3 and 5 (a clerk revokes or suspends it for another
 * reason). No valid licence comes out of that: the replacement takes the same status (passed on by the
 * status change itself once the replacement is written: `changeLicenceStatus`, review R38 M1). Revoked: the
 * replacement is revoked with the same reason and the re-issue ends in a 409
 * `licence_revoked_during_reissue`, on every retry too. Suspended: the replacement is suspended with the
 * same reason, then the old one is revoked (`reissued`) as usual, and the answer is a 409
 * `licence_suspended_during_reissue` (a later retry finds the re-issue done: `licence_reissued`). Both
 * refusals name the replacement (`replacedBy`).
 *
 * @example
 * ```ts
 * const { licence, replaced } = await reissueLicence(id, { issuerId, clientId, requestId }, deps);
 * ```
 */
export async function reissueLicence(
  id: string,
  context: ReissueContext,
  deps: IssueLicenceDependencies & ChangeStatusDependencies,
): Promise<{ licence: LicenceRecord; replaced: LicenceRecord; issuer: Issuer; created: boolean }> {
  const old = await deps.licences.get(id);
  if (!old || old.issuerId !== context.issuerId) {
    throw new NotFoundError(`No licence ${id} of this issuer`, 'licence_not_found');
  }
  const claimed = old.replacedBy ? await deps.licences.get(old.replacedBy) : undefined;
  if (old.status === 'revoked') {
    if (claimed && revokedBy(old, claimed.id)) throw new LicenceReissuedError(id, claimed.id);
    // Revoked for another reason after the claim: the replacement must not stay valid. Unless a clerk gave
    // the re-issue up first (the mark): a given-up re-issue passes nothing on, as a status change does not
    // (`unfinishedReissue`), so that revoking this licence keeps a replacement left valid (R46-2's leftover).
    if (claimed && !reissueGivenUp(old, claimed.id)) await finishReissue(old.id, claimed, context, deps);
    throw new ConflictError('A revoked licence cannot be re-issued', 'licence_revoked');
  }
  const issuer = await deps.issuers.findById(context.issuerId);
  if (!issuer || issuer.status !== 'active' || !issuer.keyId) {
    throw new ForbiddenError('This client’s issuer is not active and may not issue', 'issuer_inactive');
  }
  // Revoked since an earlier attempt wrote it (a clerk's duplicate): given up, the old one untouched (R38 L1).
  // Given up by a clerk whose revocation of it was refused or is not made yet: both valid (R46-2's leftover).
  const givenUp = claimed && givenUpRefusal(old, claimed.id, claimed);
  if (givenUp) throw givenUp;
  let licence = claimed;
  let created = false;
  let refused: IssuerKeyWithdrawnError | undefined;
  if (!licence) {
    refuseUnlessValid(old, new Date(deps.clock.now()));
    await refuseWhileReplacing(old, deps);
    ({ licence, created } = await issueReplacement(
      old,
      { ...issuer, keyId: issuer.keyId },
      context,
      deps,
    ).catch(async (error: unknown) => {
      // Written, but its key withdrawn meanwhile (review R61 F2): the re-issue is finished as the
      // reconciler would finish it (the old licence revoked `reissued`), and then refused below.
      const written = error instanceof IssuerKeyWithdrawnError && (await deps.licences.get(error.licenceId));
      if (!written) throw error;
      refused = error as IssuerKeyWithdrawnError;
      return { licence: written, created: true };
    }));
  }
  const finished = await finishReissue(old.id, licence, context, deps);
  // Answered only with a credential the trust list publishes: a replacement whose key was withdrawn while
  // it was issued (`issueChecked`'s check after its write), or since an earlier attempt wrote it (the
  // issuer as read above), is listed for re-issue in turn, and the answer is a 409.
  if (refused) throw refused;
  if (!credentialStillVerifies(finished.replacement, issuer)) {
    throw new IssuerKeyWithdrawnError(finished.replacement.id);
  }
  // The replacement as read after the old licence's revocation, not as the attempt first found it.
  return { licence: finished.replacement, replaced: finished.replaced, issuer, created };
}

/**
 * A licence written by a re-issue that is not finished (the licence it replaces not yet revoked by it) is
 * not re-issued in turn (review R38 M1): a status change of the licence it replaces would otherwise have
 * to reach a grandchild. Retrying the first re-issue finishes it; then this one may be re-issued.
 */
async function refuseWhileReplacing(licence: LicenceRecord, deps: ChangeStatusDependencies): Promise<void> {
  if (!licence.replaces) return;
  const replaced = await deps.licences.get(licence.replaces);
  if (!replaced || replaced.issuerId !== licence.issuerId) return;
  const owed = revocationOwed(replaced, licence);
  if (owed) throw owed;
  if (unfinishedReissue(replaced) !== licence.id) return;
  throw new ReissuePendingError(
    `Licence ${licence.id} is the replacement of ${replaced.id}, whose re-issue is not finished: retry POST /licences/${replaced.id}/reissue first`,
    licence.id,
  );
}

/**
 * The refusal of a re-issue of `licence`, the replacement of `replaced`'s re-issue, while a clerk's
 * revocation of `licence` is recorded on `replaced` with the give-up mark and not made (review R58): the
 * reconciler makes it only while `licence` is not revoked (`revokeGivenUpReplacement`), so a re-issue
 * revoking it `reissued` first would leave its own replacement valid beside `replaced`, which stays valid.
 * A suspension or reinstatement of `licence` meanwhile is no such case: the reconciler revokes it from
 * either status. Undefined when nothing is owed.
 */
function revocationOwed(
  replaced: LicenceRecord,
  licence: LicenceRecord,
): ReplacementRevocationPendingError | undefined {
  if (!replacementRevocationOwed(replaced, licence)) return undefined;
  return new ReplacementRevocationPendingError(replaced.id, licence.id, licence.status, 'reissue');
}

/** {@link revocationOwed} for `licence` as read, reading the licence it replaces (if any). */
async function refuseWhileRevocationOwed(
  licence: LicenceRecord,
  deps: ChangeStatusDependencies,
): Promise<void> {
  if (!licence.replaces || licence.status === 'revoked') return;
  const replaced = await deps.licences.get(licence.replaces);
  const owed = replaced && revocationOwed(replaced, licence);
  if (owed) throw owed;
}

/**
 * Step 5: revokes the old licence (`reissued`) unless its status changed since the claim, in which case
 * the replacement takes that status (see {@link reissueLicence}), or the replacement was revoked (the
 * re-issue given up: `ReplacementRevokedError`, nothing written). Each revocation is made only from the
 * status read (`from`) and under the version read, so a suspension or revocation between that read and
 * the write is seen on the next turn instead of being overwritten; so is a clerk's revocation of the
 * replacement, which marks the old licence first (`reissueGivenUp`, review R40 F1). Answers the old
 * licence as revoked and the replacement as read on the last turn.
 */
async function finishReissue(
  oldId: string,
  replacement: LicenceRecord,
  context: ReissueContext,
  deps: ChangeStatusDependencies,
): Promise<{ replaced: LicenceRecord; replacement: LicenceRecord }> {
  for (let turn = 0; ; turn++) {
    const old = await deps.licences.get(oldId);
    if (!old) throw new NotFoundError(`No licence ${oldId} of this issuer`, 'licence_not_found');
    const current = await deps.licences.get(replacement.id);
    if (old.status === 'revoked' && !revokedBy(old, replacement.id)) {
      // Given up by a clerk before it was revoked: nothing passed on (see `reissueLicence`).
      if (reissueGivenUp(old, replacement.id))
        throw new ConflictError('A revoked licence cannot be re-issued', 'licence_revoked');
      if (current && current.status !== 'revoked') {
        await changeLicenceStatus(
          replacement.id,
          carried(old, 'revoked'),
          { ...context, carried: true },
          deps,
        );
      }
      throw new ReissueOvertakenError(old.id, replacement.id, 'revoked');
    }
    // Revoked by a clerk since (a duplicate): given up, on every turn, before anything is written (R40 F1).
    const givenUp = revokedBy(old, replacement.id) ? undefined : givenUpRefusal(old, replacement.id, current);
    if (givenUp) throw givenUp;
    // The old licence is itself a replacement whose revocation a clerk asked and the reconciler owes (R58):
    // revoked here, the reconciler would make nothing, and this replacement would stay valid beside the
    // licence that one replaced. On every turn: the retry of an attempt that wrote this replacement (the
    // `claimed` path), an attempt that read before the revocation was recorded, and the reconciler's run.
    // Left unrevoked, the old licence's re-issue is unfinished, so the owed revocation passes on to this
    // replacement (`changeLicenceStatus`).
    if (old.status !== 'revoked') await refuseWhileRevocationOwed(old, deps);
    if (old.status === 'suspended' && current && current.status === 'valid') {
      await changeLicenceStatus(replacement.id, carried(old, 'suspended'), context, deps);
    }
    try {
      const replaced = await changeLicenceStatus(
        old.id,
        { status: 'revoked', reasonCode: 'reissued', reason: `重新签发为 ${replacement.id}` },
        { ...context, replacedBy: replacement.id, from: old.status },
        deps,
      );
      // Revoked by someone else between the read and the write: the revocation found is theirs.
      if (!revokedBy(replaced, replacement.id)) continue;
      if (old.status === 'suspended') throw new ReissueOvertakenError(old.id, replacement.id, 'suspended');
      return { replaced, replacement: current ?? replacement };
    } catch (error) {
      // Changed between the read and the write: read again (a few turns; contention this long is a 409).
      const changed =
        error instanceof ConflictError && ['licence_changed', 'licence_revoked'].includes(error.code);
      if (!changed || turn >= 3) throw error;
    }
  }
}

/** The actor the reconciler's revocations name (`finishUnfinishedReissue`): no client asked for them. */
export const reconcilerActor = 'pending-work-reconciler';

/**
 * The reconciler's part of a re-issue (review R38 M1): finishes one that an attempt left unfinished (its
 * replacement written, the old licence `id` not revoked by it; the attempt died, or timed out, or gave up
 * after contention), as a retry would: the replacement takes a suspension or revocation of the old licence,
 * and the old one, unless revoked for another reason, is revoked `reissued`. Nothing is done when the
 * replacement was never written (the attempt died before: a retry writes it and marks the pointer again) or
 * was revoked since (given up: `ReplacementRevokedError`), or when there is nothing unfinished. A re-issue
 * given up by a clerk whose request died after the mark and before revoking the replacement has that
 * revocation made, as asked (`revokeGivenUpReplacement`).
 *
 * @example
 * ```ts
 * await finishUnfinishedReissue(pointer.id, deps); // before the pointer's pending work is completed
 * ```
 */
export async function finishUnfinishedReissue(id: string, deps: ChangeStatusDependencies): Promise<void> {
  const old = await deps.licences.get(id);
  // Given up by a clerk whose revocation of the replacement did not follow the mark (the R40 leftover):
  // the replacement is revoked as they asked, whatever the old licence's status.
  if (old?.replacementRevocation) await revokeGivenUpReplacement(old, deps);
  const replacementId = old && old.status !== 'revoked' ? unfinishedReissue(old) : undefined;
  if (!old || !replacementId) return;
  const replacement = await deps.licences.get(replacementId);
  if (!replacement || replacement.status === 'revoked' || replacement.issuerId !== old.issuerId) return;
  try {
    await finishReissue(old.id, replacement, { issuerId: old.issuerId, clientId: reconcilerActor }, deps);
  } catch (error) {
    // Overtaken by a status change (the replacement took it), or given up (the replacement revoked since
    // it was read, R40 F1): either is the end of this re-issue. `ReplacementRevocationPendingError` is
    // reachable: a clerk's revocation of the replacement marking the old licence after the read above (the
    // next turn of `finishReissue` reads the mark, the revocation not yet made), or the old licence being a
    // replacement whose own revocation is owed (R58), which the pointer of the licence it replaces makes.
    const ended =
      error instanceof ReissueOvertakenError ||
      error instanceof ReplacementRevokedError ||
      error instanceof ReissueGivenUpError ||
      error instanceof ReplacementRevocationPendingError;
    if (!ended) throw error;
  }
}

/** The old licence's status and reason, for its replacement: the same preset code, a note naming it. */
function carried(old: LicenceRecord, status: 'revoked' | 'suspended'): ChangeStatusInput {
  const event = old.history.findLast((entry) => entry.action === status);
  return carriedStatus(old.id, status, event?.reasonCode, old.statusReason);
}

function refuseUnlessValid(old: LicenceRecord, now: Date): void {
  const status = effectiveStatus(old, now);
  if (status === 'suspended') {
    throw new ConflictError(
      'A suspended licence is not re-issued (its replacement would be valid): reinstate it first',
      'licence_suspended',
    );
  }
  if (status === 'expired') {
    throw new ConflictError('An expired licence has nothing to re-issue', 'licence_expired');
  }
}

async function issueReplacement(
  old: LicenceRecord,
  issuer: Issuer & { keyId: string },
  context: ReissueContext,
  deps: IssueLicenceDependencies & ChangeStatusDependencies,
): Promise<{ licence: LicenceRecord; created: boolean }> {
  const type = findLicenceType(old.type);
  if (!type || !issuer.licenceTypes.includes(type.code)) {
    throw new ForbiddenError(`This issuer may no longer issue ${old.type}`, 'licence_type_not_allowed');
  }
  // The rules of issuance hold for a re-issue too: the masked number keeps the division (its first six
  // digits; a credit code is stored whole).
  const division =
    old.holder.kind === 'person'
      ? holderDivision({ idNumber: old.holder.masked })
      : holderDivision({ creditCode: old.holder.masked });
  if (type.regional && !inJurisdiction(issuer, division)) {
    throw new ForbiddenError(
      `A ${type.code} is issued only to holders in the issuer’s jurisdiction (${jurisdictionOf(issuer).join(', ')}); this holder is in ${division}`,
      'outside_jurisdiction',
    );
  }
  // Today's issuance rules hold: a stored licence too large for a QR code (issued before the check, or
  // under a longer id) is not issued again. A 409, not a 400: there is no body to correct, only the
  // stored licence (issue a corrected one and revoke this one as information-error).
  try {
    assertCredentialFits(
      {
        type,
        issuer,
        holder: old.holder,
        fields: old.fields,
        named: { holderName: old.holder.name, ...prefixedFields(old.fields) },
        dates: { validFrom: old.validFrom, validUntil: old.validUntil },
      },
      new Date(deps.clock.now()),
      deps.issuerUrl,
    );
  } catch (error) {
    if (!(error instanceof InvalidInputError) || error.code !== 'credential_too_large') throw error;
    throw new ConflictError(
      `The stored licence is too large for a QR code: ${error.message}`,
      'credential_too_large',
    );
  }
  const requestHash = await deps.fingerprint(
    canonicalJson({
      reissues: old.id,
      type: old.type,
      holder: old.holder,
      fields: old.fields,
      validFrom: old.validFrom,
      validUntil: old.validUntil ?? null,
    }),
  );
  const claim = async (newId: string): Promise<void> => {
    const current = await deps.licences.get(old.id);
    if (!current) throw new NotFoundError(`No licence ${old.id} of this issuer`, 'licence_not_found');
    // The old licence's pointer, marked before the claim and the new licence's write (review R38 M1): an
    // attempt that dies before revoking the old one leaves it for the reconciler, which finishes the
    // re-issue (`finishUnfinishedReissue`). Released at once, not removed: it stays until the old licence
    // is revoked (`completePendingWork` keeps it while its `replacedBy` is not).
    const held = await deps.pendingWork.mark(old.id, new Date(deps.clock.now()));
    try {
      if (current.replacedBy === newId) return;
      if (current.replacedBy && (await deps.licences.get(current.replacedBy))) {
        throw new LicenceReissuedError(old.id, current.replacedBy);
      }
      if (current.status !== 'valid') {
        throw new ConflictError('The licence changed meanwhile; read it again and retry', 'licence_changed');
      }
      // Under the record's version: of two claims at once, one fails (409 licence_changed) and retries.
      await deps.licences.save({ ...current, replacedBy: newId });
    } finally {
      if (held) await deps.pendingWork.release(old.id, held).catch(() => undefined);
    }
  };
  return issueChecked(
    {
      issuer,
      type,
      requestHash,
      holder: async () => old.holder,
      fields: () => old.fields,
      // Verbatim: a licence without an end date stays without one, whatever the type's default now. An
      // end stored before review R60 at 23:59:59 Beijing time is stored as 00:00 the next day: the same
      // last day, now valid to its end.
      validity: { validFrom: old.validFrom, validUntil: old.validUntil ?? null },
      replaces: old.id,
      beforeWrite: claim,
      auditReason: `重新签发，替换 ${old.id}`,
    },
    { ...context, idempotencyKey: reissueIdempotencyKey(old.id) },
    deps,
  );
}

function prefixedFields(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).map(([name, value]) => [`fields.${name}`, value]));
}
