import * as z from 'zod';
import { licenceCredentialType } from '../../packages/verifier/src/claims.js';
import { canonicalJson } from '../canonical-json.js';
import type { Clock } from '../clock.js';
import { lowSCompactJws, signCompactJws } from '../crypto/compact-jws.js';
import type { Mac } from '../crypto/mac.js';
import type { Signer } from '../crypto/signer.js';
import { ConflictError, fieldErrorAt, ForbiddenError, InvalidInputError } from '../errors.js';
import { parseCreditCode, type CreditCode } from '../identifiers/credit-code.js';
import { maskIdNumber, parseIdNumber, type IdNumber } from '../identifiers/id-number.js';
import { entityLookupKey, personLookupKey } from '../identifiers/lookup-key.js';
import { nameProblem } from '../identifiers/personal-data-in-text.js';
import type { Issuer } from '../issuers/issuer.js';
import type { IssuerStore } from '../issuers/issuer-store.js';
import { holderDivision, inJurisdiction, jurisdictionOf } from '../issuers/jurisdiction.js';
import type { AuditEntry, AuditTrail } from '../audit/audit-trail.js';
import { logger } from '../logger.js';
import {
  findLicenceType,
  licenceText,
  licenceTypes,
  protectSensitiveFields,
  publicFields,
  validateFields,
  type LicenceType,
} from './catalogue.js';
import {
  IdempotencyLockLostError,
  type IdempotencyRecord,
  type IdempotencyStore,
} from './idempotency-store.js';
import { credentialKeyPublished, credentialKid, issuerPublishedKeys } from '../issuers/credential-key.js';
import type { Holder, LicenceRecord } from './licence.js';
import { formatLicenceId } from '../identifiers/licence-id.js';
import type { LicenceStore } from './licence-store.js';
import { maxCredentialQrVersion, QrCapacityError, qrVersion } from './qr.js';
import { allocationFor, LIST_SIZE, type StatusListStore } from './status-list-store.js';
import { actedBy } from './issuer-actor.js';
import {
  completeChange,
  finishPendingWork,
  pendingAudit,
  writeMarked,
  withoutPending,
} from './pending-work.js';
import { pendingWorkLogLines, type PendingWorkIndex } from '../pending-work/pending-work.js';
import { defaultValidUntil, latestValidUntil, validUntilOf } from '../validity-dates.js';

/**
 * An RFC 3339 instant with its offset, stored in UTC (`toISOString`), between 0000-01-01T00:00:00Z and
 * `latest` (an ISO instant, as said in the refusal's `params.maximum`). Bounded so that it keeps a
 * four-digit year in UTC: `9999-12-31T23:00:00-08:00` is 10000-01-01 in UTC, which `toISOString` writes
 * `+010000-…` (no `YYYY-MM-DD` reader reads it, and as text it sorts before every other date), review R64-1.
 */
function timestamp(latest: string) {
  // Each bound passes text that is no instant (NaN): that is the format's refusal, said once.
  const [earliestMs, latestMs] = [Date.parse('0000-01-01T00:00:00Z'), Date.parse(latest)];
  return z.iso
    .datetime({ offset: true })
    .refine((value) => !(Date.parse(value) < earliestMs), {
      message: 'must be on or after 0000-01-01T00:00:00Z',
      params: { code: 'too_small', fieldParams: { minimum: '0000-01-01T00:00:00Z' } },
      abort: true,
    })
    .refine((value) => !(Date.parse(value) > latestMs), {
      message: `must be no later than ${latest}`,
      params: { code: 'too_big', fieldParams: { maximum: latest } },
      abort: true,
    })
    .transform((value) => new Date(value).toISOString());
}

export const issueLicenceInput = z
  .strictObject({
    type: z.string().min(1).max(64),
    holder: z.union([
      z.strictObject({ idNumber: z.string().max(32) }),
      z.strictObject({ creditCode: z.string().max(32) }),
    ]),
    // No ID number or phone (review R72-1); a person's name no six digits in a row either, below.
    holderName: licenceText(100),
    fields: z.record(z.string(), z.unknown()),
    // A start on a day a four-digit year prints in Beijing time, the day the licence shows it starts.
    validFrom: timestamp('9999-12-31T23:59:59.999+08:00').optional(),
    // `9999-12-31T23:59:59Z` is taken (a "no expiry" stand-in): stored as the end of 9999-12-31 in Beijing.
    validUntil: timestamp('9999-12-31T23:59:59.999Z').optional().meta({
      description:
        'The exclusive end: stored as the end of the Beijing day it falls in (to end on day E, send E+1 at 00:00:00+08:00); absent: the type’s default in calendar years (docs/api.md, Validity)',
    }),
  })
  .superRefine((input, context) => {
    // A person's name holds no six digits in a row (review R72-1); an entity's registered name may
    // (`杭州123456网络科技有限公司`, review R74-2), so only the ID number and phone check applies to it.
    if (!('idNumber' in input.holder)) return;
    const problem = nameProblem(input.holderName);
    if (problem?.code === 'digits_in_name') {
      context.addIssue({
        code: 'custom',
        path: ['holderName'],
        message: problem.message,
        params: { code: problem.code },
      });
    }
  });
