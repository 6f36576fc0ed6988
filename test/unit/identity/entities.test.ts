import type { Assurance } from '../../../shared/identity/person-account.js';
import { beforeEach, describe, expect, it } from 'vitest';
import { maskIdNumber, parseIdNumber } from '../../../shared/identifiers/id-number.js';
import {
  appointAgent,
  appointAgentInput,
  canActFor,
  canSignInAs,
  ensureEntityAccount,
  entitiesFor,
  listAgents,
  signInEntitiesFor,
  withdrawAgent,
  type AgentDependencies,
} from '../../../shared/identity/entities.js';
import { entityLookupKey, personLookupKey } from '../../../shared/identifiers/lookup-key.js';
import { parseCreditCode } from '../../../shared/identifiers/credit-code.js';
import type { LicenceRecord } from '../../../shared/licence/licence.js';
import { fakeMac } from '../../support/in-memory.js';
import {
  InMemoryAudit,
  InMemoryEntityStore,
  InMemoryIssuers,
  InMemoryLoginAttemptStore,
  InMemoryLicences,
  InMemoryRegistry,
  newCreditCode,
  newIdNumber,
  TestClock,
} from '../../support/in-memory-identity.js';

interface TestPerson {
  id: string;
  lookupKey: string;
  idNumber: string;
  assurance: Assurance;
  /** The sign-in's acr, as a token carries it. */
  acr: string;
}

async function person(name: string, assurance: Assurance = 'in-person-verified'): Promise<TestPerson> {
  const idNumber = newIdNumber();
  return {
    id: `acc_${name}`,
    idNumber,
    lookupKey: await personLookupKey(fakeMac, parseIdNumber(idNumber, new Date())),
    assurance,
    acr: 'urn:elicence:loa:3',
  };
}

