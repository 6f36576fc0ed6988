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
  licences,
  issuers,
  auditOf,
  lookupMac,
  presentationSigner,
  passkeys,
  usage,
  clientReader,
  sharingGrants,
  pendingAudit,
  clientNames,
  pdfSignatures,
  platformSubject,
  passwords,
  loginAttempts,
  smsJobs,
  securityNotices,
} from './composition/factories.js';
import { ForbiddenError, InvalidInputError } from '../shared/errors.js';
import { walletClientId } from '../shared/identifiers/client-ids.js';
import { requireFirstParty, requireHolderApp } from '../shared/clients/first-party.js';
import { apiHandler } from '../shared/http/api-handler.js';
import { authenticateBearer, authenticatePerson } from '../shared/http/authenticate.js';
import { json } from '../shared/http/response.js';
import type { HttpEvent, HttpResult } from '../shared/http/types.js';
import type * as z from 'zod';
import type { heldLicencesSchema } from '../shared/licence/holder-licences.js';
import { holderLicences, licenceReader } from '../shared/licence/holder-licences.js';
import { readerAssurance } from '../shared/licence/licence-reader.js';
import {
  createPresentation,
  createPresentationInput,
  presentationAnswer,
} from '../shared/licence/presentation.js';
import { renderQrSvg } from '../shared/licence/qr.js';
import { download } from '../shared/http/downloads.js';
import {
  cachedPdfSignature,
  licencePdfQuery,
  pdfFileName,
  printLicence,
} from '../shared/licence/licence-pdf.js';
import { readHeldLicence } from '../shared/licence/licence-reader.js';
import { bodyBytes, parseJsonBody, parseQuery } from '../shared/http/request.js';
import { usageOf, usageQuery } from '../shared/licence/usage.js';
import { licenceView } from '../shared/licence/licence.js';
import { parseAccountId } from '../shared/identifiers/account-id.js';
import {
  enrolPasskey,
  enrolPasskeyInput,
  listPasskeys,
  type passkeyListSchema,
  passkeyRegistrationOptions,
  relyingPartyOf,
  removePasskey,
  removePasskeyInput,
  type PasskeyOwner,
} from '../shared/identity/passkeys.js';
import { findPersonById } from '../shared/identity/verify-password.js';
import {
  listAuthorizations,
  withdrawAuthorization,
  type authorizationListSchema,
} from '../shared/sharing/authorizations.js';
import { sharedLicences, type sharedLicencesSchema } from '../shared/sharing/shared-licences.js';
import {
  dataExportFileName,
  exportPersonalData,
  type dataExportSchema,
} from '../shared/personal-data/data-export.js';

/** What this function's handler uses, built once per container. */
const dependencies = composition({
  kms,
  doc,
  accessTokens,
  dpopProofs,
  accounts,
  entities,
  registry,
  licences,
  issuers,
  audit: auditOf('me'),
  lookupMac,
  presentationSigner,
  passkeys,
  usage,
  clientReader,
  sharingGrants,
  // A withdrawal's audit entry, saved with it as pending work until written (shared/pending-work/pending-work.ts),
  // in withdrawals' own partition: never a licence's pointer (review M1).
  pendingAudit,
  clientNames,
  pdfSignatures,
  // The pairwise `sub` of a withdrawal notice to a platform (queued with the withdrawal by `sharingGrants`;
  // the `notices` function signs and sends it).
  platformSubject,
  // Enrolling or removing a passkey asks for the password again, under the sign-in's throttle (as closing
  // the account does: shared/identity/close-account.ts).
  passwords,
  loginAttempts,
  // The security notice a passkey enrolled or removed owes its holder: a job of the SMS queue, recorded as
  // the change's pointer is completed (shared/identity/security-notices.ts).
  smsJobs,
  securityNotices,
});
const served = routesOf('me');