export type IssueLicenceInput = z.output<typeof issueLicenceInput>;

/** RFC 9562 UUIDs, the form API.md asks for; any other key is a 400. */
export const idempotencyKey = z.uuid();

export interface IssueLicenceDependencies {
  issuers: IssuerStore;
  licences: LicenceStore;
  idempotency: IdempotencyStore;
  statusLists: StatusListStore;
  signerFor(keyId: string): Signer;
  /**
   * The signer of a credential of `issuer` issued at `issuedAt`, when it is not the issuer's own key:
   * bulk issuance passes its certified batch key here (`batch-signer.ts`). Absent: `signerFor(issuer.keyId)`.
   */
  credentialSigner?(issuer: Issuer & { keyId: string }, issuedAt: Date): Promise<Signer>;
  lookupMac: Mac;
  /** Keyed fingerprint of a request body (see `keyedFingerprint`). */
  fingerprint(text: string): Promise<string>;
  audit: AuditTrail;
  /** Pointers to licences whose audit entry is still to write (shared/pending-work/pending-work.ts). */
  pendingWork: PendingWorkIndex;
  clock: Clock;
  /** Base of the status list URIs written into credentials. */
  issuerUrl: string;
}

export interface IssueContext {
  issuerId: string;
  clientId: string;
  /** The clerk who issues through the issuer console (`issuer-actor.ts`), named beside the client. */
  clerk?: string;
  idempotencyKey: string;
  /**
   * Keep the key's record at least until then (epoch seconds), not only the day a request's key is kept:
   * a batch item's job may be delivered again for weeks (shared/licence/batches.ts).
   */
  retainIdempotencyUntil?: number;
  requestId?: string;
}

/**
 * Issues a licence (签发电子证照) once per `Idempotency-Key`:
 *
 * 1. the issuer must be active and allowed the type; holder kind, number and fields must fit the type; a
 *    regional type goes only to holders in the issuer's jurisdiction (`issuers/jurisdiction.ts`);
 * 2. the key is taken (one conditional write); the same key with another body is a 409, and while
 *    another request holds it, a retryable 409;
 * 3. a status-list slot is reserved with a single atomic counter and recorded under the key with the
 *    issuance time, so a retry after any later failure reuses both: no duplicates, and the same claims;
 * 4. the credential is signed by the issuer's own KMS key and recorded under the key before the licence
 *    is written, so a retry writes that credential rather than signing another: one licence id never
 *    has two credentials (a signature made by an attempt that died before recording it was never
 *    stored or answered, so nobody holds it); it names the holder by kind, name and masked number only
 *    (no lookup key: nothing links one person's licences);
 * 5. the licence is written in one conditional write, with its first history entry and its `licence.issued`
 *    audit entry as pending work (a pointer to it written just before); its id follows from the slot and
 *    its index keys from the pinned time, so a retry finds or overwrites exactly what an earlier attempt
 *    wrote;
 * 6. the audit entry is written and the pending work cleared (shared/licence/pending-work.ts). A failure
 *    there leaves the licence issued and the entry pending: a retry under the same key, or the reconciler
 *    a minute later, writes it, once.
 *
 * A serial can be skipped (a gap in the status list), never reused: only when an attempt dies between
 * the counter's increment and recording it (or the increment is repeated by a retry of its own call).
 * No credential names that slot, so it stays `valid` and unread; see docs/getting-started.md.
 *
 * @example
 * ```ts
 * const { licence, created } = await issueLicence(input, { issuerId, clientId, idempotencyKey }, deps);
 * ```
 */
