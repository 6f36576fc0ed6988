import { epochSeconds } from '../shared/clock.js';
import { dependencies } from '../shared/dependencies.js';
import { ServiceError } from '../shared/errors.js';
import { apiHandler } from '../shared/http/api-handler.js';
import { authenticate } from '../shared/http/authenticate.js';
import { parseJsonBody } from '../shared/http/request.js';
import { json } from '../shared/http/response.js';
import type { HttpEvent } from '../shared/http/types.js';
import { createIssuer, createIssuerInput } from '../shared/issuers/create-issuer.js';
import { issuerView } from '../shared/issuers/issuer.js';
import { registerClient, registerClientInput } from '../shared/sso/register-client.js';

/** The operators' API (scope `admin`): onboarding issuers and registering relying parties. */
export const handler = apiHandler(async (event: HttpEvent) => {
  const deps = dependencies();
  await authenticate(event, deps.accessTokens, {
    audience: deps.config.issuerUrl,
    requiredScope: 'admin',
    nowSeconds: epochSeconds(deps.clock),
  });

  switch (event.routeKey) {
    case 'POST /admin/issuers': {
      const { issuer, clientSecret } = await createIssuer(parseJsonBody(event, createIssuerInput), deps);
      return json(201, { ...issuerView(issuer), clientSecret }, { location: `/admin/issuers/${issuer.id}` });
    }
    case 'POST /admin/clients':
      return json(201, await registerClient(parseJsonBody(event, registerClientInput), deps));
    default:
      throw new ServiceError('route_not_found', 404, `No admin route ${event.routeKey}`);
  }
});
