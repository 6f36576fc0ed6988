import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestTable, type TestTable } from '../../support/dynamo-table.js';
import { ConflictError } from '../../../shared/errors.js';
import { DynamoAccountStore } from '../../../shared/adapters/dynamo/account-store.js';
import { DynamoEntityStore } from '../../../shared/adapters/dynamo/entity-store.js';
import { DynamoLoginAttemptStore } from '../../../shared/adapters/dynamo/login-attempt-store.js';
import { keys } from '../../../shared/adapters/dynamo/keys.js';
import { DynamoPendingWork } from '../../../shared/adapters/dynamo/pending-work.js';
import { DynamoRegistry } from '../../../shared/adapters/dynamo/registry.js';
import { standsOn } from '../../../shared/identifiers/account-id.js';
import type { AgentAppointment } from '../../../shared/identity/entity-account.js';
import { LoginThrottle } from '../../../shared/identity/login-throttle.js';
import type { PersonAccount } from '../../../shared/identity/person-account.js';
import { randomId } from '../../../shared/random-id.js';
import { newCreditCode, TestClock } from '../../support/in-memory-identity.js';

const tableName = 'identity-stores';

describe('identity stores on DynamoDB (dynalite)', () => {
  let table: TestTable;
  let doc: DynamoDBDocumentClient;

  beforeAll(async () => {
    table = await startTestTable(tableName);
    doc = table.doc;
  });

  afterAll(async () => {
    await table?.close();
  });

  const account = (overrides: Partial<PersonAccount> = {}): PersonAccount => ({
    id: randomId('acc'),
    lookupKey: randomId('lk'),
    masked: '110105********1239',
    idNumberEncrypted: 'c2VhbGVk',
    name: '王小明',
    passwordHash: '$scrypt$…',
    assurance: 'registry-verified',
    createdAt: '2026-03-01T08:00:00.000Z',
    version: 0,
    ...overrides,
  });

  describe('accounts', () => {
    it('creates one account per lookup key, also under concurrency, and finds it by id', async () => {
      const store = new DynamoAccountStore(doc, tableName);
      const lookupKey = randomId('lk');
      const contenders = Array.from({ length: 5 }, () => account({ lookupKey }));
      const outcomes = await Promise.allSettled(contenders.map((a) => store.create(a)));
      const won = outcomes.filter((o) => o.status === 'fulfilled');
      expect(won).toHaveLength(1);
      for (const lost of outcomes.filter((o) => o.status === 'rejected')) {
        expect(lost.reason).toBeInstanceOf(ConflictError);
        expect(lost.reason).toMatchObject({ code: 'account_exists', kind: 'conflict' });
      }
      const winner = (won[0] as PromiseFulfilledResult<PersonAccount>).value;
      expect(await store.findById(winner.id)).toEqual(winner);
      expect(await store.findByLookupKey(lookupKey)).toEqual(winner);
      expect(await store.findById('acc_unknown')).toBeUndefined();
      expect(await store.findById('not-an-id')).toBeUndefined();
    });

    it('saves under optimistic concurrency', async () => {
      const store = new DynamoAccountStore(doc, tableName);
      const created = await store.create(account());
      const saved = await store.save({ ...created, passwordHash: 'new' });
      expect(saved).toMatchObject({ version: 2, passwordHash: 'new' });
      await expect(store.save({ ...created, passwordHash: 'stale' })).rejects.toMatchObject({
        code: 'account_changed',
      });
    });
  });

  describe('login attempt counters', () => {
    it('compare and set, expire on read, forgive one atomically, and clear', async () => {
      const store = new DynamoLoginAttemptStore(doc, tableName);
      const key = randomId('account');
      expect(await store.read(key, 1000)).toBeUndefined();
      expect(await store.replace(key, undefined, { failures: 1, lastFailureAt: 1000 }, 4600, 1000)).toBe(
        true,
      );
      expect(await store.replace(key, undefined, { failures: 1, lastFailureAt: 1000 }, 4600, 1000)).toBe(
        false,
      );
      const first = { failures: 1, lastFailureAt: 1000 };
      expect(await store.replace(key, first, { failures: 2, lastFailureAt: 1001 }, 4601, 1001)).toBe(true);
      expect(await store.replace(key, first, { failures: 2, lastFailureAt: 1001 }, 4601, 1001)).toBe(false);
      await store.forgiveOne(key, 1002);
      expect(await store.read(key, 1002)).toEqual({ failures: 1, lastFailureAt: 1001 });
      // Past its expiry the counter reads as absent and may be started afresh.
      expect(await store.read(key, 4601)).toBeUndefined();
      expect(await store.replace(key, undefined, { failures: 1, lastFailureAt: 4601 }, 8201, 4601)).toBe(
        true,
      );
      await store.clear(key);
      expect(await store.read(key, 4601)).toBeUndefined();
      await store.forgiveOne(key, 4601);
      expect(await store.read(key, 4601)).toBeUndefined();
    });

    it('let at most the free failures through a burst of parallel attempts', async () => {
      const throttle = new LoginThrottle(new DynamoLoginAttemptStore(doc, tableName), new TestClock());
      const key = { kind: 'pair' as const, key: randomId('burst') };
      const outcomes = await Promise.all(Array.from({ length: 30 }, () => throttle.admit([key])));
      expect(outcomes.filter((o) => o.admitted).length).toBeLessThanOrEqual(5);
      expect(outcomes.filter((o) => o.admitted).length).toBeGreaterThanOrEqual(1);
    });

    it('throttle across calls with growing delays, and forget after the window', async () => {
      const clock = new TestClock();
      const throttle = new LoginThrottle(new DynamoLoginAttemptStore(doc, tableName), clock);
      const key = { kind: 'pair' as const, key: randomId('grow') };
      for (let i = 0; i < 5; i++) expect((await throttle.admit([key])).admitted).toBe(true);
      const waits = [];
      for (let i = 0; i < 4; i++) {
        const refused = await throttle.admit([key]);
        if (refused.admitted) throw new Error('expected a wait');
        waits.push(refused.retryAfterSeconds);
        clock.advanceSeconds(refused.retryAfterSeconds);
        expect((await throttle.admit([key])).admitted).toBe(true);
      }
      expect(waits).toEqual([1, 2, 4, 8]);
      clock.advanceSeconds(3600);
      expect((await throttle.admit([key])).admitted).toBe(true);
    });
  });

  describe('entities and agents', () => {
    const appointment = (creditCode: string, personLookupKey: string): AgentAppointment => ({
      agentId: randomId('agt'),
      creditCode,
      personLookupKey,
      masked: '310104********0248',
      scope: ['licences'],
      validUntil: '2026-06-01T00:00:00.000Z',
      status: 'active',
      appointedAt: '2026-03-01T08:00:00.000Z',
      appointedBy: 'acc_rep',
      appointedByLookupKey: 'rep-lookup-key',
      version: 0,
    });

    it('keep one entity account per credit code, found by id', async () => {
      const store = new DynamoEntityStore(doc, tableName);
      const creditCode = newCreditCode();
      const entity = { id: randomId('ent'), creditCode, lookupKey: 'k', name: 'N', createdAt: '' };
      await store.createEntity(entity);
      await expect(store.createEntity({ ...entity, id: randomId('ent') })).rejects.toBeInstanceOf(
        ConflictError,
      );
      expect(await store.findEntityById(entity.id)).toEqual(entity);
      expect(await store.findEntityByCreditCode(creditCode)).toEqual(entity);
    });

    it('keep one appointment in force per person and entity, replaceable once withdrawn or lapsed', async () => {
      const store = new DynamoEntityStore(doc, tableName);
      const creditCode = newCreditCode();
      const person = randomId('lk');
      const before = new Date('2026-03-02T00:00:00Z');
      const first = await store.appoint(appointment(creditCode, person), before);
      await expect(store.appoint(appointment(creditCode, person), before)).rejects.toMatchObject({
        code: 'agent_exists',
      });
      // Lapsed: a new appointment replaces it.
      const second = await store.appoint(appointment(creditCode, person), new Date('2026-06-01T00:00:00Z'));
      expect(second.agentId).not.toBe(first.agentId);
      const withdrawn = await store.saveAppointment({ ...second, status: 'withdrawn' });
      expect(withdrawn.version).toBe(2);
      await expect(store.saveAppointment({ ...second, status: 'withdrawn' })).rejects.toMatchObject({
        code: 'agent_changed',
      });
      const third = await store.appoint(appointment(creditCode, person), before);
      expect(await store.findAppointment(creditCode, person)).toEqual(third);
      expect(await store.appointmentsOf(creditCode)).toEqual([third]);
      expect(await store.appointmentsFor(person)).toEqual([third]);
    });

    it('let the representative of today replace an appointment another appointer made', async () => {
      const store = new DynamoEntityStore(doc, tableName);
      const creditCode = newCreditCode();
      const person = randomId('lk');
      const at = new Date('2026-03-02T00:00:00Z');
      const { appointedByLookupKey: _recorded, ...unrecorded } = appointment(creditCode, person);
      await store.appoint(unrecorded, at);
      const byToday = await store.appoint(appointment(creditCode, person), at);
      await expect(store.appoint(appointment(creditCode, person), at)).rejects.toMatchObject({
        code: 'agent_exists',
      });
      const bySuccessor = await store.appoint(
        { ...appointment(creditCode, person), appointedByLookupKey: 'successor' },
        at,
      );
      expect(bySuccessor.agentId).not.toBe(byToday.agentId);
      expect(await store.findAppointment(creditCode, person)).toEqual(bySuccessor);
    });

    it('let the representative replace their own appointment of a former term, and no other', async () => {
      const store = new DynamoEntityStore(doc, tableName);
      const creditCode = newCreditCode();
      const person = randomId('lk');
      const at = new Date('2026-03-02T00:00:00Z');
      // Made before terms (no `appointerTerm`): in force for the same appointer while the record has none.
      await store.appoint(appointment(creditCode, person), at);
      await expect(store.appoint(appointment(creditCode, person), at)).rejects.toMatchObject({
        code: 'agent_exists',
      });
      const inTerm = await store.appoint({ ...appointment(creditCode, person), appointerTerm: 'rt_1' }, at);
      await expect(
        store.appoint({ ...appointment(creditCode, person), appointerTerm: 'rt_1' }, at),
      ).rejects.toMatchObject({ code: 'agent_exists' });
      // Named representative again since (another term): their appointment of the former one is replaced.
      const nextTerm = await store.appoint({ ...appointment(creditCode, person), appointerTerm: 'rt_2' }, at);
      expect(nextTerm.agentId).not.toBe(inTerm.agentId);
      expect(await store.findAppointment(creditCode, person)).toEqual(nextTerm);
    });

    it('find registry entities by their representative, and not once the representative changed', async () => {
      const registry = new DynamoRegistry(doc, tableName);
      const creditCode = newCreditCode();
      const entity = { creditCode, name: 'E', representativeLookupKey: 'rep-1', representativeMasked: 'm' };
      const first = await registry.putEntity(entity);
      expect(first).toEqual({ ...entity, representativeTerm: expect.any(String) });
      expect(await registry.entitiesRepresentedBy('rep-1')).toEqual([first]);
      const second = await registry.putEntity({ ...entity, representativeLookupKey: 'rep-2' });
      expect(second.representativeTerm).not.toBe(first.representativeTerm);
      expect(await registry.entitiesRepresentedBy('rep-1')).toEqual([]);
      expect(await registry.entitiesRepresentedBy('rep-2')).toEqual([second]);
    });

    it('record a change of representative with its audit pointer, all or nothing, only over the record read', async () => {
      const registry = new DynamoRegistry(doc, tableName);
      const pending = new DynamoPendingWork(doc, tableName, 'accounts');
      const creditCode = newCreditCode();
      const entity = { creditCode, name: 'E', representativeLookupKey: 'rep-x', representativeMasked: 'm' };
      const from = await registry.putEntity(entity);
      const trace = (term: string) => ({
        carried: {
          id: `representative-changed#${creditCode}#${term}`,
          owner: 'seed',
          since: '2026-12-07T00:00:00.000Z',
          audit: [
            {
              key: `representative-changed#${creditCode}#${term}`,
              entry: { at: 'x', actor: 'seed', action: 'entity.representative_changed' },
            },
          ],
        },
        claim: randomId('c'),
        at: new Date(),
      });
      const to = { ...entity, representativeLookupKey: 'rep-y', representativeTerm: 'rt_next' };
      expect(await registry.changeRepresentative(from, to, trace('rt_next'))).toEqual(to);
      expect(await registry.findEntity(creditCode)).toEqual(to);
      expect((await pending.carried(`representative-changed#${creditCode}#`)).map((one) => one.id)).toEqual([
        `representative-changed#${creditCode}#rt_next`,
      ]);
      // Over a record changed since it was read: refused, nothing written, neither the record nor a pointer.
      await expect(
        registry.changeRepresentative(from, { ...to, representativeTerm: 'rt_stale' }, trace('rt_stale')),
      ).rejects.toMatchObject({ code: 'registry_conflict' });
      expect(await registry.findEntity(creditCode)).toEqual(to);
      expect((await pending.carried(`representative-changed#${creditCode}#`)).map((one) => one.id)).toEqual([
        `representative-changed#${creditCode}#rt_next`,
      ]);
    });

    it('keep a record written before terms standing for its representative, the seed run again included, until a change gives it one', async () => {
      const registry = new DynamoRegistry(doc, tableName);
      const creditCode = newCreditCode();
      const entity = { creditCode, name: 'E', representativeLookupKey: 'rep-a', representativeMasked: 'm' };
      await registry.putEntity(entity);
      await doc.send(
        new UpdateCommand({
          TableName: tableName,
          Key: keys.registryEntity(creditCode),
          UpdateExpression: 'REMOVE representativeTerm',
        }),
      );
      // As stored before terms: the representative's sessions are bare `rep`, and stand.
      const legacy = (await registry.findEntity(creditCode))!;
      expect(legacy.representativeTerm).toBe('');
      const session = { kind: 'entity', entityId: 'ent_1', personId: 'acc_1', basis: 'rep' } as const;
      expect(standsOn(session, { role: 'legal_representative', term: legacy.representativeTerm })).toBe(true);
      // Written again with the same representative (the seed run again): still none, still standing.
      const rewritten = await registry.putEntity(entity);
      expect(rewritten.representativeTerm).toBe('');
      expect(await registry.findEntity(creditCode)).toEqual(rewritten);
      expect(standsOn(session, { role: 'legal_representative', term: rewritten.representativeTerm })).toBe(
        true,
      );
      // The first change writes a term; the former representative named again is in another one.
      const changed = await registry.putEntity({ ...entity, representativeLookupKey: 'rep-b' });
      expect(changed.representativeTerm).not.toBe('');
      const back = await registry.putEntity(entity);
      expect(back.representativeTerm).not.toBe('');
      expect(back.representativeTerm).not.toBe(changed.representativeTerm);
      expect(standsOn(session, { role: 'legal_representative', term: back.representativeTerm })).toBe(false);
    });
  });
});