export async function issueLicence(
  input: IssueLicenceInput,
  context: IssueContext,
  deps: IssueLicenceDependencies,
): Promise<{ licence: LicenceRecord; issuer: Issuer; created: boolean }> {
  const issuer = await deps.issuers.findById(context.issuerId);
  if (!issuer || issuer.status !== 'active' || !issuer.keyId) {
    throw new ForbiddenError('This client’s issuer is not active and may not issue', 'issuer_inactive');
  }
  const type = findLicenceType(input.type);
  if (!type) {
    // The type is not echoed: it is the caller's text (review R72-2); the catalogue's codes are.
    throw new InvalidInputError(
      `Unknown licence type: the catalogue's types are ${licenceTypes.map((known) => known.code).join(', ')} (GET /licence-types)`,
      'unknown_licence_type',
      {
        errors: [
          {
            path: 'type',
            message: 'not in the catalogue (GET /licence-types)',
            code: 'unknown_licence_type',
          },
        ],
      },
    );
  }
  if (!issuer.licenceTypes.includes(type.code)) {
    throw new ForbiddenError(`This issuer may not issue ${type.code}`, 'licence_type_not_allowed');
  }
  const now = new Date(deps.clock.now());
  const holderNumber = parseHolder(input, type, now);
  if (type.regional && !inJurisdiction(issuer, holderDivision(holderNumber))) {
    throw new ForbiddenError(
      `A ${type.code} is issued only to holders in the issuer’s jurisdiction (${jurisdictionOf(issuer).join(', ')}); this holder is in ${holderDivision(holderNumber)}`,
      'outside_jurisdiction',
    );
  }
  const validFields = validateFields(type, input.fields);
  // Checked now, so a bad request is refused before anything is reserved; computed again below from
  // the pinned issuance time.
  const checked = validity(input, type, now);
  // Refused before anything is reserved or signed: a credential too large for a QR code would leave a
  // licence whose QR code, PDF and scan all fail.
  assertCredentialFits(
    {
      type,
      issuer,
      holder: {
        kind: type.holderKind,
        name: input.holderName,
        masked: 'idNumber' in holderNumber ? maskIdNumber(holderNumber.idNumber) : holderNumber.creditCode,
      },
      fields: protectSensitiveFields(type, validFields),
      named: { holderName: input.holderName, ...prefixed('fields.', validFields) },
      dates: checked,
    },
    now,
    deps.issuerUrl,
  );

  // Keyed, so the stored fingerprint of a body with ID numbers in it cannot be brute-forced; computed
  // before any KMS call, so a retry of a finished issuance costs none.
  const requestHash = await deps.fingerprint(
    canonicalJson({ ...input, holder: holderNumber, fields: validFields }),
  );
  return issueChecked(
    {
      issuer: { ...issuer, keyId: issuer.keyId },
      type,
      requestHash,
      holder: () => holderFor(holderNumber, input.holderName, deps.lookupMac),
      // Numbers of third persons (a legal representative, a spouse) become masked forms here, before
      // anything is stored, signed or logged.
      fields: () => protectSensitiveFields(type, validFields),
      validity: input,
    },
    context,
    deps,
  );
}

/**
 * An issuance whose request step 1 has checked (issuer, type, holder, fields, validity): what
 * {@link issueLicence} and a re-issue (`reissue-licence.ts`, which takes them from the licence it
 * replaces) share from step 2 on.
 */
export interface CheckedIssuance {
  issuer: Issuer & { keyId: string };
  type: LicenceType;
  /** The keyed fingerprint of the request: the same idempotency key with another one is a 409. */
  requestHash: string;
  /** The holder as stored (kind, name, masked number, lookup key); called only when a licence is written. */
  holder(): Promise<Holder>;
  /** The fields as stored and signed (sensitive ones already masked). */
  fields(): Record<string, unknown>;
  /**
   * `validUntil: null`: none, whatever the type's default (a re-issue keeps a licence without an end
   * date as it was, rather than ending it `defaultValidityYears` after its old start).
   */
  validity: { validFrom?: string; validUntil?: string | null };
  /** A re-issue: the licence this one replaces, written on the record and its `issued` entry. */
  replaces?: string;
  /**
   * Called with the licence's id once the slot fixed it and before the licence is written (also when a
   * retry finds it written): a re-issue claims that id on the licence it replaces, so a retry can never
   * issue a second one. A failure here leaves nothing written; the retry gets the same id.
   */
  beforeWrite?(id: string): Promise<void>;
  /** The audit entry's reason (a re-issue names the licence replaced). */
  auditReason?: string;
}

