import * as z from 'zod';
import { epochSeconds } from '../shared/clock.js';
import { composition } from './composition/dependencies.js';
import {
  kms,
  doc,
  adapter,
  accessTokens,
  issuers,
  clients,
  audit,
  lookupMac,
  webMac,
  secrets,
  keys,
  signerFor,
} from './composition/factories.js';
import { NotFoundError } from '../shared/errors.js';
import { apiHandler } from '../shared/http/api-handler.js';
import { authenticate } from '../shared/http/authenticate.js';
import { parseJsonBody, parseQuery } from '../shared/http/request.js';
import { json } from '../shared/http/response.js';
import type { HttpEvent } from '../shared/http/types.js';
import { createIssuer, createIssuerInput } from '../shared/issuers/create-issuer.js';
import { issuerView } from '../shared/issuers/issuer.js';
import { rotateIssuerKey, rotateIssuerKeyInput } from '../shared/issuers/rotate-issuer-key.js';
import { withdrawIssuer, withdrawIssuerInput } from '../shared/issuers/withdraw-issuer.js';
import { registerClient, registerClientInput } from '../shared/sso/register-client.js';

/** What this function's handler uses, built once per container. */
const dependencies = composition({
  kms,
  doc,
  adapter,
  accessTokens,
  issuers,
  clients,
  audit,
  lookupMac,
  webMac,
  secrets,
  keys,
  signerFor,
});

/** A licence's audit trail: who issued, suspended, reinstated, revoked or verified it, and when. */
const auditQuery = z.strictObject({ licence: z.string().min(1).max(200) });

/**
 * The operators' API (scope `admin`): onboarding issuers, rotating their keys, withdrawing them, and
 * registering relying parties.
 */
export const handler = apiHandler(async (event: HttpEvent) => {
  const deps = dependencies();
  const caller = await authenticate(event, deps.accessTokens, {
    audience: deps.config.issuerUrl,
    requiredScope: 'admin',
    nowSeconds: epochSeconds(deps.clock),
  });
  const context = { clientId: caller.clientId, requestId: event.requestContext?.requestId };
  const issuerId = event.pathParameters?.id ?? '';

  switch (event.routeKey) {
    case 'POST /admin/issuers': {
      const { issuer, clientSecret } = await createIssuer(parseJsonBody(event, createIssuerInput), deps);
      return json(201, { ...issuerView(issuer), clientSecret }, { location: `/admin/issuers/${issuer.id}` });
    }
    case 'POST /admin/issuers/{id}/keys': {
      const input = parseJsonBody(event, rotateIssuerKeyInput);
      return json(201, issuerView(await rotateIssuerKey(issuerId, input, context, deps)));
    }
    case 'POST /admin/issuers/{id}/withdraw': {
      const input = parseJsonBody(event, withdrawIssuerInput);
      return json(200, issuerView(await withdrawIssuer(issuerId, input, context, deps)));
    }
    case 'GET /admin/audit': {
      const { licence } = parseQuery(event, auditQuery);
      return json(200, { items: await deps.audit.forLicence(licence) });
    }
    case 'POST /admin/clients':
      return json(201, await registerClient(parseJsonBody(event, registerClientInput), deps));
    default:
      throw new NotFoundError(`No admin route ${event.routeKey}`, 'route_not_found');
  }
});
