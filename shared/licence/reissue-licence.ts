/**
 * `POST /licences/{id}/reissue` (重新签发), the use case: a licence issued again under the issuer's
 * current key, in place of one that must go (its key was withdrawn after a compromise, or the QR code of
 * a lost licence must stop working), and the old one revoked with the reason `reissued`.
 *
 * @packageDocumentation
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../canonical-json.js';
import { ConflictError, ForbiddenError, NotFoundError } from '../errors.js';
import type { Issuer } from '../issuers/issuer.js';
import { holderDivision, inJurisdiction, jurisdictionOf } from '../issuers/jurisdiction.js';
import { findLicenceType } from './catalogue.js';
import { changeLicenceStatus, type ChangeStatusDependencies } from './change-status.js';
import { issueChecked, type IssueLicenceDependencies } from './issue-licence.js';
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

export interface ReissueContext {
  issuerId: string;
  clientId: string;
  requestId?: string;
}

/**
 * The idempotency key of the re-issue of one licence, the same on every attempt: a retry of a re-issue
 * that died after writing the new licence finds it under this key (while the issuance record lasts,
 * 24 hours) instead of issuing another. A UUID (version 8) made from the old licence's id.
 *
 * @example
 * ```ts
 * reissueIdempotencyKey('1.2.156.3005.2.003.…'); // '5d1c…-…-8…': always the same for that id
 * ```
 */
export function reissueIdempotencyKey(licenceId: string): string {
  const bytes = createHash('sha256').update(`licence-reissue/v1:${licenceId}`).digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x80;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
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
 * A retry after a failure between 4 and 5 finds the claim and its licence, and only revokes.
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
    if (claimed) throw new LicenceReissuedError(id, claimed.id);
    throw new ConflictError('A revoked licence cannot be re-issued', 'licence_revoked');
  }
  const issuer = await deps.issuers.findById(context.issuerId);
  if (!issuer || issuer.status !== 'active' || !issuer.keyId) {
    throw new ForbiddenError('This client’s issuer is not active and may not issue', 'issuer_inactive');
  }
  let licence = claimed;
  let created = false;
  if (!licence) {
    refuseUnlessValid(old, new Date(deps.clock.now()));
    ({ licence, created } = await issueReplacement(old, { ...issuer, keyId: issuer.keyId }, context, deps));
  }
  const replaced = await changeLicenceStatus(
    old.id,
    { status: 'revoked', reasonCode: 'reissued', reason: `重新签发为 ${licence.id}` },
    { ...context, replacedBy: licence.id },
    deps,
  );
  return { licence, replaced, issuer, created };
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
    if (current.replacedBy === newId) return;
    if (current.replacedBy && (await deps.licences.get(current.replacedBy))) {
      throw new LicenceReissuedError(old.id, current.replacedBy);
    }
    if (current.status !== 'valid') {
      throw new ConflictError('The licence changed meanwhile; read it again and retry', 'licence_changed');
    }
    // Under the record's version: of two claims at once, one fails (409 licence_changed) and retries.
    await deps.licences.save({ ...current, replacedBy: newId });
  };
  return issueChecked(
    {
      issuer,
      type,
      requestHash,
      holder: async () => old.holder,
      fields: () => old.fields,
      validity: { validFrom: old.validFrom, ...(old.validUntil ? { validUntil: old.validUntil } : {}) },
      replaces: old.id,
      beforeWrite: claim,
      auditReason: `重新签发，替换 ${old.id}`,
    },
    { ...context, idempotencyKey: reissueIdempotencyKey(old.id) },
    deps,
  );
}
