import { beforeEach, describe, expect, it } from 'vitest';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import { LambdaListSigner } from '../../../shared/adapters/lambda/list-signer.js';
import { NotFoundError, UnavailableError } from '../../../shared/errors.js';
import type { Issuer } from '../../../shared/issuers/issuer.js';
import {
  ListSignerUnavailableError,
  servedStatusList,
  servedTrustList,
  signList,
  type ListRequest,
  type ListSigner,
} from '../../../shared/licence/list-signer.js';
import {
  TRUST_LIST_RESIGN_AGE_SECONDS,
  TRUST_LIST_TTL_SECONDS,
} from '../../../shared/licence/trust-list-token.js';
import { InMemoryIssuerStore } from '../../support/in-memory.js';
import { InMemoryStatusListStore, InMemoryTrustListStore } from '../../support/in-memory-licence.js';
import { LocalSigner } from '../../support/local-signer.js';

const start = Date.UTC(2025, 0, 1) / 1000;

/**
 * The public side (`servedTrustList`, `servedStatusList`) and the signer's (`signList`) over the same
 * stores, the signer a function call away as the Lambda adapter makes it, counting its calls.
 */
describe('lists signed off the public path', () => {
  let issuers: InMemoryIssuerStore;
  let trustList: InMemoryTrustListStore;
  let statusLists: InMemoryStatusListStore;
  let platform: LocalSigner;
  const presentation = new LocalSigner();
  let now: number;
  let calls: ListRequest[];
  let down: boolean;

  const shared = () => ({
    issuers,
    statusLists,
    trustList,
    presentationSigner: presentation,
    presentationPreviousSigners: [],
    clock: { now: () => now * 1000 },
    config: { issuerUrl: 'https://id.example.gov.cn' },
  });
  const listSigner: ListSigner = {
    sign: async (request) => {
      calls.push(request);
      if (down) throw new ListSignerUnavailableError('down');
      return signList(request, { ...shared(), platformSigner: platform, signerFor: () => new LocalSigner() });
    },
  };
  // The public side holds the platform key's public half only: signing with it fails the test.
  const publicHalf = () => ({ kid: () => platform.kid(), publicJwk: () => platform.publicJwk() });
  const publicDeps = () => ({ ...shared(), platformKey: publicHalf(), listSigner });

  beforeEach(() => {
    issuers = new InMemoryIssuerStore();
    trustList = new InMemoryTrustListStore();
    statusLists = new InMemoryStatusListStore();
    platform = new LocalSigner();
    now = start;
    calls = [];
    down = false;
  });

  it('asks the signer only when the stored list is stale, in the same window as before', async () => {
    const first = await servedTrustList(publicDeps());
    expect(calls).toEqual([{ kind: 'trust-list' }]);
    now += TRUST_LIST_RESIGN_AGE_SECONDS - 1;
    expect((await servedTrustList(publicDeps())).jws).toBe(first.jws);
    expect(calls).toHaveLength(1);
    now += 1;
    const second = await servedTrustList(publicDeps());
    expect(second.jws).not.toBe(first.jws);
    expect(second.ttl).toBe(TRUST_LIST_TTL_SECONDS);
    expect(calls).toHaveLength(2);
  });

  it('serves the stored list while the signer is down and its exp is ahead, then fails with Retry-After', async () => {
    const first = await servedTrustList(publicDeps());
    down = true;
    now += TRUST_LIST_RESIGN_AGE_SECONDS;
    expect(await servedTrustList(publicDeps())).toEqual({
      jws: first.jws,
      ttl: TRUST_LIST_TTL_SECONDS - TRUST_LIST_RESIGN_AGE_SECONDS,
    });
    now += TRUST_LIST_TTL_SECONDS;
    expect((await servedTrustList(publicDeps())).ttl).toBe(0);
    now = trustList.stored!.exp;
    const refused = servedTrustList(publicDeps());
    await expect(refused).rejects.toBeInstanceOf(ListSignerUnavailableError);
    await expect(refused).rejects.toMatchObject({ retryAfterSeconds: 30, kind: 'unavailable' });
  });

  it('does not serve, while the signer is down, a stored list whose content has changed since (review R10)', async () => {
    const signer = new LocalSigner();
    const agency: Issuer = {
      id: 'iss_one',
      name: 'Agency one',
      creditCode: '11310000000000001B',
      region: '310000',
      licenceTypes: ['business-licence'],
      status: 'active',
      keyId: 'key-one',
      kid: await signer.kid(),
      publicJwk: await signer.publicJwk(),
      createdAt: new Date(start * 1000).toISOString(),
      version: 1,
    };
    await issuers.claim(agency);
    await servedTrustList(publicDeps());
    down = true;
    // The agency is withdrawn (its key compromised, say) while the list cannot be signed: the list from
    // before would still name it active, and is not served.
    await issuers.save({ ...(await issuers.findById('iss_one'))!, status: 'withdrawn' });
    await expect(servedTrustList(publicDeps())).rejects.toBeInstanceOf(ListSignerUnavailableError);
    now += TRUST_LIST_RESIGN_AGE_SECONDS;
    await expect(servedTrustList(publicDeps())).rejects.toBeInstanceOf(ListSignerUnavailableError);
    // Signed again once the signer is back, withdrawn.
    down = false;
    const { jws } = await servedTrustList(publicDeps());
    const payload = JSON.parse(Buffer.from(jws.split('.')[1]!, 'base64url').toString('utf8')) as {
      issuers: Array<{ id: string; status: string }>;
    };
    expect(payload.issuers).toMatchObject([{ id: 'iss_one', status: 'withdrawn' }]);
  });

  it('answers a list the signer finds changed faster than it can be dated 503 in a second, not 30 (R33 H1)', async () => {
    const signer = new LocalSigner();
    await issuers.claim({
      id: 'iss_one',
      name: 'Agency one',
      creditCode: '11310000000000001B',
      region: '310000',
      licenceTypes: ['business-licence'],
      status: 'active',
      keyId: 'key-one',
      kid: await signer.kid(),
      publicJwk: await signer.publicJwk(),
      createdAt: new Date(start * 1000).toISOString(),
      version: 1,
    });
    const { listId } = await statusLists.allocate('iss_one');
    // The signer function, a Lambda invoke away, answers that the list changed faster than it can be dated.
    const lambda = {
      send: async () => ({ Payload: Buffer.from(JSON.stringify({ error: 'status_list_busy' })) }),
    } as unknown as LambdaClient;
    const refusal = await servedStatusList(listId, {
      ...publicDeps(),
      listSigner: new LambdaListSigner(lambda, 'list-signer'),
    }).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(UnavailableError);
    expect(refusal).not.toBeInstanceOf(ListSignerUnavailableError);
    expect(refusal).toMatchObject({ code: 'status_list_busy', retryAfterSeconds: 1 });
  });

  it('answers an unknown status list not found without asking the signer', async () => {
    await expect(servedStatusList('iss_none.0', publicDeps())).rejects.toBeInstanceOf(NotFoundError);
    await expect(servedStatusList('not a list', publicDeps())).rejects.toBeInstanceOf(NotFoundError);
    expect(calls).toEqual([]);
  });

  it('refuses a request that is more than which list', async () => {
    const deps = { ...shared(), platformSigner: platform, signerFor: () => new LocalSigner() };
    for (const input of [
      undefined,
      {},
      { kind: 'trust-list', jws: 'x' },
      { kind: 'status-list', listId: '' },
    ]) {
      await expect(signList(input, deps), JSON.stringify(input)).rejects.toMatchObject({
        code: 'invalid_request',
      });
    }
    expect(trustList.stored).toBeUndefined();
  });
});
