import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PeerRecord, PeerStore } from '../../shared/issuers/peer-store.js';
import type { PendingWorkIndex } from '../../shared/pending-work/pending-work.js';
import { listedPointer, traceFor } from '../support/traces.js';
import type { Make } from './subject.js';

const key = {
  kty: 'EC' as const,
  crv: 'P-256' as const,
  x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU',
  y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0',
  kid: 'k1',
};

const peer = (id: string, iat = 100): Omit<PeerRecord, 'version'> => ({
  id,
  name: `Peer ${id}`,
  region: '310000',
  baseUrl: 'https://peer.example.gov.cn',
  jwks: { keys: [key] },
  createdAt: '2026-12-01T00:00:00.000Z',
  fetchedAt: '2026-12-01T00:00:01.000Z',
  trustList: { jws: `jws-${iat}`, iat, exp: iat + 604_800 },
  issuers: [
    {
      id: 'iss_b1',
      name: '上海市某局',
      creditCode: '11310000000001322X',
      region: '310000',
      status: 'active',
      jwks: { keys: [{ ...key, alg: 'ES256', use: 'sig' }] },
      licenceTypes: [{ code: 'driving-licence', typeCode: '003' }],
      statusLists: 1,
      peer: id,
      statusBase: 'https://peer.example.gov.cn',
    },
  ],
});

/**
 * The {@link PeerStore} contract: records kept whole, replaced only over the version read, removed; a
 * registration or removal with its trace writes both or neither (`operatorAudit`, the index of operators'
 * changes, holds the traces).
 */
export function peerStoreContract(
  name: string,
  make: Make<{ store: PeerStore; operatorAudit: PendingWorkIndex }>,
): void {
  describe(`PeerStore contract: ${name}`, () => {
    let subject: Awaited<ReturnType<typeof make>>;
    let store: PeerStore;
    beforeEach(async () => {
      subject = await make();
      store = subject.store;
    });
    afterEach(async () => {
      await subject.cleanup();
    });

    it('holds nothing at first, then each peer saved over version 0, at version 1, whole', async () => {
      expect(await store.get('peer_a')).toBeUndefined();
      expect(await store.list()).toEqual([]);
      const saved = await store.save(peer('peer_a'), 0);
      expect(saved).toEqual({ ...peer('peer_a'), version: 1 });
      expect(await store.get('peer_a')).toEqual(saved);
      await store.save({ ...peer('peer_b'), lastError: { at: 'x', code: 'unreachable', detail: 'd' } }, 0);
      const listed = await store.list();
      expect(listed.map((p) => p.id).sort()).toEqual(['peer_a', 'peer_b']);
      expect(listed.find((p) => p.id === 'peer_b')?.lastError?.code).toBe('unreachable');
    });

    it('replaces a peer only over the version read: a stale writer gets a conflict and changes nothing', async () => {
      await store.save(peer('peer_a', 100), 0);
      const second = await store.save(peer('peer_a', 200), 1);
      expect(second.version).toBe(2);
      await expect(store.save(peer('peer_a', 300), 1)).rejects.toMatchObject({ code: 'peer_changed' });
      await expect(store.save(peer('peer_a', 300), 0)).rejects.toMatchObject({ kind: 'conflict' });
      expect((await store.get('peer_a'))?.trustList.iat).toBe(200);
    });

    it('removes a peer, and removing an absent one does nothing (false)', async () => {
      await store.save(peer('peer_a'), 0);
      expect(await store.remove('peer_a')).toBe(true);
      expect(await store.remove('peer_a')).toBe(false);
      expect(await store.get('peer_a')).toBeUndefined();
      expect(await store.list()).toEqual([]);
    });

    it('registers and removes a peer with its trace, both or neither', async () => {
      const now = new Date();
      const later = new Date(now.getTime() + 3_600_000);
      const registered = traceFor('peer-changed#peer_a#registered', 'peer.registered', now, 'cl_op');
      expect(await store.save(peer('peer_a'), 0, registered)).toMatchObject({ version: 1 });
      expect(await subject.operatorAudit.olderThan(later, 10)).toEqual([listedPointer(registered)]);
      // Claimed as the trace says: nobody else takes it within its lease.
      expect(await subject.operatorAudit.claim(registered.carried.id, now)).toBeUndefined();
      await subject.operatorAudit.remove(registered.carried.id, registered.claim);

      // Refused (the id taken): neither the peer nor its trace.
      const again = traceFor('peer-changed#peer_a#registered-again', 'peer.registered', now, 'cl_op');
      await expect(store.save(peer('peer_a', 300), 0, again)).rejects.toMatchObject({ code: 'peer_changed' });
      expect((await store.get('peer_a'))?.trustList.iat).toBe(100);

      const removed = traceFor('peer-changed#peer_a#removed', 'peer.removed', now, 'cl_op');
      expect(await store.remove('peer_a', removed)).toBe(true);
      expect(await store.get('peer_a')).toBeUndefined();
      expect(await subject.operatorAudit.olderThan(later, 10)).toEqual([listedPointer(removed)]);
      // Gone already: false, and no second trace.
      const twice = traceFor('peer-changed#peer_a#removed-again', 'peer.removed', now, 'cl_op');
      expect(await store.remove('peer_a', twice)).toBe(false);
      expect(await subject.operatorAudit.olderThan(later, 10)).toEqual([listedPointer(removed)]);
    });
  });
}
