import { InvalidInputError } from '../errors.js';
import type {
  ActingRight,
  DirectoryEntity,
  DirectoryPerson,
  EntitySignInRight,
  IdentityDirectory,
  LoginOutcome,
  SignInAt,
} from './identity-directory.js';
import { acrOf, assuranceLevelOf, passwordSignInLevel } from './assurance.js';
import { parseCreditCode } from '../identifiers/credit-code.js';
import type { ActingAuthority, EntityAccount } from './entity-account.js';
import {
  canActFor,
  canSignInAs,
  ensureEntityAccount,
  signInEntitiesFor,
  type EntityDependencies,
} from './entities.js';
import type { PersonAccount } from './person-account.js';
import type { PiiCipher } from './pii-cipher.js';
import {
  findPersonById,
  personIdNumber,
  verifyPassword,
  type VerifyPasswordDependencies,
} from './verify-password.js';

export type AccountsDirectoryDependencies = VerifyPasswordDependencies &
  EntityDependencies & { pii: PiiCipher };

const toPerson = (account: PersonAccount): DirectoryPerson => ({
  id: account.id,
  name: account.name,
  acr: acrOf(passwordSignInLevel(account)),
  accountAcr: acrOf(assuranceLevelOf(account)),
  version: account.version,
  ...(account.signInsEnded && { signInsEnded: account.signInsEnded }),
  ...(account.proofCleanup?.passkeysBefore !== undefined && {
    passkeysOwedBefore: account.proofCleanup.passkeysBefore,
  }),
});

const toEntity = (entity: EntityAccount): DirectoryEntity => ({
  id: entity.id,
  creditCode: entity.creditCode,
  name: entity.name,
});

/** The representative may do everything, which the OpenID side reads as "no scope limit". */
const toRight = (authority: ActingAuthority): ActingRight =>
  authority.role === 'agent'
    ? {
        role: 'agent',
        scope: [...authority.scope],
        expiresAt: authority.expiresAt,
        agentId: authority.agentId,
      }
    : { role: 'legal_representative', term: authority.term };

/** A malformed credit code from a form is simply not one the person may act for. */
function isClientError(error: unknown): boolean {
  return error instanceof InvalidInputError;
}

/**
 * The OpenID provider's {@link IdentityDirectory}, answered by the accounts domain: people by opaque
 * id, passwords through {@link verifyPassword} (throttled, indistinguishable), and acting rights
 * through {@link canActFor}, {@link canSignInAs} and {@link signInEntitiesFor}, asked afresh at every call.
 *
 * @example
 * ```ts
 * const provider = createProvider({ …, directory: new AccountsDirectory(deps) });
 * ```
 */
export class AccountsDirectory implements IdentityDirectory {
  constructor(private readonly deps: AccountsDirectoryDependencies) {}

  async checkPassword(input: { idNumber: string; password: string; source: string }): Promise<LoginOutcome> {
    const result = await verifyPassword(input, this.deps);
    return result.ok ? { ok: true, person: toPerson(result.account) } : result;
  }

  async findPerson(id: string): Promise<DirectoryPerson | undefined> {
    const account = await findPersonById(id, this.deps);
    return account && toPerson(account);
  }

  async personIdNumber(id: string): Promise<{ idNumber: string; lookupKey: string } | undefined> {
    const account = await findPersonById(id, this.deps);
    return account && { idNumber: await personIdNumber(account, this.deps), lookupKey: account.lookupKey };
  }

  async entitiesFor(personId: string, at: SignInAt): Promise<Array<DirectoryEntity & EntitySignInRight>> {
    const account = await findPersonById(personId, this.deps);
    if (!account) return [];
    const authorities = await signInEntitiesFor(account, at, this.#now(), this.deps);
    return authorities.map((authority) => ({
      ...toEntity(authority.entity),
      ...toRight(authority),
      stepUp: authority.stepUp,
    }));
  }

  async signInAs(personId: string, creditCode: string, at: SignInAt): Promise<EntitySignInRight | undefined> {
    const account = await findPersonById(personId, this.deps);
    if (!account) return undefined;
    try {
      const authority = await canSignInAs(account, creditCode, at, this.#now(), this.deps);
      return authority && { ...toRight(authority), stepUp: authority.stepUp };
    } catch (error) {
      if (isClientError(error)) return undefined;
      throw error;
    }
  }

  async canActFor(personId: string, creditCode: string): Promise<ActingRight | undefined> {
    const account = await findPersonById(personId, this.deps);
    if (!account) return undefined;
    try {
      const authority = await canActFor(account, creditCode, this.#now(), this.deps);
      return authority && toRight(authority);
    } catch (error) {
      if (isClientError(error)) return undefined;
      throw error;
    }
  }

  async findEntity(id: string): Promise<DirectoryEntity | undefined> {
    const entity = await this.deps.entities.findEntityById(id);
    return entity && toEntity(entity);
  }

  /**
   * The entity's account; made here on first use only for an entity the registry knows (its name comes
   * from there). {@link canActFor} makes it for entities proven by a business licence.
   */
  async entityAccount(creditCode: string): Promise<DirectoryEntity | undefined> {
    let code;
    try {
      code = parseCreditCode(creditCode);
    } catch (error) {
      if (isClientError(error)) return undefined;
      throw error;
    }
    const existing = await this.deps.entities.findEntityByCreditCode(code);
    if (existing) return toEntity(existing);
    const registered = await this.deps.registry.findEntity(code);
    return (
      registered &&
      toEntity(await ensureEntityAccount({ creditCode: code, name: registered.name }, this.deps))
    );
  }

  #now(): Date {
    return new Date(this.deps.clock.now());
  }
}
