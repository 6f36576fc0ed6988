import { describe, expect, it } from 'vitest';
import { finishClosure, type ClosureDependencies } from '../../../shared/identity/close-account.js';
import type { AgentAppointment } from '../../../shared/identity/entity-account.js';
import {
  InMemoryAccountStore,
  InMemoryAudit,
  InMemoryEntityStore,
  TestClock,
} from '../../support/in-memory-identity.js';
import { InMemoryPendingWork } from '../../support/in-memory-licence.js';
import { InMemoryPasskeyStore } from '../../support/in-memory-passkeys.js';
import { RecordingSignInRevocation } from '../../support/in-memory-sms.js';

const lookupKey = 'lk-closing-person';

function world() {
  const pending = new InMemoryPendingWork();
  const signIns = new RecordingSignInRevocation();
  const deps = {
    accounts: new InMemoryAccountStore(pending),
    entities: new InMemoryEntityStore(pending),
    passkeys: new InMemoryPasskeyStore(),
    signIns,
    platformConsents: signIns,
    audit: new InMemoryAudit(),
    accountAudit: pending,
    clock: new TestClock(),
  } satisfies ClosureDependencies;
  return deps;
}

const appointment = (creditCode: string): AgentAppointment => ({
  agentId: `agt_${creditCode}`,
  creditCode,
  personLookupKey: lookupKey,
  masked: '310104********0011',
  scope: ['licences'],
  validUntil: '2099-01-01T00:00:00Z',
  status: 'active',
  appointedAt: '2026-01-01T00:00:00Z',
  appointedBy: 'acc_representative',
  appointedByLookupKey: 'lk-representative',
  version: 1,
});

describe('a closure that withdraws appointments in several writes', () => {
  it('numbers its parts alike when asked again after failing part-way (review R33 L2)', async () => {
    const deps = world();
    const now = new Date(deps.clock.now());
    for (const creditCode of ['91110105MA01DEM078', '91310000MA1FL5LX3K']) {
      await deps.entities.appoint(appointment(creditCode), now);
    }
    const account = await deps.accounts.create({
      id: 'acc_closing',
      lookupKey,
      masked: '310104********0011',
      idNumberEncrypted: 'sealed',
      name: '王小明',
      passwordHash: 'fake$2$password',
      assurance: 'in-person-verified',
      createdAt: '2026-01-01T00:00:00Z',
      version: 1,
    });
    const closing = await deps.accounts.save({ ...account, closingSince: now.toISOString() });

    // The first attempt withdraws the first appointment, then fails on the second.
    const saveAppointment = deps.entities.saveAppointment.bind(deps.entities);
    let saves = 0;
    deps.entities.saveAppointment = async (...args) => {
      saves += 1;
      if (saves === 2) throw new Error('injected: the second withdrawal failed');
      return saveAppointment(...args);
    };
    await expect(finishClosure(closing, deps)).rejects.toThrow('injected');
    deps.clock.advanceSeconds(30);
    await expect(finishClosure(closing, deps)).resolves.toMatchObject({ appointmentsWithdrawn: 1 });

    const parts = deps.audit.entries
      .filter((entry) => entry.action === 'agent.withdrawn' || entry.action === 'account.closed')
      .map(({ action, withdrawal, part, parts }) => ({ action, withdrawal, part, parts }));
    // One withdrawal of three parts, each once, whichever attempt wrote it.
    expect(parts).toEqual([
      { action: 'agent.withdrawn', withdrawal: parts[0]!.withdrawal, part: 1, parts: 3 },
      { action: 'agent.withdrawn', withdrawal: parts[0]!.withdrawal, part: 2, parts: 3 },
      { action: 'account.closed', withdrawal: parts[0]!.withdrawal, part: 3, parts: 3 },
    ]);
    expect(parts[0]!.withdrawal).toEqual(expect.any(String));
  });
});