/**
 * Steps 2 to 5 of {@link issueLicence}, for a request already checked (see {@link CheckedIssuance}).
 *
 * @example
 * ```ts
 * const { licence } = await issueChecked({ issuer, type, requestHash, holder, fields, validity }, context, deps);
 * ```
 */
export async function issueChecked(
  request: CheckedIssuance,
  context: IssueContext,
  deps: IssueLicenceDependencies,
): Promise<{ licence: LicenceRecord; issuer: Issuer; created: boolean }> {
  const { issuer, type, requestHash } = request;
  const now = new Date(deps.clock.now());
  const record = await deps.idempotency.acquire({
    issuerId: issuer.id,
    key: context.idempotencyKey,
    requestHash,
    ...(context.retainIdempotencyUntil !== undefined && { retainUntil: context.retainIdempotencyUntil }),
  });
  if (!record) {
    // Not for good: the other request ends within seconds, and this one's retry then gets its answer.
    throw new ConflictError(
      'Another request with this Idempotency-Key is in progress; retry shortly',
      'idempotency_key_in_use',
      { retryAfterSeconds: 1 },
    );
  }
  try {
    if (record.requestHash !== requestHash) {
      throw new ConflictError(
        'This Idempotency-Key was used with a different request body',
        'idempotency_key_reused',
      );
    }
    if (record.licenceId) {
      const done = await deps.licences.get(record.licenceId);
      if (done) {
        await request.beforeWrite?.(done.id);
        await releaseHeld(record, undefined, deps);
        const finished = await finishQuietly(done, deps);
        // Never answered with a credential its issuer's trust list no longer publishes: the retry of an
        // issuance refused by the check below is refused the same way (the issuer as read in step 1).
        refuseUnpublished(finished, issuer);
        return { licence: finished, issuer, created: false };
      }
    }
    const holder = await request.holder();
    const fields = request.fields();
    const allocation = record.allocation ?? (await reserveSlot(record, issuer.id, now, deps));
    // The time of the attempt that reserved the slot: every retry signs and writes the same.
    const issuedAt = allocation.issuedAt ? new Date(allocation.issuedAt) : now;
    const { validFrom, validUntil } = validity(request.validity, type, issuedAt);
    const id = formatLicenceId({
      typeCode: type.typeCode,
      issuerCreditCode: issuer.creditCode,
      serial: allocation.serial,
      version: 1,
    });
    await request.beforeWrite?.(id);
    const existing = await deps.licences.get(id);
    if (existing) {
      await releaseHeld(record, id, deps);
      const finished = await finishQuietly(existing, deps);
      refuseUnpublished(finished, issuer);
      return { licence: finished, issuer, created: false };
    }

    const statusUri = `${deps.issuerUrl}/status-lists/${encodeURIComponent(allocation.listId)}`;
    // A credential recorded by an attempt before every signature was low-S is stored in its low-S twin.
    const credential = record.credential
      ? lowSCompactJws(record.credential)
      : await deps.idempotency.recordCredential(
          record,
          await signCompactJws(
            { typ: licenceCredentialType },
            credentialClaims({
              issuerUrl: deps.issuerUrl,
              issuerId: issuer.id,
              type,
              id,
              issuedAt,
              validFrom,
              validUntil,
              holder,
              fields,
              statusList: { idx: allocation.idx, uri: statusUri },
            }),
            deps.credentialSigner
              ? await deps.credentialSigner({ ...issuer, keyId: issuer.keyId }, issuedAt)
              : deps.signerFor(issuer.keyId),
          ),
        );
    const issued: AuditEntry = {
      at: now.toISOString(),
      ...actedBy(context),
      action: 'licence.issued',
      licenceId: id,
      issuerId: issuer.id,
      // Supervision counts per issuer and type (shared/supervision/statistics.ts).
      licenceType: type.code,
      holderMasked: holder.masked,
      requestId: context.requestId,
      ...(request.auditReason ? { reason: request.auditReason } : {}),
    };
    const licence: LicenceRecord = {
      id,
      type: type.code,
      issuerId: issuer.id,
      holder,
      fields,
      status: 'valid',
      statusList: { listId: allocation.listId, idx: allocation.idx },
      issuedAt: issuedAt.toISOString(),
      validFrom,
      ...(validUntil ? { validUntil } : {}),
      credential,
      history: [
        {
          at: issuedAt.toISOString(),
          action: 'issued',
          ...actedBy(context),
          ...(request.replaces ? { replaces: request.replaces } : {}),
          requestId: context.requestId,
        },
      ],
      ...(request.replaces ? { replaces: request.replaces } : {}),
      // Created as version 1 (LicenceStore.create): the key of its entry.
      pending: { since: now.toISOString(), audit: pendingAudit(id, 1, [issued]) },
      version: 0,
    };
    const claim = await deps.pendingWork.mark(id, now);
    const created = await writeMarked(id, claim, deps, () => deps.licences.create(licence));
    // Review R61 F2, store-then-check: the issuer read again, strongly consistent, now that the licence is
    // written (one GetItem, on issuance alone; see `credentialStillVerifies`).
    const current = await deps.issuers.findByCreditCode(issuer.creditCode);
    await releaseHeld(record, id, deps);
    // Issued: what remains is the audit entry, left pending (and logged) if it cannot be written now.
    const completed = await completeChange(created, claim, deps, {
      throughVersion: issuedVersion,
    }).catch((error: unknown) => {
      logger.error(pendingWorkLogLines.incomplete, { licenceId: id, error: String(error) });
      return withoutPending(created);
    });
    if (!current || !credentialStillVerifies(completed, current))
      throw new IssuerKeyWithdrawnError(completed.id);
    return { licence: completed, issuer, created: true };
  } catch (error) {
    // A lost fence (`IdempotencyLockLostError`) fails closed: nothing more is written under the key, and
    // this release, fenced too, frees nothing that is another request's.
    await deps.idempotency.release(record).catch(() => undefined);
    throw error;
  }
}

