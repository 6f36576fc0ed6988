import { composition } from './composition/dependencies.js';
import { routesOf } from './dispatch.js';
import { doc, lambda, issuers, statusLists, peers, listSigner } from './composition/factories.js';
import { NotFoundError } from '../shared/errors.js';
import { apiHandler } from '../shared/http/api-handler.js';
import type { HttpEvent } from '../shared/http/types.js';
import { PeerStatusListRelay } from '../shared/licence/peer-status-lists.js';
import { parseListId } from '../shared/licence/status-list-store.js';
import { servedStatusList } from '../shared/licence/list-signer.js';
import { statusListMediaType } from '../shared/licence/status-list-token.js';

/** What this function's handler uses, built once per container. */
const dependencies = composition({ doc, lambda, issuers, statusLists, peers, listSigner });
let relay: PeerStatusListRelay | undefined;

/**
 * `GET /status-lists/{listId}` (public): the list's Status List Token, signed by its issuer. Cacheable by
 * anyone for what is left of its `ttl` counted from its `iat` (verifiers count freshness from there; the
 * token says its `ttl` too, and the draft makes the claims win over HTTP headers);
 * readable cross-origin so that browser verifiers can fetch it (draft §8.1).
 *
 * A list of a peer platform's issuer (跨地区互认, docs/peers.md) is the peer's own token, relayed
 * unchanged (kept a minute per container), so that the verifier page (`connect-src 'self'`) and apps
 * that ignore `statusBase` find it here; a peer that cannot be reached is a 502 problem.
 *
 * It signs nothing and holds no issuer key: a stale list is signed by the `list-signer` function
 * (shared/licence/list-signer.ts); while that cannot be reached, the stored token is served until its
 * `exp` (a status change drops it), then 503 `temporarily_unavailable` with `Retry-After`.
 */
export const handler = apiHandler(async (event: HttpEvent) => {
  const deps = dependencies();
  const listId = event.pathParameters?.listId ?? '';
  let token: { jws: string; ttl: number };
  try {
    token = await servedStatusList(listId, deps);
  } catch (error) {
    // Not one of our lists: perhaps a peer issuer's (never one of an issuer id of ours).
    const issuerId = parseListId(listId)?.issuerId;
    if (!(error instanceof NotFoundError) || !issuerId || (await deps.issuers.findById(issuerId)))
      throw error;
    relay ??= new PeerStatusListRelay(deps);
    const relayed = await relay.token(listId);
    if (!relayed) throw error;
    token = relayed;
  }
  return {
    statusCode: 200,
    headers: {
      'content-type': statusListMediaType,
      'cache-control': `public, max-age=${token.ttl}`,
      'x-content-type-options': 'nosniff',
    },
    body: token.jws,
  };
}, routesOf('status-lists').edge);
