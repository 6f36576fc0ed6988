import { randomBytes } from 'node:crypto';
import {
  entryCursor,
  listPlace,
  pageStart,
  positionOfCursor,
  type AuditEntry,
  type AuditPageRequest,
  type AuditTrail,
  type LicenceAuditPage,
  type LicenceAuditPages,
  type RecordOnce,
} from '../../shared/audit/audit-trail.js';
import {
  actionsOf,
  positionOf,
  usageCursor,
  type UsagePage,
  type UsagePageRequest,
  type UsageRecord,
} from '../../shared/licence/usage-record.js';
import type { Clock } from '../../shared/clock.js';
import { ConflictError, NotFoundError } from '../../shared/errors.js';
import { visible, type AccountStore, type FindOptions } from '../../shared/identity/account-store.js';
import type { AgentAppointment, EntityAccount } from '../../shared/identity/entity-account.js';
import type { EntityStore } from '../../shared/identity/entity-store.js';
import {
  creditCodeCheckCharacter,
  organisationCodeCheckCharacter,
} from '../../shared/identifiers/credit-code.js';
import { idNumberCheckCharacter } from '../../shared/identifiers/id-number.js';
import type {
  AttemptCounter,
  ClaimOutcome,
  CounterClaim,
  CounterForgiveness,
  LoginAttemptStore,
} from '../../shared/identity/login-throttle.js';
import type { PasswordHasher } from '../../shared/identity/password-hasher.js';
import type { PersonAccount } from '../../shared/identity/person-account.js';
import type { PiiCipher } from '../../shared/identity/pii-cipher.js';
import type {
  EntityRegistry,
  ExpectedRepresentative,
  PopulationRegistry,
  RegisteredEntity,
  RegisteredEntityRecord,
  RegisteredPerson,
} from '../../shared/identity/registry.js';
import { randomId } from '../../shared/random-id.js';
import type { Issuer } from '../../shared/issuers/issuer.js';
import type { LicenceRecord } from '../../shared/licence/licence.js';
import type { Trace } from '../../shared/pending-work/pending-work.js';
import { InMemoryPendingWork } from './in-memory-licence.js';

/** A clock that moves only when told. */
export class TestClock implements Clock {
  constructor(private ms = Date.parse('2026-03-01T08:00:00Z')) {}
  now(): number {
    return this.ms;
  }
  advanceSeconds(seconds: number): void {
    this.ms += seconds * 1000;
  }
}

let sequence = 0;
/** A fresh valid resident ID number (Shanghai Xuhui, born 1990), unlike any earlier one in the process. */
export function newIdNumber(): string {
  sequence += 1;
  const day = String(1 + (sequence % 28)).padStart(2, '0');
  const month = String(1 + (Math.floor(sequence / 28) % 12)).padStart(2, '0');
  const first17 = `310104${1950 + (Math.floor(sequence / 336) % 50)}${month}${day}${String(sequence % 1000).padStart(3, '0')}`;
  return `${first17}${idNumberCheckCharacter(first17)}`;
}

/**
 * The {@link AccountStore} contract in memory; an account created, saved or removed with its trace keeps
 * the pointer in `pendingAudit` (the index of the function's changes: on DynamoDB the trace's group says
 * which).
 */
export class InMemoryAccountStore implements AccountStore {
  constructor(readonly pendingAudit = new InMemoryPendingWork()) {}

  readonly byLookupKey = new Map<string, PersonAccount>();
  lookups = 0;

  async create(account: PersonAccount, trace?: Trace): Promise<PersonAccount> {
    if (this.byLookupKey.has(account.lookupKey)) {
      throw new ConflictError('An account with this ID number already exists', 'account_exists');
    }
    const created = { ...account, version: 1 };
    this.byLookupKey.set(account.lookupKey, created);
    // All or nothing, as one transaction: the pointer only with the account's claim.
    if (trace) this.pendingAudit.keepTrace(trace);
    return created;
  }

  async save(account: PersonAccount, trace?: Trace): Promise<PersonAccount> {
    if (this.byLookupKey.get(account.lookupKey)?.version !== account.version)
      throw new ConflictError('The account changed meanwhile; try again', 'account_changed');
    const saved = { ...account, version: account.version + 1 };
    this.byLookupKey.set(account.lookupKey, saved);
    // All or nothing, as one transaction: the pointer only with the account's write.
    if (trace) this.pendingAudit.keepTrace(trace);
    return saved;
  }

