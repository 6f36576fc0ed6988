import { batchLicencesQuery, batchViewSchema, submitBatchInput } from '../../shared/licence/batches.js';
import {
  counterAccountSchema,
  counterCodeSentSchema,
  counterLookupInput,
  counterProofInput,
  counterProofSchema,
} from '../../shared/identity/counter-proof.js';
import {
  accountHoldingsSchema,
  closeAccountInput,
  closedAccountSchema,
} from '../../shared/identity/close-account.js';
import * as z from 'zod';
import type { Operations } from './operation.js';
import { auditQuery, auditTrailSchema } from '../../shared/audit/audit-trail.js';
import { statisticsQuery, statisticsSchema } from '../../shared/supervision/statistics.js';
import { alertListSchema, alertsQuery } from '../../shared/supervision/alert-rules.js';
import {
  supervisionAuditQuery,
  supervisionAuditSchema,
} from '../../shared/supervision/audit-chain-listing.js';
import {
  auditKeySetSchema,
  checkpointHeadsQuery,
  checkpointHeadsSchema,
  checkpointInput,
  checkpointListQuery,
  checkpointListSchema,
  checkpointSchema,
} from '../../shared/supervision/checkpoints.js';
import {
  registerClientInput,
  registeredClientSchema,
  updateClientInput,
  updatedClientSchema,
} from '../../shared/clients/register-client.js';
import { healthSchema } from '../../shared/http/response.js';
import { noticeKeySetSchema } from '../../shared/sharing/notice-keys.js';
import { actForEntityInput, appointAgentInput } from '../../shared/identity/entities.js';
import {
  agentListSchema,
  appointedAgentSchema,
  authorityListSchema,
  authorityViewSchema,
} from '../../shared/identity/entity-account.js';
import {
  enrolPasskeyInput,
  removePasskeyInput,
  passkeyCreationOptionsSchema,
  passkeyListSchema,
  passkeyViewSchema,
} from '../../shared/identity/passkeys.js';
import { personAccountViewSchema } from '../../shared/identity/person-account.js';
import { registerPersonInput } from '../../shared/identity/register-person.js';
import { createIssuerInput, createdIssuerAnswerSchema } from '../../shared/issuers/create-issuer.js';
import { issuerViewSchema } from '../../shared/issuers/issuer.js';
import { rotateIssuerKeyInput } from '../../shared/issuers/rotate-issuer-key.js';
import { withdrawIssuerInput } from '../../shared/issuers/withdraw-issuer.js';
import { withdrawIssuerKeyInput } from '../../shared/issuers/withdraw-issuer-key.js';
import { peerViewSchema, registerPeerInput } from '../../shared/issuers/peers.js';
import { catalogueSchema, licenceTypeViewSchema } from '../../shared/licence/catalogue.js';
import { changeStatusInput } from '../../shared/licence/change-status.js';
import { issuerActorSchema } from '../../shared/licence/issuer-actor.js';
import { heldLicencesSchema } from '../../shared/licence/holder-licences.js';
import { idempotencyKey, issueLicenceInput } from '../../shared/licence/issue-licence.js';
import { licencePageSchema, licenceViewSchema } from '../../shared/licence/licence.js';
import { createPresentationInput, presentationAnswerSchema } from '../../shared/licence/presentation.js';
import { listLicencesQuery, searchLicencesInput } from '../../shared/licence/read-licences.js';
import { usageQuery, usageSchema } from '../../shared/licence/usage.js';
import { dataExportSchema } from '../../shared/personal-data/data-export.js';
import { statusListMediaType } from '../../shared/licence/status-list-token.js';
import { issuerMetadataSchema, trustListMediaType } from '../../shared/licence/trust-list.js';
import { verifyRequest, verifyResponseSchema } from '../../shared/verification/verify-scan.js';
import { licencePdfQuery } from '../../shared/licence/pdf-layouts.js';
import { pdfCheckSchema, verifyPdfRequest } from '../../shared/licence/licence-pdf-signature.js';
import { authorizationListSchema } from '../../shared/sharing/authorizations.js';
import { sharedLicencesSchema } from '../../shared/sharing/shared-licences.js';

const signedToken = (what: string) => z.string().meta({ description: `${what} (compact JWS)` });
const location = { location: 'The new resource' };
const licenceAnswer = { description: 'The licence', schema: licenceViewSchema };
/** Passkeys are managed with the wallet's own tokens, at level 3. */
const passkeyProblems = {
  403: ['wallet_only', 'not_a_person', 'account_not_found', 'insufficient_assurance'],
};
/**
 * Refusals of the issuer API's caller (shared/licence/issuer-actor.ts): not an issuer's client, a withdrawn
 * issuer, and for a clerk's token (the issuer console) not acting for the agency, no longer appointed, or
 * signed in below level 3.
 */
const issuerClientProblems = {
  403: ['not_an_issuer', 'issuer_inactive', 'not_a_clerk', 'clerk_not_appointed', 'insufficient_assurance'],
};
/** A licence stored before issuance checked its size, whose credential fits no QR code (shared/licence/qr.ts). */
const qrTooLarge = 'qr_too_large';
/** The printable licence's two answers (docs/printable-licence.md). */
const pdfAnswer = {
  description: 'The licence as a PDF (A4 or card); the same licence in the same status gives the same bytes',
  schema: z.string().meta({ contentMediaType: 'application/pdf' }),
  mediaType: 'application/pdf',
};
const pdfSignatureAnswer = {
  description:
    'The PDF’s detached signature: a compact JWS (`typ: licence-pdf+jws`, ES256, the platform key of ' +
    '`/.well-known/jwks.json`) whose payload holds the SHA-256 of the PDF, the licence id and the issuer',
  schema: signedToken('The signature'),
  mediaType: 'application/jose',
};

/**
 * What the OpenAPI document (`GET /openapi.json`) says of each API route beyond the route table: the
 * request schemas the functions validate with, the response schemas their builders are typed by, and the
 * route's own problem codes. Keyed by route key: a route added to `routes.ts` (not a page, not OpenID)
 * and left out here fails to compile.
 */
