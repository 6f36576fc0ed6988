import { NotFoundError, ServiceError } from '../errors.js';
import { canActFor, findEntityById, type EntityDependencies } from '../identity/entities.js';
import { findPersonById } from '../identity/verify-password.js';
import type { AccountStore } from '../identity/account-store.js';
import type { Issuer } from '../issuers/issuer.js';
import type { SessionSubject } from '../sso/account-id.js';
import type { LicenceRecord } from './licence.js';

export type HolderDependencies = EntityDependencies & { accounts: AccountStore };

export interface HeldLicence {
  licence: LicenceRecord;
  issuer: Issuer;
}

/**
 * The licences a signed-in person may see and show: their own, plus, while they act for an entity
 * whose licences their role covers (the legal representative, or an agent with scope `licences`), the
 * entity's. The right to act is checked now, not when the token was issued.
 *
 * @example
 * ```ts
 * const held = await holderLicences(parseAccountId(caller.accountId), deps);
 * ```
 */
export async function holderLicences(
  subject: SessionSubject,
  deps: HolderDependencies,
): Promise<HeldLicence[]> {
  const person = await findPersonById(subject.personId, deps);
  if (!person) throw new ServiceError('account_not_found', 403, 'The signed-in account no longer exists');
  const holderKeys = [person.lookupKey];
  if (subject.kind === 'entity') {
    const entity = await findEntityById(subject.entityId, deps);
    const authority =
      entity && (await canActFor(person, entity.creditCode, new Date(deps.clock.now()), deps));
    if (entity && authority?.scope.includes('licences')) holderKeys.push(entity.lookupKey);
  }
  const licences = (await Promise.all(holderKeys.map((key) => deps.licences.listByHolder(key)))).flat();
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

/**
 * The lookup keys of the holders whose licences the signed-in person may see and show: their own, and
 * the entity's while they act for it with a role that covers licences. Checked now, not at sign-in.
 */
export async function holderLookupKeys(subject: SessionSubject, deps: HolderDependencies): Promise<string[]> {
  const person = await findPersonById(subject.personId, deps);
  if (!person) throw new ServiceError('account_not_found', 403, 'The signed-in account no longer exists');
  const keys = [person.lookupKey];
  if (subject.kind === 'entity') {
    const entity = await findEntityById(subject.entityId, deps);
    const authority =
      entity && (await canActFor(person, entity.creditCode, new Date(deps.clock.now()), deps));
    if (entity && authority?.scope.includes('licences')) keys.push(entity.lookupKey);
  }
  return keys;
}

/** One of the licences {@link holderLicences} lists; any other is not found. */
export async function holderLicence(
  id: string,
  subject: SessionSubject,
  deps: HolderDependencies,
): Promise<HeldLicence> {
  const found = (await holderLicences(subject, deps)).find((held) => held.licence.id === id);
  if (!found) throw new NotFoundError(`No licence ${id} of yours`, 'licence_not_found');
  return found;
}
