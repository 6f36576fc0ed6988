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
import { closeAccount } from '../../../shared/identity/close-account.js';
import { proveInPerson } from '../../../shared/identity/prove-in-person.js';
import type { PersonAccount } from '../../../shared/identity/person-account.js';
import { ClientSecrets } from '../../../shared/clients/client-secrets.js';
import { registerClient, registerClientInput } from '../../../shared/clients/register-client.js';
import { fakeMac, InMemoryClientStore } from '../../support/in-memory.js';
import { InMemoryPasskeyStore } from '../../support/in-memory-passkeys.js';
import { RecordingSignInRevocation } from '../../support/in-memory-sms.js';
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
 * The accounts function's changes and their traces are one (R22), and since the provider's, a proof in
 * person's, a closure's and an operator's registration of a client: an appointment of an agent (a clerk's
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
    await (deps.registry as InMemoryRegistry).putEntity({
      creditCode: agency,
      name: '某发证机关',
      representativeLookupKey: rep.lookupKey,
      representativeMasked: maskIdNumber(parseIdNumber(rep.idNumber, new Date())),
    });
    // The clerk as the population registry has them: an appointment names them (review R28 L5).
    await (deps.registry as InMemoryRegistry).putPerson({
      lookupKey: clerk.lookupKey,
      name: '孙书记',
      masked: maskIdNumber(parseIdNumber(clerk.idNumber, new Date())),
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
        name: '孙书记',
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
      name: '孙书记',
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

/** A level-1 account in `accounts`, its password `Close-me-2026`, as registration leaves one. */
async function accountIn(accounts: InMemoryAccountStore, clock: TestClock): Promise<PersonAccount> {
  const idNumber = parseIdNumber(newIdNumber(), new Date());
  return accounts.create({
    id: `acc_${Math.random().toString(36).slice(2, 10)}`,
    lookupKey: await personLookupKey(fakeMac, idNumber),
    masked: maskIdNumber(idNumber),
    idNumberEncrypted: 'sealed',
    name: '孙七',
    passwordHash: await new FakePasswordHasher().hash('Close-me-2026'),
    assurance: 'self-asserted',
    createdAt: new Date(clock.now()).toISOString(),
    version: 0,
  });
}

describe('a proof in person whose audit entry fails to be written', () => {
  it('raises the account; the reconciler writes account.proven, once, a minute later', async () => {
    // It used to raise the account to level 3, then fail the call with nothing in the trail.
    const clock = new TestClock();
    const audit = new FailingAudit();
    const accounts = new InMemoryAccountStore();
    const account = await accountIn(accounts, clock);
    const deps = { accounts, audit, accountAudit: accounts.pendingAudit, clock };
    audit.failures = 1;
    const proven = await proveInPerson(account.lookupKey, { actor: 'clerk-7' }, deps);
    expect(proven.assurance).toBe('in-person-verified');
    expect(audit.entries).toEqual([]);
    await reconcileCarriedAt(clock.now() + 120_000, { accountAudit: accounts.pendingAudit }, audit);
    await reconcileCarriedAt(clock.now() + 240_000, { accountAudit: accounts.pendingAudit }, audit);
    expect(audit.entries).toEqual([
      expect.objectContaining({
        action: 'account.proven',
        actor: 'clerk-7',
        holderMasked: account.masked,
        reason: 'in-person',
      }),
    ]);
    // Proven already: nothing changes, nothing is written again.
    await proveInPerson(account.lookupKey, { actor: 'clerk-7' }, deps);
    expect(audit.entries).toHaveLength(1);
  });
});

describe('an account’s closure', () => {
  let clock: TestClock;
  let audit: FailingAudit;
  let accounts: InMemoryAccountStore;
  let deps: Parameters<typeof closeAccount>[2];
  const proof = () => ({
    acr: 'urn:elicence:loa:1',
    authTime: Math.floor(clock.now() / 1000),
    password: 'Close-me-2026',
    source: '192.0.2.90',
  });
  const closures = () => audit.entries.filter((entry) => entry.action === 'account.closed');

  beforeEach(() => {
    clock = new TestClock();
    audit = new FailingAudit();
    accounts = new InMemoryAccountStore();
    const signIns = new RecordingSignInRevocation();
    deps = {
      accounts,
      passkeys: new InMemoryPasskeyStore(),
      signIns,
      platformConsents: signIns,
      entities: new InMemoryEntityStore(),
      audit,
      accountAudit: accounts.pendingAudit,
      clock,
      passwords: new FakePasswordHasher(),
      loginAttempts: new InMemoryLoginAttemptStore(),
      lookupMac: fakeMac,
    };
  });

  it('asked again after its deletion failed, writes account.closed once', async () => {
    // The entry used to be written before the deletion: a retry after the deletion failed wrote a second.
    const account = await accountIn(accounts, clock);
    accounts.failNextRemoval = new Error('injected: deleting the account failed');
    await expect(closeAccount(account.id, proof(), deps)).rejects.toThrow('injected');
    expect(await accounts.findById(account.id, { includeClosing: true })).toBeDefined();
    clock.advanceSeconds(5);
    await expect(closeAccount(account.id, proof(), deps)).resolves.toMatchObject({ closed: true });
    expect(await accounts.findById(account.id, { includeClosing: true })).toBeUndefined();
    expect(closures()).toEqual([expect.objectContaining({ actor: account.id })]);
    // Gone: asked again, it is 404 and writes nothing.
    await expect(closeAccount(account.id, proof(), deps)).rejects.toMatchObject({
      code: 'account_not_found',
    });
    expect(closures()).toHaveLength(1);
  });

  it('whose entry fails to be written is done; the reconciler writes it once, a retry none', async () => {
    const account = await accountIn(accounts, clock);
    audit.failures = 1;
    await expect(closeAccount(account.id, proof(), deps)).resolves.toMatchObject({ closed: true });
    expect(await accounts.findById(account.id, { includeClosing: true })).toBeUndefined();
    expect(closures()).toEqual([]);
    await expect(closeAccount(account.id, proof(), deps)).rejects.toMatchObject({
      code: 'account_not_found',
    });
    await reconcileCarriedAt(clock.now() + 120_000, { accountAudit: accounts.pendingAudit }, audit);
    await reconcileCarriedAt(clock.now() + 240_000, { accountAudit: accounts.pendingAudit }, audit);
    expect(closures()).toEqual([
      expect.objectContaining({ actor: account.id, reason: expect.stringContaining('passkeys 0') }),
    ]);
    expect(JSON.stringify(audit.entries)).not.toContain(account.lookupKey);
  });
});

describe('an operator’s registration of a client', () => {
  it('is traced: client.registered; one whose entry fails stands, the reconciler writes it once', async () => {
    // It used to write no entry at all: a platform that signs people in, registered with no trace.
    const clock = new TestClock();
    const audit = new FailingAudit();
    const clients = new InMemoryClientStore();
    const deps = {
      clients,
      secrets: new ClientSecrets({ clientSecret: fakeMac }),
      operatorAudit: clients.pendingAudit,
      audit,
      clock,
    };
    const input = registerClientInput.parse({
      name: '政务服务网',
      redirectUris: ['https://gov.example/cb'],
      scopes: ['openid', 'profile'],
    });
    const operator = { clientId: 'cl_operator', requestId: 'req-9' };
    const first = await registerClient(input, operator, deps);
    audit.failures = 1;
    const second = await registerClient(input, operator, deps);
    // Both registered and answered with their secret.
    expect(clients.clients.has(second.clientId)).toBe(true);
    expect(second.clientSecret).toBe(
      await deps.secrets.secretFor(second.clientId, { secret_key: 'client-secret' }),
    );
    expect(audit.entries.map((entry) => entry.targetClientId)).toEqual([first.clientId]);
    await reconcileCarriedAt(clock.now() + 120_000, { operatorAudit: clients.pendingAudit }, audit);
    await reconcileCarriedAt(clock.now() + 240_000, { operatorAudit: clients.pendingAudit }, audit);
    expect(audit.entries).toEqual(
      [first, second].map(({ clientId }) =>
        expect.objectContaining({
          actor: 'cl_operator',
          action: 'client.registered',
          targetClientId: clientId,
          reason: '政务服务网: scopes openid profile',
          requestId: 'req-9',
        }),
      ),
    );
    expect(await clients.pendingAudit.olderThan(new Date(clock.now() + 600_000), 10)).toEqual([]);
  });
});
