import * as z from 'zod';
import { ForbiddenError } from '../errors.js';
import { canActFor, findEntityById, type EntityDependencies } from '../identity/entities.js';
import { findPersonById } from '../identity/verify-password.js';
import type { AccountStore } from '../identity/account-store.js';
import type { Issuer } from '../issuers/issuer.js';
import { standsOn, type SessionSubject } from '../identifiers/account-id.js';
import { licenceViewSchema, type LicenceRecord } from './licence.js';
import type { LicenceStore } from './licence-store.js';
import type { IssuerStore } from '../issuers/issuer-store.js';
import { readableBy, readerAssuranceSchema, type LicenceReader } from './licence-reader.js';
import { signedInLevel } from '../identity/assurance.js';
import { requireSignInNotEnded } from '../identity/person-account.js';

/** What `GET /me/licences` answers: the licences the reader's level opens, and that level. */
export const heldLicencesSchema = z
  .object({ items: z.array(licenceViewSchema), assurance: readerAssuranceSchema })
  .meta({ title: 'HeldLicences' });

export type HolderDependencies = EntityDependencies & {
  accounts: AccountStore;
  licences: Pick<LicenceStore, 'listByHolder'>;
  issuers: Pick<IssuerStore, 'findById'>;
};

export interface HeldLicence {
  licence: LicenceRecord;
  issuer: Issuer;
}

/**
 * The reader a signed-in person is: the holders whose licences they may see and show (their own, plus,
 * while they act for an entity whose licences their role covers — the legal representative, or an
 * agent with scope `licences` — the entity's), and the assurance level they act at: the lower of their
 * account's and their sign-in's (`signedInLevel`). The right
 * to act is checked now, not when the token was issued, and must be the one the session was made under
 * (`standsOn`, review R42). What they may then read is decided by
 * `readerMay` (`licence-reader.ts`), the one check. A sign-in made before a takeover or a reset ended
 * the account's sign-ins reads nothing (401 `invalid_token`, review R47 F3), checked on the account read
 * here anyway.
 *
 * @example
 * ```ts
 * const reader = await licenceReader(parseAccountId(caller.accountId), caller, deps); // caller: acr, authTime
 * ```
 */
export async function licenceReader(
  subject: SessionSubject,
  signIn: { acr: string | undefined; authTime?: number | undefined },
  deps: HolderDependencies,
): Promise<LicenceReader> {
  const { acr } = signIn;
  const person = await findPersonById(subject.personId, deps);
  if (!person) throw new ForbiddenError('The signed-in account no longer exists', 'account_not_found');
  requireSignInNotEnded(person, signIn.authTime);
  const keys = [person.lookupKey];
  if (subject.kind === 'entity') {
    const entity = await findEntityById(subject.entityId, deps);
    const authority =
      entity && (await canActFor(person, entity.creditCode, new Date(deps.clock.now()), deps));
    // Only under the authority the session was made under (review R42): a token of a withdrawn
    // appointment reads nothing of the entity's again when the same person is appointed anew.
    if (entity && authority?.scope.includes('licences') && standsOn(subject, authority)) {
      keys.push(entity.lookupKey);
    }
  }
  return { holderLookupKeys: keys, level: signedInLevel(person, acr), accountId: subject.personId };
}

/**
 * The licences a signed-in reader may see and show (see {@link licenceReader}): those of the holders
 * they stand for, of the types their assurance level opens.
 *
 * @example
 * ```ts
 * const held = await holderLicences(await licenceReader(subject, caller, deps), deps);
 * ```
 */
export async function holderLicences(
  reader: LicenceReader,
  deps: Pick<HolderDependencies, 'licences' | 'issuers'>,
): Promise<HeldLicence[]> {
  const licences = readableBy(
    reader,
    (await Promise.all(reader.holderLookupKeys.map((key) => deps.licences.listByHolder(key)))).flat(),
  );
  const issuers = new Map<string, Issuer | undefined>();
  const held: HeldLicence[] = [];
  for (const licence of licences) {
    if (!issuers.has(licence.issuerId))
      issuers.set(licence.issuerId, await deps.issuers.findById(licence.issuerId));
    const issuer = issuers.get(licence.issuerId);
    if (issuer) held.push({ licence, issuer });
  }
  return held;
}
