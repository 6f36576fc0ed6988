import { composition } from './composition/dependencies.js';
import { routesOf } from './dispatch.js';
import { kms, doc, issuers, statusLists, signerFor } from './composition/factories.js';
import { apiHandler } from '../shared/http/api-handler.js';
import type { HttpEvent } from '../shared/http/types.js';
import { statusListMediaType, statusListToken } from '../shared/licence/status-list-token.js';

/** What this function's handler uses, built once per container. */
const dependencies = composition({ kms, doc, issuers, statusLists, signerFor });

/**
 * `GET /status-lists/{listId}` (public): the list's Status List Token, signed by its issuer. Cacheable by
 * anyone for what is left of its `ttl` counted from its `iat` (verifiers count freshness from there; the
 * token says its `ttl` too, and the draft makes the claims win over HTTP headers);
 * readable cross-origin so that browser verifiers can fetch it (draft §8.1).
 */
export const handler = apiHandler(async (event: HttpEvent) => {
  const { jws, ttl } = await statusListToken(event.pathParameters?.listId ?? '', dependencies());
  return {
    statusCode: 200,
    headers: {
      'content-type': statusListMediaType,
      'cache-control': `public, max-age=${ttl}`,
      'access-control-allow-origin': '*',
      'x-content-type-options': 'nosniff',
    },
    body: jws,
  };
}, routesOf('status-lists').edge);
