import { composition } from './composition/dependencies.js';
import { routesOf } from './dispatch.js';
import {
  kms,
  doc,
  issuers,
  trustList,
  platformSigner,
  presentationSigner,
  presentationPreviousSigners,
  statusLists,
  peers,
} from './composition/factories.js';
import { apiHandler } from '../shared/http/api-handler.js';
import { json } from '../shared/http/response.js';
import type { HttpEvent } from '../shared/http/types.js';
import { issuerMetadata, trustListMediaType } from '../shared/licence/trust-list.js';
import { trustListToken } from '../shared/licence/trust-list-token.js';

/** What this function's handler uses, built once per container. */
const dependencies = composition({
  kms,
  doc,
  issuers,
  statusLists,
  trustList,
  platformSigner,
  // Their public keys only: the list names the keys presentations are signed with.
  presentationSigner,
  presentationPreviousSigners,
  peers,
});
const served = routesOf('trust-list');

/**
 * `GET /trust-list` (public): the platform-signed list of issuers and their keys. Cacheable by anyone for
 * what is left of its `ttl` counted from its `iat`, and readable cross-origin so that browser verifiers can
 * load it. `GET /issuers/{id}` (public): one issuer as the list names it, the document a credential's
 * `iss` URL answers (unsigned: its keys are to be trusted through the signed list, or pinned).
 */
export const handler = apiHandler(async (event: HttpEvent) => {
  const deps = dependencies();
  return served.dispatch(event, {
    'GET /trust-list': async () => {
      const { jws, ttl } = await trustListToken(deps);
      return {
        statusCode: 200,
        headers: {
          'content-type': trustListMediaType,
          'cache-control': `public, max-age=${ttl}`,
          'access-control-allow-origin': '*',
          'x-content-type-options': 'nosniff',
        },
        body: jws,
      };
    },
    'GET /issuers/{id}': async () =>
      json(200, await issuerMetadata(event.pathParameters?.id ?? '', deps), {
        // As long as the trust list's ttl at most: a withdrawal or a new key shows within five minutes.
        'cache-control': 'public, max-age=300',
        'access-control-allow-origin': '*',
      }),
  });
}, served.edge);