/**
 * Frees the key this request holds, naming its licence: once the licence stands (written, or found), a
 * lost fence there is not a refusal. It means the lock lapsed and another request took the key since: a
 * retry of the same body, which finds or writes this very licence, or a request starting an expired key
 * over, whose record must not name this licence. Either way the record is left to the other request
 * (nothing written) and this licence is answered; `recordAllocation` and `recordCredential`, before the
 * write, fail closed instead (409 `idempotency_key_taken_over`).
 */
async function releaseHeld(
  record: IdempotencyRecord,
  licenceId: string | undefined,
  deps: IssueLicenceDependencies,
): Promise<void> {
  try {
    await deps.idempotency.release(record, licenceId);
  } catch (error) {
    if (!(error instanceof IdempotencyLockLostError)) throw error;
    logger.warn('idempotency key taken over before its release; the licence stands', {
      issuerId: record.issuerId,
      licenceId,
    });
  }
}

/**
 * An issuance answered 409 instead of 201 because the key that signed its licence was withdrawn (or its
 * issuer was) while it ran (review R61 F2). The licence is written, exactly like those the key signed
 * before its withdrawal: its credential verifies `unknown_issuer`, and `GET /licences?keyWithdrawn=true`
 * lists it for re-issue (`POST /licences/{id}/reissue`, under the issuer's current key).
 */
export class IssuerKeyWithdrawnError extends ConflictError {
  declare readonly licenceId: string;

  constructor(licenceId: string) {
    super(
      `The key that signed licence ${licenceId} was withdrawn while it was issued: its credential does not ` +
        `verify. Re-issue it under the current key: POST /licences/${licenceId}/reissue`,
      'issuer_key_withdrawn',
      // Named in the problem too (`licenceId`), for a client to act on without reading the detail.
      { licenceId },
    );
    this.name = 'IssuerKeyWithdrawnError';
  }
}

/**
 * Whether `licence`'s credential still verifies against `issuer` as read: an active issuer whose trust
 * list publishes the key that signed it (one of its keys not withdrawn, or a batch key certified by one:
 * `credentialKeyPublished`, the rule `GET /licences?keyWithdrawn=true` and the PDF refusal read).
 *
 * Why the check after the write closes the race of an issuance with a key's withdrawal (review R61 F2),
 * with no write on the issuer's item (which every concurrent issuance would contend on): a withdrawal
 * (`withdrawIssuerKey`, a rotation with `previousKey: "withdraw"`, `withdrawIssuer`) is one conditional
 * write of the issuer item and writes nothing to licences: the licences of a withdrawn key are found
 * afterwards by reading, with the issuer, which licences its withdrawn keys signed (the compromise
 * runbook's `GET /licences?keyWithdrawn=true`, after the withdrawal answered). The issuance writes its
 * licence, then reads the issuer item with a strongly consistent read. Of the two writes one is first:
 * - the withdrawal's: the issuance's read, after its own write and after the withdrawal's, sees the key
 *   withdrawn, and the answer is this 409 rather than a 201 with a credential that does not verify;
 * - the licence's: then every read after the withdrawal (the runbook's listing) finds the licence with
 *   those the key signed before, and it is re-issued with them; the issuance's own read may or may not
 *   see the withdrawal, and answers 201 or 409 accordingly, both true.
 * No order lets an issuance answer 201 for a licence that the withdrawal's listing cannot find. What a
 * withdrawal "does" to the licence is nothing written, so a licence refused here is marked as the
 * withdrawal marks every other: by the same rule on read.
 */
