import { composition } from './composition/dependencies.js';
import { routesOf } from './dispatch.js';
import {
  kms,
  doc,
  lambda,
  issuers,
  trustList,
  platformSigner,
  presentationSigner,
  presentationPreviousSigners,
  noticeSigner,
  noticePreviousSigners,
  statusLists,
  peers,
  listSigner,
} from './composition/factories.js';
import { apiHandler } from '../shared/http/api-handler.js';
import { json } from '../shared/http/response.js';
import type { HttpEvent } from '../shared/http/types.js';
import { issuerMetadata, trustListMediaType } from '../shared/licence/trust-list.js';
import { servedTrustList } from '../shared/licence/list-signer.js';
import { noticeKeySet } from '../shared/sharing/notice-keys.js';

/** What this function's handler uses, built once per container. */
const dependencies = composition({
  kms,
  doc,
  lambda,
  issuers,
  statusLists,
  trustList,
  platformSigner,
  // Their public keys only: the list names the keys presentations are signed with (part of its content).
  presentationSigner,
  presentationPreviousSigners,
  // Their public keys only: the notices JWKS (review R31 L1); `notices` alone signs with the key.
  noticeSigner,
  noticePreviousSigners,
  peers,
  listSigner,
});
const served = routesOf('trust-list');

/**
 * `GET /trust-list` (public): the platform-signed list of issuers and their keys. Cacheable by anyone for
 * what is left of its `ttl` counted from its `iat`, and readable cross-origin so that browser verifiers can
 * load it. `GET /issuers/{id}` (public): one issuer as the list names it, the document a credential's
 * `iss` URL answers (unsigned: its keys are to be trusted through the signed list, or pinned).
 * `GET /.well-known/notices-jwks.json` (public): the keys withdrawal notices are signed with, which
 * platforms verify them against (docs/integrating.md); never the OpenID JWKS's keys.
 *
 * It signs nothing: a stale list is signed by the `list-signer` function (shared/licence/list-signer.ts),
 * which alone holds kms:Sign on the platform key for it; this function reads the key's public half only.
 */
export const handler = apiHandler(async (event: HttpEvent) => {
  const deps = dependencies();
  return served.dispatch(event, {
    'GET /trust-list': async () => {
      const { jws, ttl } = await servedTrustList({ ...deps, platformKey: deps.platformSigner });
      return {
        statusCode: 200,
        headers: {
          'content-type': trustListMediaType,
          'cache-control': `public, max-age=${ttl}`,
          'x-content-type-options': 'nosniff',
        },
        body: jws,
      };
    },
    'GET /issuers/{id}': async () =>
      json(200, await issuerMetadata(event.pathParameters?.id ?? '', deps), {
        // As long as the trust list's ttl at most: a withdrawal or a new key shows within five minutes.
        'cache-control': 'public, max-age=300',
      }),
    'GET /.well-known/notices-jwks.json': async () => {
      const { set, complete } = await noticeKeySet(deps);
      // A set missing a retiring key (it could not be read) is answered, not cached.
      return json(200, set, { 'cache-control': complete ? 'public, max-age=300' : 'no-store' });
    },
  });
}, served.edge);
