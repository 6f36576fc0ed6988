import { routesOf } from './dispatch.js';
import { NotFoundError } from '../shared/errors.js';
import { apiHandler } from '../shared/http/api-handler.js';
import { json } from '../shared/http/response.js';
import type { HttpEvent } from '../shared/http/types.js';
import { catalogueView } from '../shared/licence/catalogue.js';

const served = routesOf('catalogue');
/** Public and the same for everyone until the next deployment, so shared caches may keep it for five minutes. */
const cacheable = { 'cache-control': 'public, max-age=300' };

/**
 * `GET /licence-types`: the licence catalogue, each type's fields as JSON Schema (as issued, and as a
 * licence returns them). `GET /licence-types/{code}`: one type, the document a credential's `vct` names.
 */
export const handler = apiHandler(
  async (event: HttpEvent) =>
    served.dispatch(event, {
      'GET /licence-types': () => json(200, catalogueView(), cacheable),
      'GET /licence-types/{code}': () => {
        const code = event.pathParameters?.code ?? '';
        const type = catalogueView().find((entry) => entry.code === code);
        if (!type) throw new NotFoundError(`No licence type ${code}`, 'licence_type_not_found');
        return json(200, type, cacheable);
      },
    }),
  served.edge,
);
