import { describe, expect, it } from 'vitest';
import { updateClient } from '../../../shared/clients/update-client.js';
import { InMemoryClientStore } from '../../support/in-memory.js';
import { FailingAudit } from '../../support/in-memory-identity.js';
import { reconcileCarriedAt } from '../../support/reconcile-carried.js';

const clock = { now: () => Date.parse('2026-12-07T10:00:00Z') };
const operator = { clientId: 'cl_operator', requestId: 'req-1' };

function world(failures: number) {
  const clients = new InMemoryClientStore();
  clients.clients.set('cl_platform', {
    client_id: 'cl_platform',
    redirect_uris: ['https://platform.example/callback'],
  });
  const audit = Object.assign(new FailingAudit(), { failures });
  return { clients, operatorAudit: clients.pendingAudit, audit, clock };
}

describe('updateClient whose audit entry fails to be written', () => {
  it('stands and is answered; the reconciler’s run writes client.updated, once, a minute later', async () => {
    const deps = world(1);
    // It used to answer 5xx with the endpoint changed and no entry anywhere.
    expect(
      await updateClient('cl_platform', { eventsUri: 'https://platform.example/events' }, operator, deps),
    ).toEqual({ clientId: 'cl_platform', eventsUri: 'https://platform.example/events' });
    expect(deps.clients.clients.get('cl_platform')).toMatchObject({
      events_uri: 'https://platform.example/events',
    });
    expect(deps.audit.entries).toEqual([]);
    await reconcileCarriedAt(clock.now() + 120_000, { operatorAudit: deps.operatorAudit }, deps.audit);
    await reconcileCarriedAt(clock.now() + 240_000, { operatorAudit: deps.operatorAudit }, deps.audit);
    expect(deps.audit.entries).toEqual([
      {
        at: '2026-12-07T10:00:00.000Z',
        actor: 'cl_operator',
        action: 'client.updated',
        targetClientId: 'cl_platform',
        reason: 'eventsUri https://platform.example/events',
        requestId: 'req-1',
      },
    ]);
  });

  it('changes nothing, and traces nothing, for a client not registered (404)', async () => {
    const deps = world(0);
    await expect(
      updateClient('cl_unknown', { eventsUri: 'https://platform.example/events' }, operator, deps),
    ).rejects.toMatchObject({ code: 'client_not_found' });
    expect(deps.audit.entries).toEqual([]);
    expect(await deps.operatorAudit.olderThan(new Date(clock.now() + 600_000), 10)).toEqual([]);
  });
});
