import { composition } from './composition/dependencies.js';
import { doc, issuers, peers } from './composition/factories.js';
import { peersRefreshedLine, refreshAllPeers, stalePeers } from '../shared/issuers/peers.js';
import { alarmedLines } from '../shared/logger.js';

/** What this function's handler uses, built once per container. */
const dependencies = composition({ doc, issuers, peers });

/**
 * No route: the stack's schedule (every 15 minutes) invokes it to refresh every peer platform's trust
 * list (跨地区互认, docs/peers.md). A peer that fails keeps its last good copy and records the error; the
 * others go on. It reads the peers and our issuers and writes the peers back: no key, no other item.
 */
export async function handler(): Promise<{
  peers: Array<{ id: string; status: string; fetchedAt: string }>;
  stale: string[];
}> {
  const deps = dependencies();
  const results = await refreshAllPeers(deps);
  const stale = stalePeers(results, deps.clock.now(), deps.config);
  // `stalePeers` on every run (0 included): the stack's metric of it, and its alarm (docs/operating.md).
  alarmedLines.info(peersRefreshedLine, { peers: results, stalePeers: stale.length });
  return { peers: results, stale };
}