  async findByLookupKey(lookupKey: string, options: FindOptions = {}): Promise<PersonAccount | undefined> {
    this.lookups += 1;
    const account = this.byLookupKey.get(lookupKey);
    return visible(account, options) ? account : undefined;
  }

  async findById(id: string, options: FindOptions = {}): Promise<PersonAccount | undefined> {
    const account = [...this.byLookupKey.values()].find((candidate) => candidate.id === id);
    return visible(account, options) ? account : undefined;
  }

  /** Given, the next removal fails with it, nothing written (a transaction DynamoDB refused or never answered). */
  failNextRemoval: Error | undefined;

  async remove(account: Pick<PersonAccount, 'id' | 'lookupKey'>, trace?: Trace): Promise<void> {
    if (this.failNextRemoval) {
      const error = this.failNextRemoval;
      this.failNextRemoval = undefined;
      throw error;
    }
    if (this.byLookupKey.get(account.lookupKey)?.id !== account.id) {
      throw new NotFoundError('The account no longer exists', 'account_not_found');
    }
    this.byLookupKey.delete(account.lookupKey);
    if (trace) this.pendingAudit.keepTrace(trace);
  }
}

/** The store contract in memory, `expiresAt` included. */
export class InMemoryLoginAttemptStore implements LoginAttemptStore {
  readonly counters = new Map<string, AttemptCounter & { expiresAt: number }>();
  writes = 0;
  reads = 0;

  async read(key: string, nowSeconds: number): Promise<AttemptCounter | undefined> {
    this.reads += 1;
    return this.#live(key, nowSeconds);
  }

  #live(key: string, nowSeconds: number): AttemptCounter | undefined {
    const counter = this.counters.get(key);
    if (!counter || counter.expiresAt <= nowSeconds) return undefined;
    return { failures: counter.failures, lastFailureAt: counter.lastFailureAt };
  }

  async replace(
    key: string,
    expected: AttemptCounter | undefined,
    next: AttemptCounter,
    expiresAt: number,
    nowSeconds: number,
  ): Promise<boolean> {
    // Asynchronous like a real store, so that concurrent attempts interleave between read and write.
    await Promise.resolve();
    this.writes += 1;
    // Compared and written in one synchronous step: the conditional write is atomic.
    const current = this.#live(key, nowSeconds);
    const same =
      expected === undefined
        ? current === undefined
        : current?.failures === expected.failures && current.lastFailureAt === expected.lastFailureAt;
    if (!same) return false;
    this.counters.set(key, { ...next, expiresAt });
    return true;
  }

  /** All or none, compared and written in one synchronous step (a transaction); one write however many. */
  async claimAll(claims: readonly CounterClaim[], nowSeconds: number): Promise<ClaimOutcome> {
    await Promise.resolve();
    this.writes += 1;
    const current = new Map<number, AttemptCounter | undefined>();
    claims.forEach(({ key, expected }, i) => {
      const live = this.#live(key, nowSeconds);
      const same =
        expected === undefined
          ? live === undefined
          : live?.failures === expected.failures && live.lastFailureAt === expected.lastFailureAt;
      if (!same) current.set(i, live);
    });
    if (current.size > 0) return { claimed: false, current };
    for (const { key, next, expiresAt } of claims) this.counters.set(key, { ...next, expiresAt });
    return { claimed: true };
  }

  /** Each counter cleared or forgiven as {@link forgiveOne}, in one synchronous step: one write. */
  async forgiveAll(entries: readonly CounterForgiveness[], nowSeconds: number): Promise<void> {
    this.writes += 1;
    for (const { key, clear } of entries) {
      if (clear) this.counters.delete(key);
      else this.#forgive(key, nowSeconds);
    }
  }

  async forgiveOne(key: string, nowSeconds: number): Promise<void> {
    this.writes += 1;
    this.#forgive(key, nowSeconds);
  }

  #forgive(key: string, nowSeconds: number): void {
    const counter = this.counters.get(key);
    if (counter && counter.failures <= 1) this.counters.delete(key);
    else if (counter && counter.expiresAt > nowSeconds && counter.failures > 0) counter.failures -= 1;
  }

  async clear(key: string): Promise<void> {
    this.writes += 1;
    this.counters.delete(key);
  }

  async countFailure(key: string, nowSeconds: number, expiresAt: number): Promise<void> {
    await Promise.resolve();
    this.writes += 1;
    // Read and written in one synchronous step: the add is atomic.
    const failures = (this.#live(key, nowSeconds)?.failures ?? 0) + 1;
    this.counters.set(key, { failures, lastFailureAt: nowSeconds, expiresAt });
  }

  async addFailures(key: string, amount: number, nowSeconds: number, expiresAt: number): Promise<void> {
    await Promise.resolve();
    this.writes += 1;
    // As DynamoDB's ADD: an item kept past its expiry (until TTL removes it) is added to, not restarted.
    const counter = this.counters.get(key);
    if (counter) counter.failures += amount;
    else this.counters.set(key, { failures: amount, lastFailureAt: nowSeconds, expiresAt });
  }
}