export const operations: Operations = {
  'GET /healthz': {
    operationId: 'health',
    summary: 'The service runs and its configuration parses',
    tag: 'Service',
    responses: {
      200: { description: 'Up', schema: healthSchema },
    },
  },
  'GET /licence-types': {
    operationId: 'listLicenceTypes',
    summary: 'The licence catalogue: each type with the JSON Schema of its fields',
    tag: 'Catalogue',
    responses: {
      200: {
        description: 'Every licence type',
        schema: catalogueSchema,
        headers: { 'cache-control': 'public, max-age=300' },
      },
    },
  },
  'GET /licence-types/{code}': {
    operationId: 'getLicenceType',
    summary: 'One licence type: the URI a credential names as its `vct`',
    tag: 'Catalogue',
    responses: {
      200: {
        description: 'The licence type',
        schema: licenceTypeViewSchema,
        headers: { 'cache-control': 'public, max-age=300' },
      },
    },
    problems: { 404: ['licence_type_not_found'] },
  },
  'GET /issuers/{id}': {
    operationId: 'getIssuer',
    summary: 'An issuer’s public metadata and keys: the URL a credential names as its `iss`',
    description:
      'The issuer as the trust list names it. A withdrawn issuer answers with `status: withdrawn`; one ' +
      'being onboarded, or unknown, is a 404.',
    tag: 'Verification',
    responses: {
      200: {
        description: 'The issuer',
        schema: issuerMetadataSchema,
        headers: { 'cache-control': 'public, max-age=300' },
      },
    },
    problems: { 404: ['issuer_not_found'] },
  },
  'GET /openapi.json': {
    operationId: 'openApiDocument',
    summary: 'This document',
    tag: 'Catalogue',
    responses: {
      200: {
        description: 'The OpenAPI 3.1 document of the API',
        schema: z.record(z.string(), z.unknown()).meta({ title: 'OpenApiDocument' }),
      },
    },
  },
  'GET /schemas/data-export-1.json': {
    operationId: 'dataExportJsonSchema',
    summary: 'The JSON Schema (2020-12) of a person’s data export (`GET /me/export`)',
    description:
      'Generated by zod’s `z.toJSONSchema` from the schema the export is typed by (this document’s ' +
      '`DataExport`), opened for additions: no closed objects, lists’ values as known values, so that ' +
      'every later file of `/1` validates (fields are only added within a version). The same as ' +
      'docs/schemas/data-export-1.schema.json. Public, cacheable for five minutes.',
    tag: 'Catalogue',
    responses: {
      200: {
        description: 'The JSON Schema',
        mediaType: 'application/schema+json',
        schema: z.record(z.string(), z.unknown()).meta({ title: 'JsonSchema' }),
      },
    },
  },
  'GET /trust-list': {
    operationId: 'trustList',
    summary: 'The platform-signed list of issuers and their keys, and the keys presentations are signed with',
    description:
      'A `trust-list+jwt` signed by a key of `/.well-known/jwks.json`. Besides `issuers`, its payload names ' +
      '`presentationKeys`: a JWKS of the keys that sign presentations (亮证) and the holder’s printable-licence ' +
      'signatures, the retiring ones included during a rotation. They are published here, under the ' +
      'list’s signature, and never in the JWKS, whose keys relying parties accept for ID tokens. ' +
      'Public. Signed off the request path when stale; while it cannot be signed, the stored list is ' +
      'served until its `exp` (`max-age` what is left of its freshness, 0 once past its `ttl`: judge ' +
      'freshness by its `iat` and `ttl`), then a 503 `temporarily_unavailable` with `Retry-After`.',
    tag: 'Verification',
    responses: {
      200: {
        description: 'The trust list token',
        schema: signedToken('Trust list'),
        mediaType: trustListMediaType,
      },
    },
  },
  'GET /.well-known/notices-jwks.json': {
    operationId: 'noticeKeys',
    summary: 'The keys withdrawal notices are signed with (a JWK Set), for platforms to verify them',
    description:
      'Public. Every withdrawal notice posted to a platform’s events endpoint (a Security Event Token, ' +
      '`typ: secevent+jwt`) is signed by a key of this set, named by its header `kid`; during a rotation ' +
      'the set also holds the key being retired. These keys sign nothing else and are never in ' +
      '`/.well-known/jwks.json` (discovery’s `jwks_uri`): verify notices against this set, and ID tokens ' +
      'never against it (docs/integrating.md). A retiring key that cannot be read for the moment is left ' +
      'out of that answer (sent `no-store`); the signing key unreadable is a 503 (`temporarily_unavailable`).',
    tag: 'Verification',
    responses: {
      200: {
        description: 'The notice keys',
        schema: noticeKeySetSchema,
        headers: { 'cache-control': 'public, max-age=300' },
      },
    },
  },
  'GET /status-lists/{listId}': {
    operationId: 'statusList',
    summary: 'An issuer’s Status List Token (IETF Token Status List)',
    description:
      'Public. For an issuer of a registered peer platform (跨地区互认) the peer’s own token, relayed ' +
      'unchanged (signed by the peer issuer’s key); a peer that cannot be reached is a 502 ' +
      '`peer_unreachable`, one that answers anything but that list `peer_bad_response` (either, and a 404 ' +
      'at the peer, kept a minute); a list number beyond the count the peer’s trust list gives the issuer ' +
      'is a 404 without asking the peer. Our own lists ' +
      'are signed off the request path when stale; while one cannot be signed, the stored token is ' +
      'served until its `exp`, then a 503 `temporarily_unavailable` with `Retry-After`. A list changed ' +
      'more than 30 times faster than once a second is a 503 with `Retry-After` (a second) until the ' +
      'clock catches up: lists are never dated more than 30 s ahead, and one from before a change is not ' +
      'served as fresh.',
    tag: 'Verification',
    responses: {
      200: {
        description: 'The status list token',
        schema: signedToken('Status List Token'),
        mediaType: statusListMediaType,
      },
    },
    problems: { 502: ['peer_unreachable', 'peer_bad_response'] },
  },
  'POST /verify': {
    operationId: 'verify',
    summary: 'Verify a scanned QR code (credential or presentation)',
    description:
      'Public. A verifier client’s token (scope `licences:verify`) also sees the disclosed fields and the ' +
      'holder’s full name. A scan that is not a credential is a verdict (`malformed`), not an error. ' +
      'A peer platform’s licence whose status list cannot be had is a 502 `peer_unreachable`, never `valid`.',
    tag: 'Verification',
    body: verifyRequest,
    optionalScope: 'licences:verify',
    responses: { 200: { description: 'The verdict', schema: verifyResponseSchema } },
    problems: { 502: ['peer_unreachable'] },
  },

  'POST /verify/pdf': {
    operationId: 'verifyLicencePdf',
    summary: 'Check a printable licence’s PDF against its detached signature',
    description:
      'Public. Whether the file is, byte for byte, the one the platform (or the licence’s issuer) signed, ' +
      'and which licence of which issuer it is (`valid`: intact and signed; a withdrawn issuer’s licence is ' +
      '`issuer_withdrawn`, one of an issuer the trust list does not list (provisioning, or no record) ' +
      '`issuer_not_listed`, one whose credential’s key was withdrawn `key_withdrawn`). `valid: true` says ' +
      'nothing of the licence now: `licenceStatus` is its status at ' +
      'this moment (valid/suspended/revoked/expired, as `POST /verify` words it; unknown without a record). ' +
      'Accept the licence only when both say valid, or scan its QR code (`POST /verify`). Each check is ' +
      'recorded (`licence.verified`, in the holder’s usage record); a verifier client’s token (scope ' +
      '`licences:verify`) names the verifier there.',
    tag: 'Verification',
    body: verifyPdfRequest,
    optionalScope: 'licences:verify',
    responses: { 200: { description: 'The check', schema: pdfCheckSchema } },
    problems: { 413: ['payload_too_large'] },
  },

  'POST /licences': {
    operationId: 'issueLicence',
    summary: 'Issue a licence',
    description:
      'Idempotent by `Idempotency-Key` for 10 days from the key’s first use: within them the same key and ' +
      'body answer the same licence (200), another body 409 `idempotency_key_reused`. After them the key is ' +
      'forgotten: the same request issues a second licence (201). See docs/api.md, Idempotency-Key. ' +
      'A request that held its key past the key’s 30 s lock while another took the key over is 409 ' +
      '`idempotency_key_taken_over` (nothing more recorded by it; retry to get the outcome under the key). ' +
      'A licence whose signing key (or issuer) was withdrawn while it was issued is written but answered ' +
      '409 `issuer_key_withdrawn`, naming it (the problem’s `licenceId`), on every retry too: it is listed by ' +
      '`GET /licences?keyWithdrawn=true`; re-issue it (`POST /licences/{id}/reissue`), never send it again under ' +
      'a new key (a second licence).',
    tag: 'Licences',
    body: issueLicenceInput,
    headers: {
      'Idempotency-Key': {
        schema: idempotencyKey,
        required: true,
        description:
          'A UUID naming this issuance, remembered 10 days from its first use: retry with it within them; ' +
          'after them it names a new request',
      },
    },
    responses: {
      201: { ...licenceAnswer, description: 'Issued', headers: location },
      200: { ...licenceAnswer, description: 'Issued before with this Idempotency-Key', headers: location },
    },
    problems: {
      ...issuerClientProblems,
      400: [
        'idempotency_key_required',
        'idempotency_key_invalid',
        'invalid_id_number',
        'invalid_credit_code',
        'invalid_fields',
        'unknown_licence_type',
        'holder_kind_mismatch',
        'invalid_validity',
        'credential_too_large',
      ],
      403: [...issuerClientProblems[403], 'licence_type_not_allowed', 'outside_jurisdiction'],
      409: [
        'idempotency_key_reused',
        'idempotency_key_in_use',
        'idempotency_key_taken_over',
        'issuer_key_withdrawn',
      ],
    },
  },
  'POST /licences/batches': {
    operationId: 'submitLicenceBatch',
    summary: 'Issue up to 1,000 licences in one job (存量证照电子化)',
    description:
      'Each item is a `POST /licences` body. Accepted at once and issued asynchronously: read the job with ' +
      '`GET /licences/batches/{id}`. An item that is not a valid body is reported by its index at once; one ' +
      'refused while issuing (unknown type, bad number, outside the jurisdiction…) once the job reaches it; ' +
      'the others are issued. An item repeating an earlier one (the same type, holder and fields) is reported ' +
      'by its index at once, code `duplicate_item`, and not issued (the first is). ' +
      'Idempotent by `Idempotency-Key`, for good: the job’s id derives from the key and the job is kept, so ' +
      'the same key and body answer the same job, another body 409 `idempotency_key_reused`, at any time. ' +
      'An issuer may have at most 3 jobs pending or running at once (`BATCH_MAX_OPEN_JOBS_PER_ISSUER`): one ' +
      'more is refused with 429 `too_many_batches` and `Retry-After` until one of them is done (the queue is ' +
      'shared by every agency). See docs/batch-issuance.md.',
    tag: 'Licences',
    body: submitBatchInput,
    headers: {
      'Idempotency-Key': { schema: idempotencyKey, required: true, description: 'A UUID naming this job' },
    },
    responses: {
      202: { description: 'Accepted (or accepted before with this key)', schema: batchViewSchema },
    },
    problems: {
      ...issuerClientProblems,
      403: [...issuerClientProblems[403], 'clerk_not_allowed'],
      400: ['idempotency_key_required', 'idempotency_key_invalid'],
      409: ['idempotency_key_reused', 'idempotency_key_in_use'],
      429: ['too_many_batches'],
    },
  },
  'GET /licences/batches/{id}': {
    operationId: 'getLicenceBatch',
    summary: 'A bulk issuance job: progress and refused items',
    tag: 'Licences',
    responses: { 200: { description: 'The job', schema: batchViewSchema } },
    problems: { ...issuerClientProblems, 404: ['batch_not_found'] },
  },
  'GET /licences/batches/{id}/licences': {
    operationId: 'listLicenceBatchLicences',
    summary: 'The licences a bulk issuance job issued, in request order, a page at a time',
    tag: 'Licences',
    query: batchLicencesQuery,
    responses: { 200: { description: 'One page', schema: licencePageSchema } },
    problems: { ...issuerClientProblems, 400: ['invalid_cursor'], 404: ['batch_not_found'] },
  },
  'GET /issuer': {
    operationId: 'getActingIssuer',
    summary: 'Whom the caller acts as: its issuer, and a clerk’s reference',
    description:
      'An agency’s client learns its issuer; a clerk signed in to the issuer console (a person acting for ' +
      'the agency, appointed with `licences:issue`) learns the agency’s issuer and the reference the audit ' +
      'trail names them by. Checked afresh on every call, as every route of this API.',
    tag: 'Licences',
    responses: { 200: { description: 'The issuer acted for', schema: issuerActorSchema } },
    problems: issuerClientProblems,
  },
  'GET /licences': {
    operationId: 'listLicences',
    summary: 'List the licences the caller’s issuer issued',
    tag: 'Licences',
    description:
      'Every filter but `holder` and `holderName`: a search by holder’s number or name is posted ' +
      '(`POST /licences/search`), since a URL stays in access logs; either here is a 400 `holder_not_in_url` ' +
      'naming it.',
    query: listLicencesQuery,
    responses: { 200: { description: 'One page', schema: licencePageSchema } },
    problems: { ...issuerClientProblems, 400: ['holder_not_in_url', 'invalid_cursor'] },
  },
  'POST /licences/search': {
    operationId: 'searchLicences',
    summary: 'Search the licences the caller’s issuer issued, by holder among the rest',
    description:
      'The filters and paging of `GET /licences` in a JSON body, with `holder` (an ID number or credit ' +
      'code, in full; one valid as both is searched as both, `holderKind` says which) and `holderName`: ' +
      'no holder’s number or name in a URL. Send the answer’s `cursor` ' +
      'back with the same filters for the next page. A search by `holder` or `holderName` is recorded in ' +
      'the audit trail (by the filter’s name only) and each licence it answers in its holder’s usage record.',
    tag: 'Licences',
    body: searchLicencesInput,
    responses: { 200: { description: 'One page', schema: licencePageSchema } },
    problems: {
      ...issuerClientProblems,
      400: ['invalid_id_number', 'invalid_credit_code', 'invalid_cursor', 'ambiguous_holder'],
    },
  },
  'GET /licences/{id}': {
    operationId: 'getLicence',
    summary: 'Read a licence: its issuer’s client, or its holder’s token',
    description:
      'An issuer’s client (scope `licences:issue`) reads the licences its issuer issued; a person’s token ' +
      '(scope `licences`, a first-party app only: a platform reads licences through `GET /shared/licences`) ' +
      'reads their own and those of an entity they act for, as `GET /me/licences`. Any other licence is a ' +
      '404, as one that does not exist.',
    tag: 'Licences',
    responses: { 200: licenceAnswer },
    problems: {
      ...issuerClientProblems,
      403: [...issuerClientProblems[403], 'not_a_person', 'first_party_only', 'insufficient_assurance'],
      404: ['licence_not_found'],
    },
  },
  'POST /licences/{id}/status': {
    operationId: 'changeLicenceStatus',
    summary: 'Suspend, reinstate or revoke a licence',
    tag: 'Licences',
    body: changeStatusInput,
    responses: { 200: { ...licenceAnswer, description: 'The licence with its new status' } },
    description:
      'A licence whose re-issue is unfinished (its replacement written, the licence not yet revoked by ' +
      'it: the re-issue failed half-way) passes a suspension or revocation on to its replacement first, so ' +
      'no valid licence is left behind; reinstating it is refused with 409 `reissue_pending` while its ' +
      'replacement stands: retry the re-issue to finish it, then reinstate the replacement. Revoking a ' +
      'licence whose re-issue a clerk gave up, while their revocation of its replacement is recorded and ' +
      'not made yet, is refused with 409 `replacement_revocation_pending` (made, it would leave the holder ' +
      'no licence): retry once the replacement is revoked.',
    problems: {
      ...issuerClientProblems,
      409: ['licence_revoked', 'reissue_pending', 'replacement_revocation_pending', 'conflict'],
    },
  },
  'POST /licences/{id}/reissue': {
    operationId: 'reissueLicence',
    summary: 'Re-issue a licence under the issuer’s current key and revoke the old one (reissued)',
    description:
      'Issues the licence again (same type, holder, fields and validity; new id, signed by the current ' +
      'key; `replaces` names the old one) and revokes the old one with the reason code `reissued` ' +
      '(`replacedBy` names the new one). For a licence whose key was withdrawn (`keyWithdrawn`, found ' +
      'with `GET /licences?keyWithdrawn=true`), or any valid licence whose QR code must stop working. ' +
      'Safe to retry: a retry after any failure finishes the same re-issue, never a second one. No body. ' +
      'A licence re-issued before is refused with 409 `licence_reissued` and a ' +
      '`Link: </licences/{new id}>; rel="successor-version"` header naming its replacement. If the old ' +
      'licence is revoked or suspended by someone else while its re-issue runs, the replacement takes the ' +
      'same status and the answer is 409 `licence_revoked_during_reissue` or ' +
      '`licence_suspended_during_reissue`, with the same header. A re-issue whose replacement (written by ' +
      'this or an earlier attempt) was revoked before the licence was revoked by it is 409 ' +
      '`replacement_revoked` and leaves the licence as it is ' +
      '(issue a new licence and revoke this one to replace it). A re-issue a clerk gave up by revoking its ' +
      'replacement, that revocation refused since, is 409 `reissue_given_up`: the ' +
      'replacement is not revoked (its status and this one’s are in the detail: revoke the replacement to ' +
      'keep this one, or revoke this one to keep the replacement). A re-issue a clerk gave up whose ' +
      'revocation of the replacement is recorded and not made yet is 409 `replacement_revocation_pending`: ' +
      'the revocation is made shortly (by the reconciler), this licence stays as it is, nothing to choose; ' +
      're-issuing that replacement meanwhile is refused alike (its own replacement would stay valid). ' +
      'A licence written by a re-issue that is not ' +
      'finished is not re-issued in turn: 409 `reissue_pending` (retry the first re-issue). A replacement ' +
      'whose signing key was withdrawn while it was written (or since an earlier attempt wrote it) finishes ' +
      'the re-issue and is answered 409 `issuer_key_withdrawn`, naming the replacement (`licenceId`): re-issue that one in ' +
      'turn. `idempotency_key_taken_over` as for `POST /licences`.',
    tag: 'Licences',
    responses: {
      201: { ...licenceAnswer, description: 'The new licence', headers: location },
      200: {
        ...licenceAnswer,
        description:
          'The new licence, written by an earlier attempt of this re-issue that died before it finished',
        headers: location,
      },
    },
    problems: {
      ...issuerClientProblems,
      403: [...issuerClientProblems[403], 'licence_type_not_allowed', 'outside_jurisdiction'],
      404: ['licence_not_found'],
      409: [
        'licence_reissued',
        'licence_revoked_during_reissue',
        'licence_suspended_during_reissue',
        'replacement_revoked',
        'reissue_given_up',
        'replacement_revocation_pending',
        'reissue_pending',
        'licence_revoked',
        'licence_suspended',
        'licence_expired',
        'licence_changed',
        'credential_too_large',
        'idempotency_key_in_use',
        'idempotency_key_taken_over',
        'issuer_key_withdrawn',
      ],
    },
  },
  'GET /licences/{id}/qr.svg': {
    operationId: 'licenceQrSvg',
    summary: 'The licence’s QR code as SVG',
    tag: 'Licences',
    responses: { 200: { description: 'SVG', schema: z.string(), mediaType: 'image/svg+xml' } },
    problems: { ...issuerClientProblems, 409: [qrTooLarge] },
  },
  'GET /licences/{id}/pdf': {
    operationId: 'licencePdf',
    summary: 'The printable licence (电子证照版式文件) as a PDF',
    tag: 'Licences',
    query: licencePdfQuery,
    responses: { 200: pdfAnswer },
    problems: { ...issuerClientProblems, 404: ['licence_not_found'], 409: [qrTooLarge] },
  },
  'GET /licences/{id}/pdf.jws': {
    operationId: 'licencePdfSignature',
    summary: 'The detached signature of the printable licence’s PDF',
    tag: 'Licences',
    query: licencePdfQuery,
    responses: { 200: pdfSignatureAnswer },
    problems: {
      ...issuerClientProblems,
      404: ['licence_not_found'],
      // Its credential was signed by a key withdrawn since: POST /verify/pdf would refuse the signature.
      409: ['key_withdrawn', qrTooLarge],
    },
  },
  'GET /licences/{id}/qr.png': {
    operationId: 'licenceQrPng',
    summary: 'The licence’s QR code as PNG',
    tag: 'Licences',
    responses: {
      200: {
        description: 'PNG',
        schema: z.string().meta({ contentMediaType: 'image/png' }),
        mediaType: 'image/png',
      },
    },
    problems: { ...issuerClientProblems, 409: [qrTooLarge] },
  },

  'POST /admin/issuers': {
    operationId: 'createIssuer',
    summary: 'Onboard an issuing agency: its signing key and its OAuth client',
    tag: 'Admin',
    body: createIssuerInput,
    responses: { 201: { description: 'Onboarded', schema: createdIssuerAnswerSchema, headers: location } },
    problems: { 409: ['issuer_exists'] },
  },
  'POST /admin/issuers/{id}/keys': {
    operationId: 'rotateIssuerKey',
    summary: 'Rotate an issuer’s signing key (and withdraw the current one, if compromised)',
    description:
      'A new key signs from now on. `previousKey: withdraw` takes the key current until now out of the ' +
      'trust list in the same write; a key retired earlier is withdrawn with ' +
      '`POST /admin/issuers/{id}/keys/{kid}/withdraw`. Recorded as `issuer.key-rotated` ' +
      '(`issuer.key-rotated.previous-withdrawn`).',
    tag: 'Admin',
    body: rotateIssuerKeyInput,
    responses: { 201: { description: 'The issuer with its new key', schema: issuerViewSchema } },
    problems: { 409: ['issuer_not_active', 'rotation_in_progress'] },
  },
  'POST /admin/issuers/{id}/keys/{kid}/withdraw': {
    operationId: 'withdrawIssuerKey',
    summary: 'Withdraw one key an issuer rotated out earlier (a compromise found after its rotation)',
    description:
      'The key (`kid`, as in the issuer’s `keys`) leaves the trust list at once: what it signed verifies ' +
      '`unknown_issuer` (`key_not_trusted`), its licences are listed by `GET /licences?keyWithdrawn=true` ' +
      'for re-issue; the issuer’s other keys stay. The current key is refused (409 `issuer_key_current`): ' +
      'rotate with `{"previousKey":"withdraw"}` instead, so that a new key signs. A key withdrawn already ' +
      'answers 200 as it is. Recorded as `issuer.key-withdrawn`.',
    tag: 'Admin',
    body: withdrawIssuerKeyInput,
    responses: { 200: { description: 'The issuer, the key withdrawn', schema: issuerViewSchema } },
    problems: { 409: ['issuer_not_active', 'issuer_key_current', 'rotation_in_progress', 'issuer_changed'] },
  },
  'POST /admin/issuers/{id}/withdraw': {
    operationId: 'withdrawIssuer',
    summary: 'Withdraw an issuer: it may no longer issue, and its client is deleted',
    tag: 'Admin',
    body: withdrawIssuerInput,
    responses: { 200: { description: 'The withdrawn issuer', schema: issuerViewSchema } },
    problems: { 409: ['issuer_withdrawn', 'issuer_not_active'] },
  },
  'POST /admin/clients': {
    operationId: 'registerClient',
    summary: 'Register a relying platform or a verifier app',
    tag: 'Admin',
    body: registerClientInput,
    responses: { 201: { description: 'Registered', schema: registeredClientSchema } },
  },
  'PATCH /admin/clients/{id}': {
    operationId: 'updateClient',
    summary: 'Change a registered client: its events endpoint (withdrawal notices)',
    description:
      'Sets, replaces or removes (`null`) where the platform is told of withdrawals (docs/integrating.md), with ' +
      'the checks of registration (https, a public host; only for a platform that signs people in). Recorded ' +
      'as `client.updated`. Other containers read the change within `CLIENT_CACHE_SECONDS`.',
    tag: 'Admin',
    body: updateClientInput,
    responses: { 200: { description: 'The client’s settings as changed', schema: updatedClientSchema } },
    problems: { 404: ['client_not_found'] },
  },
  'POST /admin/clients/{id}/secret': {
    operationId: 'rotateClientSecret',
    summary: 'Give a registered client a new secret (shown once); its previous secret is refused',
    description:
      'Moves a client registered before the client-secret key onto it (docs/operating.md, "Client secrets"), ' +
      'or replaces a secret that leaked. The previous secret stops working at once in some containers and ' +
      'in all within `CLIENT_CACHE_SECONDS`.',
    tag: 'Admin',
    responses: { 200: { description: 'The new secret', schema: registeredClientSchema } },
    problems: {
      404: ['client_not_found'],
      409: ['client_has_no_secret', 'client_secret_fixed', 'client_secret_key_unknown'],
    },
  },
  'GET /admin/audit': {
    operationId: 'auditTrail',
    summary: 'A licence’s audit trail',
    tag: 'Admin',
    description:
      'A page of at most `limit` entries (100 by default, at most 1000), oldest first; `cursor` in the answer, passed back, answers the next page, each entry once.',
    query: auditQuery,
    problems: { 400: ['invalid_request', 'invalid_cursor'] },
    responses: { 200: { description: 'A page of its entries, oldest first', schema: auditTrailSchema } },
  },
  'POST /admin/peers': {
    operationId: 'registerPeer',
    summary: 'Register a peer platform (跨地区互认) with its pinned public keys',
    description:
      'The peer’s `/trust-list` is fetched and must verify with the pinned keys (ES256, `typ: trust-list+jwt`, ' +
      '`iss` its base URL); its active issuers within its region then appear in our trust list with `peer`. ' +
      'A list over the limits of a peer’s list (docs/peers.md: 128 KiB, 200 issuers, …) is a 422 ' +
      '`peer_trust_list_too_large`; one our trust list has no room for beside ours and the other peers’, a 409 ' +
      '`trust_list_full`. Both name the limit.',
    tag: 'Admin',
    body: registerPeerInput,
    responses: { 201: { description: 'Registered', schema: z.object({ id: z.string() }) } },
    problems: {
      409: ['peer_exists', 'trust_list_full'],
      422: ['peer_untrusted', 'peer_trust_list_too_large'],
      502: ['peer_unreachable'],
    },
  },
  'GET /admin/peers': {
    operationId: 'listPeers',
    summary: 'The peer platforms, each with when it was fetched, its trust list’s iat and its status',
    tag: 'Admin',
    responses: { 200: { description: 'Every peer', schema: z.object({ items: z.array(peerViewSchema) }) } },
  },
  'POST /admin/peers/{id}/refresh': {
    operationId: 'refreshPeer',
    summary: 'Fetch a peer’s trust list now (a failure is recorded; the last good copy stays)',
    tag: 'Admin',
    responses: { 200: { description: 'The peer after the refresh', schema: peerViewSchema } },
    problems: { 404: ['peer_not_found'] },
  },
  'DELETE /admin/peers/{id}': {
    operationId: 'removePeer',
    summary: 'Remove a peer: its issuers leave our trust list at once',
    tag: 'Admin',
    responses: { 204: { description: 'Removed' } },
    problems: { 404: ['peer_not_found'] },
  },
  'GET /supervision/audit': {
    operationId: 'supervisionAudit',
    summary: 'The audit trail with its hash chains (a licence’s, or a day range’s in chain order)',
    tag: 'Supervision',
    query: supervisionAuditQuery,
    problems: { 400: ['invalid_request', 'invalid_cursor'] },
    responses: {
      200: {
        description: 'Entries, each with chain, seq, prevHash and hash',
        schema: supervisionAuditSchema,
      },
    },
  },
  'GET /supervision/audit/checkpoints': {
    operationId: 'auditCheckpoints',
    summary: 'Signed checkpoints of the audit chains’ heads (audit key), newest first',
    tag: 'Supervision',
    query: checkpointListQuery,
    responses: { 200: { description: '50 a page, newest first', schema: checkpointListSchema } },
    problems: { 400: ['invalid_request', 'invalid_cursor'] },
  },
  'GET /supervision/audit/keys': {
    operationId: 'auditKeys',
    summary: 'Every key that signs audit checkpoints (a JWK Set), the current one first, none ever dropped',
    description:
      'Public. A checkpoint’s header `kid` names one of these keys (a checkpoint signed before the audit key existed names a platform key of `/.well-known/jwks.json` instead). The set only grows: keep each kid’s key with the checkpoints it signed, and count a kid that later answers another key, or that disappears, as a fault. An earlier generation whose key cannot be read for the moment is left out of that answer (sent `no-store`), which such a check reports; the signing key unreadable is a 503 (`temporarily_unavailable`), never a set without it.',
    tag: 'Supervision',
    responses: { 200: { description: 'The audit keys', schema: auditKeySetSchema } },
  },
  'GET /supervision/audit/checkpoints/heads': {
    operationId: 'auditCheckpointHeads',
    summary: 'The chain heads a checkpoint signs the digest of, sorted by chain, page by page',
    description:
      'Recompute the checkpoint payload’s `headsDigest` over every page (SHA-256 of the canonical JSON of the heads in this order) and compare its count with `headCount` before trusting them: a page altered or missing does not hash to it. A checkpoint of the first format (heads inside its JWS) has none here.',
    tag: 'Supervision',
    query: checkpointHeadsQuery,
    responses: { 200: { description: 'A page of heads', schema: checkpointHeadsSchema } },
    // 422: a stored page that is not as written (its table tampered with): count the checkpoint as bad.
    problems: { 400: ['invalid_request', 'invalid_cursor'], 422: ['checkpoint_heads_corrupt'] },
  },
  'POST /supervision/audit/checkpoints': {
    operationId: 'signAuditCheckpoint',
    summary:
      'Sign a checkpoint of the heads of the chains of some UTC days now (yesterday and today by default)',
    description:
      'At most one on demand per interval (60 s unless configured) across the platform, whoever asks: sooner is refused with 429 `too_many_requests` and `Retry-After` (seconds until the next may be signed), before anything is signed or read. The daily scheduled checkpoint is not counted. A `from` or `to` after today (UTC) is refused with 400 naming the field, before the limit: no chain of a later day exists yet. A day already closed (a checkpoint signed after it ended names it) is signed again only with the heads its closing checkpoint signed: if its chains changed since, 409 `audit_day_closed` names the day and a chain, and nothing is signed. A chain whose last entry holds no valid `seq` and `hash` (rewritten) is signed as corrupt, head `{ seq: 0, hash: 64 zeros }` (never a head read from it, nor the chain left out), and the other chains as they are: the daily check reports it.',
    tag: 'Supervision',
    body: checkpointInput,
    responses: { 201: { description: 'Signed and stored', schema: checkpointSchema } },
    problems: { 409: ['audit_day_closed'], 429: ['too_many_requests'] },
  },

  'GET /supervision/stats': {
    operationId: 'supervisionStatistics',
    summary: 'Statistics per China-time day: issuance, status changes, verifications by verdict, shares',
    description:
      'Every day from `from` to `to` (China time, both included, at most 366 days), zeros included, summed over the issuers and licence types asked for (all when none). Counted from the audit trail as it is written, within seconds.',
    tag: 'Supervision',
    query: statisticsQuery,
    responses: { 200: { description: 'The days, in order', schema: statisticsSchema } },
    problems: { 400: ['invalid_range'] },
  },
  'GET /supervision/alerts': {
    operationId: 'supervisionAlerts',
    summary: 'Alerts raised by the supervision rules, oldest first',
    description:
      'Alerts raised on the China-time days `from` to `to` (both included, at most 366 days), `limit` at a time (default 100, at most 500; `cursor` present when more follow): each names its rule, severity, subject (a licence, verifier client or issuer id) and why.',
    tag: 'Supervision',
    query: alertsQuery,
    responses: { 200: { description: 'The alerts', schema: alertListSchema } },
    problems: { 400: ['invalid_range', 'invalid_cursor'] },
  },

  'POST /accounts': {
    operationId: 'registerPerson',
    summary: 'Register a person (checked against the population registry)',
    tag: 'Accounts',
    body: registerPersonInput,
    responses: { 201: { description: 'Registered', schema: personAccountViewSchema } },
    problems: { 400: ['registry_mismatch'], 409: ['account_exists'], 429: ['too_many_requests'] },
  },
  'GET /me/licences': {
    operationId: 'myLicences',
    summary: 'The signed-in holder’s licences',
    tag: 'Holder',
    responses: { 200: { description: 'The licences the sign-in’s level opens', schema: heldLicencesSchema } },
    problems: { 403: ['not_a_person', 'first_party_only'] },
  },
  'GET /me/export': {
    operationId: 'exportMyData',
    summary: 'A copy of all my data, as one JSON file (导出我的数据; PIPL Art. 45)',
    description:
      'From a first-party app (the wallet), with a token of a personal sign-in (403 ' +
      '`personal_sign_in_required` acting for an enterprise) made in the last ten minutes at the account’s ' +
      'level (`acr_values` and `max_age=0`; otherwise 403 `fresh_sign_in_required`). One document, format ' +
      '`elicence-data-export/1`, as a download (`Content-Disposition: attachment`, `Cache-Control: no-store`): ' +
      'the account as `GET /me/account` shows it (masked), the licences with their signed credentials, the ' +
      'authorizations, the enterprises the person acts for and the appointments naming them, the passkeys’ ' +
      'names and dates, and the usage record, every page up to 5,000 entries, 50 pages read and 3.5 MB of ' +
      'document (`truncated` says where it goes on). Recorded in the usage record as `exported` ' +
      '(`data.exported`) before it is answered. Its JSON Schema: `GET /schemas/data-export-1.json` (zod’s ' +
      'own `z.toJSONSchema` of this schema, opened for additions).',
    tag: 'Holder',
    responses: {
      200: {
        description: 'The document, as an attachment',
        schema: dataExportSchema,
        headers: {
          'Content-Disposition': '`attachment; filename="elicence-data-export-YYYYMMDD.json"`',
        },
      },
    },
    problems: {
      403: ['not_a_person', 'first_party_only', 'personal_sign_in_required', 'fresh_sign_in_required'],
      404: ['account_not_found'],
    },
  },
  'GET /me/usage': {
    operationId: 'myUsage',
    summary: 'My usage record (用证记录): who shared, verified or was shown my licences, newest first',
    tag: 'Holder',
    query: usageQuery,
    responses: { 200: { description: 'One page', schema: usageSchema } },
    problems: { 400: ['invalid_request', 'invalid_cursor'], 403: ['not_a_person', 'first_party_only'] },
  },
  'GET /me/licences/{id}/pdf': {
    operationId: 'myLicencePdf',
    summary: 'One of my licences as a printable PDF (电子证照版式文件)',
    tag: 'Holder',
    query: licencePdfQuery,
    responses: { 200: pdfAnswer },
    problems: {
      403: ['not_a_person', 'first_party_only', 'insufficient_assurance'],
      404: ['licence_not_found'],
    },
  },
  'GET /me/licences/{id}/pdf.jws': {
    operationId: 'myLicencePdfSignature',
    summary: 'The detached signature of my licence’s PDF',
    tag: 'Holder',
    query: licencePdfQuery,
    responses: { 200: pdfSignatureAnswer },
    problems: {
      403: ['not_a_person', 'first_party_only', 'insufficient_assurance'],
      404: ['licence_not_found'],
      // The licence's issuer, or the key that signed its credential, was withdrawn: POST /verify/pdf would
      // refuse any signature of its PDF.
      409: ['issuer_withdrawn', 'key_withdrawn'],
    },
  },
  'POST /me/licences/{id}/presentations': {
    operationId: 'createPresentation',
    summary: 'Show one of my licences: a short-lived presentation and its QR code',
    tag: 'Holder',
    body: createPresentationInput,
    responses: { 201: { description: 'The presentation', schema: presentationAnswerSchema } },
    problems: {
      400: ['field_not_disclosable'],
      403: ['not_a_person', 'first_party_only', 'insufficient_assurance'],
      409: ['licence_not_valid', 'issuer_withdrawn', 'key_withdrawn'],
    },
  },
  'GET /me/passkeys': {
    operationId: 'listPasskeys',
    summary: 'My passkeys (wallet, level 3)',
    tag: 'Holder',
    responses: {
      200: {
        description: 'Them',
        schema: passkeyListSchema,
      },
    },
    problems: passkeyProblems,
  },
  'POST /me/passkeys/options': {
    operationId: 'passkeyOptions',
    summary: 'Options to create a passkey (WebAuthn)',
    description:
      'With the wallet’s token of a sign-in at the account’s level made in the last ten minutes ' +
      '(`acr_values` and `max_age=0`): otherwise 403 `fresh_sign_in_required`. 409 `cleanup_owed`: the ' +
      'clean-up of the account’s last reset or takeover is not finished yet; the service finishes it by ' +
      'itself within minutes (try again shortly).',
    tag: 'Holder',
    responses: {
      200: { description: 'For navigator.credentials.create', schema: passkeyCreationOptionsSchema },
    },
    problems: {
      ...passkeyProblems,
      403: [...passkeyProblems[403], 'fresh_sign_in_required'],
      409: ['too_many_passkeys', 'cleanup_owed'],
    },
  },
  'POST /me/passkeys': {
    operationId: 'enrolPasskey',
    summary: 'Enrol a passkey: the authenticator’s answer to the options',
    description:
      'A fresh sign-in (as for the options) and the account’s password typed again in the body (a token ' +
      'alone adds no way in): a wrong one is 403 `wrong_password` (throttled as a sign-in, then 429), and ' +
      'leaves the challenge unspent. Recorded as `passkey.enrolled` in the audit trail. A password reset ' +
      'removes every passkey; one saved while this request was checking refuses it: 409 `account_changed`, ' +
      'nothing stored (sign in again). 409 `passkey_exists`: this authenticator’s credential is enrolled already. ' +
      '409 `cleanup_owed`: as for the options. 409 `too_many_passkeys`: the account has 10 passkeys ' +
      'already, counted again at enrolment (options asked while there was room do not add an 11th).',
    tag: 'Holder',
    body: enrolPasskeyInput,
    responses: { 201: { description: 'Enrolled', schema: passkeyViewSchema } },
    problems: {
      ...passkeyProblems,
      400: ['invalid_passkey'],
      403: [...passkeyProblems[403], 'fresh_sign_in_required', 'wrong_password'],
      409: ['passkey_exists', 'account_changed', 'cleanup_owed', 'too_many_passkeys'],
      429: ['too_many_requests'],
    },
  },
  'DELETE /me/passkeys/{id}': {
    operationId: 'removePasskey',
    summary: 'Remove one of my passkeys',
    description:
      'A fresh sign-in and the account’s password typed again in the body, as to enrol one: none is 400 ' +
      '`password_required`. Recorded as `passkey.removed`.',
    tag: 'Holder',
    body: removePasskeyInput,
    responses: { 204: { description: 'Removed' } },
    problems: {
      ...passkeyProblems,
      400: ['password_required'],
      403: [...passkeyProblems[403], 'fresh_sign_in_required', 'wrong_password'],
      404: ['passkey_not_found'],
      409: ['passkey_changed'],
      429: ['too_many_requests'],
    },
  },
  'GET /me/account': {
    operationId: 'myAccount',
    summary: 'What my account holds (masked ID number, name, level, masked phone, passkeys)',
    tag: 'Holder',
    responses: { 200: { description: 'My account', schema: accountHoldingsSchema } },
    problems: { 403: ['not_a_person', 'first_party_only'], 404: ['account_not_found'] },
  },
  'POST /counter/accounts/lookup': {
    operationId: 'counterLookupAccount',
    summary: 'A counter clerk finds a person’s account by ID number and name (当面核验), masked',
    description:
      'The issuer console’s token of a clerk appointed with `licences:issue` and `accounts:prove-in-person` ' +
      '(403 `clerk_scope_missing` otherwise), at level 3, for an active issuer. The ID number is checked ' +
      '(GB 11643) and the name against the population registry (400 `registry_mismatch` naming `name`). ' +
      'Posted, so that the number stays out of URLs and logs. A mismatch and a number without an account ' +
      'are audited (`account.lookup_refused`, the clerk’s reference and the masked number) and counted on ' +
      'the clerk’s own counter (429 past it). A clerk finds 300 accounts a China-time day at most ' +
      '(429 `counter_daily_cap`, `Retry-After` to the next 00:00 in China, audited).',
    tag: 'Licences',
    body: counterLookupInput,
    responses: { 200: { description: 'The account, masked', schema: counterAccountSchema } },
    problems: {
      400: ['invalid_request', 'registry_mismatch'],
      403: [...issuerClientProblems[403], 'clerk_scope_missing', 'clerk_only'],
      404: ['account_not_found'],
      429: ['too_many_requests', 'counter_daily_cap'],
    },
  },
  'POST /counter/accounts/prove': {
    operationId: 'counterProveAccount',
    summary: 'A counter clerk proves a person in person: level 3, and keeps, sets or clears the proven phone',
    description:
      'As the lookup, with `checkedIdCard: true` (the clerk compared the person with their ID card). ' +
      'With the account’s `password`, typed by the person (checked first, throttled as a sign-in and per ' +
      'clerk: 403 `wrong_password`, then 429), nothing else ends; without it a new phone must be set (400 ' +
      '`password_or_new_phone_required`) and the account is taken back for the person: its password ' +
      'replaced, every sign-in, passkey and platform consent ended; they set a password with the reset and ' +
      'a code to the new phone. `provenPhone: set` takes `phone`, the person’s own, which the carrier ' +
      'registry must confirm for their number and name (400 `phone_not_confirmed`), and which the person ' +
      'must hold: without `code`, a code is texted to it and the answer is 202, nothing saved; with it, the ' +
      'code is checked (400 `code_wrong_or_expired` naming `code`; 5 tries, 5 minutes). Every proof, and ' +
      'every refusal (`account.proof_refused`), is audited with the clerk’s reference and the masked ' +
      'number. 409 `account_changed`: the account changed meanwhile, nothing ended; try again. A clerk ' +
      'proves 100 people a China-time day at most, the code step included (429 `counter_daily_cap`, ' +
      '`Retry-After` to the next 00:00 in China, audited).',
    tag: 'Licences',
    body: counterProofInput,
    responses: {
      200: { description: 'What was done', schema: counterProofSchema },
      202: {
        description: 'A code was texted to the new phone: send again with `code`',
        schema: counterCodeSentSchema,
      },
    },
    problems: {
      400: ['invalid_request', 'registry_mismatch', 'phone_not_confirmed', 'password_or_new_phone_required'],
      403: [...issuerClientProblems[403], 'clerk_scope_missing', 'clerk_only', 'wrong_password'],
      404: ['account_not_found'],
      409: ['account_changed'],
      429: ['too_many_requests', 'counter_daily_cap'],
    },
  },
  'DELETE /me/account': {
    operationId: 'closeAccount',
    summary: 'Close my account (注销): every sign-in ends, the account and its ID-number claim are deleted',
    description:
      'From a first-party app, with a personal sign-in at the account’s level made in the last ten ' +
      'minutes (`acr_values` and `max_age=0`): otherwise 403 `fresh_sign_in_required`; and the ' +
      'account’s password typed again in the body (a token alone closes nothing): none is 400 ' +
      '`password_required`, a wrong one 403 `wrong_password` (throttled as a sign-in, then 429). The ' +
      'account is marked closing first: it opens no sign-in from then on, and asking again completes a ' +
      'closure that failed part-way. Licences stay with their issuing agencies; the same ID number may ' +
      'register again.',
    tag: 'Holder',
    body: closeAccountInput,
    responses: { 200: { description: 'Closed', schema: closedAccountSchema } },
    problems: {
      400: ['password_required'],
      403: [
        'not_a_person',
        'first_party_only',
        'personal_sign_in_required',
        'fresh_sign_in_required',
        'wrong_password',
      ],
      404: ['account_not_found'],
      409: ['account_changed'],
      429: ['too_many_requests'],
    },
  },
  'GET /me/authorizations': {
    operationId: 'myAuthorizations',
    summary: 'The platforms I let read my licences (已授权的平台), newest first',
    tag: 'Sharing',
    responses: { 200: { description: 'My authorizations', schema: authorizationListSchema } },
    problems: { 403: ['not_a_person', 'first_party_only'] },
  },
  'DELETE /me/authorizations/{id}': {
    operationId: 'withdrawAuthorization',
    summary: 'Withdraw an authorization: the platform’s tokens stop working at once',
    tag: 'Sharing',
    responses: { 204: { description: 'Withdrawn' } },
    problems: { 403: ['not_a_person', 'first_party_only'], 404: ['authorization_not_found'] },
  },
  'GET /shared/licences': {
    operationId: 'sharedLicences',
    summary: 'A platform reads the licences a person shared with it (授权用证)',
    description:
      'With an access token whose grant carries `licence_access` authorization details (RFC 9396): the ' +
      'licences of the granted types that the person (or the enterprise they act for) holds, each with ' +
      'its credential. A granted type the person holds no licence of adds nothing. Each licence returned ' +
      'is recorded in the person’s usage record (用证记录). The `openid` scope below is not enough on its ' +
      'own: a sign-in token without `licence_access` is not meant for this API (`401 invalid_token`), and ' +
      'an API token without it is `403 insufficient_authorization`. A share outlives the person’s ' +
      'session without `offline_access` or `prompt=consent` in the request: its code gets a refresh token ' +
      '(for a platform registered with `offline_access`, which gives it the `refresh_token` grant), and ' +
      'its tokens last until the share’s `expires_at` or its withdrawal (docs/sharing.md).',
    tag: 'Sharing',
    responses: { 200: { description: 'The shared licences', schema: sharedLicencesSchema } },
    problems: { 403: ['insufficient_authorization', 'account_not_found'] },
  },
  'GET /me/entities': {
    operationId: 'myEntities',
    summary: 'The entities I may act for',
    tag: 'Entities',
    responses: {
      200: {
        description: 'With my role in each',
        schema: authorityListSchema,
      },
    },
    problems: { 403: ['person_required', 'first_party_only'] },
  },
  'POST /me/entities': {
    operationId: 'actForEntity',
    summary: 'Ask to act for an entity (checked against the entity registry and appointments)',
    tag: 'Entities',
    body: actForEntityInput,
    responses: { 200: { description: 'My authority for it', schema: authorityViewSchema } },
    problems: {
      400: ['invalid_credit_code'],
      403: ['person_required', 'first_party_only', 'not_authorised_for_entity'],
    },
  },
  'GET /me/entities/{creditCode}/agents': {
    operationId: 'listAgents',
    summary: 'The agents of an entity I represent',
    tag: 'Entities',
    responses: {
      200: {
        description: 'Them',
        schema: agentListSchema,
      },
    },
    problems: { 403: ['person_required', 'first_party_only', 'not_legal_representative'] },
  },
  'POST /me/entities/{creditCode}/agents': {
    operationId: 'appointAgent',
    summary: 'Appoint an agent (经办人) of an entity I represent',
    description:
      'The agent’s ID number and name, both required: the name is checked against the population ' +
      'registry for that number (400 `registry_mismatch` on `name`, the same for an unknown number; ' +
      'counted per representative, then 429), so that a mistyped number appoints no stranger. No ' +
      '`name` is 400 naming it.',
    tag: 'Entities',
    body: appointAgentInput,
    responses: { 201: { description: 'Appointed', schema: appointedAgentSchema, headers: location } },
    problems: {
      400: ['self_appointment', 'registry_mismatch'],
      403: ['person_required', 'first_party_only', 'not_legal_representative', 'insufficient_assurance'],
      409: ['agent_exists'],
      429: ['too_many_requests'],
    },
  },
  'DELETE /me/entities/{creditCode}/agents/{agentId}': {
    operationId: 'withdrawAgent',
    summary: 'Withdraw an agent’s appointment',
    tag: 'Entities',
    responses: { 204: { description: 'Withdrawn' } },
    problems: { 403: ['person_required', 'first_party_only', 'not_legal_representative'] },
  },
};
