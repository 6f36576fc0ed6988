import { beforeEach, describe, expect, it } from 'vitest';
import { createIssuer, createIssuerInput } from '../../../shared/issuers/create-issuer.js';
import { ClientSecrets } from '../../../shared/clients/client-secrets.js';
import { ConflictError } from '../../../shared/errors.js';
import {
  fakeMac,
  InMemoryClientStore,
  InMemoryIssuerStore,
  InMemoryKeyManager,
} from '../../support/in-memory.js';
import { FailingAudit } from '../../support/in-memory-identity.js';
import { reconcileCarriedAt } from '../../support/reconcile-carried.js';

const input = createIssuerInput.parse({
  name: '上海市市场监督管理局',
  creditCode: '11310000000024686d',
  region: '310000',
  licenceTypes: ['business-licence', 'business-licence'],
});

describe('onboarding an issuer', () => {
  let issuers: InMemoryIssuerStore;
  let keys: InMemoryKeyManager;
  let clients: InMemoryClientStore;
  let audit: FailingAudit;
  let deps: Parameters<typeof createIssuer>[2];
  const operator = { clientId: 'cl_operator', requestId: 'req-1' };
  const now = Date.parse('2026-11-22T08:00:00Z');

  beforeEach(() => {
    issuers = new InMemoryIssuerStore();
    keys = new InMemoryKeyManager();
    clients = new InMemoryClientStore();
    audit = new FailingAudit();
    deps = {
      issuers,
      keys,
      signerFor: keys.signerFor,
      clients,
      secrets: new ClientSecrets({ clientSecret: fakeMac }),
      audit,
      operatorAudit: issuers.pendingAudit,
      clock: { now: () => now },
    };
  });

  it('normalises the input: upper-case credit code, each licence type once', () => {
    expect(input.creditCode).toBe('11310000000024686D');
    expect(input.licenceTypes).toEqual(['business-licence']);
  });

  it('activates the issuer with its own key and an OAuth client that may only issue', async () => {
    const { issuer, clientSecret } = await createIssuer(input, operator, deps);

    expect(issuer).toMatchObject({
      status: 'active',
      creditCode: '11310000000024686D',
      createdAt: '2026-11-22T08:00:00.000Z',
    });
    expect(issuer.kid).toBe(await keys.signerFor(issuer.keyId ?? '').kid());
    expect(clients.clients.get(issuer.clientId ?? '')).toMatchObject({
      grant_types: ['client_credentials'],
      scope: 'licences:issue',
      issuer_id: issuer.id,
    });
    expect(clients.clients.get(issuer.clientId ?? '')).toMatchObject({ secret_key: 'client-secret' });
    expect(clientSecret).toBe(
      await deps.secrets.secretFor(issuer.clientId ?? '', { secret_key: 'client-secret' }),
    );
  });

  it('gives each issuer its own key', async () => {
    const first = await createIssuer(input, operator, deps);
    const second = await createIssuer(
      { ...input, creditCode: '11110000000013223T' as typeof input.creditCode },
      operator,
      deps,
    );
    expect(first.issuer.keyId).not.toBe(second.issuer.keyId);
    expect(first.issuer.kid).not.toBe(second.issuer.kid);
  });

  it('releases the credit code when the key cannot be created', async () => {
    keys.failNext = new Error('KMS unavailable');
    await expect(createIssuer(input, operator, deps)).rejects.toThrow('KMS unavailable');
    expect(issuers.byCreditCode.size).toBe(0);
    expect(clients.clients.size).toBe(0);

    keys.failNext = undefined;
    await expect(createIssuer(input, operator, deps)).resolves.toMatchObject({
      issuer: { status: 'active' },
    });
  });

  it('retires the new key and releases the credit code when the client cannot be saved', async () => {
    clients.failNext = new Error('table unavailable');
    await expect(createIssuer(input, operator, deps)).rejects.toThrow('table unavailable');
    expect(issuers.byCreditCode.size).toBe(0);
    expect([...keys.scheduledForDeletion]).toEqual([...keys.signers.keys()]);
  });

  it('traces the activation: issuer.created, by the operator, written with it', async () => {
    const { issuer } = await createIssuer(input, operator, deps);
    expect(audit.entries).toEqual([
      {
        at: '2026-11-22T08:00:00.000Z',
        actor: 'cl_operator',
        action: 'issuer.created',
        issuerId: issuer.id,
        reason: '11310000000024686D region 310000, licence types business-licence',
        requestId: 'req-1',
      },
    ]);
    expect(await issuers.pendingAudit.olderThan(new Date(now + 600_000), 10)).toEqual([]);
  });

  it('an issuer whose entry fails to be written stands, answered; the reconciler writes it once', async () => {
    // It used to write no entry at all: an issuer signing licences with nothing in the trail.
    audit.failures = 1;
    const { issuer, clientSecret } = await createIssuer(input, operator, deps);
    expect(issuer.status).toBe('active');
    expect(clientSecret).toBe(
      await deps.secrets.secretFor(issuer.clientId ?? '', { secret_key: 'client-secret' }),
    );
    expect(keys.scheduledForDeletion.size).toBe(0);
    expect(audit.entries).toEqual([]);
    await reconcileCarriedAt(now + 120_000, { operatorAudit: issuers.pendingAudit }, audit);
    await reconcileCarriedAt(now + 240_000, { operatorAudit: issuers.pendingAudit }, audit);
    expect(audit.entries.map(({ action, issuerId }) => ({ action, issuerId }))).toEqual([
      { action: 'issuer.created', issuerId: issuer.id },
    ]);
  });

  it('an activation that timed out after it was written stands: nothing undone, answered, traced once', async () => {
    // It used to be rolled back: its client deleted and its key scheduled for deletion, while the issuer
    // stayed in force (the release spares an active issuer), unable to sign or authenticate.
    const save = issuers.saveWithAudit.bind(issuers);
    issuers.saveWithAudit = async (issuer, trace) => {
      issuers.saveWithAudit = save;
      await save(issuer, trace);
      throw Object.assign(new Error('socket timed out'), { name: 'TimeoutError' });
    };
    const { issuer, clientSecret } = await createIssuer(input, operator, deps);
    expect(issuer.status).toBe('active');
    expect(issuers.byCreditCode.get(input.creditCode)).toMatchObject({ status: 'active', id: issuer.id });
    expect(clients.clients.has(issuer.clientId ?? '')).toBe(true);
    expect(keys.scheduledForDeletion.size).toBe(0);
    expect(clientSecret).toBe(
      await deps.secrets.secretFor(issuer.clientId ?? '', { secret_key: 'client-secret' }),
    );
    await reconcileCarriedAt(now + 120_000, { operatorAudit: issuers.pendingAudit }, audit);
    await reconcileCarriedAt(now + 240_000, { operatorAudit: issuers.pendingAudit }, audit);
    expect(audit.entries.map(({ action, issuerId }) => ({ action, issuerId }))).toEqual([
      { action: 'issuer.created', issuerId: issuer.id },
    ]);
  });

  it('an activation whose outcome cannot be read back undoes nothing and fails', async () => {
    const save = issuers.saveWithAudit.bind(issuers);
    issuers.saveWithAudit = async (issuer, trace) => {
      issuers.saveWithAudit = save;
      await save(issuer, trace);
      throw new Error('socket timed out');
    };
    issuers.findByCreditCode = async () => {
      throw new Error('table unavailable');
    };
    await expect(createIssuer(input, operator, deps)).rejects.toThrow('socket timed out');
    expect(issuers.byCreditCode.get(input.creditCode)).toMatchObject({ status: 'active' });
    expect(clients.clients.size).toBe(1);
    expect(keys.scheduledForDeletion.size).toBe(0);
  });

  it('an activation refused is undone and saves no entry', async () => {
    const save = issuers.saveWithAudit.bind(issuers);
    issuers.saveWithAudit = async () => {
      issuers.saveWithAudit = save;
      // Another write of the issuer got there first: nothing of this one is written.
      throw new ConflictError('The issuer changed since it was read', 'issuer_changed');
    };
    await expect(createIssuer(input, operator, deps)).rejects.toMatchObject({ code: 'issuer_changed' });
    expect(issuers.byCreditCode.size).toBe(0);
    expect(clients.clients.size).toBe(0);
    expect(await issuers.pendingAudit.olderThan(new Date(now + 600_000), 10)).toEqual([]);
    expect(audit.entries).toEqual([]);
  });
});
