import * as z from 'zod';
import type { Issuer } from '../issuers/issuer.js';
import { credentialKeyPublished, issuerPublishedKeys } from '../issuers/credential-key.js';
import { findLicenceType, publicFields } from './catalogue.js';
import type { AuditEntry } from '../audit/audit-trail.js';

export type StoredStatus = 'valid' | 'suspended' | 'revoked';
export type LicenceStatus = StoredStatus | 'expired';

export interface Holder {
  kind: 'person' | 'entity';
  name: string;
  /** Display form: a masked ID number, or a credit code (public by law for registered entities). */
  masked: string;
  /** HMAC (KMS) of the normalised number: how the holder is found without storing the number. */
  lookupKey: string;
}

/**
 * What a change of a licence still has to do after its one conditional write (its audit entry, its
 * status-list entry), recorded on the licence in that same write (`LicenceRecord.pending`), so that no
 * failure after the write can lose it: whoever completes it (the request itself, its retry, or the
 * reconciler, shared/reconciler/reconcile-pending-work.ts) reads it from the record, and clears it once done.
 */
export interface PendingWork {
  /** When the oldest outstanding part was recorded (RFC 3339). */
  since: string;
  /**
   * Audit entries to record, each exactly once: under its own key (shared/licence/pending-work.ts
   * `pendingAudit`), which the trail writes at most once whoever completes it and however often. (A record
   * saved before keys holds bare entries.)
   */
  audit?: Array<PendingAuditEntry | AuditEntry>;
  /**
   * The status list must carry the licence's status. The completion writes the status of the record as it
   * then reads it (this one, or a newer), which is never older than the value written here.
   */
  statusList?: { listId: string; idx: number; status: StoredStatus };
}

import type { PendingAuditEntry } from '../pending-work/pending-work.js';

export type { PendingAuditEntry };

/** One entry of a licence's own history, written in the same conditional write as the change. */
export interface LicenceEvent {
  at: string;
  action: 'issued' | 'suspended' | 'reinstated' | 'revoked';
  /** The OAuth client that made the change. */
  actor: string;
  /** The clerk who made it through the issuer console (`issuer-actor.ts`): their reference, never a name. */
  clerk?: string;
  reason?: string;
  /** The preset reason (`statusReasons`) the change gave, when it gave one. */
  reasonCode?: string;
  /** On the `issued` entry of a re-issue: the licence it replaces. */
  replaces?: string;
  /** On the `revoked` entry of a re-issue: the licence that replaced it. */
  replacedBy?: string;
  requestId?: string;
}

/**
 * A revocation of a re-issue's replacement asked for by a clerk, recorded on the licence it replaces when
 * the re-issue is given up (`LicenceRecord.replacementRevocation`): the request's reason as given, and who
 * made it, so that whoever finishes it (the request, or the reconciler) revokes it as asked.
 */
export interface ReplacementRevocation {
  /** When it was asked (RFC 3339). */
  at: string;
  /** The OAuth client that asked. */
  actor: string;
  /** The clerk who asked through the issuer console (`issuer-actor.ts`). */
  clerk?: string;
  reasonCode?: string;
  reason?: string;
  requestId?: string;
}

/** A licence as stored: the single item that is the truth about it. */
export interface LicenceRecord {
  id: string;
  type: string;
  issuerId: string;
  holder: Holder;
  fields: Record<string, unknown>;
  status: StoredStatus;
  statusReason?: string;
  statusList: { listId: string; idx: number };
  issuedAt: string;
  validFrom: string;
  validUntil?: string;
  credential: string;
  history: LicenceEvent[];
  /** Issued by `POST /licences/{id}/reissue` in place of this licence (`reissue-licence.ts`). */
  replaces?: string;
  /**
   * The licence re-issued in place of this one: set before that licence is written (the re-issue's claim,
   * so a retry issues no second one), final once this one is revoked with the `revoked` entry naming it.
   */
  replacedBy?: string;
  /**
   * The replacement (`replacedBy`) of a re-issue given up before it finished: a clerk revoked that
   * replacement while this licence was not yet revoked by it (review R40 F1). Written onto this licence,
   * under its `version`, just before the replacement's revocation, so that the re-issue's own revocation of
   * this licence (made under the version it read) fails and, read again, finds the re-issue given up.
   * Never answered.
   */
  reissueGivenUp?: string;
  /**
   * The clerk's revocation of that replacement, as asked (who, why, which request), written with the
   * mark: a process gone between the mark and the replacement's revocation leaves both licences valid,
   * and the reconciler then makes the revocation as asked (`revokeGivenUpReplacement` in
   * change-status.ts). Absent on marks written before it was recorded. Never answered.
   */
  replacementRevocation?: ReplacementRevocation;
  /**
   * What the last changes still have to do (audit entries, the status list), written in the same
   * conditional write as the change and removed once done (shared/licence/pending-work.ts). Never answered.
   */
  pending?: PendingWork;
  version: number;
}