export function credentialStillVerifies(licence: LicenceRecord, issuer: Issuer): boolean {
  return (
    issuer.status === 'active' && credentialKeyPublished(licence.credential, issuerPublishedKeys(issuer))
  );
}

/** Refuses to answer (409 `issuer_key_withdrawn`) a licence whose key `issuer`, as read, no longer publishes. */
function refuseUnpublished(licence: LicenceRecord, issuer: Issuer): void {
  if (!credentialStillVerifies(licence, issuer)) {
    logger.warn('issuance refused: its licence was signed by a key since withdrawn', {
      licenceId: licence.id,
      kid: credentialKid(licence.credential),
    });
    throw new IssuerKeyWithdrawnError(licence.id);
  }
}

/** The version a licence is created at (`LicenceStore.create`): its issuance's entry is `<id>#1#0`. */
const issuedVersion = 1;

/**
 * The work an earlier attempt left on a licence (its audit entry), finished by a retry: the licence is
 * issued whatever happens here, so a failure is logged (the reconciler finishes it) rather than answered.
 * Only the issuance's own (version 1): a licence changed since (a revocation, its entry still pending) is
 * left to the change's function or the reconciler, as the `batches` function, whose redelivered item
 * lands here, may put the marks of issuance entries alone (review R57 F1).
 */
async function finishQuietly(licence: LicenceRecord, deps: IssueLicenceDependencies): Promise<LicenceRecord> {
  return finishPendingWork(licence, deps, { throughVersion: issuedVersion }).catch((error: unknown) => {
    logger.error(pendingWorkLogLines.incomplete, { licenceId: licence.id, error: String(error) });
    return withoutPending(licence);
  });
}

/** What a licence credential signs; one place, so the size check measures exactly what is signed. */
function credentialClaims(c: {
  issuerUrl: string;
  issuerId: string;
  type: LicenceType;
  id: string;
  issuedAt: Date;
  validFrom: string;
  validUntil: string | undefined;
  holder: Pick<Holder, 'kind' | 'name' | 'masked'>;
  fields: Record<string, unknown>;
  statusList: { idx: number; uri: string };
}): Record<string, unknown> {
  return {
    // URLs, as SD-JWT VC and other credential libraries expect: GET <iss> answers the issuer's
    // public metadata and keys, GET <vct> the type (API.md v2). Verifiers read the old bare id too.
    iss: issuerUrl(c.issuerUrl, c.issuerId),
    vct: licenceTypeUri(c.issuerUrl, c.type.code),
    jti: c.id,
    iat: Math.floor(c.issuedAt.getTime() / 1000),
    nbf: Math.floor(Date.parse(c.validFrom) / 1000),
    ...(c.validUntil ? { exp: Math.floor(Date.parse(c.validUntil) / 1000) } : {}),
    lt: c.type.code,
    // No lookup key, the holder's or a third person's: it is the same in every licence of that
    // person from every issuer, a handle any verifier could link them by. The holder's stays in the
    // record, server-side.
    hol: { k: c.holder.kind === 'person' ? 'p' : 'e', n: c.holder.name, m: c.holder.masked },
    f: publicFields(c.type, c.fields),
    status: { status_list: c.statusList },
  };
}

function prefixed(prefix: string, values: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(values).map(([name, value]) => [`${prefix}${name}`, value]));
}

/** A serial no issuer will reach (2^40): its id, list and index are at least as long as any real one. */
const largestSerial = 2 ** 40;

/**
 * Refuses (400 `credential_too_large`, naming the longest value) a licence whose credential would need a
 * QR code larger than {@link maxCredentialQrVersion} at level M. Measured on the very claims
 * {@link credentialClaims} signs, with the longest serial, list index and kid there can be, and an
 * 86-character signature of lower-case letters: those only fit QR byte mode, so no real signature
 * (base64url, sometimes digits or capitals the encoder packs tighter) makes the symbol larger. A
 * re-issue checks its stored licence with it too (`reissue-licence.ts`).
 *
 * @example
 * ```ts
 * assertCredentialFits({ type, issuer, holder, fields, named: { holderName: holder.name }, dates }, now, baseUrl);
 * ```
 */
