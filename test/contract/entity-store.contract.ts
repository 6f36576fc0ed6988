import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConflictError } from '../../shared/errors.js';
import type { AgentAppointment, EntityAccount } from '../../shared/identity/entity-account.js';
import type { EntityStore } from '../../shared/identity/entity-store.js';
import type { PendingWorkIndex } from '../../shared/pending-work/pending-work.js';
import { randomId } from '../../shared/random-id.js';
import { newCreditCode } from '../support/in-memory-identity.js';
import { listedPointer, traceFor } from '../support/traces.js';
import { rejection, type Make } from './subject.js';

const before = new Date('2026-03-02T00:00:00Z');
const lapsed = new Date('2026-06-01T00:00:00Z');

function appointment(creditCode: string, personLookupKey: string): AgentAppointment {
  return {
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
  };
}

function entity(): EntityAccount {
  return {
    id: randomId('ent'),
    creditCode: newCreditCode(),
    lookupKey: `lk-${randomUUID()}`,
    name: '北京测试科技有限公司',
    createdAt: '2026-03-01T08:00:00.000Z',
  };
}

/**
 * The {@link EntityStore} contract: one account per credit code (`entity_exists`), one appointment in
 * force per (entity, person) and appointer (`agent_exists`), replaceable once withdrawn, lapsed or made
 * by another appointer, saved under its version (`agent_changed`), listed by entity and by person; an
 * appointment or withdrawal with its trace writes both or neither (`accountAudit`, the index of the
 * accounts function's changes, holds the traces).
 */
