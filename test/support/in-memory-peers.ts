import { ConflictError } from '../../shared/errors.js';
import type { PeerRecord, PeerStore } from '../../shared/issuers/peer-store.js';
import type { Trace } from '../../shared/pending-work/pending-work.js';
import { InMemoryPendingWork } from './in-memory-licence.js';

/**
 * The {@link PeerStore} contract in memory (copies in and out, as a table would); a change's trace kept in
 * `pendingAudit` (the index of operators' changes).
 */
export class InMemoryPeerStore implements PeerStore {
  constructor(readonly pendingAudit = new InMemoryPendingWork()) {}

  private readonly peers = new Map<string, PeerRecord>();

  async get(id: string): Promise<PeerRecord | undefined> {
    const peer = this.peers.get(id);
    return peer && structuredClone(peer);
  }

  async list(): Promise<PeerRecord[]> {
    return [...this.peers.values()]
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .map((peer) => structuredClone(peer));
  }

  async save(peer: Omit<PeerRecord, 'version'>, expectedVersion: number, trace?: Trace): Promise<PeerRecord> {
    if ((this.peers.get(peer.id)?.version ?? 0) !== expectedVersion) {
      throw new ConflictError(`Peer ${peer.id} changed meanwhile`, 'peer_changed');
    }
    const saved = { ...structuredClone(peer), version: expectedVersion + 1 };
    this.peers.set(peer.id, saved);
    // All or nothing, as one transaction: the pointer only with the peer's write.
    if (trace) this.pendingAudit.keepTrace(trace);
    return structuredClone(saved);
  }

  async remove(id: string, trace?: Trace): Promise<boolean> {
    if (!this.peers.delete(id)) return false;
    if (trace) this.pendingAudit.keepTrace(trace);
    return true;
  }
}
