import { composition } from './composition/dependencies.js';
import { routesOf } from './dispatch.js';
import { kms, doc, issuers, trustList, platformSigner, statusLists } from './composition/factories.js';
import { apiHandler } from '../shared/http/api-handler.js';
import { trustListMediaType } from '../shared/licence/trust-list.js';
import { trustListToken } from '../shared/licence/trust-list-token.js';

/** What this function's handler uses, built once per container. */
const dependencies = composition({ kms, doc, issuers, statusLists, trustList, platformSigner });

/**
 * `GET /trust-list` (public): the platform-signed list of issuers and their keys. Cacheable by anyone for
 * what is left of its `ttl` counted from its `iat`, and readable cross-origin so that browser verifiers can
 * load it.
 */
export const handler = apiHandler(async () => {
  const { jws, ttl } = await trustListToken(dependencies());
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
}, routesOf('trust-list').edge);