export function entityStoreContract(
  name: string,
  make: Make<{ store: EntityStore; accountAudit: PendingWorkIndex }>,
): void {
  describe(`EntityStore contract: ${name}`, () => {
    let subject: Awaited<ReturnType<typeof make>>;
    let store: EntityStore;
    beforeEach(async () => {
      subject = await make();
      store = subject.store;
    });
    afterEach(async () => {
      await subject.cleanup();
    });

    it('keeps one entity account per credit code (entity_exists), found by id and credit code', async () => {
      const first = entity();
      expect(await store.createEntity(first)).toEqual(first);
      const error = await rejection(store.createEntity({ ...entity(), creditCode: first.creditCode }));
      expect(error).toBeInstanceOf(ConflictError);
      expect(error).toMatchObject({ code: 'entity_exists' });
      expect(await store.findEntityById(first.id)).toEqual(first);
      expect(await store.findEntityByCreditCode(first.creditCode)).toEqual(first);
      expect(await store.findEntityById(randomId('ent'))).toBeUndefined();
      expect(await store.findEntityByCreditCode(newCreditCode())).toBeUndefined();
    });

    it('appoints and withdraws with the trace, both or neither', async () => {
      const creditCode = newCreditCode();
      const person = `lk-${randomUUID()}`;
      const later = new Date(before.getTime() + 3_600_000);
      const first = appointment(creditCode, person);
      const appointed = traceFor(`agent-changed#${first.agentId}#1`, 'agent.appointed', before);
      const saved = await store.appoint(first, before, appointed);
      expect(saved).toMatchObject({ agentId: first.agentId, version: 1 });
      expect(await subject.accountAudit.olderThan(later, 10)).toEqual([listedPointer(appointed)]);
      // Claimed as the trace says: nobody else takes it within its lease.
      expect(await subject.accountAudit.claim(appointed.carried.id, before)).toBeUndefined();
      await subject.accountAudit.remove(appointed.carried.id, appointed.claim);

      // Refused (one in force): neither the appointment nor its trace.
      const second = appointment(creditCode, person);
      const refused = traceFor(`agent-changed#${second.agentId}#1`, 'agent.appointed', before);
      expect(await rejection(store.appoint(second, before, refused))).toMatchObject({ code: 'agent_exists' });
      expect(await store.findAppointment(creditCode, person)).toEqual(saved);

      const withdrawn = traceFor(`agent-changed#${first.agentId}#2`, 'agent.withdrawn', before);
      expect(await store.saveAppointment({ ...saved, status: 'withdrawn' }, withdrawn)).toMatchObject({
        status: 'withdrawn',
        version: 2,
      });
      // A stale copy: refused, no trace.
      const stale = traceFor(`agent-changed#${first.agentId}#2-stale`, 'agent.withdrawn', before);
      expect(await rejection(store.saveAppointment({ ...saved, status: 'withdrawn' }, stale))).toMatchObject({
        code: 'agent_changed',
      });
      expect(await subject.accountAudit.olderThan(later, 10)).toEqual([listedPointer(withdrawn)]);
    });

    it('keeps one appointment in force per person and entity, replaceable once lapsed or withdrawn', async () => {
      const creditCode = newCreditCode();
      const person = `lk-${randomUUID()}`;
      const first = await store.appoint(appointment(creditCode, person), before);
      expect(first.version).toBe(1);
      const inForce = await rejection(store.appoint(appointment(creditCode, person), before));
      expect(inForce).toBeInstanceOf(ConflictError);
      expect(inForce).toMatchObject({ code: 'agent_exists' });
      expect(await store.findAppointment(creditCode, person)).toEqual(first);

      const second = await store.appoint(appointment(creditCode, person), lapsed);
      expect(second.agentId).not.toBe(first.agentId);
      const withdrawn = await store.saveAppointment({ ...second, status: 'withdrawn' });
      expect(withdrawn.version).toBe(2);
      const stale = await rejection(store.saveAppointment({ ...second, status: 'withdrawn' }));
      expect(stale).toBeInstanceOf(ConflictError);
      expect(stale).toMatchObject({ code: 'agent_changed' });

      const third = await store.appoint(appointment(creditCode, person), before);
      expect(await store.findAppointment(creditCode, person)).toEqual(third);
      expect(await store.appointmentsOf(creditCode)).toEqual([third]);
      expect(await store.appointmentsFor(person)).toEqual([third]);
    });

    it('lets the representative of today replace an appointment another appointer made', async () => {
      const creditCode = newCreditCode();
      const person = `lk-${randomUUID()}`;
      const { appointedByLookupKey: _recorded, ...unrecorded } = appointment(creditCode, person);
      await store.appoint(unrecorded, before);
      const byToday = await store.appoint(appointment(creditCode, person), before);
      expect(await rejection(store.appoint(appointment(creditCode, person), before))).toMatchObject({
        code: 'agent_exists',
      });
      const bySuccessor = await store.appoint(
        { ...appointment(creditCode, person), appointedByLookupKey: 'successor' },
        before,
      );
      expect(bySuccessor.agentId).not.toBe(byToday.agentId);
      expect(await store.findAppointment(creditCode, person)).toEqual(bySuccessor);
    });

    it('lets the representative replace their own appointment of a former term (review R42), not of this one', async () => {
      const creditCode = newCreditCode();
      const person = `lk-${randomUUID()}`;
      // Made before terms (no `appointerTerm`, term `''`): in force for the same appointer in term `''`.
      await store.appoint(appointment(creditCode, person), before);
      expect(await rejection(store.appoint(appointment(creditCode, person), before))).toMatchObject({
        code: 'agent_exists',
      });
      const inTerm = await store.appoint(
        { ...appointment(creditCode, person), appointerTerm: 'rt_1' },
        before,
      );
      expect(
        await rejection(store.appoint({ ...appointment(creditCode, person), appointerTerm: 'rt_1' }, before)),
      ).toMatchObject({ code: 'agent_exists' });
      const nextTerm = await store.appoint(
        { ...appointment(creditCode, person), appointerTerm: 'rt_2' },
        before,
      );
      expect(nextTerm.agentId).not.toBe(inTerm.agentId);
      expect(await store.findAppointment(creditCode, person)).toEqual(nextTerm);
    });

    it('lists appointments by entity and by person, withdrawn ones included', async () => {
      const [entityA, entityB] = [newCreditCode(), newCreditCode()];
      const [alice, bob] = [`lk-${randomUUID()}`, `lk-${randomUUID()}`];
      const aliceA = await store.appoint(appointment(entityA, alice), before);
      const bobA = await store.saveAppointment({
        ...(await store.appoint(appointment(entityA, bob), before)),
        status: 'withdrawn',
      });
      const aliceB = await store.appoint(appointment(entityB, alice), before);
      const byCode = (a: AgentAppointment, b: AgentAppointment) => a.agentId.localeCompare(b.agentId);
      expect((await store.appointmentsOf(entityA)).sort(byCode)).toEqual([aliceA, bobA].sort(byCode));
      expect((await store.appointmentsFor(alice)).sort(byCode)).toEqual([aliceA, aliceB].sort(byCode));
      expect(await store.appointmentsOf(newCreditCode())).toEqual([]);
      expect(await store.findAppointment(entityB, bob)).toBeUndefined();
    });
  });
}
