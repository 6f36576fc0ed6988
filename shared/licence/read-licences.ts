import * as z from 'zod';
import type { Mac } from '../crypto/mac.js';
import { ForbiddenError, InvalidInputError, NotFoundError } from '../errors.js';
import { parseCreditCode } from '../identifiers/credit-code.js';
import { parseIdNumber } from '../identifiers/id-number.js';
import { entityLookupKey, personLookupKey } from '../identifiers/lookup-key.js';
import type { Issuer } from '../issuers/issuer.js';
import type { IssuerStore } from '../issuers/issuer-store.js';
import type { LicenceRecord } from './licence.js';
import type { LicencePage, LicenceStore } from './licence-store.js';

export const listLicencesQuery = z.strictObject({
  holder: z.string().trim().min(1).max(32).optional(),
  status: z.enum(['valid', 'suspended', 'revoked', 'expired']).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(2048).optional(),
});
export type ListLicencesQuery = z.output<typeof listLicencesQuery>;

/** One licence of the caller's issuer; another issuer's licence is not found (its existence is not theirs). */
export async function readIssuedLicence(
  id: string,
  issuerId: string,
  deps: { licences: LicenceStore; issuers: IssuerStore },
): Promise<{ licence: LicenceRecord; issuer: Issuer }> {
  const licence = await deps.licences.get(id);
  const issuer = licence?.issuerId === issuerId ? await deps.issuers.findById(issuerId) : undefined;
  if (!licence || !issuer) throw new NotFoundError(`No licence ${id} of this issuer`, 'licence_not_found');
  return { licence, issuer };
}

/**
 * The licences the caller's issuer issued, newest first, optionally of one holder (ID number or credit
 * code, looked up by its keyed hash) and in one status.
 */
export async function listIssuedLicences(
  query: ListLicencesQuery,
  issuerId: string,
  deps: { licences: LicenceStore; issuers: IssuerStore; lookupMac: Mac; clock: { now(): number } },
): Promise<LicencePage & { issuer: Issuer }> {
  const issuer = await deps.issuers.findById(issuerId);
  if (!issuer) throw new ForbiddenError('This client’s issuer does not exist', 'issuer_inactive');
  const now = new Date(deps.clock.now());
  const holderLookupKey = query.holder ? await holderKey(query.holder, now, deps.lookupMac) : undefined;
  const page = await deps.licences.listByIssuer(issuerId, {
    holderLookupKey,
    status: query.status,
    limit: query.limit,
    cursor: query.cursor,
    now,
  });
  return { ...page, issuer };
}

async function holderKey(holder: string, now: Date, mac: Mac): Promise<string> {
  try {
    return /^\d{17}[\dXx]$/.test(holder)
      ? await personLookupKey(mac, parseIdNumber(holder, now))
      : await entityLookupKey(mac, parseCreditCode(holder));
  } catch (error) {
    if (error instanceof InvalidInputError) {
      throw new InvalidInputError(`holder: ${error.message}`, error.code, {
        errors: [{ path: 'holder', message: error.message }],
      });
    }
    throw error;
  }
}
