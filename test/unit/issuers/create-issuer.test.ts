import { beforeEach, describe, expect, it } from 'vitest';
import { createIssuer, createIssuerInput } from '../../../shared/issuers/create-issuer.js';
import { ClientSecrets } from '../../../shared/clients/client-secrets.js';
import {
  fakeMac,
  InMemoryClientStore,
  InMemoryIssuerStore,
  InMemoryKeyManager,
} from '../../support/in-memory.js';

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
  let deps: Parameters<typeof createIssuer>[1];

  beforeEach(() => {
    issuers = new InMemoryIssuerStore();
    keys = new InMemoryKeyManager();
    clients = new InMemoryClientStore();
    deps = {
      issuers,
      keys,
      signerFor: keys.signerFor,
      clients,
      secrets: new ClientSecrets({ clientSecret: fakeMac }),
      clock: { now: () => Date.parse('2026-11-22T08:00:00Z') },
    };
  });

  it('normalises the input: upper-case credit code, each licence type once', () => {
    expect(input.creditCode).toBe('11310000000024686D');
    expect(input.licenceTypes).toEqual(['business-licence']);
  });

  it('activates the issuer with its own key and an OAuth client that may only issue', async () => {
    const { issuer, clientSecret } = await createIssuer(input, deps);

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
    const first = await createIssuer(input, deps);
    const second = await createIssuer(
      { ...input, creditCode: '11110000000013223T' as typeof input.creditCode },
      deps,
    );
    expect(first.issuer.keyId).not.toBe(second.issuer.keyId);
    expect(first.issuer.kid).not.toBe(second.issuer.kid);
  });

  it('releases the credit code when the key cannot be created', async () => {
    keys.failNext = new Error('KMS unavailable');
    await expect(createIssuer(input, deps)).rejects.toThrow('KMS unavailable');
    expect(issuers.byCreditCode.size).toBe(0);
    expect(clients.clients.size).toBe(0);

    keys.failNext = undefined;
    await expect(createIssuer(input, deps)).resolves.toMatchObject({ issuer: { status: 'active' } });
  });

  it('retires the new key and releases the credit code when the client cannot be saved', async () => {
    clients.failNext = new Error('table unavailable');
    await expect(createIssuer(input, deps)).rejects.toThrow('table unavailable');
    expect(issuers.byCreditCode.size).toBe(0);
    expect([...keys.scheduledForDeletion]).toEqual([...keys.signers.keys()]);
  });
});