/** The status a person sees: a valid licence past its `validUntil` is expired; suspended and revoked win. */
export function effectiveStatus(licence: LicenceRecord, now: Date): LicenceStatus {
  if (licence.status === 'valid' && licence.validUntil && Date.parse(licence.validUntil) <= now.getTime()) {
    return 'expired';
  }
  return licence.status;
}

const issuerRef = z.object({
  id: z.string(),
  name: z.string(),
  creditCode: z.string(),
  // A holder learns here, before asking, that a withdrawn issuer's PDF is no longer signed (`…/pdf.jws`
  // answers 409 `issuer_withdrawn`), and a wallet says so beside the licence instead of offering the link.
  status: z.enum(['provisioning', 'active', 'withdrawn']).meta({
    description:
      'The issuer’s status now: `withdrawn` (撤销) when it may no longer issue; its licences then verify ' +
      '`unknown_issuer` and their PDFs are no longer signed',
  }),
});

/**
 * The API's `Licence` (API.md) as `GET /licences/{id}` and the lists answer it; {@link licenceView}
 * builds it and is typed by it, and the OpenAPI document publishes it, so the two cannot drift.
 */
export const licenceViewSchema = z
  .object({
    id: z.string().meta({ description: 'GB/T 36904 licence identifier' }),
    type: z.string().meta({ description: 'Licence type code (`GET /licence-types`)' }),
    issuer: issuerRef,
    holder: z.object({
      kind: z.enum(['person', 'entity']),
      name: z.string(),
      masked: z.string().meta({ description: 'Masked ID number, or the credit code of an entity' }),
    }),
    fields: z.record(z.string(), z.unknown()).meta({ description: 'As stored and signed' }),
    status: z.enum(['valid', 'suspended', 'revoked', 'expired']),
    statusReason: z.string().optional(),
    issuedAt: z.string().meta({ description: 'RFC 3339' }),
    validFrom: z.string().meta({ description: 'RFC 3339' }),
    validUntil: z.string().optional().meta({
      description:
        'RFC 3339: the exclusive end, 00:00 Beijing time of the day after the last valid day (docs/api.md, Validity); absent for no expiry',
    }),
    credential: z.string().meta({ description: 'The signed credential (JWS), as its QR code carries it' }),
    // A holder learns here, before asking, that its PDF is no longer signed (`…/pdf.jws` answers 409
    // `key_withdrawn`), and a wallet says so beside the licence instead of offering the link.
    keyWithdrawn: z
      .literal(true)
      .optional()
      .meta({
        description:
          'Present when the issuer key that signed `credential` was withdrawn (after a compromise): its QR ' +
          'code verifies `unknown_issuer` (`key_not_trusted`) and its PDF is no longer signed, until the ' +
          'issuer issues the licence again',
      }),
    replaces: z.string().optional().meta({
      description: 'This licence was re-issued in place of that one (`POST /licences/{id}/reissue`)',
    }),
    replacedBy: z.string().optional().meta({
      description: 'This licence was revoked (`reissued`) when that one was re-issued in its place',
    }),
    history: z
      .array(
        z.object({
          at: z.string().meta({ description: 'RFC 3339' }),
          action: z.enum(['issued', 'suspended', 'reinstated', 'revoked']),
          actor: z.string().meta({ description: 'The OAuth client that made the change' }),
          clerk: z.string().optional().meta({
            description:
              'The clerk who made it in the issuer console: their reference (as the audit trail names them)',
          }),
          reason: z.string().optional(),
          reasonCode: z.string().optional().meta({ description: 'The preset reason, when one was given' }),
          replaces: z.string().optional().meta({ description: 'On `issued`: the licence re-issued' }),
          replacedBy: z
            .string()
            .optional()
            .meta({ description: 'On `revoked`: the licence issued in its place' }),
        }),
      )
      .optional()
      .meta({ description: 'The status history, oldest first: only in the issuer’s `GET /licences/{id}`' }),
  })
  .meta({
    title: 'Licence',
    examples: [
      {
        id: '1.2.156.3005.2.003.11310000MA1K3C4P5X.0001.1.3',
        type: 'driving-licence',
        issuer: {
          id: 'iss_3kq9x',
          name: '北京市公安局公安交通管理局',
          creditCode: '11110000000021135M',
          status: 'active',
        },
        holder: { kind: 'person', name: '张三', masked: '110105********002X' },
        fields: { vehicleClass: 'C1', firstIssuedOn: '2015-03-01', archiveNumber: '110100123456' },
        status: 'valid',
        issuedAt: '2026-01-05T08:00:00.000Z',
        validFrom: '2026-01-05T08:00:00.000Z',
        validUntil: '2032-01-05T08:00:00.000Z',
        credential: 'eyJhbGciOiJFUzI1NiIsInR5cCI6InZjK2p3dCJ9.eyJ…',
      },
    ],
  });
