import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IdempotencyLockLostError, type IdempotencyStore } from '../../shared/licence/idempotency-store.js';
import type { TestClock } from '../support/in-memory-identity.js';
import type { Make } from './subject.js';

/**
 * The {@link IdempotencyStore} contract: one holder of a key at a time (its lock lapses after 30 s), the
 * first allocation and credential stand, a released key answers its licence for 10 days, then starts over.
 */
export function idempotencyStoreContract(
  name: string,
  make: Make<{ store: IdempotencyStore; clock: TestClock }>,
): void {
  describe(`IdempotencyStore contract: ${name}`, () => {
    let subject: Awaited<ReturnType<typeof make>>;
    let store: IdempotencyStore;
    const input = () => ({ issuerId: 'iss_contract', key: randomUUID(), requestHash: 'hash-a' });
    beforeEach(async () => {
      subject = await make();
      store = subject.store;
    });
    afterEach(async () => {
      await subject.cleanup();
    });

    it('creates a record on first use and holds its lock against a second request', async () => {
      const key = input();
      const record = await store.acquire(key);
      expect(record).toMatchObject({ ...key });
      expect(record?.allocation).toBeUndefined();
      expect(record?.licenceId).toBeUndefined();
      expect(await store.acquire(key)).toBeUndefined();
      expect(await store.acquire({ ...key, requestHash: 'hash-b' })).toBeUndefined();
      // Another issuer's key of the same value is another record.
      expect(await store.acquire({ ...key, issuerId: 'iss_other' })).toMatchObject({ issuerId: 'iss_other' });
    });

    it('keeps the first allocation and the first credential whatever later calls offer', async () => {
      const record = (await store.acquire(input()))!;
      const first = { serial: 4, listId: 'iss_contract.0', idx: 4, issuedAt: '2026-01-01T00:00:00.000Z' };
      expect(await store.recordAllocation(record, first)).toEqual(first);
      expect(await store.recordAllocation(record, { ...first, serial: 5, idx: 5 })).toEqual(first);
      expect(await store.recordCredential(record, 'jws-one')).toBe('jws-one');
      expect(await store.recordCredential(record, 'jws-two')).toBe('jws-one');
    });

    it('after release answers what was recorded, to the next request with the same key', async () => {
      const key = input();
      const record = (await store.acquire(key))!;
      const allocation = {
        serial: 0,
        listId: 'iss_contract.0',
        idx: 0,
        issuedAt: '2026-01-01T00:00:00.000Z',
      };
      await store.recordAllocation(record, allocation);
      await store.recordCredential(record, 'jws-one');
      await store.release(record, 'lic-1');
      const again = await store.acquire({ ...key, requestHash: 'hash-b' });
      // The stored hash stands: the caller compares it with its own to refuse a reused key.
      expect(again).toMatchObject({
        requestHash: 'hash-a',
        allocation,
        credential: 'jws-one',
        licenceId: 'lic-1',
      });
      expect(await store.acquire(key)).toBeUndefined();
    });

    it('frees the lock without a licence id on a failed attempt, keeping what was recorded', async () => {
      const key = input();
      const record = (await store.acquire(key))!;
      await store.recordCredential(record, 'jws-one');
      await store.release(record);
      const again = await store.acquire(key);
      expect(again).toMatchObject({ credential: 'jws-one' });
      expect(again?.licenceId).toBeUndefined();
    });

    it('lets a crashed request’s lock lapse after 30 seconds', async () => {
      const key = input();
      await store.acquire(key);
      subject.clock.advanceSeconds(30);
      expect(await store.acquire(key)).toBeUndefined();
      subject.clock.advanceSeconds(1);
      expect(await store.acquire(key)).toMatchObject({ requestHash: 'hash-a' });
    });

    it('remembers a record through a long holiday, 10 days, and forgets it after (review R51 F2)', async () => {
      const key = input();
      const record = (await store.acquire(key))!;
      await store.recordCredential(record, 'jws-one');
      await store.release(record, 'lic-1');
      // A back office retrying after a weekend outage, or after the Spring Festival week: its licence.
      subject.clock.advanceSeconds(3 * 86_400);
      const weekend = (await store.acquire(key))!;
      expect(weekend).toMatchObject({ requestHash: 'hash-a', licenceId: 'lic-1' });
      await store.release(weekend, 'lic-1');
      subject.clock.advanceSeconds(7 * 86_400 - 1);
      const holiday = (await store.acquire({ ...key, requestHash: 'hash-b' }))!;
      expect(holiday).toMatchObject({ requestHash: 'hash-a', credential: 'jws-one', licenceId: 'lic-1' });
      await store.release(holiday, 'lic-1');
      // 10 days after its first use the key starts over with the new request, whatever it is.
      subject.clock.advanceSeconds(1);
      const fresh = await store.acquire({ ...key, requestHash: 'hash-b' });
      expect(fresh).toMatchObject({ requestHash: 'hash-b' });
      expect(fresh?.credential).toBeUndefined();
      expect(fresh?.licenceId).toBeUndefined();
      expect(await store.acquire(key)).toBeUndefined();
    });

    it('lets only one of the requests racing for an expired key hold it, with its own hash alone (review R61 F1)', async () => {
      const key = input();
      const first = (await store.acquire(key))!;
      const allocation = {
        serial: 0,
        listId: 'iss_contract.0',
        idx: 0,
        issuedAt: '2026-01-01T00:00:00.000Z',
      };
      await store.recordAllocation(first, allocation);
      await store.recordCredential(first, 'jws-a');
      await store.release(first, 'lic-a');
      subject.clock.advanceSeconds(10 * 86_400 + 1);
      const hashes = ['hash-w', 'hash-x', 'hash-y', 'hash-z'];
      const held = (
        await Promise.all(hashes.map((requestHash) => store.acquire({ ...key, requestHash })))
      ).filter((record) => record !== undefined);
      expect(held).toHaveLength(1);
      const [winner] = held;
      expect(hashes).toContain(winner!.requestHash);
      expect(winner).not.toHaveProperty('allocation');
      expect(winner).not.toHaveProperty('credential');
      expect(winner).not.toHaveProperty('licenceId');
      // What the winner records stands, and the loser's retry sees the winner's request, not its own.
      const slot = { ...allocation, serial: 7, idx: 7 };
      expect(await store.recordAllocation(winner!, slot)).toEqual(slot);
      await store.release(winner!, 'lic-b');
      const loserHash = hashes.find((hash) => hash !== winner!.requestHash)!;
      expect(await store.acquire({ ...key, requestHash: loserHash })).toMatchObject({
        requestHash: winner!.requestHash,
        allocation: slot,
        licenceId: 'lic-b',
      });
    });

    it('leaves an expired key to the request holding it until its lock lapses (review R61 F1)', async () => {
      const key = input();
      await store.acquire(key);
      subject.clock.advanceSeconds(10 * 86_400 - 10);
      // Released, then taken again seconds before the record expires: this request still holds it after.
      const retry = (await store.acquire(key))!;
      await store.release(retry);
      const holder = (await store.acquire(key))!;
      await store.recordCredential(holder, 'jws-holder');
      subject.clock.advanceSeconds(20);
      expect(await store.acquire({ ...key, requestHash: 'hash-b' })).toBeUndefined();
      subject.clock.advanceSeconds(20);
      const fresh = await store.acquire({ ...key, requestHash: 'hash-b' });
      expect(fresh).toMatchObject({ requestHash: 'hash-b' });
      expect(fresh?.credential).toBeUndefined();
    });

    it('refuses the writes of a holder whose lapsed lock another request took, leaving its record as it was', async () => {
      const key = input();
      const stale = (await store.acquire(key))!;
      const allocation = {
        serial: 3,
        listId: 'iss_contract.0',
        idx: 3,
        issuedAt: '2026-01-01T00:00:00.000Z',
      };
      await store.recordAllocation(stale, allocation);
      // The first holder stalls past its lock (a slow KMS call); a retry of the same request takes the key.
      subject.clock.advanceSeconds(31);
      const current = (await store.acquire(key))!;
      expect(current.lockToken).not.toBe(stale.lockToken);
      await expect(
        store.recordAllocation(stale, { ...allocation, serial: 9, idx: 9 }),
      ).rejects.toBeInstanceOf(IdempotencyLockLostError);
      await expect(store.recordCredential(stale, 'jws-stale')).rejects.toMatchObject({
        code: 'idempotency_key_taken_over',
      });
      await expect(store.release(stale, 'lic-stale')).rejects.toBeInstanceOf(IdempotencyLockLostError);
      // The stale release freed nothing: the key is still the current holder's.
      expect(await store.acquire(key)).toBeUndefined();
      expect(await store.recordCredential(current, 'jws-current')).toBe('jws-current');
      await store.release(current, 'lic-current');
      expect(await store.acquire(key)).toMatchObject({
        allocation,
        credential: 'jws-current',
        licenceId: 'lic-current',
      });
    });

    it('refuses the writes of a holder of an expired key another request started over', async () => {
      const key = input();
      const first = (await store.acquire(key))!;
      await store.release(first);
      subject.clock.advanceSeconds(10 * 86_400 - 10);
      const stale = (await store.acquire(key))!;
      // Stalled past its lock and the record's expiry: another request starts the key over.
      subject.clock.advanceSeconds(31);
      const other = (await store.acquire({ ...key, requestHash: 'hash-b' }))!;
      expect(other).toMatchObject({ requestHash: 'hash-b' });
      const slot = { serial: 1, listId: 'iss_contract.0', idx: 1, issuedAt: '2026-01-01T00:00:00.000Z' };
      await expect(store.recordAllocation(stale, slot)).rejects.toBeInstanceOf(IdempotencyLockLostError);
      await expect(store.recordCredential(stale, 'jws-of-x')).rejects.toBeInstanceOf(
        IdempotencyLockLostError,
      );
      await expect(store.release(stale, 'lic-of-x')).rejects.toBeInstanceOf(IdempotencyLockLostError);
      // Nothing of the stale holder's landed in the other request's record.
      const own = { ...slot, serial: 2, idx: 2 };
      expect(await store.recordAllocation(other, own)).toEqual(own);
      expect(await store.recordCredential(other, 'jws-of-y')).toBe('jws-of-y');
      await store.release(other, 'lic-of-y');
      expect(await store.acquire({ ...key, requestHash: 'hash-b' })).toMatchObject({
        requestHash: 'hash-b',
        allocation: own,
        credential: 'jws-of-y',
        licenceId: 'lic-of-y',
      });
    });

    it('lets a holder slower than its lock write while nobody took the key', async () => {
      const key = input();
      const slow = (await store.acquire(key))!;
      subject.clock.advanceSeconds(45);
      expect(await store.recordCredential(slow, 'jws-slow')).toBe('jws-slow');
      await store.release(slow, 'lic-slow');
      expect(await store.acquire(key)).toMatchObject({ credential: 'jws-slow', licenceId: 'lic-slow' });
    });

    it('keeps a record asked to be retained past the 10 days until then, and forgets it after (batch items)', async () => {
      const key = input();
      const retainUntil = Math.floor(subject.clock.now() / 1000) + 40 * 86_400;
      const record = (await store.acquire({ ...key, retainUntil }))!;
      await store.release(record, 'lic-1');
      subject.clock.advanceSeconds(39 * 86_400);
      expect(await store.acquire({ ...key, retainUntil })).toMatchObject({ licenceId: 'lic-1' });
      subject.clock.advanceSeconds(86_400);
      const fresh = await store.acquire(key);
      expect(fresh?.licenceId).toBeUndefined();
    });
  });
}
