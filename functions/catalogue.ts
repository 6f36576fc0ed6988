import { routesOf } from './dispatch.js';
import { apiHandler } from '../shared/http/api-handler.js';
import { json } from '../shared/http/response.js';
import { catalogueView } from '../shared/licence/catalogue.js';

/**
 * `GET /licence-types`: the licence catalogue, each type's fields as JSON Schema. Public and the same
 * for everyone until the next deployment, so shared caches may keep it for five minutes.
 */
export const handler = apiHandler(
  async () => json(200, catalogueView(), { 'cache-control': 'public, max-age=300' }),
  routesOf('catalogue').edge,
);