export type LicenceView = z.output<typeof licenceViewSchema>;

/** A page of licences (`GET /licences`): `cursor` fetches the next one, and is absent on the last. */
export const licencePageSchema = z
  .object({
    items: z.array(licenceViewSchema),
    cursor: z.string().optional().meta({ description: 'Pass as `?cursor=` for the next page' }),
    total: z
      .object({
        count: z.number().int().min(0),
        capped: z.boolean().meta({ description: 'true: there are at least `count` (the cap, 1,000)' }),
      })
      .optional()
      .meta({ description: 'With `?total=true`: how many licences match the filter, all pages together' }),
  })
  .meta({ title: 'LicencePage' });

/** The API's `Licence` (API.md): no lookup key (the holder's or in its fields), no internal bookkeeping. */
export function licenceView(licence: LicenceRecord, issuer: Issuer, now: Date): LicenceView {
  return {
    id: licence.id,
    type: licence.type,
    issuer: { id: issuer.id, name: issuer.name, creditCode: issuer.creditCode, status: issuer.status },
    holder: { kind: licence.holder.kind, name: licence.holder.name, masked: licence.holder.masked },
    fields: publicFields(findLicenceType(licence.type), licence.fields),
    status: effectiveStatus(licence, now),
    ...(licence.statusReason ? { statusReason: licence.statusReason } : {}),
    issuedAt: licence.issuedAt,
    validFrom: licence.validFrom,
    ...(licence.validUntil ? { validUntil: licence.validUntil } : {}),
    credential: licence.credential,
    ...(licence.replaces ? { replaces: licence.replaces } : {}),
    // The claim alone (a re-issue under way, or one that died before writing its licence) is not shown:
    // only the revocation that names the new licence makes it the replacement.
    ...(replacedBy(licence) ? { replacedBy: replacedBy(licence) } : {}),
    ...(credentialKeyPublished(licence.credential, issuerPublishedKeys(issuer))
      ? {}
      : { keyWithdrawn: true }),
  };
}

/**
 * The licence's status history as its issuer reads it (who, when, why), oldest first: written in the
 * same conditional write as each change, so it is exactly the record's. Request ids stay internal.
 *
 * @example
 * ```ts
 * json(200, { ...licenceView(licence, issuer, now), history: licenceHistory(licence) });
 * ```
 */
export function licenceHistory(licence: LicenceRecord): NonNullable<LicenceView['history']> {
  return licence.history.map((event) => ({
    at: event.at,
    action: event.action,
    actor: event.actor,
    ...(event.clerk ? { clerk: event.clerk } : {}),
    ...(event.reason ? { reason: event.reason } : {}),
    ...(event.reasonCode ? { reasonCode: event.reasonCode } : {}),
    ...(event.replaces ? { replaces: event.replaces } : {}),
    ...(event.replacedBy ? { replacedBy: event.replacedBy } : {}),
  }));
}

/** The licence that replaced this one, once the revocation that names it is written. */
function replacedBy(licence: LicenceRecord): string | undefined {
  return licence.status === 'revoked'
    ? licence.history.findLast((event) => event.action === 'revoked')?.replacedBy
    : undefined;
}