/**
 * The holder's API (a person's token with scope `licences`): my licences, showing one as a QR code, my
 * passkeys, the platforms I let read my licences, a copy of all my data (`GET /me/export`); and the one route of the platforms themselves,
 * `GET /shared/licences` (a platform's token whose grant carries `licence_access`).
 */
export const handler = apiHandler(async (event: HttpEvent): Promise<HttpResult> => {
  const deps = dependencies();
  if (served.is(event, 'GET /shared/licences')) {
    const platform = await authenticateBearer(
      event,
      'openid',
      deps,
      'ask the person with authorization_details of type licence_access (docs/sharing.md)',
    );
    return json(
      200,
      (await sharedLicences(
        { ...platform, requestId: event.requestContext.requestId },
        deps,
      )) satisfies z.output<typeof sharedLicencesSchema>,
    );
  }
  const caller = await authenticatePerson(event, deps);
  const actor = caller.accountId;
  const subject = parseAccountId(actor);
  const now = new Date(deps.clock.now());
  const reader = await licenceReader(subject, caller, deps);

  /** The person behind the token, at the level `licenceReader` computed (`signedInLevel`). */
  const owner = async (): Promise<PasskeyOwner> => {
    // Passkeys are managed in the wallet only. Attestation is `none`, so nothing proves that a passkey
    // comes from an authenticator in the person's hands: any other platform holding their token could
    // enrol one of its own making and sign in as them, at level 3, for as long as it stays.
    if (caller.clientId !== walletClientId) {
      throw new ForbiddenError('Passkeys are managed in the wallet (我的证照) only', 'wallet_only');
    }
    const person = await findPersonById(subject.personId, deps);
    if (!person) throw new ForbiddenError('The signed-in account no longer exists', 'account_not_found');
    return {
      accountId: person.id,
      name: person.name,
      level: reader.level,
      account: person,
      signIn: { acr: caller.acr, authTime: caller.authTime },
      source: event.requestContext.http.sourceIp,
      requestId: event.requestContext.requestId,
    };
  };
  const rp = relyingPartyOf(deps.config.issuerUrl);
  /**
   * The usage record and the authorizations name the other platforms that use the person's licences, and
   * withdrawing ends one: theirs to do in the wallet (or another first-party app), not any platform's that
   * holds a `licences` token (security review: a platform could list and withdraw a competitor's share).
   */
  const firstPartyOnly = (message: string) => requireFirstParty(caller.clientId, deps, message);

  const holderApp = () => requireHolderApp(caller.clientId, deps);

  return served.dispatch(event, {
    'GET /shared/licences': () => {
      throw new Error('served above, with the platform’s token');
    },
    'GET /me/authorizations': async () => {
      await firstPartyOnly('Authorizations are managed in the wallet (我的证照) only');
      return json(
        200,
        (await listAuthorizations(subject.personId, deps)) satisfies z.output<typeof authorizationListSchema>,
      );
    },
    'DELETE /me/authorizations/{id}': async () => {
      await firstPartyOnly('Authorizations are managed in the wallet (我的证照) only');
      const withdrawing = { ...deps, subjectAt: deps.platformSubject };
      await withdrawAuthorization(subject.personId, event.pathParameters?.id ?? '', withdrawing, {
        requestId: event.requestContext.requestId,
      });
      return { statusCode: 204, headers: { 'cache-control': 'no-store' } };
    },
    'GET /me/passkeys': async () =>
      json(200, { items: await listPasskeys(await owner(), deps) } satisfies z.output<
        typeof passkeyListSchema
      >),
    'POST /me/passkeys/options': async () =>
      json(200, await passkeyRegistrationOptions(await owner(), rp, deps)),
    'POST /me/passkeys': async () => {
      const person = await owner();
      return json(201, await enrolPasskey(person, parseJsonBody(event, enrolPasskeyInput), rp, deps));
    },
    'DELETE /me/passkeys/{id}': async () => {
      const person = await owner();
      // A token alone removes nothing (review R28 H1): the password comes typed again in the request.
      if (bodyBytes(event).length === 0) {
        throw new InvalidInputError(
          'Removing a passkey needs the account’s password typed again: a JSON body {"password": "…"}',
          'password_required',
          { errors: [{ path: 'password', message: 'is required to remove a passkey', code: 'required' }] },
        );
      }
      const { password } = parseJsonBody(event, removePasskeyInput);
      await removePasskey(person, event.pathParameters?.id ?? '', password, deps);
      return { statusCode: 204, headers: { 'cache-control': 'no-store' } };
    },
    'GET /me/licences': async () => {
      await holderApp();
      const held = await holderLicences(reader, deps);
      return json(200, {
        items: held.map(({ licence, issuer }) => licenceView(licence, issuer, now)),
        // What the reader's level opens: `stepUpTo` when some licence types need more (none are listed).
        assurance: readerAssurance(reader),
      } satisfies z.output<typeof heldLicencesSchema>);
    },
    // The person's copy of their data (PIPL Art. 45): one file, recorded in their usage record.
    'GET /me/export': async () => {
      await firstPartyOnly('Your data is exported from the wallet (我的证照) only');
      const document = await exportPersonalData(
        {
          subject,
          acr: caller.acr,
          authTime: caller.authTime,
          reader,
          requestId: event.requestContext.requestId,
        },
        deps,
      );
      return json(200, document satisfies z.output<typeof dataExportSchema>, {
        'content-disposition': `attachment; filename="${dataExportFileName(document.exportedAt)}"`,
        'cache-control': 'private, no-store',
      });
    },
    'GET /me/usage': async () => {
      const query = parseQuery(event, usageQuery);
      await firstPartyOnly('The usage record is read in the wallet (我的证照) only');
      return json(
        200,
        await usageOf(reader, query, {
          usage: deps.usage,
          clients: deps.clientReader,
          issuers: deps.issuers,
          commitmentsSince: deps.config.auditHolderCommitmentsSince,
        }),
      );
    },
    // The printable licence (docs/printable-licence.md): the holder's own, as GET /licences/{id} reads it.
    'GET /me/licences/{id}/pdf': async () => {
      await holderApp();
      const { layout } = parseQuery(event, licencePdfQuery);
      const { licence, issuer } = await readHeldLicence(event.pathParameters?.id ?? '', reader, deps);
      const pdf = await printLicence(licence, issuer, layout, now);
      return download(pdf, 'application/pdf', pdfFileName(licence.id, layout, 'pdf'));
    },
    'GET /me/licences/{id}/pdf.jws': async () => {
      await holderApp();
      const { layout } = parseQuery(event, licencePdfQuery);
      const { licence, issuer } = await readHeldLicence(event.pathParameters?.id ?? '', reader, deps);
      // Signed by the presentation key (the platform's, for what it shows on the holder's behalf; never the
      // platform key, which signs ID tokens): the platform vouches for what it rendered for the holder. The
      // checks above run on each request; the cache stands in for rendering and signing only.
      const jws = await cachedPdfSignature(
        licence,
        issuer,
        layout,
        now,
        { signer: deps.presentationSigner, clock: deps.clock, iss: deps.config.issuerUrl },
        deps.pdfSignatures,
      );
      return download(jws, 'application/jose', pdfFileName(licence.id, layout, 'pdf.jws'));
    },
    'POST /me/licences/{id}/presentations': async () => {
      // A presentation is the holder showing the licence (the audit records them as its actor, in their
      // usage record): the wallet's to make, not any platform's that may read the licences (security
      // review: a platform minted presentations that the record showed as the person's own).
      await firstPartyOnly('Licences are presented from a first-party app (the wallet, 我的证照) only');
      const input = parseJsonBody(event, createPresentationInput);
      const presentation = await createPresentation(
        event.pathParameters?.id ?? '',
        input,
        {
          ...reader,
          actor,
          requestId: event.requestContext.requestId,
        },
        deps,
      );
      return json(201, presentationAnswer(presentation, await renderQrSvg(presentation.token)));
    },
  });
}, served.edge);
