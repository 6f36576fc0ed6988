import type * as z from 'zod';
import { auditQuery, type AuditEntry, type auditTrailSchema } from '../shared/audit/audit-trail.js';
import { composition } from './composition/dependencies.js';
import { routesOf } from './dispatch.js';
import {
  kms,
  doc,
  adapter,
  accessTokens,
  dpopProofs,
  issuers,
  clients,
  auditOf,
  auditPages,
  webMac,
  clientSecretMac,
  registrationSecrets,
  keys,
  signerFor,
  peers,
  trailCursors,
  operatorAudit,
} from './composition/factories.js';
import { apiHandler } from '../shared/http/api-handler.js';
import { authenticateBearer } from '../shared/http/authenticate.js';
import { parseJsonBody, parseQuery } from '../shared/http/request.js';
import { json } from '../shared/http/response.js';
import type { HttpEvent } from '../shared/http/types.js';
import {
  createIssuer,
  createIssuerInput,
  type createdIssuerAnswerSchema,
} from '../shared/issuers/create-issuer.js';
import { issuerView } from '../shared/issuers/issuer.js';
import { findLicenceType } from '../shared/licence/catalogue.js';
import { rotateIssuerKey, rotateIssuerKeyInput } from '../shared/issuers/rotate-issuer-key.js';
import { withdrawIssuer, withdrawIssuerInput } from '../shared/issuers/withdraw-issuer.js';
import { withdrawIssuerKey, withdrawIssuerKeyInput } from '../shared/issuers/withdraw-issuer-key.js';
import { registerClient, registerClientInput, updateClientInput } from '../shared/clients/register-client.js';
import { rotateClientSecret } from '../shared/clients/rotate-client-secret.js';
import { updateClient } from '../shared/clients/update-client.js';
import {
  peerView,
  refreshPeer,
  registerPeer,
  registerPeerInput,
  removePeer,
} from '../shared/issuers/peers.js';

/** What this function's handler uses, built once per container. */
const dependencies = composition({
  kms,
  doc,
  adapter,
  accessTokens,
  dpopProofs,
  issuers,
  clients,
  audit: auditOf('admin'),
  auditPages,
  webMac,
  clientSecretMac,
  // Secrets on the client-secret key only: the operators' API holds no lookup key.
  secrets: registrationSecrets,
  keys,
  signerFor,
  peers,
  trailCursors,
  // Operators' changes' audit entries (issuers', clients', peers') saved until written: their own
  // partition, no other pending work.
  operatorAudit,
});
const served = routesOf('admin');

/**
 * The operators' API (scope `admin`): onboarding issuers, rotating their keys, withdrawing a key or them,
 * registering relying parties, and peer platforms (跨地区互认, docs/peers.md).
 */

/**
 * `POST /admin/issuers`' body, its licence types checked against the catalogue here: an issuer allowed a
 * type the catalogue lacks could never issue it (shared/issuers may not read the licence catalogue,
 * which reads issuers).
 */
const catalogueIssuerInput = createIssuerInput.superRefine((input, context) => {
  input.licenceTypes.forEach((code, index) => {
    if (findLicenceType(code)) return;
    context.addIssue({
      code: 'custom',
      path: ['licenceTypes', index],
      message: 'not in the catalogue (GET /licence-types)',
      params: { code: 'unknown_licence_type' },
    });
  });
});

export const handler = apiHandler(async (event: HttpEvent) => {
  const deps = dependencies();
  const caller = await authenticateBearer(event, 'admin', deps);
  const context = { clientId: caller.clientId, requestId: event.requestContext?.requestId };
  // The path's `{id}`: an issuer's, a client's or a peer's, by the route.
  const pathId = event.pathParameters?.id ?? '';

  return served.dispatch(event, {
    'POST /admin/issuers': async () => {
      const input = parseJsonBody(event, catalogueIssuerInput);
      const { issuer, clientSecret } = await createIssuer(input, context, deps);
      const answer: z.output<typeof createdIssuerAnswerSchema> = { ...issuerView(issuer), clientSecret };
      return json(201, answer, { location: `/admin/issuers/${issuer.id}` });
    },
    'POST /admin/issuers/{id}/keys': async () => {
      const input = parseJsonBody(event, rotateIssuerKeyInput);
      return json(201, issuerView(await rotateIssuerKey(pathId, input, context, deps)));
    },
    'POST /admin/issuers/{id}/keys/{kid}/withdraw': async () => {
      const input = parseJsonBody(event, withdrawIssuerKeyInput);
      const kid = event.pathParameters?.kid ?? '';
      return json(200, issuerView(await withdrawIssuerKey(pathId, kid, input, context, deps)));
    },
    'POST /admin/issuers/{id}/withdraw': async () => {
      const input = parseJsonBody(event, withdrawIssuerInput);
      return json(200, issuerView(await withdrawIssuer(pathId, input, context, deps)));
    },
    'GET /admin/audit': async () => {
      const { licence, limit, cursor: sealed } = parseQuery(event, auditQuery);
      // Its cursors sealed as the supervision listing's are, to this listing and licence (R14 L2).
      const listing = { listing: 'admin-licence', licence } as const;
      const cursor = sealed === undefined ? undefined : await deps.trailCursors.open(listing, sealed);
      const page = await deps.auditPages.licencePage(licence, { limit, ...(cursor ? { cursor } : {}) });
      // The holder's lookup key (and its commitment's salt) is stored for their usage record (用证记录)
      // and never answered.
      const answered = ({ holderKey: _holderKey, holderSalt: _holderSalt, ...entry }: AuditEntry) => entry;
      return json(200, {
        items: page.items.map(answered),
        // After a cursor, the entry it stands on, or `null` once it is off the list (R14 L2).
        ...(page.after
          ? { after: { ...page.after, entry: page.after.entry === null ? null : answered(page.after.entry) } }
          : {}),
        ...(page.cursor ? { cursor: await deps.trailCursors.seal(listing, page.cursor) } : {}),
      } satisfies z.output<typeof auditTrailSchema>);
    },
    'POST /admin/clients': async () =>
      json(201, await registerClient(parseJsonBody(event, registerClientInput), context, deps)),
    'PATCH /admin/clients/{id}': async () =>
      json(200, await updateClient(pathId, parseJsonBody(event, updateClientInput), context, deps)),
    'POST /admin/clients/{id}/secret': async () => json(200, await rotateClientSecret(pathId, context, deps)),
    'POST /admin/peers': async () => {
      const { id } = await registerPeer(parseJsonBody(event, registerPeerInput), context, deps);
      return json(201, { id }, { location: `/admin/peers/${id}` });
    },
    'GET /admin/peers': async () => {
      const now = deps.clock.now();
      const items = (await deps.peers.list()).map((peer) => peerView(peer, now, deps.config));
      return json(200, { items });
    },
    'POST /admin/peers/{id}/refresh': async () => json(200, await refreshPeer(pathId, deps)),
    'DELETE /admin/peers/{id}': async () => {
      await removePeer(pathId, context, deps);
      return { statusCode: 204 };
    },
  });
}, served.edge);