describe('entities, representatives and agents', () => {
  let clock: TestClock;
  let deps: AgentDependencies & {
    entities: InMemoryEntityStore;
    registry: InMemoryRegistry;
    licences: InMemoryLicences;
    issuers: InMemoryIssuers;
    audit: InMemoryAudit;
  };
  let rep: TestPerson;
  let agent: TestPerson;
  let stranger: TestPerson;
  let registered: string;
  const now = () => new Date(clock.now());
  /** The agent's name, as the population registry has it (required: review R28 L5). */
  const registryName = '钱经办';
  const appointInput = (idNumber: string, days = 30) =>
    appointAgentInput.parse({
      idNumber,
      name: registryName,
      scope: ['licences', 'licences'],
      expiresAt: new Date(clock.now() + days * 86_400_000).toISOString(),
    });

  /** A business licence of `creditCode` naming `representative`, issued `daysAgo` by issuer `iss_1`. */
  async function businessLicence(
    creditCode: string,
    representative: TestPerson,
    overrides: Partial<LicenceRecord> = {},
    daysAgo = 10,
  ): Promise<LicenceRecord> {
    const issuedAt = new Date(clock.now() - daysAgo * 86_400_000).toISOString();
    const licence: LicenceRecord = {
      id: `1.2.156.3005.2.001.${creditCode}.${daysAgo}`,
      type: 'business-licence',
      issuerId: 'iss_1',
      holder: {
        kind: 'entity',
        name: '上海测试有限公司',
        masked: creditCode,
        lookupKey: await entityLookupKey(fakeMac, parseCreditCode(creditCode)),
      },
      fields: {
        legalRepresentativeName: '某某',
        legalRepresentativeIdMasked: maskIdNumber(parseIdNumber(representative.idNumber, new Date())),
        legalRepresentativeLookupKey: representative.lookupKey,
      },
      status: 'valid',
      statusList: { listId: 'x', idx: 0 },
      issuedAt,
      validFrom: issuedAt,
      credential: 'jws',
      history: [],
      version: 1,
      ...overrides,
    };
    deps.licences.licences.push(licence);
    return licence;
  }

  beforeEach(async () => {
    clock = new TestClock();
    const entities = new InMemoryEntityStore();
    deps = {
      entities,
      accountAudit: entities.pendingAudit,
      registry: new InMemoryRegistry(),
      licences: new InMemoryLicences(),
      issuers: new InMemoryIssuers(),
      audit: new InMemoryAudit(),
      loginAttempts: new InMemoryLoginAttemptStore(),
      lookupMac: fakeMac,
      clock,
    };
    deps.issuers.issuers.set('iss_1', { id: 'iss_1', status: 'active' });
    [rep, agent, stranger] = await Promise.all([person('rep'), person('agent'), person('stranger')]);
    // Everyone in the population registry under one name: appointments name the agent as it has them.
    for (const someone of [rep, agent, stranger]) {
      const masked = maskIdNumber(parseIdNumber(someone.idNumber, new Date()));
      await deps.registry.putPerson({ lookupKey: someone.lookupKey, name: registryName, masked });
    }
    registered = newCreditCode();
    await deps.registry.putEntity({
      creditCode: registered,
      name: '北京示范科技有限公司',
      representativeLookupKey: rep.lookupKey,
      representativeMasked: maskIdNumber(parseIdNumber(rep.idNumber, new Date())),
    });
  });

  describe('the legal representative', () => {
    it('is whom the entity registry names, and the entity gets an opaque account on first use', async () => {
      const authority = await canActFor(rep, registered.toLowerCase(), now(), deps);
      expect(authority).toMatchObject({
        role: 'legal_representative',
        proof: 'entity-registry',
        scope: ['licences', 'sign-in'],
        entity: { id: expect.stringMatching(/^ent_/), creditCode: registered, name: '北京示范科技有限公司' },
      });
      expect((await canActFor(rep, registered, now(), deps))?.entity.id).toBe(authority?.entity.id);
      expect(await canActFor(stranger, registered, now(), deps)).toBeUndefined();
    });

    it('is never a self-asserted account on the representative’s number: claiming a number proves nothing', async () => {
      // Anyone may register any number under any name as a self-asserted account (review R9 M6); such
      // an account acts for no entity, as representative or as agent (review R10).
      const squatter = { ...rep, assurance: 'self-asserted' as const };
      expect(await canActFor(squatter, registered, now(), deps)).toBeUndefined();
      expect(await entitiesFor(squatter, now(), deps)).toEqual([]);
      await appointAgent(rep, registered, appointInput(agent.idNumber), deps);
      expect(
        await canActFor({ ...agent, assurance: 'self-asserted' }, registered, now(), deps),
      ).toBeUndefined();
      expect(await canActFor(agent, registered, now(), deps)).toMatchObject({ role: 'agent' });
    });

    it('is never whom a business licence names: an issuer cannot make anyone a representative', async () => {
      // A valid business licence of a registered entity naming a stranger, and one of an entity the
      // registry does not know: neither lets the stranger act for the entity (issue 12, finding 2).
      await businessLicence(registered, stranger);
      const unregistered = newCreditCode();
      await businessLicence(unregistered, stranger);
      expect(await canActFor(stranger, registered, now(), deps)).toBeUndefined();
      expect(await canActFor(stranger, unregistered, now(), deps)).toBeUndefined();
      expect(await entitiesFor(stranger, now(), deps)).toEqual([]);
      expect(await canActFor(rep, registered, now(), deps)).toMatchObject({ proof: 'entity-registry' });
    });
  });

  describe('agents', () => {
    it('are appointed by the representative with a scope and an expiry, and may then act', async () => {
      const appointment = await appointAgent(rep, registered, appointInput(agent.idNumber), deps);
      expect(appointment).toMatchObject({
        agentId: expect.stringMatching(/^agt_/),
        scope: ['licences'],
        status: 'active',
        masked: maskIdNumber(parseIdNumber(agent.idNumber, new Date())),
        appointedBy: rep.id,
      });
      expect(JSON.stringify(appointment)).not.toContain(agent.idNumber);
      expect(await canActFor(agent, registered, now(), deps)).toMatchObject({
        role: 'agent',
        scope: ['licences'],
        expiresAt: appointment.validUntil,
        agentId: appointment.agentId,
      });
      expect(await entitiesFor(agent, now(), deps)).toMatchObject([
        { role: 'agent', entity: { creditCode: registered } },
      ]);
      expect(deps.audit.entries.map((e) => e.action)).toEqual(['agent.appointed']);
    });

    it('lapse at the end of their last day (Beijing time)', async () => {
      // From 16:00 Beijing time on 03-01, a day ahead is 03-02: the appointment lapses at 00:00 on 03-03.
      await appointAgent(rep, registered, appointInput(agent.idNumber, 1), deps);
      clock.advanceSeconds(86_400 + 8 * 3_600 - 1);
      expect(await canActFor(agent, registered, now(), deps)).toMatchObject({ role: 'agent' });
      clock.advanceSeconds(1);
      expect(await canActFor(agent, registered, now(), deps)).toBeUndefined();
      expect(await entitiesFor(agent, now(), deps)).toEqual([]);
    });

    it('last through the whole of their last day in Beijing time, whatever instant of it is sent (review R60, as licences)', async () => {
      // 2026-03-01T08:00Z is 16:00 Beijing time on 03-01; the last day is 2026-03-05.
      const through = (expiresAt: string) =>
        appointAgentInput.parse({
          idNumber: agent.idNumber,
          name: registryName,
          scope: ['licences'],
          expiresAt,
        });
      expect(through('2026-03-05T23:59:59+08:00').expiresAt.toISOString()).toBe('2026-03-05T16:00:00.000Z');
      expect(through('2026-03-05T12:00:00+08:00').expiresAt.toISOString()).toBe('2026-03-05T16:00:00.000Z');
      expect(through('2026-03-06T00:00:00+08:00').expiresAt.toISOString()).toBe('2026-03-05T16:00:00.000Z');
      const appointment = await appointAgent(rep, registered, through('2026-03-05T23:59:59+08:00'), deps);
      expect(appointment.validUntil).toBe('2026-03-05T16:00:00.000Z');
      clock.advanceSeconds((Date.parse('2026-03-05T23:59:59.500+08:00') - clock.now()) / 1000);
      expect(await canActFor(agent, registered, now(), deps)).toMatchObject({ role: 'agent' });
      clock.advanceSeconds(0.5);
      expect(await canActFor(agent, registered, now(), deps)).toBeUndefined();
    });

    it('are withdrawn by the representative, and then may not act; withdrawing twice is harmless', async () => {
      const { agentId } = await appointAgent(rep, registered, appointInput(agent.idNumber), deps);
      await withdrawAgent(rep, registered, agentId, deps);
      expect(await canActFor(agent, registered, now(), deps)).toBeUndefined();
      expect(await entitiesFor(agent, now(), deps)).toEqual([]);
      await expect(withdrawAgent(rep, registered, agentId, deps)).resolves.toMatchObject({
        status: 'withdrawn',
      });
      expect((await listAgents(rep, registered, deps)).appointments.map((a) => a.status)).toEqual([
        'withdrawn',
      ]);
    });

    it('may be appointed again after a withdrawal, under a new id; not twice while in force', async () => {
      const first = await appointAgent(rep, registered, appointInput(agent.idNumber), deps);
      await expect(appointAgent(rep, registered, appointInput(agent.idNumber), deps)).rejects.toMatchObject({
        kind: 'conflict',
        code: 'agent_exists',
      });
      await withdrawAgent(rep, registered, first.agentId, deps);
      const second = await appointAgent(rep, registered, appointInput(agent.idNumber), deps);
      expect(second.agentId).not.toBe(first.agentId);
      expect(await canActFor(agent, registered, now(), deps)).toMatchObject({ agentId: second.agentId });
    });

    it('cannot appoint or withdraw agents themselves, nor can strangers (403)', async () => {
      const { agentId } = await appointAgent(rep, registered, appointInput(agent.idNumber), deps);
      for (const caller of [agent, stranger]) {
        await expect(
          appointAgent(caller, registered, appointInput(stranger.idNumber), deps),
        ).rejects.toMatchObject({ kind: 'forbidden', code: 'not_legal_representative' });
        await expect(withdrawAgent(caller, registered, agentId, deps)).rejects.toMatchObject({
          kind: 'forbidden',
        });
        await expect(listAgents(caller, registered, deps)).rejects.toMatchObject({ kind: 'forbidden' });
      }
    });

    it('name the agent as the population registry has it: without a name the input is refused, naming it (review R28 L5)', () => {
      const parsed = appointAgentInput.safeParse({
        idNumber: agent.idNumber,
        scope: ['licences'],
        expiresAt: new Date(clock.now() + 86_400_000).toISOString(),
      });
      expect(parsed.success).toBe(false);
      expect(parsed.error?.issues.map((issue) => issue.path.join('.'))).toEqual(['name']);
    });

    it('need a valid ID number, an expiry in the future, and are not the representative', async () => {
      await expect(
        appointAgent(rep, registered, appointInput('110105199003071230'), deps),
      ).rejects.toMatchObject({
        kind: 'invalid_input',
        errors: [{ path: 'idNumber', message: 'check character should be 9' }],
      });
      await expect(
        appointAgent(rep, registered, appointInput(agent.idNumber, -1), deps),
      ).rejects.toMatchObject({
        kind: 'invalid_input',
        errors: [{ path: 'expiresAt', message: expect.stringMatching(/future/) }],
      });
      await expect(appointAgent(rep, registered, appointInput(rep.idNumber), deps)).rejects.toMatchObject({
        kind: 'invalid_input',
        code: 'self_appointment',
      });
      expect(() =>
        appointAgentInput.parse({
          idNumber: agent.idNumber,
          scope: ['admin'],
          expiresAt: now().toISOString(),
        }),
      ).toThrow();
    });

    it('with a name, are appointed only when the population registry knows that name for the number (a typo would appoint a stranger)', async () => {
      const masked = maskIdNumber(parseIdNumber(agent.idNumber, new Date()));
      await deps.registry.putPerson({ lookupKey: agent.lookupKey, name: '赵立新', masked });
      const withName = (name: string, idNumber = agent.idNumber) => ({ ...appointInput(idNumber), name });
      const mismatch = {
        kind: 'invalid_input',
        code: 'registry_mismatch',
        errors: [{ path: 'name', code: 'registry_mismatch' }],
      };
      await expect(appointAgent(rep, registered, withName('赵立'), deps)).rejects.toMatchObject(mismatch);
      // A number the registry does not know gets the same answer: nothing more is said about it.
      await expect(
        appointAgent(rep, registered, withName('赵立新', stranger.idNumber), deps),
      ).rejects.toMatchObject(mismatch);
      await expect(deps.entities.appointmentsOf(registered)).resolves.toEqual([]);
      // Compared as registries compare names (spaces and full-width forms aside); the name is not kept.
      const appointed = await appointAgent(rep, registered, withName(' 赵立新 '), deps);
      expect(appointed.personLookupKey).toBe(agent.lookupKey);
      expect(JSON.stringify(await deps.entities.appointmentsOf(registered))).not.toContain('赵立新');
    });

    it('with a name, are counted per representative and a mismatch audited: no oracle of names behind numbers', async () => {
      const masked = maskIdNumber(parseIdNumber(agent.idNumber, new Date()));
      await deps.registry.putPerson({ lookupKey: agent.lookupKey, name: '赵立新', masked });
      const guess = (name: string) =>
        appointAgent(rep, registered, { ...appointInput(agent.idNumber), name }, deps);
      // 30 free checks, then a wait: a list of names tried against a number stops there.
      for (let i = 0; i < 30; i++) {
        await expect(guess(`猜${i}`)).rejects.toMatchObject({ code: 'registry_mismatch' });
      }
      await expect(guess('赵立新')).rejects.toMatchObject({ kind: 'too_many_requests' });
      const mismatches = deps.audit.entries.filter((entry) => entry.action === 'agent.name_mismatch');
      expect(mismatches).toHaveLength(30);
      expect(mismatches[0]).toMatchObject({ actor: rep.id, holderMasked: masked, reason: registered });
      expect(JSON.stringify(mismatches)).not.toContain(agent.idNumber);
      // Drained one per 10 minutes: an agency appointing its clerks later is not held up.
      clock.advanceSeconds(20 * 60);
      await expect(guess('赵立新')).resolves.toMatchObject({ personLookupKey: agent.lookupKey });
    });

    it('with a name, answer nothing when the mismatch cannot be audited (review R12: fail closed)', async () => {
      const masked = maskIdNumber(parseIdNumber(agent.idNumber, new Date()));
      await deps.registry.putPerson({ lookupKey: agent.lookupKey, name: '赵立新', masked });
      const unaudited = {
        ...deps,
        audit: { record: () => Promise.reject(new Error('injected: the audit table is down')) },
      } as unknown as typeof deps;
      const guess = appointAgent(rep, registered, { ...appointInput(agent.idNumber), name: '猜' }, unaudited);
      // Not `registry_mismatch`: an answer about a name that leaves no trace is an oracle again.
      await expect(guess).rejects.toThrow('injected');
    });

    it('sign in as the entity at a platform only when the appointment says so (sign-in); at the service’s own apps with any scope (review R22)', async () => {
      const platform = { firstParty: false, acr: 'urn:elicence:loa:3' };
      const ownApp = { firstParty: true, acr: 'urn:elicence:loa:3' };
      const appointed = (idNumber: string, scope: string[]) =>
        appointAgentInput.parse({
          idNumber,
          name: registryName,
          scope,
          expiresAt: new Date(clock.now() + 30 * 86_400_000).toISOString(),
        });
      const issueOnly = appointed(agent.idNumber, ['licences:issue']);
      await appointAgent(rep, registered, issueOnly, deps);
      // A clerk appointed only to issue acts for the agency (the console checks the scope at every call)…
      expect(await canSignInAs(agent, registered, ownApp, now(), deps)).toMatchObject({ role: 'agent' });
      expect(await signInEntitiesFor(agent, ownApp, now(), deps)).toHaveLength(1);
      // …but is not the agency at any platform.
      expect(await canSignInAs(agent, registered, platform, now(), deps)).toBeUndefined();
      expect(await signInEntitiesFor(agent, platform, now(), deps)).toEqual([]);

      await appointAgent(rep, registered, appointed(stranger.idNumber, ['licences', 'sign-in']), deps);
      expect(await canSignInAs(stranger, registered, platform, now(), deps)).toMatchObject({
        role: 'agent',
        scope: ['licences', 'sign-in'],
      });
      // The representative, by role.
      expect(await canSignInAs(rep, registered, platform, now(), deps)).toMatchObject({
        role: 'legal_representative',
      });
    });

    it('sign in as the entity at level 3 only, the account’s and the sign-in’s; below it, after a step-up (review R22)', async () => {
      const platform = { firstParty: false, acr: 'urn:elicence:loa:3' };
      // Whoever registered the representative's number and name: level 2, and no further without the phone.
      const squatter = { ...rep, assurance: 'registry-verified' as const };
      expect(await canSignInAs(squatter, registered, platform, now(), deps)).toMatchObject({
        role: 'legal_representative',
        stepUp: true,
      });
      expect(await signInEntitiesFor(squatter, platform, now(), deps)).toMatchObject([{ stepUp: true }]);
      // A level-3 account signed in at level 2 (its password alone): the step-up too.
      const byPassword = { ...platform, acr: 'urn:elicence:loa:2' };
      expect(await canSignInAs(rep, registered, byPassword, now(), deps)).toMatchObject({ stepUp: true });
      expect(await canSignInAs(rep, registered, { ...platform, acr: undefined }, now(), deps)).toMatchObject({
        stepUp: true,
      });
      // Level 3 both ways: as it is.
      expect(await canSignInAs(rep, registered, platform, now(), deps)).toMatchObject({ stepUp: false });
    });

    it('count only while the business registry names their appointer representative', async () => {
      await appointAgent(rep, registered, appointInput(agent.idNumber), deps);
      expect(await canActFor(agent, registered, now(), deps)).toMatchObject({ role: 'agent' });
      // The registry now names someone else: the former representative's agents lapse with them.
      await deps.registry.putEntity({
        ...deps.registry.entities.get(registered)!,
        representativeLookupKey: stranger.lookupKey,
      });
      expect(await canActFor(agent, registered, now(), deps)).toBeUndefined();
      expect(await entitiesFor(agent, now(), deps)).toEqual([]);
    });

    it('count only during their appointer’s term: not again when the appointer is named representative again (review R42)', async () => {
      const appointment = await appointAgent(rep, registered, appointInput(agent.idNumber), deps);
      const record = deps.registry.entities.get(registered)!;
      expect(appointment.appointerTerm).toBe(record.representativeTerm);
      await deps.registry.putEntity({ ...record, representativeLookupKey: stranger.lookupKey });
      await deps.registry.putEntity(record);
      expect(await canActFor(agent, registered, now(), deps)).toBeUndefined();
      expect(await entitiesFor(agent, now(), deps)).toEqual([]);
      // The representative appoints again in this term (no `agent_exists`): the agent acts again.
      const again = await appointAgent(rep, registered, appointInput(agent.idNumber), deps);
      expect(await canActFor(agent, registered, now(), deps)).toMatchObject({ agentId: again.agentId });
    });

    it('made before terms stand while the registry record has none, the record written again included', async () => {
      const record = deps.registry.entities.get(registered)!;
      deps.registry.entities.set(registered, { ...record, representativeTerm: '' });
      const appointment = await appointAgent(rep, registered, appointInput(agent.idNumber), deps);
      expect(appointment.appointerTerm).toBeUndefined();
      await deps.registry.putEntity(record);
      expect(await canActFor(agent, registered, now(), deps)).toMatchObject({ agentId: appointment.agentId });
      // A change of representative gives the record a term: the appointment ends, for good.
      await deps.registry.putEntity({ ...record, representativeLookupKey: stranger.lookupKey });
      await deps.registry.putEntity(record);
      expect(await canActFor(agent, registered, now(), deps)).toBeUndefined();
    });

    it('made before the appointer was recorded count for nothing (fail closed)', async () => {
      const appointment = await appointAgent(rep, registered, appointInput(agent.idNumber), deps);
      const { appointedByLookupKey: _recorded, ...old } = appointment;
      await deps.entities.saveAppointment(old);
      expect(await canActFor(agent, registered, now(), deps)).toBeUndefined();
      expect(await entitiesFor(agent, now(), deps)).toEqual([]);
      // The representative appoints again, which replaces the old appointment.
      const again = await appointAgent(rep, registered, appointInput(agent.idNumber), deps);
      expect(await canActFor(agent, registered, now(), deps)).toMatchObject({ agentId: again.agentId });
    });

    it('are not appointed by a representative below level 3 (someone who only registered the number)', async () => {
      const squatter = { ...rep, assurance: 'registry-verified' as const };
      await expect(
        appointAgent(squatter, registered, appointInput(agent.idNumber), deps),
      ).rejects.toMatchObject({ kind: 'forbidden', code: 'insufficient_assurance' });
      expect(await canActFor(agent, registered, now(), deps)).toBeUndefined();
    });

    it('of an unknown id cannot be withdrawn (404)', async () => {
      await expect(withdrawAgent(rep, registered, 'agt_nope', deps)).rejects.toMatchObject({
        kind: 'not_found',
        code: 'agent_not_found',
      });
    });
  });

  it('lists a person’s entities once each, as representative rather than agent, by name', async () => {
    const other = newCreditCode();
    await deps.registry.putEntity({
      creditCode: other,
      name: '阿尔法有限公司',
      representativeLookupKey: stranger.lookupKey,
      representativeMasked: '',
    });
    await appointAgent(stranger, other, appointInput(rep.idNumber), deps);
    const listed = await entitiesFor(rep, now(), deps);
    expect(listed.map((a) => [a.entity.name, a.role])).toEqual([
      ['阿尔法有限公司', 'agent'],
      ['北京示范科技有限公司', 'legal_representative'],
    ]);
  });

  it('gives concurrent first uses of an entity one account: a lost race reads the winner', async () => {
    const code = parseCreditCode(newCreditCode());
    const winner = { id: 'ent_winner', creditCode: code, lookupKey: 'k', name: 'W', createdAt: '' };
    deps.entities.raceWith = winner;
    expect(await ensureEntityAccount({ creditCode: code, name: 'L' }, deps)).toEqual(winner);
  });
});
