import { composition } from './composition/dependencies.js';
import { doc, issuers, peers } from './composition/factories.js';
import { refreshAllPeers } from '../shared/issuers/peers.js';
import { logger } from '../shared/logger.js';

/** What this function's handler uses, built once per container. */
const dependencies = composition({ doc, issuers, peers });

/**
 * No route: the stack's schedule (every 15 minutes) invokes it to refresh every peer platform's trust
 * list (跨地区互认, docs/peers.md). A peer that fails keeps its last good copy and records the error; the
 * others go on. It reads the peers and our issuers and writes the peers back: no key, no other item.
 */
export async function handler(): Promise<{ peers: Array<{ id: string; status: string }> }> {
  const results = await refreshAllPeers(dependencies());
  logger.info('peers refreshed', { peers: results });
  return { peers: results };
}
