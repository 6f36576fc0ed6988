import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { startTestTable, type TestTable } from '../../support/dynamo-table.js';
import type { Signer } from '../../../shared/crypto/signer.js';
import { NotFoundError, UnavailableError } from '../../../shared/errors.js';
import type { Issuer } from '../../../shared/issuers/issuer.js';
import {
  decodeStatusList,
  readStatus,
  StatusType,
  type StatusValue,
} from '../../../packages/verifier/src/status-list.js';
import { DynamoStatusListStore } from '../../../shared/adapters/dynamo/status-list-store.js';
import { MAX_IAT_LEAD_SECONDS } from '../../../shared/licence/signed-at.js';
import { LIST_SIZE } from '../../../shared/licence/status-list-store.js';
import {
  STATUS_LIST_LIFETIME_SECONDS,
  STATUS_LIST_REFRESH_SECONDS,
  STATUS_LIST_RESIGN_AGE_SECONDS,
  STATUS_LIST_TTL_SECONDS,
  statusListToken,
} from '../../../shared/licence/status-list-token.js';
import { zlibCompression } from '../../../packages/verifier/src/status-list-zlib.js';
import { InMemoryIssuerStore } from '../../support/in-memory.js';
import { LocalSigner } from '../../support/local-signer.js';

const tableName = 'status-lists';
const issuerUrl = 'https://id.example.gov.cn';

/** A {@link Signer} that counts its signatures. */
class CountingSigner implements Signer {
  readonly alg = 'ES256';
  signatures = 0;
  readonly inner = new LocalSigner();
  publicJwk = () => this.inner.publicJwk();
  kid = () => this.inner.kid();
  sign = (data: Uint8Array) => {
    this.signatures++;
    return this.inner.sign(data);
  };
}

