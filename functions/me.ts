import { epochSeconds } from '../shared/clock.js';
import { dependencies } from '../shared/dependencies.js';
import { ServiceError } from '../shared/errors.js';
import { apiHandler } from '../shared/http/api-handler.js';
import { authenticate } from '../shared/http/authenticate.js';
import { json } from '../shared/http/response.js';
import type { HttpEvent, HttpResult } from '../shared/http/types.js';
import { holderLicences } from '../shared/licence/holder-licences.js';
import { licenceView } from '../shared/licence/licence.js';
import { parseAccountId } from '../shared/sso/account-id.js';

/** The holder's API (a person's token with scope `licences`): my licences, and showing one as a QR code. */
export const handler = apiHandler(async (event: HttpEvent): Promise<HttpResult> => {
  const deps = dependencies();
  const caller = await authenticate(event, deps.accessTokens, {
    audience: deps.config.issuerUrl,
    requiredScope: 'licences',
    nowSeconds: epochSeconds(deps.clock),
  });
  if (!caller.accountId)
    throw new ServiceError('not_a_person', 403, 'This token does not stand for a signed-in person');
  const subject = parseAccountId(caller.accountId);
  const now = new Date(deps.clock.now());

  switch (event.routeKey) {
    case 'GET /me/licences': {
      const held = await holderLicences(subject, deps);
      return json(200, { items: held.map(({ licence, issuer }) => licenceView(licence, issuer, now)) });
    }
    default:
      throw new ServiceError('route_not_found', 404, `No holder route ${event.routeKey}`);
  }
});
