import { composition } from './composition/dependencies.js';
import { routesOf } from './dispatch.js';
import { routes } from './routes.js';
import { NotFoundError } from '../shared/errors.js';
import { apiHandler } from '../shared/http/api-handler.js';
import { json } from '../shared/http/response.js';
import type { HttpEvent } from '../shared/http/types.js';
import { catalogueView } from '../shared/licence/catalogue.js';

/** The configuration, for the document's `servers` (ISSUER_URL). */
const configuration = composition({});
const served = routesOf('catalogue');
/** Public and the same for everyone until the next deployment, so shared caches may keep it for five minutes. */
const cacheable = { 'cache-control': 'public, max-age=300' };
/** Built on the first request and kept: it depends only on the code and ISSUER_URL. */
let document: { issuerUrl: string; body: unknown } | undefined;

/**
 * `GET /licence-types`: the licence catalogue, each type's fields as JSON Schema (as issued, and as a
 * licence returns them); `GET /licence-types/{code}`: one type, the document a credential's `vct` names;
 * `GET /openapi.json`: the OpenAPI 3.1 document of the API (functions/openapi/); `GET
 * /schemas/data-export-1.json`: the JSON Schema of a person's data export (`GET /me/export`). All public and the same
 * for everyone until the next deployment, so shared caches may keep them for five minutes.
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
      'GET /schemas/data-export-1.json': async () => {
        // Loaded on first use, as the OpenAPI document's operations are.
        const { dataExportJsonSchema } = await import('../shared/personal-data/data-export.js');
        return json(200, dataExportJsonSchema(), {
          ...cacheable,
          'content-type': 'application/schema+json; charset=utf-8',
        });
      },
      'GET /openapi.json': async () => {
        const { issuerUrl } = configuration().config;
        if (document?.issuerUrl !== issuerUrl) {
          // Loaded on first use: the operations import every area's schemas, and with them libraries
          // (WebAuthn, the verifier) that `GET /licence-types` has no use for on a cold start.
          const [{ openApiDocument }, { operations }] = await Promise.all([
            import('./openapi/document.js'),
            import('./openapi/operations.js'),
          ]);
          document = { issuerUrl, body: openApiDocument(routes, operations, { issuerUrl }) };
        }
        return json(200, document.body, cacheable);
      },
    }),
  served.edge,
);
