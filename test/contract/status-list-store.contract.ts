import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SignedStatusList, StatusListStore } from '../../shared/licence/status-list-store.js';
import { LIST_SIZE } from '../../shared/licence/status-list-store.js';
import { decodeStatusList, readStatus, StatusType } from '../../packages/verifier/src/status-list.js';
import { zlibCompression } from '../../packages/verifier/src/status-list-zlib.js';
import { rejection, type Make } from './subject.js';

const newIssuerId = () => `iss_${randomUUID().replaceAll('-', '').slice(0, 16)}`;

async function statusOf(store: StatusListStore, listId: string, idx: number): Promise<number> {
  const { statusList } = await store.find(listId);
  const list = await decodeStatusList(statusList, zlibCompression, { maxBytes: 64 * 1024 });
  return readStatus(list.bytes, idx, list.bits);
}

const token = (revision: number, iat: number): SignedStatusList => ({
  jws: `jws-${revision}-${iat}`,
  revision,
  uri: 'https://id.example.gov.cn/status-lists/x',
  iat,
  exp: iat + 3600,
});

/**
 * The {@link StatusListStore} contract: consecutive serials per issuer, idempotent status writes that
 * count revisions, a revoked entry never overwritten, all-valid lists until written, and a token kept only for the revision it was signed at
 * and only by the first of racing savers.
 */
export function statusListStoreContract(name: string, make: Make<{ store: StatusListStore }>): void {
  describe(`StatusListStore contract: ${name}`, () => {
    let subject: Awaited<ReturnType<typeof make>>;
    let store: StatusListStore;
    beforeEach(async () => {
      subject = await make();
      store = subject.store;
    });
    afterEach(async () => {
      await subject.cleanup();
    });

    it('allocates consecutive serials from 0 per issuer, also to concurrent callers', async () => {
      const issuerId = newIssuerId();
      expect(await store.allocated(issuerId)).toBe(0);
      expect(await store.allocate(issuerId)).toEqual({ serial: 0, listId: `${issuerId}.0`, idx: 0 });
      const serials = await Promise.all(Array.from({ length: 10 }, () => store.allocate(issuerId)));
      expect(serials.map((a) => a.serial).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      expect(await store.allocated(issuerId)).toBe(11);
      expect((await store.allocate(newIssuerId())).serial).toBe(0);
    });

    it('refuses an issuer id that cannot name a list, before counting', async () => {
      expect(await rejection(store.allocate('iss.dotted'))).toBeInstanceOf(RangeError);
    });

    it('reads an unwritten list as all valid, not stored, at revision 0', async () => {
      const listId = `${newIssuerId()}.0`;
      const snapshot = await store.find(listId);
      expect(snapshot).toMatchObject({ listId, revision: 0, stored: false, token: undefined });
      expect(await statusOf(store, listId, LIST_SIZE - 1)).toBe(StatusType.VALID);
    });

    it('writes statuses that read back, one revision per change and none for a repeat', async () => {
      const listId = `${newIssuerId()}.0`;
      await store.setStatus(listId, 3, StatusType.VALID);
      expect((await store.find(listId)).stored).toBe(false);
      await store.setStatus(listId, 3, StatusType.INVALID);
      await store.setStatus(listId, 4, StatusType.SUSPENDED);
      await store.setStatus(listId, 4, StatusType.SUSPENDED);
      expect(await store.find(listId)).toMatchObject({ revision: 2, stored: true });
      expect(await statusOf(store, listId, 3)).toBe(StatusType.INVALID);
      expect(await statusOf(store, listId, 4)).toBe(StatusType.SUSPENDED);
      expect(await statusOf(store, listId, 5)).toBe(StatusType.VALID);
    });

    it('never overwrites a revoked entry: a later valid or suspended write leaves it revoked', async () => {
      const listId = `${newIssuerId()}.0`;
      await store.setStatus(listId, 7, StatusType.INVALID);
      await store.setStatus(listId, 8, StatusType.SUSPENDED);
      await store.setStatus(listId, 8, StatusType.INVALID);
      const revoked = await store.find(listId);
      // A writer holding an older version of either licence (it lost a race to the revocation) writes late.
      for (const value of [StatusType.VALID, StatusType.SUSPENDED]) {
        await store.setStatus(listId, 7, value);
        await store.setStatus(listId, 8, value);
      }
      expect(await statusOf(store, listId, 7)).toBe(StatusType.INVALID);
      expect(await statusOf(store, listId, 8)).toBe(StatusType.INVALID);
      // Nothing changed, so the token signed at the revocation's revision stays good.
      expect((await store.find(listId)).revision).toBe(revoked.revision);
    });

    it('refuses what is not a list id, an index of one, or a status value', async () => {
      expect(await rejection(store.setStatus('no-list', 0, StatusType.INVALID))).toBeInstanceOf(RangeError);
      expect(await rejection(store.setStatus('iss_x.0', LIST_SIZE, StatusType.INVALID))).toBeInstanceOf(
        RangeError,
      );
      expect(await rejection(store.setStatus('iss_x.0', 0, 3 as never))).toBeInstanceOf(RangeError);
      expect(await rejection(store.find('iss_x'))).toBeInstanceOf(RangeError);
    });

    it('keeps the first token of an untouched list, and only the first', async () => {
      const listId = `${newIssuerId()}.0`;
      const seen = await store.find(listId);
      expect(await store.saveToken(listId, token(0, 100), seen)).toBe(true);
      expect(await store.saveToken(listId, token(0, 101), seen)).toBe(false);
      expect(await store.find(listId)).toMatchObject({ revision: 0, stored: true, token: token(0, 100) });
    });

    it('keeps a token of the current revision over the one seen, and drops it at the next change', async () => {
      const listId = `${newIssuerId()}.0`;
      await store.setStatus(listId, 1, StatusType.INVALID);
      const seen = await store.find(listId);
      expect(await store.saveToken(listId, token(1, 100), seen)).toBe(true);
      // A saver that read before that token was stored loses.
      expect(await store.saveToken(listId, token(1, 102), seen)).toBe(false);
      const withToken = await store.find(listId);
      expect(withToken.token).toEqual(token(1, 100));
      expect(await store.saveToken(listId, token(1, 200), withToken)).toBe(true);
      expect((await store.find(listId)).token).toEqual(token(1, 200));

      await store.setStatus(listId, 2, StatusType.SUSPENDED);
      const changed = await store.find(listId);
      expect(changed).toMatchObject({ revision: 2, token: undefined });
      // A token signed at the old revision is not kept for the new one.
      expect(await store.saveToken(listId, token(1, 300), changed)).toBe(false);
      expect(await store.saveToken(listId, token(2, 300), changed)).toBe(true);
    });

    it('does not store a first token over a list a status change created meanwhile', async () => {
      const listId = `${newIssuerId()}.0`;
      const seen = await store.find(listId);
      await store.setStatus(listId, 0, StatusType.INVALID);
      expect(await store.saveToken(listId, token(0, 100), seen)).toBe(false);
      expect(await store.find(listId)).toMatchObject({ revision: 1, token: undefined });
    });
  });
}
