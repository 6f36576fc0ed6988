import { beforeEach, describe, expect, it } from 'vitest';
import { maskIdNumber, parseIdNumber } from '../../../shared/identifiers/id-number.js';
import { personLookupKey } from '../../../shared/identifiers/lookup-key.js';
import {
  appointAgent,
  appointAgentInput,
  canActFor,
  withdrawAgent,
} from '../../../shared/identity/entities.js';
import { registerPerson } from '../../../shared/identity/register-person.js';
import { fakeMac } from '../../support/in-memory.js';
import { InMemoryCarrierRegistry } from '../../support/in-memory-carrier.js';
import {
  FailingAudit,
  FakePasswordHasher,
  FakePiiCipher,
  InMemoryAccountStore,
  InMemoryEntityStore,
  InMemoryLoginAttemptStore,
  InMemoryRegistry,
  newCreditCode,
  newIdNumber,
  TestClock,
} from '../../support/in-memory-identity.js';
import { reconcileCarriedAt } from '../../support/reconcile-carried.js';

/*
 * The accounts function's changes and their traces are one (R22): an appointment of an agent (a clerk's
 * right to issue among them), its withdrawal, and an account's registration. An audit write that failed
 * after the change used to leave it made and answered, with nothing in the trail ("audit entry not
 * written", and on). Now the entry is saved by the change's own write as pending work
 * (`pending-account-audit#`): the change still stands and answers, and the reconciler's next run writes
 * the entry, once.
 */

async function person(name: string) {
  const idNumber = newIdNumber();
  return {
    id: `acc_${name}`,
    idNumber,
    lookupKey: await personLookupKey(fakeMac, parseIdNumber(idNumber, new Date())),
    assurance: 'in-person-verified' as const,
    acr: 'urn:elicence:loa:3',
  };
}

describe('an appointment or withdrawal of an agent whose audit entry fails to be written', () => {
  let clock: TestClock;
  let audit: FailingAudit;
  let entities: InMemoryEntityStore;
  let deps: Parameters<typeof appointAgent>[3];

  /** An agency the registry knows, its representative, and the person to appoint its clerk. */
  async function agencyWithClerk() {
    const [rep, clerk] = await Promise.all([person('rep'), person('clerk')]);
    const agency = newCreditCode();
    (deps.registry as InMemoryRegistry).entities.set(agency, {
      creditCode: agency,
      name: '某发证机关',
      representativeLookupKey: rep.lookupKey,
      representativeMasked: maskIdNumber(parseIdNumber(rep.idNumber, new Date())),
    });
    return { rep, clerk, agency };
  }

  beforeEach(() => {
    clock = new TestClock();
    audit = new FailingAudit();
    entities = new InMemoryEntityStore();
    deps = {
      entities,
      accountAudit: entities.pendingAudit,
      registry: new InMemoryRegistry(),
      audit,
      loginAttempts: new InMemoryLoginAttemptStore(),
      lookupMac: fakeMac,
      clock,
    };
  });

  it('stands and is answered; the reconciler’s run writes each entry, once, a minute later', async () => {
    const { rep, clerk, agency } = await agencyWithClerk();
    audit.failures = 1;
    const appointed = await appointAgent(
      rep,
      agency,
      appointAgentInput.parse({
        idNumber: clerk.idNumber,
        scope: ['licences:issue'],
        expiresAt: new Date(clock.now() + 30 * 86_400_000).toISOString(),
      }),
      deps,
    );
    // The clerk may issue for the agency, and the trail says nothing of it yet…
    expect((await canActFor(clerk, agency, new Date(clock.now()), deps))?.scope).toEqual(['licences:issue']);
    expect(audit.entries).toEqual([]);
    // …but the entry is saved with the appointment: the reconciler writes it once the request's claim
    // lapsed (not before: the request had its chance).
    await reconcileCarriedAt(clock.now() + 30_000, { accountAudit: entities.pendingAudit }, audit);
    expect(audit.entries).toEqual([]);
    await reconcileCarriedAt(clock.now() + 120_000, { accountAudit: entities.pendingAudit }, audit);
    expect(audit.entries).toEqual([
      expect.objectContaining({
        action: 'agent.appointed',
        actor: rep.id,
        holderMasked: appointed.masked,
        reason: expect.stringContaining(`${agency} licences:issue until`),
      }),
    ]);

    audit.failures = 1;
    clock.advanceSeconds(3600);
    await withdrawAgent(rep, agency, appointed.agentId, deps);
    expect(await canActFor(clerk, agency, new Date(clock.now()), deps)).toBeUndefined();
    expect(audit.entries.map((entry) => entry.action)).toEqual(['agent.appointed']);
    await reconcileCarriedAt(clock.now() + 120_000, { accountAudit: entities.pendingAudit }, audit);
    await reconcileCarriedAt(clock.now() + 240_000, { accountAudit: entities.pendingAudit }, audit);
    expect(audit.entries.map((entry) => entry.action)).toEqual(['agent.appointed', 'agent.withdrawn']);
    expect(await entities.pendingAudit.olderThan(new Date(clock.now() + 600_000), 10)).toEqual([]);
  });

  it('written at once, leaves nothing saved behind; a refused appointment saves nothing', async () => {
    const { rep, clerk, agency } = await agencyWithClerk();
    const input = appointAgentInput.parse({
      idNumber: clerk.idNumber,
      scope: ['licences'],
      expiresAt: new Date(clock.now() + 30 * 86_400_000).toISOString(),
    });
    await appointAgent(rep, agency, input, deps);
    await expect(appointAgent(rep, agency, input, deps)).rejects.toMatchObject({ code: 'agent_exists' });
    expect(audit.entries.map((entry) => entry.action)).toEqual(['agent.appointed']);
    expect(await entities.pendingAudit.olderThan(new Date(clock.now() + 600_000), 10)).toEqual([]);
  });
});

describe('a registration whose audit entry fails to be written', () => {
  it('creates the account; the reconciler’s run writes account.registered, once, a minute later', async () => {
    const clock = new TestClock();
    const audit = new FailingAudit();
    const accounts = new InMemoryAccountStore();
    const registry = new InMemoryRegistry();
    const idNumber = newIdNumber();
    const deps = {
      accounts,
      accountAudit: accounts.pendingAudit,
      passwords: new FakePasswordHasher(),
      pii: new FakePiiCipher(),
      lookupMac: fakeMac,
      registry,
      carrier: new InMemoryCarrierRegistry(),
      audit,
      loginAttempts: new InMemoryLoginAttemptStore(),
      clock,
    };
    audit.failures = 1;
    const account = await registerPerson(
      { consent: true, idNumber, name: '赵六', password: 'Correct-Horse-1' },
      deps,
    );
    expect(await accounts.findById(account.id)).toBeDefined();
    expect(audit.entries).toEqual([]);
    await reconcileCarriedAt(clock.now() + 120_000, { accountAudit: accounts.pendingAudit }, audit);
    await reconcileCarriedAt(clock.now() + 240_000, { accountAudit: accounts.pendingAudit }, audit);
    expect(audit.entries).toEqual([
      expect.objectContaining({
        action: 'account.registered',
        actor: account.id,
        holderMasked: account.masked,
        reason: 'self-asserted',
      }),
    ]);
  });
});