export function assertCredentialFits(
  credential: {
    type: LicenceType;
    issuer: Pick<Issuer, 'id' | 'creditCode'>;
    holder: Pick<Holder, 'kind' | 'name' | 'masked'>;
    /** The fields as signed (sensitive ones masked). */
    fields: Record<string, unknown>;
    /** The values the refusal may name, by request path: the longest is named. */
    named: Record<string, unknown>;
    dates: { validFrom: string; validUntil: string | undefined };
  },
  now: Date,
  baseUrl: string,
): void {
  const { type, issuer, holder, fields, named, dates } = credential;
  const placeholder = allocationFor(issuer.id, largestSerial);
  const claims = credentialClaims({
    issuerUrl: baseUrl,
    issuerId: issuer.id,
    type,
    id: formatLicenceId({
      typeCode: type.typeCode,
      issuerCreditCode: issuer.creditCode,
      serial: largestSerial,
      version: 1,
    }),
    issuedAt: now,
    ...dates,
    holder,
    fields,
    statusList: {
      idx: LIST_SIZE - 1,
      uri: `${baseUrl}/status-lists/${encodeURIComponent(placeholder.listId)}`,
    },
  });
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const header = { typ: licenceCredentialType, alg: 'ES256', kid: 'k'.repeat(43) };
  const estimate = `${encode(header)}.${encode(claims)}.${'s'.repeat(86)}`;
  let version: number;
  try {
    version = qrVersion(estimate);
  } catch (error) {
    if (!(error instanceof QrCapacityError)) throw error;
    version = Infinity;
  }
  if (version <= maxCredentialQrVersion) return;
  const longest = Object.entries(named)
    .map(([path, value]) => ({ path, bytes: Buffer.byteLength(JSON.stringify(value) ?? '') }))
    .reduce((a, b) => (b.bytes > a.bytes ? b : a));
  const message = `too long for the licence's QR code: the credential would need ${Number.isFinite(version) ? `version ${version}` : 'more than version 40'} at level M, at most ${maxCredentialQrVersion}; shorten this value (the longest) or others`;
  throw new InvalidInputError(
    `The licence is too large for its QR code: ${longest.path} ${message}`,
    'credential_too_large',
    {
      errors: [
        {
          path: longest.path,
          message,
          code: 'credential_too_large',
          params: { maximum: maxCredentialQrVersion },
        },
      ],
    },
  );
}

/**
 * A credential's `iss`: the issuer's URL, `<baseUrl>/issuers/<issuer id>` (served by `GET /issuers/{id}`).
 *
 * @example
 * ```ts
 * issuerUrl('https://elicence.example.gov.cn', 'iss_8kq2'); // 'https://elicence.example.gov.cn/issuers/iss_8kq2'
 * ```
 */
export function issuerUrl(baseUrl: string, issuerId: string): string {
  return `${baseUrl}/issuers/${encodeURIComponent(issuerId)}`;
}

/**
 * A credential's `vct`: the licence type's URI, `<baseUrl>/licence-types/<code>` (served by
 * `GET /licence-types/{code}`).
 *
 * @example
 * ```ts
 * licenceTypeUri('https://elicence.example.gov.cn', 'driving-licence'); // '…/licence-types/driving-licence'
 * ```
 */
export function licenceTypeUri(baseUrl: string, code: string): string {
  return `${baseUrl}/licence-types/${encodeURIComponent(code)}`;
}

async function reserveSlot(
  record: IdempotencyRecord,
  issuerId: string,
  now: Date,
  deps: IssueLicenceDependencies,
) {
  const allocation = await deps.statusLists.allocate(issuerId);
  return deps.idempotency.recordAllocation(record, { ...allocation, issuedAt: now.toISOString() });
}

type HolderNumber = { idNumber: IdNumber } | { creditCode: CreditCode };

/** The holder's number, checked against its standard and against the kind of holder the type has. */
function parseHolder(input: IssueLicenceInput, type: LicenceType, now: Date): HolderNumber {
  const given = input.holder;
  assertHolderKind(given, type);
  if ('idNumber' in given) {
    return { idNumber: withPath('holder.idNumber', () => parseIdNumber(given.idNumber, now)) };
  }
  return { creditCode: withPath('holder.creditCode', () => parseCreditCode(given.creditCode)) };
}