describe('status lists against dynalite', () => {
  let table: TestTable;
  let doc: DynamoDBDocumentClient;
  let store: DynamoStatusListStore;
  let issuerCounter = 0;
  const freshIssuerId = () => `iss_test${++issuerCounter}`;
  /** The clock, in seconds: the store dates status changes by it as `statusListToken` its tokens. */
  let now = Date.UTC(2025, 5, 1) / 1000;

  beforeAll(async () => {
    table = await startTestTable(tableName);
    doc = table.doc;
    store = new DynamoStatusListStore(doc, tableName, { now: () => now * 1000 });
  });

  afterAll(async () => {
    await table?.close();
  });

  const statusesOf = async (listId: string, indexes: number[]) => {
    const { statusList } = await store.find(listId);
    const { bytes } = await decodeStatusList(statusList, zlibCompression);
    return indexes.map((idx) => readStatus(bytes, idx));
  };

  describe('allocate', () => {
    it('gives 200 concurrent callers the serials 0..199: no gap, no duplicate', async () => {
      const issuerId = freshIssuerId();
      const allocations = await Promise.all(Array.from({ length: 200 }, () => store.allocate(issuerId)));
      const serials = allocations.map((allocation) => allocation.serial).sort((a, b) => a - b);
      expect(serials).toEqual(Array.from({ length: 200 }, (_, serial) => serial));
      for (const allocation of allocations) {
        expect(allocation).toEqual({
          serial: allocation.serial,
          listId: `${issuerId}.0`,
          idx: allocation.serial,
        });
      }
      expect(await store.allocated(issuerId)).toBe(200);
    });

    it('keeps one counter per issuer', async () => {
      const [a, b] = [freshIssuerId(), freshIssuerId()];
      await store.allocate(a);
      await store.allocate(a);
      expect((await store.allocate(b)).serial).toBe(0);
      expect(await store.allocated(a)).toBe(2);
      expect(await store.allocated(freshIssuerId())).toBe(0);
    });

    it('moves on to the next list after LIST_SIZE entries', async () => {
      const issuerId = freshIssuerId();
      // Start the counter just before the boundary rather than allocating 131,071 times.
      await doc.send(
        new PutCommand({
          TableName: tableName,
          Item: {
            pk: `status-list-counter#${issuerId}`,
            sk: 'status-list-counter',
            issuerId,
            allocated: LIST_SIZE - 1,
          },
        }),
      );
      expect(await store.allocate(issuerId)).toEqual({
        serial: LIST_SIZE - 1,
        listId: `${issuerId}.0`,
        idx: LIST_SIZE - 1,
      });
      expect(await store.allocate(issuerId)).toEqual({ serial: LIST_SIZE, listId: `${issuerId}.1`, idx: 0 });
    });
  });

  describe('setStatus', () => {
    it('creates the list on first use and reads back every status', async () => {
      const listId = `${freshIssuerId()}.0`;
      expect(await store.find(listId)).toMatchObject({ revision: 0, stored: false, token: undefined });
      await store.setStatus(listId, 5, StatusType.INVALID);
      await store.setStatus(listId, 6, StatusType.SUSPENDED);
      await store.setStatus(listId, LIST_SIZE - 1, StatusType.INVALID);
      expect(await statusesOf(listId, [4, 5, 6, 7, LIST_SIZE - 1])).toEqual([0, 1, 2, 0, 1]);
      expect(await store.find(listId)).toMatchObject({ revision: 3, stored: true });
    });

    it('is idempotent: the same value twice makes one revision', async () => {
      const listId = `${freshIssuerId()}.0`;
      await store.setStatus(listId, 1, StatusType.SUSPENDED);
      await store.setStatus(listId, 1, StatusType.SUSPENDED);
      expect((await store.find(listId)).revision).toBe(1);
      await store.setStatus(listId, 1, StatusType.VALID);
      await store.setStatus(listId, 1, StatusType.VALID);
      expect((await store.find(listId)).revision).toBe(2);
      expect(await statusesOf(listId, [1])).toEqual([0]);
    });

    it('lands all of 20 concurrent changes to different entries of one list', async () => {
      const listId = `${freshIssuerId()}.0`;
      const indexes = Array.from({ length: 20 }, (_, i) => i * 997);
      await Promise.all(
        indexes.map((idx, i) =>
          store.setStatus(listId, idx, i % 2 ? StatusType.SUSPENDED : StatusType.INVALID),
        ),
      );
      expect(await statusesOf(listId, indexes)).toEqual(indexes.map((_, i) => (i % 2 ? 2 : 1)));
      expect((await store.find(listId)).revision).toBe(20);
    });

    it('keeps the stored item small: the bitmap is stored compressed', async () => {
      const listId = `${freshIssuerId()}.0`;
      for (let idx = 0; idx < 50; idx++) await store.setStatus(listId, idx * 2_000, StatusType.INVALID);
      const { statusList } = await store.find(listId);
      expect(statusList.bits).toBe(2);
      expect(statusList.lst.length).toBeLessThan(1_000);
    });

    it('refuses what is not a list id or an index of one', async () => {
      await expect(store.setStatus('not a list', 0, StatusType.INVALID)).rejects.toBeInstanceOf(RangeError);
      await expect(store.setStatus('iss_x.0', LIST_SIZE, StatusType.INVALID)).rejects.toBeInstanceOf(
        RangeError,
      );
      await expect(store.setStatus('iss_x.0', -1, StatusType.INVALID)).rejects.toBeInstanceOf(RangeError);
      await expect(store.setStatus('iss_x.0', 0, 3 as StatusValue)).rejects.toBeInstanceOf(RangeError);
    });
  });

  describe('statusListToken (lazy signing)', () => {
    let issuers: InMemoryIssuerStore;
    let signer: CountingSigner;
    let issuer: Issuer;
    const deps = () => ({
      statusLists: store,
      issuers,
      signerFor: (keyId: string) => {
        if (keyId !== issuer.keyId) throw new Error(`unexpected key ${keyId}`);
        return signer;
      },
      clock: { now: () => now * 1000 },
      config: { issuerUrl },
    });
    const verify = async (jws: string, listId: string) => {
      const { payload, protectedHeader } = await jwtVerify(
        jws,
        createLocalJWKSet({ keys: [await signer.publicJwk()] }),
        {
          typ: 'statuslist+jwt',
          algorithms: ['ES256'],
          subject: `${issuerUrl}/status-lists/${listId}`,
          currentDate: new Date(now * 1000),
        },
      );
      return { payload, protectedHeader };
    };

    beforeEach(async () => {
      issuers = new InMemoryIssuerStore();
      signer = new CountingSigner();
      now = Date.UTC(2025, 5, 1) / 1000;
      issuer = await issuers.claim({
        id: freshIssuerId(),
        name: 'Test agency',
        creditCode: '11310000000000001B',
        region: '310000',
        licenceTypes: ['driving-licence'],
        status: 'active',
        keyId: 'key-1',
        kid: await signer.kid(),
        publicJwk: await signer.publicJwk(),
        createdAt: new Date(now * 1000).toISOString(),
        version: 0,
      });
    });

    it('signs an allocated, untouched list as all valid, with the claims of the draft', async () => {
      const { listId } = await store.allocate(issuer.id);
      const { jws, ttl } = await statusListToken(listId, deps());
      expect(ttl).toBe(STATUS_LIST_TTL_SECONDS);
      const { payload, protectedHeader } = await verify(jws, listId);
      expect(protectedHeader).toEqual({ typ: 'statuslist+jwt', alg: 'ES256', kid: await signer.kid() });
      expect(payload).toEqual({
        iss: issuer.id,
        sub: `${issuerUrl}/status-lists/${listId}`,
        iat: now,
        exp: now + STATUS_LIST_LIFETIME_SECONDS,
        ttl: STATUS_LIST_TTL_SECONDS,
        status_list: { bits: 2, lst: expect.stringMatching(/^[A-Za-z0-9_-]+$/) },
      });
      const { bytes } = await decodeStatusList(payload.status_list, zlibCompression);
      expect(bytes.length).toBe(LIST_SIZE / 4);
      expect(bytes.every((byte) => byte === 0)).toBe(true);
    });

    it('signs once per revision', async () => {
      const { listId, idx } = await store.allocate(issuer.id);
      const first = await statusListToken(listId, deps());
      now += 60;
      expect((await statusListToken(listId, deps())).jws).toBe(first.jws);
      expect((await statusListToken(listId, deps())).jws).toBe(first.jws);
      expect(signer.signatures).toBe(1);

      await store.setStatus(listId, idx, StatusType.INVALID);
      const second = await statusListToken(listId, deps());
      expect(second.jws).not.toBe(first.jws);
      now += 60;
      expect((await statusListToken(listId, deps())).jws).toBe(second.jws);
      expect(signer.signatures).toBe(2);
      const { payload } = await verify(second.jws, listId);
      const { bytes } = await decodeStatusList(payload.status_list, zlibCompression);
      expect(readStatus(bytes, idx)).toBe(StatusType.INVALID);

      // Setting the same value again is no change: no new revision, no new signature.
      await store.setStatus(listId, idx, StatusType.INVALID);
      expect((await statusListToken(listId, deps())).jws).toBe(second.jws);
      expect(signer.signatures).toBe(2);
    });

    it('dates a list re-signed within the second of the one before a second after it (R32 M1)', async () => {
      // Two revocations a moment apart: a verifier must be able to tell the second list from the first.
      const { listId, idx } = await store.allocate(issuer.id);
      const first = await statusListToken(listId, deps());
      await store.setStatus(listId, idx, StatusType.INVALID);
      const second = await statusListToken(listId, deps());
      await store.setStatus(listId, idx + 1, StatusType.INVALID);
      const third = await statusListToken(listId, deps());
      const iats = await Promise.all(
        [first, second, third].map(async ({ jws }) => (await verify(jws, listId)).payload.iat),
      );
      expect(iats).toEqual([now, now + 1, now + 2]);
      expect(third.ttl).toBe(STATUS_LIST_TTL_SECONDS);
      // Served as any other while its revision stands, though dated ahead of the clock.
      expect((await statusListToken(listId, deps())).jws).toBe(third.jws);
      expect(signer.signatures).toBe(3);
    });

    it('never dates a list more than the lead ahead of the clock: a burst past it is a 503, not an old list (R33 H1)', async () => {
      // 80 revocations, each followed by a verifier's request, all within one second.
      const { listId } = await store.allocate(issuer.id);
      await statusListToken(listId, deps());
      const refusals: UnavailableError[] = [];
      for (let idx = 0; idx < 80; idx++) {
        await store.setStatus(listId, idx, StatusType.INVALID);
        try {
          const { jws } = await statusListToken(listId, deps());
          const { payload } = await verify(jws, listId);
          expect(payload.iat! - now).toBeLessThanOrEqual(MAX_IAT_LEAD_SECONDS);
          const { bytes } = await decodeStatusList(payload.status_list, zlibCompression);
          // What is served says every revocation made so far: never a list from before one.
          expect(readStatus(bytes, idx)).toBe(StatusType.INVALID);
        } catch (error) {
          if (!(error instanceof UnavailableError)) throw error;
          refusals.push(error);
        }
      }
      // The first 30 are dated a second apart ahead of the clock; the lead used up, the rest wait.
      expect(refusals).toHaveLength(80 - MAX_IAT_LEAD_SECONDS);
      expect(refusals.map((error) => [error.code, error.retryAfterSeconds])).toEqual(
        refusals.map(() => ['status_list_busy', 1]),
      );
      // One more revocation; a second later the list says it, dated within the lead.
      await store.setStatus(listId, 100, StatusType.INVALID);
      await expect(statusListToken(listId, deps())).rejects.toBeInstanceOf(UnavailableError);
      now += 1;
      const { jws, ttl } = await statusListToken(listId, deps());
      const { payload } = await verify(jws, listId);
      expect(payload.iat! - now).toBe(MAX_IAT_LEAD_SECONDS);
      expect(ttl).toBe(STATUS_LIST_TTL_SECONDS);
      const { bytes } = await decodeStatusList(payload.status_list, zlibCompression);
      expect([readStatus(bytes, 79), readStatus(bytes, 100)]).toEqual([
        StatusType.INVALID,
        StatusType.INVALID,
      ]);
      // Its revision standing, it is served though the lead is used up.
      expect((await statusListToken(listId, deps())).jws).toBe(jws);
    });

    it('dates the next list after a token saved while a status change was being written (R33 L1)', async () => {
      const { listId } = await store.allocate(issuer.id);
      await store.setStatus(listId, 1, StatusType.INVALID);
      // A second change reads the list; before it writes, a verifier's request signs and saves a token.
      const racing = new DynamoStatusListStore(doc, tableName, { now: () => now * 1000 });
      const patched = racing as unknown as { read: (id: string) => Promise<unknown> };
      const read = patched.read.bind(racing);
      let first: string | undefined;
      patched.read = async (id: string) => {
        const item = await read(id);
        patched.read = read;
        first = (await statusListToken(listId, deps())).jws;
        return item;
      };
      await racing.setStatus(listId, 2, StatusType.INVALID);
      const second = (await statusListToken(listId, deps())).jws;
      const [a, b] = await Promise.all([verify(first!, listId), verify(second, listId)]);
      // Two lists of different content: never the same iat (verifiers would refuse one as rolled back).
      expect(a.payload.status_list).not.toEqual(b.payload.status_list);
      expect(b.payload.iat).toBeGreaterThan(a.payload.iat!);
      expect(await statusesOf(listId, [1, 2])).toEqual([StatusType.INVALID, StatusType.INVALID]);
    });

    it('serves no token dated ahead whose save lost to a status change (R33 L1)', async () => {
      const { listId } = await store.allocate(issuer.id);
      await statusListToken(listId, deps());
      await store.setStatus(listId, 1, StatusType.INVALID);
      // The next token is dated a second ahead; a change lands between its signature and its save.
      const racing = new DynamoStatusListStore(doc, tableName, { now: () => now * 1000 });
      const save = racing.saveToken.bind(racing);
      racing.saveToken = async (...args) => {
        await store.setStatus(listId, 2, StatusType.INVALID);
        return save(...args);
      };
      // Served, it would share its iat with the list signed after the change: a retry in a second instead.
      await expect(statusListToken(listId, { ...deps(), statusLists: racing })).rejects.toMatchObject({
        code: 'status_list_busy',
        retryAfterSeconds: 1,
      });
      const next = await statusListToken(listId, deps());
      const { payload } = await verify(next.jws, listId);
      const { bytes } = await decodeStatusList(payload.status_list, zlibCompression);
      expect([readStatus(bytes, 1), readStatus(bytes, 2)]).toEqual([StatusType.INVALID, StatusType.INVALID]);
    });

    it('dates the list after a change after a token of that second whose save lost to it (R33 L1)', async () => {
      // A second after the last change: the token is dated now, not ahead, and served though its save
      // lost to the change.
      const { listId } = await store.allocate(issuer.id);
      await store.setStatus(listId, 1, StatusType.INVALID);
      now += 1;
      const racing = new DynamoStatusListStore(doc, tableName, { now: () => now * 1000 });
      const save = racing.saveToken.bind(racing);
      racing.saveToken = async (...args) => {
        await store.setStatus(listId, 2, StatusType.INVALID);
        return save(...args);
      };
      const first = await statusListToken(listId, { ...deps(), statusLists: racing });
      const second = await statusListToken(listId, deps());
      const [a, b] = await Promise.all([verify(first.jws, listId), verify(second.jws, listId)]);
      expect(a.payload.status_list).not.toEqual(b.payload.status_list);
      expect(b.payload.iat).toBeGreaterThan(a.payload.iat!);
    });

    it('re-signs once half its ttl has passed (verifiers count freshness from iat), and for another base URL', async () => {
      const { listId } = await store.allocate(issuer.id);
      const first = await statusListToken(listId, deps());
      now += STATUS_LIST_RESIGN_AGE_SECONDS - 1;
      const cached = await statusListToken(listId, deps());
      expect(cached.jws).toBe(first.jws);
      // Cacheable for what is left of its ttl from its iat.
      expect(cached.ttl).toBe(STATUS_LIST_TTL_SECONDS - STATUS_LIST_RESIGN_AGE_SECONDS + 1);
      expect(STATUS_LIST_RESIGN_AGE_SECONDS).toBeLessThan(
        STATUS_LIST_LIFETIME_SECONDS - STATUS_LIST_REFRESH_SECONDS,
      );
      now += 1;
      const refreshed = await statusListToken(listId, deps());
      expect(refreshed.jws).not.toBe(first.jws);
      expect((await verify(refreshed.jws, listId)).payload.iat).toBe(now);
      expect(signer.signatures).toBe(2);

      const elsewhere = await statusListToken(listId, {
        ...deps(),
        config: { issuerUrl: 'http://localhost:3001' },
      });
      expect(elsewhere.jws).not.toBe(refreshed.jws);
      expect(signer.signatures).toBe(3);
    });

    it('answers concurrent requests with valid tokens and keeps one', async () => {
      const { listId, idx } = await store.allocate(issuer.id);
      await store.setStatus(listId, idx, StatusType.SUSPENDED);
      const tokens = await Promise.all(Array.from({ length: 10 }, () => statusListToken(listId, deps())));
      for (const { jws } of tokens) await verify(jws, listId);
      const kept = (await store.find(listId)).token;
      expect(tokens.map(({ jws }) => jws)).toContain(kept?.jws);
      const before = signer.signatures;
      await statusListToken(listId, deps());
      expect(signer.signatures).toBe(before);
    });

    it('a status change racing a signature leaves no stale token behind', async () => {
      const { listId, idx } = await store.allocate(issuer.id);
      const seen = await store.find(listId);
      // Suspended, not revoked: the change below reinstates, and a revoked entry is never overwritten.
      await store.setStatus(listId, idx, StatusType.SUSPENDED);
      // A token signed over the snapshot read before the change must not be kept.
      expect(
        await store.saveToken(listId, { jws: 'stale', revision: 0, uri: 'u', iat: now, exp: now + 1 }, seen),
      ).toBe(false);
      const fresh = await store.find(listId);
      expect(fresh.token).toBeUndefined();
      expect(
        await store.saveToken(
          listId,
          { jws: 'a', revision: fresh.revision, uri: 'u', iat: now, exp: now + 1 },
          fresh,
        ),
      ).toBe(true);
      // Another writer read the same snapshot: it does not overwrite the first token.
      expect(
        await store.saveToken(
          listId,
          { jws: 'b', revision: fresh.revision, uri: 'u', iat: now, exp: now + 1 },
          fresh,
        ),
      ).toBe(false);
      expect((await store.find(listId)).token?.jws).toBe('a');
      // And the next status change drops it.
      await store.setStatus(listId, idx, StatusType.VALID);
      expect((await store.find(listId)).token).toBeUndefined();
    });

    it('is not found for an unknown issuer, a list beyond the allocated range, or no list id', async () => {
      await store.allocate(issuer.id);
      for (const listId of [`${issuer.id}.1`, 'iss_unknown.0', 'nonsense', `${issuer.id}.01`, '']) {
        const refused = statusListToken(listId, deps());
        await expect(refused).rejects.toBeInstanceOf(NotFoundError);
        await expect(refused).rejects.toMatchObject({ code: 'status_list_not_found', kind: 'not_found' });
      }
      expect(signer.signatures).toBe(0);
    });

    it('is not found for an issuer still provisioning, and still served once it is withdrawn', async () => {
      const { listId } = await store.allocate(issuer.id);
      const provisioning = await issuers.save({ ...issuer, status: 'provisioning', version: 1 });
      await expect(statusListToken(listId, deps())).rejects.toBeInstanceOf(NotFoundError);
      await issuers.save({ ...provisioning, status: 'withdrawn' });
      const { jws } = await statusListToken(listId, deps());
      expect(decodeProtectedHeader(jws).typ).toBe('statuslist+jwt');
    });
  });
});
