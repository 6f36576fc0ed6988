import type { Issuer } from '../issuers/issuer.js';
import { findLicenceType, publicFields } from './catalogue.js';

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

/** One entry of a licence's own history, written in the same conditional write as the change. */
export interface LicenceEvent {
  at: string;
  action: 'issued' | 'suspended' | 'reinstated' | 'revoked';
  /** The OAuth client that made the change. */
  actor: string;
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
  version: number;
}

/** The status a person sees: a valid licence past its `validUntil` is expired; suspended and revoked win. */
export function effectiveStatus(licence: LicenceRecord, now: Date): LicenceStatus {
  if (licence.status === 'valid' && licence.validUntil && Date.parse(licence.validUntil) <= now.getTime()) {
    return 'expired';
  }
  return licence.status;
}

/** The API's `Licence` (API.md): no lookup key (the holder's or in its fields), no internal bookkeeping. */
export function licenceView(
  licence: LicenceRecord,
  issuer: Pick<Issuer, 'id' | 'name' | 'creditCode'>,
  now: Date,
) {
  return {
    id: licence.id,
    type: licence.type,
    issuer: { id: issuer.id, name: issuer.name, creditCode: issuer.creditCode },
    holder: { kind: licence.holder.kind, name: licence.holder.name, masked: licence.holder.masked },
    fields: publicFields(findLicenceType(licence.type), licence.fields),
    status: effectiveStatus(licence, now),
    ...(licence.statusReason ? { statusReason: licence.statusReason } : {}),
    issuedAt: licence.issuedAt,
    validFrom: licence.validFrom,
    ...(licence.validUntil ? { validUntil: licence.validUntil } : {}),
    credential: licence.credential,
  };
}
export type LicenceView = ReturnType<typeof licenceView>;