/**
 * Refuses a holder of the other kind than the type's (`400 holder_kind_mismatch`, naming the number the
 * type needs): a person's ID number for a business licence, a credit code for a driving licence. Checked
 * before the fields, whose errors would otherwise hide it (bulk issuance checks it at submission too).
 *
 * @example
 * ```ts
 * assertHolderKind({ idNumber: '…' }, findLicenceType('business-licence')!); // throws holder_kind_mismatch
 * ```
 */
export function assertHolderKind(holder: IssueLicenceInput['holder'], type: LicenceType): void {
  if ('idNumber' in holder) {
    if (type.holderKind !== 'person') throw holderKindMismatch(type, 'holder.creditCode');
  } else if (type.holderKind !== 'entity') throw holderKindMismatch(type, 'holder.idNumber');
}

async function holderFor(number: HolderNumber, name: string, mac: Mac): Promise<Holder> {
  if ('idNumber' in number) {
    return {
      kind: 'person',
      name,
      masked: maskIdNumber(number.idNumber),
      lookupKey: await personLookupKey(mac, number.idNumber),
    };
  }
  return {
    kind: 'entity',
    name,
    masked: number.creditCode,
    lookupKey: await entityLookupKey(mac, number.creditCode),
  };
}

function holderKindMismatch(type: LicenceType, expectedPath: string) {
  return new InvalidInputError(`A ${type.code} is issued to a ${type.holderKind}`, 'holder_kind_mismatch', {
    errors: [
      {
        path: expectedPath,
        message: `required: a ${type.code} is issued to a ${type.holderKind}`,
        code: 'wrong_holder_kind',
      },
    ],
  });
}

/** Runs a parser whose errors name the rule, and adds the request path they refer to. */
function withPath<T>(path: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof InvalidInputError) {
      throw new InvalidInputError(`${path}: ${error.message}`, error.code, {
        errors: [fieldErrorAt(path, error)],
      });
    }
    throw error;
  }
}

/**
 * The validity of a licence issued at `now`: `validFrom` defaults to now, `validUntil` to the type's
 * default after it, unless given, or `null` (none). A licence is valid through the end of its last
 * Beijing day (`shared/validity-dates.ts`, review R60 F1): the default counts calendar years on the
 * Beijing date of `validFrom`, and a given end is stored as the end of the Beijing day it falls in.
 */
function validity(input: { validFrom?: string; validUntil?: string | null }, type: LicenceType, now: Date) {
  const validFrom = input.validFrom ?? now.toISOString();
  // As instants, not as text: `+010000-…` sorts before `9999-…` (review R64-1).
  if (input.validUntil && Date.parse(input.validUntil) <= Date.parse(validFrom)) {
    throw new InvalidInputError('validUntil must be after validFrom', 'invalid_validity', {
      errors: [{ path: 'validUntil', message: 'must be after validFrom', code: 'before_start' }],
    });
  }
  if (input.validUntil === null) return { validFrom, validUntil: undefined };
  // A given end is stored as the end of its Beijing day, at the latest the end of 9999-12-31.
  if (input.validUntil)
    return { validFrom, validUntil: earliest(validUntilOf(input.validUntil), latestValidUntil) };
  const years = type.defaultValidityYears;
  if (years === null) return { validFrom, validUntil: undefined };
  const validUntil = defaultValidUntil(validFrom, years);
  if (Date.parse(validUntil) > Date.parse(latestValidUntil)) {
    // Refused, not stored in a year no page prints, nor thrown as a fault (which a batch's chunk would
    // retry for ever, review R64-1).
    const latestStart = `${String(9999 - years).padStart(4, '0')}-12-31`;
    throw new InvalidInputError(
      `validFrom: the ${type.code}'s default validity of ${years} years would end after 9999-12-31; give validUntil`,
      'invalid_validity',
      {
        errors: [
          {
            path: 'validFrom',
            message: `must be on or before ${latestStart} (Beijing time) for the type's default validity of ${years} years, or give validUntil`,
            code: 'too_big',
            params: { maximum: latestStart },
          },
        ],
      },
    );
  }
  return { validFrom, validUntil };
}

/** The earlier of two ISO instants. */
function earliest(a: string, b: string): string {
  return Date.parse(a) <= Date.parse(b) ? a : b;
}