/**
 * A fast stand-in for scrypt that keeps the contract: `fake$<cost>$<password>`; counts every check so
 * that tests can see that a missing account costs a check too.
 */
export class FakePasswordHasher implements PasswordHasher {
  verifications: string[] = [];
  constructor(private readonly cost = 2) {}

  async hash(password: string): Promise<string> {
    return `fake$${this.cost}$${password}`;
  }

  async verify(password: string, encoded: string): Promise<boolean> {
    this.verifications.push(encoded);
    const [, , stored] = /^fake\$(\d+)\$(.*)$/s.exec(encoded) ?? [];
    if (stored === undefined) throw new Error('not a fake hash');
    return stored === password;
  }

  needsRehash(encoded: string): boolean {
    return Number(encoded.split('$')[1]) < this.cost;
  }

  dummyHash(): string {
    return `fake$${this.cost}$\u0000no password matches`;
  }
}

/** Reversible "encryption" that, like KMS, refuses a ciphertext under another context. */
export class FakePiiCipher implements PiiCipher {
  async encrypt(plaintext: string, context: Record<string, string>): Promise<string> {
    return Buffer.from(JSON.stringify({ plaintext, context })).toString('base64');
  }

  async decrypt(ciphertext: string, context: Record<string, string>): Promise<string> {
    const sealed = JSON.parse(Buffer.from(ciphertext, 'base64').toString()) as {
      plaintext: string;
      context: Record<string, string>;
    };
    if (JSON.stringify(sealed.context) !== JSON.stringify(context))
      throw new Error('InvalidCiphertextException');
    return sealed.plaintext;
  }
}

export class InMemoryRegistry implements PopulationRegistry, EntityRegistry {
  /** `pendingAudit`: the index a change of representative's trace is kept in (the accounts function's). */
  constructor(readonly pendingAudit = new InMemoryPendingWork()) {}

  readonly people = new Map<string, RegisteredPerson>();
  readonly entities = new Map<string, RegisteredEntity>();

  async findPerson(lookupKey: string): Promise<RegisteredPerson | undefined> {
    return this.people.get(lookupKey);
  }

  async findEntity(creditCode: string): Promise<RegisteredEntity | undefined> {
    return this.entities.get(creditCode);
  }

  async entitiesRepresentedBy(lookupKey: string): Promise<RegisteredEntity[]> {
    return [...this.entities.values()].filter((entity) => entity.representativeLookupKey === lookupKey);
  }

  /** Records a person, as the seed fills `DynamoRegistry`. */
  async putPerson(person: RegisteredPerson): Promise<void> {
    this.people.set(person.lookupKey, person);
  }

  /**
   * As `DynamoRegistry`: a new representative starts a new term, the same one keeps the one recorded (none,
   * `''`, on a record written before terms).
   */
  async putEntity(
    entity: RegisteredEntityRecord,
    expected?: ExpectedRepresentative,
  ): Promise<RegisteredEntity> {
    const current = this.entities.get(entity.creditCode);
    if (expected && current?.representativeLookupKey !== expected.representativeLookupKey)
      throw new ConflictError('The entity was recorded concurrently; record it again', 'registry_conflict');
    const recorded: RegisteredEntity = {
      ...entity,
      representativeTerm:
        current?.representativeLookupKey === entity.representativeLookupKey
          ? current.representativeTerm
          : randomId('rt'),
    };
    this.entities.set(entity.creditCode, recorded);
    return recorded;
  }

