import * as z from 'zod';
import { ForbiddenError, NotFoundError } from '../errors.js';
import type { Issuer } from '../issuers/issuer.js';
import type { IssuerStore } from '../issuers/issuer-store.js';
import { acrOf, type AssuranceLevel } from '../identity/assurance.js';
import { findLicenceType, findLicenceTypeByTypeCode, licenceTypes, minAssuranceOf } from './catalogue.js';
import type { LicenceRecord } from './licence.js';
import type { LicenceStore } from './licence-store.js';

/**
 * Someone reading a holder's licences: a signed-in person, for themselves and for the entities they act
 * for. `holderLookupKeys` says whose licences they hold; `level` how well they proved who they are.
 */
export interface LicenceReader {
  /** The person's own lookup key, and those of the entities they act for with a role covering licences. */
  holderLookupKeys: readonly string[];
  /** The assurance level reached (`identity/assurance.ts`). */
  level: AssuranceLevel;
  /**
   * The signed-in person's account (its opaque id): the usage record shows the releases of the ID number
   * this account made at any level, another account's only at level 3 (review R45 F1). Absent: none.
   */
  accountId?: string;
}

/** The reader is the holder, but below the level the licence type requires. */
export class InsufficientAssuranceError extends ForbiddenError {
  constructor(readonly requiredAcr: string) {
    super(
      `Reading these licences needs assurance level ${requiredAcr} (acr); sign in at that level`,
      'insufficient_assurance',
    );
    this.name = 'InsufficientAssuranceError';
  }
}

/**
 * THE check of who may read a licence (issue 12, finding 1). Every reader of a person's or an entity's
 * licences (the holder API, presentations, the wallet through them, and sharing) decides here, and
 * nowhere else: the reader must hold it (their own number, or an entity they act for), and have reached
 * the level its type requires (`minAssurance`, level 3 by default). An account that merely registered a
 * number (level 1 or 2) reads nothing of a level-3 type, so a squatter who registered somebody else's
 * number sees none of that person's licences.
 *
 * The assurance issue extends `LicenceReader.level` (how a sign-in reaches level 3), not this function.
 *
 * @example
 * ```ts
 * if (readerMay(reader, licence) === 'yes') show(licence);
 * ```
 */
export function readerMay(
  reader: LicenceReader,
  licence: Pick<LicenceRecord, 'type'> & { holder: Pick<LicenceRecord['holder'], 'lookupKey'> },
): 'yes' | 'not_holder' | 'insufficient_assurance' {
  if (!reader.holderLookupKeys.includes(licence.holder.lookupKey)) return 'not_holder';
  const type = findLicenceType(licence.type);
  // A type no longer in the catalogue has no level to compare against: fail closed.
  if (!type || reader.level < minAssuranceOf(type)) return 'insufficient_assurance';
  return 'yes';
}

/** The licences among `licences` that `reader` may read. */
export function readableBy<T extends Pick<LicenceRecord, 'type' | 'holder'>>(
  reader: LicenceReader,
  licences: readonly T[],
): T[] {
  return licences.filter((licence) => readerMay(reader, licence) === 'yes');
}

/**
 * Refuses before any lookup a licence id whose type (the type code inside the GB/T 36904 id) needs a
 * higher level than the reader's: the answer then depends only on the id and the reader, never on
 * whether such a licence exists, so it tells a low-level account nothing about the holder.
 */
export function requireLevelForLicenceId(reader: LicenceReader, licenceId: string): void {
  const typeCode = /^1\.2\.156\.3005\.2\.(\d{3})\./.exec(licenceId)?.[1];
  const type = typeCode ? findLicenceTypeByTypeCode(typeCode) : undefined;
  if (type && reader.level < minAssuranceOf(type)) {
    throw new InsufficientAssuranceError(acrOf(minAssuranceOf(type)));
  }
}

/** What `GET /me/licences` says of the reader's level ({@link readerAssurance}). */
export const readerAssuranceSchema = z
  .object({
    acr: z.string().meta({ description: 'The level of the sign-in, e.g. `urn:elicence:loa:3`' }),
    stepUpTo: z
      .string()
      .optional()
      .meta({ description: 'The level that would open licence types this one does not (none are listed)' }),
  })
  .meta({ title: 'ReaderAssurance' });

/**
 * What `GET /me/licences` says of the reader's level: its `acr`, and the level that some licence types
 * need when the reader is below it. Computed from the catalogue alone, so it reveals nothing about which
 * licences the holder has.
 */
export function readerAssurance(reader: LicenceReader): z.output<typeof readerAssuranceSchema> {
  const highest = Math.max(...licenceTypes.map(minAssuranceOf)) as AssuranceLevel;
  return {
    acr: acrOf(reader.level),
    ...(reader.level < highest ? { stepUpTo: acrOf(highest) } : {}),
  };
}

/**
 * `GET /licences/{id}` for a holder: the licence, if `reader` may read it ({@link readerMay}), with its
 * issuer. A licence that is not theirs (or does not exist, or whose issuer is gone) is the same 404, so
 * the answer never tells whether someone else holds that id; a type above the reader's level is a 403
 * decided from the id alone, before any lookup ({@link requireLevelForLicenceId}).
 *
 * @example
 * ```ts
 * const { licence, issuer } = await readHeldLicence(id, await licenceReader(subject, caller, deps), deps);
 * ```
 */
export async function readHeldLicence(
  licenceId: string,
  reader: LicenceReader,
  deps: { licences: Pick<LicenceStore, 'get'>; issuers: Pick<IssuerStore, 'findById'> },
): Promise<{ licence: LicenceRecord; issuer: Issuer }> {
  requireLevelForLicenceId(reader, licenceId);
  const licence = await deps.licences.get(licenceId);
  const may = licence ? readerMay(reader, licence) : 'not_holder';
  const issuer = licence && may !== 'not_holder' ? await deps.issuers.findById(licence.issuerId) : undefined;
  if (!licence || !issuer || may === 'not_holder') {
    throw new NotFoundError(`No licence ${licenceId} of this holder`, 'licence_not_found');
  }
  if (may === 'insufficient_assurance') {
    throw new InsufficientAssuranceError(acrOf(minAssuranceOf(findLicenceType(licence.type) ?? {})));
  }
  return { licence, issuer };
}
