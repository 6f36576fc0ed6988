import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ClientSecrets, onClientSecretKey } from '../../../shared/clients/client-secrets.js';
import { rotateClientSecret } from '../../../shared/clients/rotate-client-secret.js';
import type { AuditEntry } from '../../../shared/audit/audit-trail.js';
import { InMemoryClientStore } from '../../support/in-memory.js';
import { InMemoryAudit } from '../../support/in-memory-identity.js';
import { reconcileCarriedAt } from '../../support/reconcile-carried.js';

const secrets = new ClientSecrets({
  clientSecret: { mac: async (data) => new Uint8Array(createHmac('sha256', 'k').update(data).digest()) },
});
const clock = { now: () => Date.parse('2026-12-05T10:00:00Z') };
const operator = { clientId: 'cl_operator', requestId: 'req-1' };

function world(markers: Record<string, unknown> = onClientSecretKey()) {
  const clients = new InMemoryClientStore();
  clients.clients.set('cl_issuer', { client_id: 'cl_issuer', scope: 'licences:issue', ...markers });
  return { clients, operatorAudit: clients.pendingAudit, secrets, audit: new InMemoryAudit(), clock };
}

describe('rotateClientSecret (review of session 24, finding 1)', () => {
  it('records who rotated which client to which version, never the secret, before answering', async () => {
    const deps = world();
    const { clientSecret } = await rotateClientSecret('cl_issuer', operator, deps);
    expect(deps.audit.entries).toEqual([
      {
        at: '2026-12-05T10:00:00.000Z',
        actor: 'cl_operator',
        action: 'client.secret_rotated',
        targetClientId: 'cl_issuer',
        secretVersion: 2,
        requestId: 'req-1',
      },
    ]);
    expect(JSON.stringify(deps.audit.entries)).not.toContain(clientSecret);
  });

  it('answers no secret when the entry cannot be written (fail closed), and the rotation keeps its trace', async () => {
    const deps = world();
    const record = deps.audit.record.bind(deps.audit);
    deps.audit.record = async (_entry: AuditEntry) => {
      throw new Error('audit table unavailable');
    };
    await expect(rotateClientSecret('cl_issuer', operator, deps)).rejects.toThrow('audit entry not written');
    // The next rotation (entry written) gives the next version: the unanswered one is never handed out.
    const again = world(deps.clients.clients.get('cl_issuer') as Record<string, unknown>);
    await rotateClientSecret('cl_issuer', operator, again);
    expect(again.audit.entries[0]).toMatchObject({ secretVersion: 3 });
    // The rotation nobody was answered stands (its record names version 2 no more: 3 now) and is not
    // lost: saved with it, its entry is written by the reconciler's run a minute later (it used to be).
    deps.audit.record = record;
    await reconcileCarriedAt(clock.now() + 120_000, { operatorAudit: deps.clients.pendingAudit }, deps.audit);
    expect(deps.audit.entries).toEqual([
      expect.objectContaining({
        action: 'client.secret_rotated',
        targetClientId: 'cl_issuer',
        secretVersion: 2,
      }),
    ]);
  });

  it('answers 409 client_secret_key_unknown for a record whose marker it does not know', async () => {
    for (const markers of [{ secret_key: 'lookup-v2' }, { secret_key: 'client-secret', secret_version: 0 }]) {
      const deps = world(markers);
      await expect(rotateClientSecret('cl_issuer', operator, deps)).rejects.toMatchObject({
        kind: 'conflict',
        code: 'client_secret_key_unknown',
      });
      expect(deps.clients.clients.get('cl_issuer')).toMatchObject(markers);
      expect(deps.audit.entries).toEqual([]);
    }
  });
});