  /** As `DynamoRegistry`: conditional on the record still naming `from`'s representative and term. */
  async changeRepresentative(
    from: RegisteredEntity,
    to: RegisteredEntity,
    trace: Trace,
  ): Promise<RegisteredEntity> {
    const current = this.entities.get(from.creditCode);
    if (
      current?.representativeLookupKey !== from.representativeLookupKey ||
      current.representativeTerm !== from.representativeTerm
    )
      throw new ConflictError('The entity was recorded concurrently; record it again', 'registry_conflict');
    this.entities.set(to.creditCode, to);
    // All or nothing, as one transaction: the pointer only with the change's write.
    this.pendingAudit.keepTrace(trace);
    return to;
  }
}

/**
 * The {@link EntityStore} contract in memory; an appointment or withdrawal saved with its trace keeps the
 * pointer in `pendingAudit` (the index of the accounts function's changes, for the use cases and the
 * reconciler).
 */
export class InMemoryEntityStore implements EntityStore {
  constructor(readonly pendingAudit = new InMemoryPendingWork()) {}

  readonly entities = new Map<string, EntityAccount>();
  readonly appointments = new Map<string, AgentAppointment>();
  /** Makes the next `createEntity` lose a race to `entity` (written just before). */
  raceWith: EntityAccount | undefined;

  async createEntity(entity: EntityAccount): Promise<EntityAccount> {
    if (this.raceWith) {
      this.entities.set(this.raceWith.creditCode, this.raceWith);
      this.raceWith = undefined;
    }
    if (this.entities.has(entity.creditCode)) throw new ConflictError('exists', 'entity_exists');
    this.entities.set(entity.creditCode, entity);
    return entity;
  }

  async findEntityByCreditCode(creditCode: string): Promise<EntityAccount | undefined> {
    return this.entities.get(creditCode);
  }

  async findEntityById(id: string): Promise<EntityAccount | undefined> {
    return [...this.entities.values()].find((entity) => entity.id === id);
  }

  async appoint(appointment: AgentAppointment, now: Date, trace?: Trace): Promise<AgentAppointment> {
    const key = `${appointment.creditCode}/${appointment.personLookupKey}`;
    const current = this.appointments.get(key);
    if (
      current &&
      current.status === 'active' &&
      Date.parse(current.validUntil) > now.getTime() &&
      current.appointedByLookupKey !== undefined &&
      current.appointedByLookupKey === appointment.appointedByLookupKey &&
      (current.appointerTerm ?? '') === (appointment.appointerTerm ?? '')
    ) {
      throw new ConflictError('in force', 'agent_exists');
    }
    const written = { ...appointment, version: 1 };
    this.appointments.set(key, written);
    // All or nothing, as one transaction: the pointer only with the appointment's write.
    if (trace) this.pendingAudit.keepTrace(trace);
    return written;
  }

  async saveAppointment(appointment: AgentAppointment, trace?: Trace): Promise<AgentAppointment> {
    const key = `${appointment.creditCode}/${appointment.personLookupKey}`;
    if (this.appointments.get(key)?.version !== appointment.version)
      throw new ConflictError('The appointment changed meanwhile; try again', 'agent_changed');
    const saved = { ...appointment, version: appointment.version + 1 };
    this.appointments.set(key, saved);
    if (trace) this.pendingAudit.keepTrace(trace);
    return saved;
  }

  async findAppointment(creditCode: string, personLookupKey: string): Promise<AgentAppointment | undefined> {
    return this.appointments.get(`${creditCode}/${personLookupKey}`);
  }

  async appointmentsOf(creditCode: string): Promise<AgentAppointment[]> {
    return [...this.appointments.values()].filter((a) => a.creditCode === creditCode);
  }

  async appointmentsFor(personLookupKey: string): Promise<AgentAppointment[]> {
    return [...this.appointments.values()].filter((a) => a.personLookupKey === personLookupKey);
  }
}

/** Licences by holder lookup key, newest first as the real store lists them. */
export class InMemoryLicences {
  readonly licences: LicenceRecord[] = [];
  async listByHolder(holderLookupKey: string): Promise<LicenceRecord[]> {
    return this.licences
      .filter((licence) => licence.holder.lookupKey === holderLookupKey)
      .sort((a, b) => b.issuedAt.localeCompare(a.issuedAt));
  }
}

