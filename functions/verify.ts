import { composition } from './composition/dependencies.js';
import { routesOf } from './dispatch.js';
import {
  kms,
  doc,
  accessTokens,
  issuers,
  licences,
  audit,
  platformSigner,
  platformPreviousSigners,
} from './composition/factories.js';
import { TooLargeError } from '../shared/errors.js';
import { apiHandler } from '../shared/http/api-handler.js';
import { authenticateBearer } from '../shared/http/authenticate.js';
import { bodyBytes, header, parseJsonBody } from '../shared/http/request.js';
import { json } from '../shared/http/response.js';
import type { HttpEvent } from '../shared/http/types.js';
import { maxVerifyBodyBytes, verifyRequest, verifyScan } from '../shared/verification/verify-scan.js';

/** What this function's handler uses, built once per container. */
const dependencies = composition({
  kms,
  doc,
  accessTokens,
  issuers,
  licences,
  audit,
  platformSigner,
  platformPreviousSigners,
});

/**
 * `POST /verify` (public): `{ qr }` → `{ verdict, checkedAt, licence?, issuer? }`. Anyone may ask; a
 * verifier client's bearer token (scope `licences:verify`) also sees the disclosed fields. A token that
 * is sent must be good: a bad one is a 401, one without the scope a 403, never silently anonymous. A scan
 * that is not a credential is a verdict (`malformed`); a body that is not `{ qr: string }` is a 400, and
 * one over 16 KiB a 413.
 */
export const handler = apiHandler(async (event: HttpEvent) => {
  const deps = dependencies();
  if (bodyBytes(event).length > maxVerifyBodyBytes) {
    throw new TooLargeError(`The request body exceeds ${maxVerifyBodyBytes} bytes`, 'payload_too_large');
  }
  const caller = header(event, 'authorization')
    ? await authenticateBearer(event, 'licences:verify', deps)
    : undefined;
  const { qr } = parseJsonBody(event, verifyRequest);
  const answer = await verifyScan(
    qr,
    caller && { clientId: caller.clientId },
    { requestId: event.requestContext?.requestId },
    deps,
  );
  return json(200, answer);
}, routesOf('verify').edge);
