import { composition } from './composition/dependencies.js';
import { routesOf } from './dispatch.js';
import {
  kms,
  coalescingDoc,
  accessTokens,
  dpopProofs,
  issuers,
  licences,
  groupCommitAuditOf,
  platformSigner,
  platformPreviousSigners,
  presentationSigner,
  presentationPreviousSigners,
  peers,
} from './composition/factories.js';
import { TooLargeError } from '../shared/errors.js';
import { apiHandler } from '../shared/http/api-handler.js';
import { authenticateBearer } from '../shared/http/authenticate.js';
import { bodyBytes, header, parseJsonBody } from '../shared/http/request.js';
import { json } from '../shared/http/response.js';
import type { HttpEvent } from '../shared/http/types.js';
import { maxVerifyBodyBytes, verifyRequest, verifyScan } from '../shared/verification/verify-scan.js';
import { IssuerCache } from '../shared/issuers/issuer-cache.js';
import type { TrustAnchors } from '../packages/verifier/src/trust.js';
import { storeTrust } from '../shared/verification/online.js';
import { verifyPdf } from '../shared/verification/verify-pdf.js';
import { maxPdfBodyBytes, verifyPdfRequest, type PdfCheck } from '../shared/licence/licence-pdf-signature.js';

/** What this function's handler uses, built once per container. */
const dependencies = composition({
  kms,
  // Reads issued in the same tick go out as one BatchGetItem: the caller's token and the licence.
  doc: coalescingDoc,
  accessTokens,
  dpopProofs,
  issuers,
  licences,
  // Entries of concurrent verifications written together, each answer released once its own is durable.
  audit: groupCommitAuditOf('verify'),
  // Public keys only: the platform's (printable licences signed before the presentation key) and the
  // presentation keys (presentations, and the holder's printable licences).
  platformSigner,
  platformPreviousSigners,
  presentationSigner,
  presentationPreviousSigners,
  // Peer platforms (跨地区互认): read per container, like issuers (docs/peers.md).
  peers,
});

const served = routesOf('verify');

/**
 * The trust anchors `POST /verify/pdf` checks files with, one per container: issuer records kept for
 * `ISSUER_CACHE_SECONDS` as `POST /verify` keeps them (a withdrawal counts at once in this process), so
 * that a warm check reads only the licence's record.
 */
let pdfTrustOf: { deps: object; trust: TrustAnchors } | undefined;
function pdfTrust(deps: ReturnType<typeof dependencies>): TrustAnchors {
  if (pdfTrustOf?.deps !== deps) {
    const lifetime = deps.config.issuerCacheSeconds * 1000;
    pdfTrustOf = {
      deps,
      trust: storeTrust({ ...deps, ...(lifetime > 0 && { cache: new IssuerCache(lifetime, deps.clock) }) }),
    };
  }
  return pdfTrustOf.trust;
}

/**
 * `POST /verify` (public): `{ qr }` → `{ verdict, checkedAt, licence?, issuer? }`. Anyone may ask; a
 * verifier client's bearer token (scope `licences:verify`) also sees the disclosed fields. A token that
 * is sent must be good: a bad one is a 401, one without the scope a 403, never silently anonymous. A scan
 * that is not a credential is a verdict (`malformed`); a body that is not `{ qr: string }` is a 400, and
 * one over 16 KiB a 413.
 *
 * `POST /verify/pdf` (public): `{ pdf, jws }` → whether the file is the one the platform signed
 * (docs/printable-licence.md): signed by the presentation key (the holder's download; the platform key
 * for files signed before it; both kept per container) or by the key of the issuer
 * the signature names (its record read, as the trust list has it); with the licence's status now
 * (`licenceStatus`, its record read once), since an intact file says nothing about that. Audited as
 * `POST /verify` is (`licence.verified`, `format: pdf`), with the same optional verifier token.
 */
export const handler = apiHandler(async (event: HttpEvent) => {
  const deps = dependencies();
  if (served.is(event, 'POST /verify/pdf')) {
    // As for POST /verify: a token that is sent must be good, and names the verifier in the usage record.
    const caller = header(event, 'authorization')
      ? () => authenticateBearer(event, 'licences:verify', deps).then(({ clientId }) => ({ clientId }))
      : undefined;
    let body: { pdf: string; jws: string };
    try {
      body = parseJsonBody(event, verifyPdfRequest, { maxBytes: maxPdfBodyBytes });
    } catch (error) {
      // A bad token is still the answer before a bad body.
      await caller?.();
      throw error;
    }
    const check = await verifyPdf(
      Buffer.from(body.pdf, 'base64'),
      body.jws,
      caller,
      { requestId: event.requestContext?.requestId },
      { ...deps, trust: pdfTrust(deps) },
    );
    return json(200, check satisfies PdfCheck);
  }
  if (bodyBytes(event).length > maxVerifyBodyBytes) {
    throw new TooLargeError(`The request body exceeds ${maxVerifyBodyBytes} bytes`, 'payload_too_large');
  }
  // The bearer check runs alongside the verification, so that the token's read and the licence's go out
  // in the same tick (one batch, see `coalescingDoc`); a bad token is still the answer before a bad body.
  const caller = header(event, 'authorization')
    ? authenticateBearer(event, 'licences:verify', deps).then(({ clientId }) => ({ clientId }))
    : undefined;
  let qr: string;
  try {
    ({ qr } = parseJsonBody(event, verifyRequest));
  } catch (error) {
    await caller;
    throw error;
  }
  const answer = await verifyScan(qr, caller, { requestId: event.requestContext?.requestId }, deps);
  return json(200, answer);
}, served.edge);