export class InMemoryIssuers {
  readonly issuers = new Map<string, Pick<Issuer, 'id' | 'status'>>();
  async findById(id: string): Promise<Issuer | undefined> {
    return this.issuers.get(id) as Issuer | undefined;
  }
}

export class InMemoryAudit implements AuditTrail, LicenceAuditPages, UsageRecord {
  readonly entries: AuditEntry[] = [];
  /** Each entry's position (`<at>#<id>`), as `DynamoAuditTrail` sorts it: the usage record's order. */
  readonly #positions = new Map<AuditEntry, string>();
  /** The keys entries were recorded once under (`RecordOnce`): a second record under one is a no-op. */
  readonly #keys = new Set<string>();
  async record(entry: AuditEntry, once?: RecordOnce): Promise<void> {
    if (once) {
      if (this.#keys.has(once.key)) return;
      this.#keys.add(once.key);
    }
    const stored = { ...entry };
    this.entries.push(stored);
    this.#positions.set(stored, `${entry.at}#audit_${randomBytes(12).toString('base64url')}`);
  }
  /** Newest first, across the holders given; the cursor continues after the last entry answered. */
  async forHolders(holderKeys: readonly string[], page: UsagePageRequest): Promise<UsagePage> {
    const before = page.cursor === undefined ? undefined : positionOf(page.cursor);
    const matching = this.entries
      .filter((entry) => entry.holderKey !== undefined && holderKeys.includes(entry.holderKey))
      .filter((entry) => {
        const actions = actionsOf(page);
        return actions === undefined || actions.includes(entry.action);
      })
      .map((entry) => ({ entry, position: this.#positions.get(entry) ?? '' }))
      .filter(({ position }) => before === undefined || position < before)
      .sort((a, b) => (a.position < b.position ? 1 : -1));
    const items = matching.slice(0, page.limit);
    const last = items.at(-1);
    return {
      items: items.map(({ entry }) => ({ ...entry })),
      ...(matching.length > page.limit && last ? { cursor: usageCursor(last.position) } : {}),
    };
  }
  /**
   * Oldest first, as the table's index orders them (by `at`; entries of one instant as written); the
   * cursor continues after the last entry answered.
   */
  async licencePage(licenceId: string, page: AuditPageRequest): Promise<LicenceAuditPage> {
    const after = page.cursor === undefined ? undefined : positionOfCursor(page.cursor);
    const all = this.entries
      .filter((entry) => entry.licenceId === licenceId)
      .sort((a, b) => a.at.localeCompare(b.at));
    const from = after === undefined ? 0 : all.findIndex((entry) => this.#positions.get(entry) === after) + 1;
    const items = from === 0 && after !== undefined ? [] : all.slice(from, from + page.limit);
    const last = items.at(-1);
    return {
      items: items.map((entry) => ({ ...entry })),
      positions: items.map((entry) => listPlace(this.#positions.get(entry)!)),
      ...(from + page.limit < all.length && last ? { cursor: entryCursor(this.#positions.get(last)!) } : {}),
      ...(after === undefined ? {} : { after: pageStart(after, from > 0 ? { ...all[from - 1]! } : null) }),
    };
  }
}

/** {@link InMemoryAudit} whose next `failures` writes fail, as an audit table that does not answer would. */
export class FailingAudit extends InMemoryAudit {
  failures = 0;

  override async record(entry: AuditEntry, once?: RecordOnce): Promise<void> {
    if (this.failures > 0) {
      this.failures -= 1;
      throw new Error('audit table unavailable');
    }
    await super.record(entry, once);
  }
}

const creditAlphabet = '0123456789ABCDEFGHJKLMNPQRTUWXY';
let entitySequence = 0;
/** A fresh valid unified social credit code of a company (`91`) in Beijing. */
export function newCreditCode(): string {
  entitySequence += 1;
  const body = `MA${String(entitySequence).padStart(6, '0')}`
    .split('')
    .map((c) => (creditAlphabet.includes(c) ? c : '0'))
    .join('');
  const first17 = `91110105${body}${organisationCodeCheckCharacter(body)}`;
  return `${first17}${creditCodeCheckCharacter(first17)}`;
}
