import { composition } from './composition/dependencies.js';
import { routesOf } from './dispatch.js';
import {
  kms,
  doc,
  accessTokens,
  dpopProofs,
  accounts,
  entities,
  registry,
  issuers,
  licences,
  pendingWork,
  idempotency,
  statusLists,
  groupCommitAuditOf,
  lookupMac,
  signerFor,
  fingerprint,
  clientReader,
  batches,
  batchSlots,
  batchItemsSealer,
  pdfSignatures,
  clerkReference,
} from './composition/factories.js';
import { ForbiddenError, InvalidInputError } from '../shared/errors.js';
import { parseAccountId } from '../shared/identifiers/account-id.js';
import { requireHolderApp } from '../shared/clients/first-party.js';
import { apiHandler } from '../shared/http/api-handler.js';
import { authenticateBearer, personOf } from '../shared/http/authenticate.js';
import { header, parseJsonBody, parseQuery } from '../shared/http/request.js';
import { json, problem } from '../shared/http/response.js';
import type { HttpEvent, HttpResult } from '../shared/http/types.js';
import { changeLicenceStatus, changeStatusInput } from '../shared/licence/change-status.js';
import {
  idempotencyKey,
  issueLicence,
  issueLicenceInput,
  issuerUrl,
} from '../shared/licence/issue-licence.js';
import { licenceReader } from '../shared/licence/holder-licences.js';
import {
  LicenceReissuedError,
  ReissueOvertakenError,
  reissueLicence,
} from '../shared/licence/reissue-licence.js';
import type * as z from 'zod';
import type { licencePageSchema } from '../shared/licence/licence.js';
import { licenceHistory, licenceView } from '../shared/licence/licence.js';
import { readHeldLicence } from '../shared/licence/licence-reader.js';
import { renderQrPng, renderQrSvg } from '../shared/licence/qr.js';
import { download } from '../shared/http/downloads.js';
import {
  cachedPdfSignature,
  licencePdfQuery,
  pdfFileName,
  printLicence,
} from '../shared/licence/licence-pdf.js';
import {
  batchLicences,
  batchLicencesQuery,
  batchView,
  MAX_BATCH_BODY_BYTES,
  readBatch,
  submitBatch,
  submitBatchInput,
} from '../shared/licence/batches.js';
import {
  listIssuedLicences,
  listLicencesQuery,
  readIssuedLicence,
  refuseHolderInQuery,
  searchAsQuery,
  searchLicencesInput,
  type ListLicencesQuery,
} from '../shared/licence/read-licences.js';
import { bulkReadEntry } from '../shared/licence/bulk-reads.js';
import { recordIssuerReads } from '../shared/licence/issuer-reads.js';
import { issuerActor, type issuerActorSchema, type IssuerActor } from '../shared/licence/issuer-actor.js';

/** What this function's handler uses, built once per container. */
const dependencies = composition({
  kms,
  doc,
  accessTokens,
  dpopProofs,
  accounts,
  entities,
  registry,
  issuers,
  licences,
  pendingWork,
  idempotency,
  statusLists,
  // With group commit: the entries of one search's reads (shared/licence/issuer-reads.ts) go together.
  audit: groupCommitAuditOf('licences'),
  lookupMac,
  signerFor,
  fingerprint,
  clientReader,
  batches,
  batchSlots,
  batchItemsSealer,
  pdfSignatures,
  clerkReference,
});
const served = routesOf('licences');

/**
 * The issuing agencies' API (scope `licences:issue`): issue, read, list, change status, render QR codes.
 * The caller is an agency's machine client or a counter clerk signed in to the issuer console, checked
 * afresh on every call (`issuerActor`). `GET /licences/{id}` also answers the licence's holder (a person's token with scope `licences`), under
 * the same rule as `/me/licences`; to anyone else a licence that is not theirs does not exist (404).
 */
