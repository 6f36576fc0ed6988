import { ConflictError } from '../../shared/errors.js';
import type { PeerRecord, PeerStore } from '../../shared/issuers/peer-store.js';

/** The {@link PeerStore} contract in memory (copies in and out, as a table would). */
export class InMemoryPeerStore implements PeerStore {
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

  async save(peer: Omit<PeerRecord, 'version'>, expectedVersion: number): Promise<PeerRecord> {
    if ((this.peers.get(peer.id)?.version ?? 0) !== expectedVersion) {
      throw new ConflictError(`Peer ${peer.id} changed meanwhile`, 'peer_changed');
    }
    const saved = { ...structuredClone(peer), version: expectedVersion + 1 };
    this.peers.set(peer.id, saved);
    return structuredClone(saved);
  }

  async remove(id: string): Promise<void> {
    this.peers.delete(id);
  }
}