export const handler = apiHandler(async (event: HttpEvent): Promise<HttpResult> => {
  const deps = dependencies();
  const holderRoute = served.is(event, 'GET /licences/{id}');
  const caller = await authenticateBearer(
    event,
    holderRoute ? ['licences:issue', 'licences'] : 'licences:issue',
    deps,
  );
  if (holderRoute && !caller.scopes.has('licences:issue')) {
    // A person's token (scope `licences`): their own licences and their entities', as /me/licences.
    const person = personOf(caller);
    // The holder API is the service's own apps' (as /me/licences): a platform reads licences only
    // through a share, GET /shared/licences (privacy review R9 H1).
    await requireHolderApp(caller.clientId, deps);
    const reader = await licenceReader(parseAccountId(person.accountId), caller, deps);
    const { licence, issuer } = await readHeldLicence(event.pathParameters?.id ?? '', reader, deps);
    return json(200, licenceView(licence, issuer, new Date(deps.clock.now())), {
      'cache-control': 'private, no-store',
    });
  }
  // Every route, reads included: a withdrawn issuer, or a clerk whose appointment was withdrawn, is
  // refused at the next call whatever the token's expiry.
  const actor: IssuerActor = await issuerActor(caller, deps);
  const acting = actor.issuer;
  const issuerId = acting.id;
  const requestId = event.requestContext.requestId;
  /** Who acts, as the use cases name them in the licence's history and the audit trail. */
  const by = {
    issuerId,
    clientId: caller.clientId,
    ...(actor.clerk ? { clerk: actor.clerk } : {}),
    requestId,
  };
  const id = event.pathParameters?.id ?? '';
  const now = () => new Date(deps.clock.now());

  const requireIdempotencyKey = () => {
    const sent = header(event, 'idempotency-key');
    const key = idempotencyKey.safeParse(sent);
    // A key that is there but not a UUID is a client's bug of another kind than a forgotten header:
    // saying "required" of it sent integrators looking for a missing header.
    if (!key.success && sent !== undefined && sent !== '') {
      throw new InvalidInputError('The Idempotency-Key header must hold a UUID', 'idempotency_key_invalid', {
        errors: [{ path: 'Idempotency-Key', message: 'must be a UUID', code: 'invalid_format' }],
      });
    }
    if (!key.success) {
      throw new InvalidInputError(
        'Send an Idempotency-Key header holding a UUID',
        'idempotency_key_required',
        {
          errors: [{ path: 'Idempotency-Key', message: 'required: a UUID', code: 'required' }],
        },
      );
    }
    // One UUID in either case is one key (RFC 9562 §4: hex digits compare case-insensitively): a client
    // that upper-cases its retry must get the first answer, not a second licence.
    return key.data.toLowerCase();
  };

  /**
   * One licence read by its issuer, in its holder's usage record before it is answered (a read that could
   * not be recorded is not made): the licence, its QR code and its printable PDF all show the holder's data.
   */
  const readAndRecord = async (licenceId: string) => {
    const read = await readIssuedLicence(licenceId, issuerId, deps);
    await recordIssuerReads([read.licence], by, deps);
    return read;
  };

  /** One page of a search of the issuer's licences, however it came (`GET /licences`, `POST /licences/search`). */
  const listed = async (query: ListLicencesQuery): Promise<HttpResult> => {
    const page = await listIssuedLicences(query, issuerId, deps);
    // A search by holder's number or name (a name is most often one person's) tells which licences one
    // person holds: traced (never the number or name searched).
    if (query.holder || query.holderName) {
      const at = now().toISOString();
      const context = { at, ...by, actor: caller.clientId, count: page.items.length };
      await Promise.all([
        deps.audit.record(bulkReadEntry('licences.listed', query, context)),
        // And in the holder's usage record, each licence the search answered (privacy review L4).
        recordIssuerReads(page.items, by, deps),
      ]);
    }
    return json(200, {
      items: page.items.map((licence) => licenceView(licence, page.issuer, now())),
      ...(page.cursor ? { cursor: page.cursor } : {}),
      ...(page.total ? { total: page.total } : {}),
    } satisfies z.output<typeof licencePageSchema>);
  };

  return served.dispatch(event, {
    'GET /issuer': async () =>
      json(200, {
        issuerId,
        name: acting.name,
        creditCode: acting.creditCode,
        ...(actor.clerk ? { clerk: actor.clerk } : {}),
      } satisfies z.output<typeof issuerActorSchema>),
    'POST /licences/batches': async () => {
      // A bulk job is the agency's systems' (client credentials), run later by another function: a clerk
      // issues one licence at a time, each traced to them.
      if (actor.clerk) {
        throw new ForbiddenError(
          'Bulk issuance is for the agency’s own client, not a clerk',
          'clerk_not_allowed',
        );
      }
      const key = requireIdempotencyKey();
      const input = parseJsonBody(event, submitBatchInput, { maxBytes: MAX_BATCH_BODY_BYTES });
      // The job's insert starts its processing (the batch queue): this request only stores it.
      const { job } = await submitBatch(
        input,
        { issuerId, clientId: caller.clientId, idempotencyKey: key, requestId },
        { ...deps, batchLimits: deps.config.batchLimits },
      );
      return json(202, batchView(job), { location: `/licences/batches/${job.id}` });
    },
    'GET /licences/batches/{id}': async () => json(200, batchView(await readBatch(id, issuerId, deps))),
    'GET /licences/batches/{id}/licences': async () => {
      const page = await batchLicences(id, issuerId, parseQuery(event, batchLicencesQuery), deps);
      return json(200, {
        items: page.items.map((licence) => licenceView(licence, acting, now())),
        ...(page.cursor ? { cursor: page.cursor } : {}),
      } satisfies z.output<typeof licencePageSchema>);
    },
    'POST /licences': async () => {
      const key = requireIdempotencyKey();
      const input = parseJsonBody(event, issueLicenceInput);
      const { licence, issuer, created } = await issueLicence(
        input,
        { ...by, idempotencyKey: key },
        { ...deps, issuerUrl: deps.config.issuerUrl },
      );
      return json(created ? 201 : 200, licenceView(licence, issuer, now()), {
        location: `/licences/${encodeURIComponent(licence.id)}`,
      });
    },
    'GET /licences': async () => {
      refuseHolderInQuery(event.queryStringParameters);
      return listed(parseQuery(event, listLicencesQuery));
    },
    // The same search with a holder's number or name in the body, never in a URL (privacy review L1).
    'POST /licences/search': async () => listed(searchAsQuery(parseJsonBody(event, searchLicencesInput))),
    'GET /licences/{id}': async () => {
      const { licence, issuer } = await readAndRecord(id);
      // The issuer reads the status history (who, when, why) too; a holder reads the licence alone.
      return json(200, { ...licenceView(licence, issuer, now()), history: licenceHistory(licence) });
    },
    'POST /licences/{id}/status': async () => {
      const input = parseJsonBody(event, changeStatusInput);
      const licence = await changeLicenceStatus(id, input, by, deps);
      const issuer = await deps.issuers.findById(issuerId);
      if (!issuer) throw new ForbiddenError('This client’s issuer does not exist', 'issuer_inactive');
      return json(200, licenceView(licence, issuer, now()));
    },
    'POST /licences/{id}/reissue': async () => {
      // No body: everything the new licence states comes from the old one.
      let reissued;
      try {
        reissued = await reissueLicence(id, by, { ...deps, issuerUrl: deps.config.issuerUrl });
      } catch (error) {
        // Re-issued before (a retry whose answer was lost, another clerk): the refusal points at the
        // replacement (RFC 5829's successor-version), so a client need not parse the detail. So does a
        // re-issue overtaken by a revocation or suspension (its replacement took that status).
        if (!(error instanceof LicenceReissuedError || error instanceof ReissueOvertakenError)) throw error;
        return problem(
          { status: 409, code: error.code, title: 'Conflict', detail: error.message, requestId },
          { link: `</licences/${encodeURIComponent(error.replacedBy)}>; rel="successor-version"` },
        );
      }
      const { licence, issuer, created } = reissued;
      return json(created ? 201 : 200, licenceView(licence, issuer, now()), {
        location: `/licences/${encodeURIComponent(licence.id)}`,
      });
    },
    'GET /licences/{id}/qr.svg': async () => {
      const { licence } = await readAndRecord(id);
      return {
        statusCode: 200,
        headers: qrHeaders('image/svg+xml'),
        body: await renderQrSvg(licence.credential),
      };
    },
    'GET /licences/{id}/pdf': async () => {
      const { layout } = parseQuery(event, licencePdfQuery);
      const { licence, issuer } = await readAndRecord(id);
      const pdf = await printLicence(licence, issuer, layout, now());
      return download(pdf, 'application/pdf', pdfFileName(licence.id, layout, 'pdf'));
    },
    'GET /licences/{id}/pdf.jws': async () => {
      const { layout } = parseQuery(event, licencePdfQuery);
      // Signed by the issuer's own key: the issuer vouches for the file it prints for its holder. Every
      // check above runs on each request; the cache stands in for rendering and signing only. An issuer
      // refused for want of a key has read nothing: refused before its read is recorded.
      const { licence, issuer } = await readIssuedLicence(id, issuerId, deps);
      if (!issuer.keyId) throw new ForbiddenError('This issuer has no signing key yet', 'issuer_inactive');
      await recordIssuerReads([licence], by, deps);
      const jws = await cachedPdfSignature(
        licence,
        issuer,
        layout,
        now(),
        {
          signer: deps.signerFor(issuer.keyId),
          clock: deps.clock,
          iss: issuerUrl(deps.config.issuerUrl, issuer.id),
        },
        deps.pdfSignatures,
      );
      return download(jws, 'application/jose', pdfFileName(licence.id, layout, 'pdf.jws'));
    },
    'GET /licences/{id}/qr.png': async () => {
      const { licence } = await readAndRecord(id);
      const png = await renderQrPng(licence.credential);
      return {
        statusCode: 200,
        headers: qrHeaders('image/png'),
        body: png.toString('base64'),
        isBase64Encoded: true,
      };
    },
  });
}, served.edge);

function qrHeaders(contentType: string): Record<string, string> {
  return {
    'content-type': contentType,
    'cache-control': 'private, no-store',
    'x-content-type-options': 'nosniff',
  };
}
