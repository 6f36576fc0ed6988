import type { IncomingMessage } from 'node:http';
import type Provider from 'oidc-provider';
import { errors, type InteractionResults, type KoaContextWithOIDC } from 'oidc-provider';
import { logger } from '../logger.js';
import { UnsupportedMediaTypeError, type FieldError } from '../errors.js';
import { decodeFormBody } from '../http/form-body.js';
import type { Translate } from '../web/kit/i18n.js';
import { clientDisplayName } from '../identifiers/client-ids.js';
import { basisOf, formatAccountId, parseAccountId, standsOn } from '../identifiers/account-id.js';
import type { IdentityDirectory, SignInAt } from '../identity/identity-directory.js';
import {
  pageHeaders,
  pageLang,
  pageView,
  type PageScripts,
  type PageView,
} from '../web/pages/interaction-html.js';
import {
  consentPage,
  entityPage,
  errorPage,
  invalidCredentials,
  invalidEntityChoice,
  loginPage,
  personalPage,
  throttledMessage,
} from '../web/pages/interaction-pages.js';
import { idNumberField, idNumberScope, scopeDescriptions } from '../web/pages/consent-words.js';
import { recordIdNumberChoice } from './id-number-consent.js';
import { sharingConsentPage } from '../web/pages/sharing-consent-page.js';
import {
  licenceAccessDetails,
  levelToShare,
  mayShareForEntity,
  type LicenceAccessDetail,
} from '../sharing/licence-access.js';
import { acrOf, levelOfAcr } from '../identity/assurance.js';
import { entitySignInLevel } from '../identity/entities.js';
import { entityAwaitingStepUp, entityStepUpResult } from './entity-step-up.js';
import type { ScanLoginInteractions } from './scan-login.js';
import type { PhoneProofDependencies } from '../identity/phone-proof.js';
import { isStepUp, phoneInteractions } from './phone-interactions.js';
import { servedOverHttps } from '../web/kit/cookies.js';
import { grantAuditPrefix, saveWithTrace } from '../pending-work/pending-work.js';
import { savedWithTrace } from './traced-grant.js';
import { stepSignIn } from './sign-in-results.js';

type InteractionDetails = Awaited<ReturnType<Provider['interactionDetails']>>;
/** Answers with a page; `scripts` for the sign-in page, whose passkey button has a script. */
type Send = (status: number, body: string, options?: { scripts?: PageScripts }) => void;

const maxFormBytes = 16 * 1024;
const route =
  /^\/interaction\/([A-Za-z0-9_-]{1,64})(?:\/(login|entity|personal|confirm|abort|scan|qr|stepup|reset|unmet))?$/;

/** What a person is told of a form that held bytes other than UTF-8 text (a browser set to GBK). */
const unreadableMessage = (t: Translate) =>
  t(
    '提交的内容含有乱码（不是 UTF-8 编码的文字），请重新输入后提交。',
    'The form held garbled text (not UTF-8): type it again and submit.',
  );

/** The request's body, bounded (the bytes whole: a character split across two chunks stays one). */
async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    chunks.push(chunk);
    length += chunk.length;
    if (length > maxFormBytes) throw new errors.InvalidRequest('form too large');
  }
  return Buffer.concat(chunks);
}

/**
 * A page's form post, decoded as UTF-8 strictly (shared/http/form-body.ts): `unreadable` names each field
 * whose bytes were not UTF-8 (left out of `form`), never read as `���`. A declared charset other than
 * UTF-8 throws 415 `unsupported_charset`.
 */
async function readForm(
  req: IncomingMessage,
): Promise<{ form: URLSearchParams; unreadable: readonly FieldError[] }> {
  const { pairs, unreadable } = decodeFormBody(await readBody(req), req.headers['content-type']);
  return { form: new URLSearchParams(pairs.map(([name, value]) => [name, value])), unreadable };
}

/**
 * The interaction pages the provider sends people to (`/interaction/{uid}`): sign in, choose whom to
 * act for, return to personal use, consent. Each finishes its step through the provider's own
 * `interactionFinished`, which binds it to the browser's interaction cookie.
 */
export function interactionRoutes(
  provider: Provider,
  directory: IdentityDirectory,
  proofs: PhoneProofDependencies,
  scanLogin?: ScanLoginInteractions,
) {
  const secure = servedOverHttps(provider.issuer);
  const phone = phoneInteractions(provider, proofs, {
    // A step-up for an entity the person chose below level 3 (entity-step-up.ts): the page names it, and
    // once at level 3 the person acts for it, if they still may.
    async purpose(details) {
      const creditCode = entityAwaitingStepUp(details.lastSubmission);
      const entity = creditCode === undefined ? undefined : await directory.entityAccount(creditCode);
      return entity && { entityName: entity.name };
    },
    async accountAfter(details, accountId) {
      const creditCode = entityAwaitingStepUp(details.lastSubmission);
      const subject = parseAccountId(accountId);
      if (creditCode === undefined || subject.kind !== 'person') return accountId;
      const at = await signInAt(details.params.client_id, acrOf(entitySignInLevel));
      const right = await directory.signInAs(subject.personId, creditCode, at);
      const entity = right && !right.stepUp ? await directory.entityAccount(creditCode) : undefined;
      // No longer allowed meanwhile: the person's own sign-in, and the chooser again.
      return entity && right
        ? formatAccountId({
            kind: 'entity',
            entityId: entity.id,
            personId: subject.personId,
            basis: basisOf(right),
          })
        : accountId;
    },
  });
  return async (ctx: KoaContextWithOIDC, next: () => Promise<void>): Promise<void> => {
    const matched = route.exec(ctx.path);
    if (!matched) return next();
    const action = matched[2];
    // The language switch leads to the step's own page, `GET /interaction/{uid}`, which shows whatever
    // step the interaction is at (the provider finds it by its cookie; the query plays no part), also
    // from a page that answered a form post.
    // The reset page is not a step of the provider's: its switch leads to the reset page itself.
    const page = action === 'reset' ? '/reset' : '';
    const view = pageView(
      pageLang(ctx, secure),
      (other) => `/interaction/${matched[1]}${page}?lang=${other}`,
    );
    // Forms of these pages may end, through redirects, at the platform's redirect URI.
    let redirectTo: string | undefined;
    const send: Send = (status, body, options) => {
      ctx.status = status;
      ctx.set(pageHeaders(redirectTo, options));
      ctx.body = body;
    };
    const details = async () => {
      const found = await provider.interactionDetails(ctx.req, ctx.res);
      const uri = found.params.redirect_uri;
      redirectTo = typeof uri === 'string' ? uri : undefined;
      return found;
    };
    try {
      if (ctx.method === 'GET' && action === undefined) return await show(ctx, view, details, send);
      if (ctx.method === 'GET' && action === 'scan' && scanLogin) {
        return await scanLogin.wait(ctx, provider, view, send);
      }
      // The QR code of the sign-in page's scan-to-login code, which this fetch stores (scan-login.ts).
      if (ctx.method === 'GET' && action === 'qr' && scanLogin) return await scanLogin.qr(ctx, provider);
      if (ctx.method === 'GET' && action === 'abort') {
        return await provider.interactionFinished(
          ctx.req,
          ctx.res,
          { error: 'access_denied', error_description: 'End-User aborted interaction' },
          { mergeWithLastSubmission: false },
        );
      }
      if (ctx.method === 'GET' && action === 'unmet') return await phone.unmet(ctx);
      if (ctx.method === 'GET' && action === 'reset') {
        return await phone.reset(ctx, view, await details(), undefined, send);
      }
      // The consent page refuses with a submit button of its form (POST), the sign-in page with a link.
      if (ctx.method === 'POST' && action === 'abort') {
        // Nothing of the form is read: drained only.
        await readBody(ctx.req);
        return await provider.interactionFinished(
          ctx.req,
          ctx.res,
          { error: 'access_denied', error_description: 'End-User refused the request' },
          { mergeWithLastSubmission: false },
        );
      }
      if (
        ctx.method !== 'POST' ||
        action === undefined ||
        action === 'unmet' ||
        action === 'qr' ||
        (action === 'scan' && !scanLogin)
      ) {
        return send(405, errorPage(view, 'method_not_allowed', undefined));
      }
      const { form, unreadable } = await readForm(ctx.req);
      if (unreadable.length > 0)
        return await unreadableFields(ctx, view, details, action, form, unreadable, send);
      // The waiting page's last step: sign in as the person named, or "not me" (scan-login.ts).
      if (action === 'scan' && scanLogin) return await scanLogin.complete(ctx, provider, view, form, send);
      if (action === 'login') return await login(ctx, view, details, form, send);
      if (action === 'entity') return await chooseEntity(ctx, view, details, form, send);
      if (action === 'personal') return await backToPersonal(ctx);
      if (action === 'stepup') {
        const found = await details();
        return await phone.stepUp(
          ctx,
          view,
          found,
          await clientName(found.params.client_id, view),
          form,
          send,
        );
      }
      if (action === 'reset') return await phone.reset(ctx, view, await details(), form, send);
      return await confirm(ctx, form);
    } catch (error) {
      if (error instanceof errors.OIDCProviderError) {
        return send(
          error.statusCode ?? 400,
          errorPage(view, error.error, error.error_description, {
            expired: error instanceof errors.SessionNotFound,
          }),
        );
      }
      // A form declared in another charset than UTF-8 (415 unsupported_charset): said on a page.
      if (error instanceof UnsupportedMediaTypeError) {
        return send(415, errorPage(view, error.code, error.message));
      }
      throw error;
    }
  };

  /**
   * A form with fields that were not UTF-8 text (400, each named `invalid_characters`), before anything
   * is checked or counted: the sign-in page again with the ID number kept when it was readable (no
   * password is checked, so nothing is read from the tables), the SMS steps' forms again (the phone and
   * ID number kept, never the code or password; nothing sent or counted), the entity chooser again; the
   * steps where nothing is typed (consent, scan-to-login) an error page naming the fields.
   */
  async function unreadableFields(
    ctx: KoaContextWithOIDC,
    view: PageView,
    interactionDetails: () => Promise<InteractionDetails>,
    action: string,
    form: URLSearchParams,
    unreadable: readonly FieldError[],
    send: Send,
  ) {
    const named = unreadable.map((e) => e.path).join(', ');
    logger.info('interaction form refused', { code: 'invalid_characters', fields: named });
    if (action === 'login') {
      const details = await interactionDetails();
      if (details.prompt.name === 'login') {
        return send(
          400,
          loginPage(view, {
            uid: details.uid,
            clientName: await clientName(details.params.client_id, view),
            username: (form.get('username') ?? '').trim().slice(0, 32),
            error: unreadableMessage(view.t),
          }),
          { scripts: 'self-and-fetch' },
        );
      }
    }
    // The SMS steps' forms again, with what was readable kept (never the code or password) and the
    // field to type again named at the top and at the field; the entity choice's page again, the choice
    // refused (nothing typed to keep).
    const paths = unreadable.map((e) => e.path);
    const text = unreadableMessage(view.t);
    if (action === 'stepup') {
      const found = await interactionDetails();
      const name = await clientName(found.params.client_id, view);
      return phone.stepUp(ctx, view, found, name, form, send, { paths, text });
    }
    if (action === 'reset') {
      return phone.reset(ctx, view, await interactionDetails(), form, send, { paths, text });
    }
    if (action === 'entity') return chooseEntity(ctx, view, interactionDetails, new URLSearchParams(), send);
    return send(400, errorPage(view, 'invalid_characters', `${named}: ${text}`));
  }

  /** The client's name for `view`'s page: the service's own in the page's language, others as registered. */
  async function clientName(clientId: unknown, view: PageView): Promise<string> {
    const client = await provider.Client.find(String(clientId));
    return clientDisplayName(
      String(clientId),
      client?.clientName === undefined ? undefined : String(client.clientName),
      view.t,
    );
  }

  /**
   * Where and how the person would sign in as an entity: at one of the service's own apps (first-party)
   * or at a platform, where an appointment must cover it (`sign-in`, shared/identity/entity-account.ts);
   * with a sign-in of `acr`, which must be level 3 (`entitySignInLevel`).
   */
  async function signInAt(clientId: unknown, acr: unknown): Promise<SignInAt> {
    const client = await provider.Client.find(String(clientId));
    return { firstParty: client?.['first_party'] === true, acr: typeof acr === 'string' ? acr : undefined };
  }

  async function show(
    ctx: KoaContextWithOIDC,
    view: PageView,
    interactionDetails: () => Promise<InteractionDetails>,
    send: Send,
  ) {
    const details = await interactionDetails();
    const name = await clientName(details.params.client_id, view);
    const uid = details.uid;
    switch (details.prompt.name) {
      case 'login': {
        if (isStepUp(details)) return phone.stepUp(ctx, view, details, name, undefined, send);
        const scan = await scanLogin?.section(ctx, view, {
          uid,
          clientId: String(details.params.client_id),
          clientName: name,
        });
        return send(
          200,
          loginPage(view, {
            uid,
            clientName: name,
            username: String(details.params.login_hint ?? ''),
            ...(scan ? { scan } : {}),
          }),
          { scripts: 'self-and-fetch' },
        );
      }
      case 'select_entity': {
        const subject = parseAccountId(String(details.session?.accountId ?? ''));
        const person = await directory.findPerson(subject.personId);
        if (!person) throw new errors.SessionNotFound('the signed-in person is no longer known');
        if (subject.kind === 'entity') {
          const entity = await directory.findEntity(subject.entityId);
          return send(
            200,
            personalPage(view, {
              uid,
              clientName: name,
              entityName: entity?.name ?? '',
              personName: person.name,
            }),
          );
        }
        const entities = await directory.entitiesFor(
          subject.personId,
          await signInAt(details.params.client_id, details.session?.acr),
        );
        return send(200, entityPage(view, { uid, clientName: name, personName: person.name, entities }));
      }
      case 'consent': {
        const scopes = String(details.params.scope ?? '').split(' ');
        const sharing = licenceAccessDetails((details.prompt.details as { rar?: unknown }).rar);
        if (sharing.length > 0) {
          const acting = await sharingAuthority(details.session?.accountId, sharing);
          return send(
            200,
            sharingConsentPage(view, {
              uid,
              clientName: name,
              details: sharing,
              alsoReleased: scopeDescriptions(view.t, scopes),
              asksIdNumber: scopes.includes(idNumberScope),
              ...(acting.entityName ? { entityName: acting.entityName } : {}),
              ...(acting.allowed
                ? {}
                : {
                    refusal: view.t(
                      '您的经办人授权不包括证照，不能将企业的证照授权给平台。',
                      'Your appointment as agent does not cover licences: you cannot share the enterprise’s licences.',
                    ),
                  }),
              now: new Date(),
            }),
          );
        }
        return send(
          200,
          consentPage(view, { uid, clientName: name, scopes, signedInAs: await signedInAs(details) }),
        );
      }
      default:
        return send(400, errorPage(view, 'unsupported_prompt', details.prompt.name));
    }
  }

  async function login(
    ctx: KoaContextWithOIDC,
    view: PageView,
    interactionDetails: () => Promise<InteractionDetails>,
    form: URLSearchParams,
    send: Send,
  ) {
    const details = await interactionDetails();
    if (details.prompt.name !== 'login') throw new errors.InvalidRequest('not a sign-in step');
    const username = (form.get('username') ?? '').trim().slice(0, 32);
    // The address API Gateway saw, not a client-supplied X-Forwarded-For entry.
    const source = ctx.req.socket.remoteAddress ?? 'unknown';
    const outcome = await directory.checkPassword({
      idNumber: username,
      password: form.get('password') ?? '',
      source,
    });
    if (!outcome.ok) {
      logger.info('sign-in refused', { reason: outcome.reason, clientId: details.params.client_id });
      const message =
        outcome.reason === 'throttled'
          ? throttledMessage(view.t, outcome.retryAfterSeconds ?? 60)
          : invalidCredentials(view.t);
      if (outcome.reason === 'throttled') ctx.set('retry-after', String(outcome.retryAfterSeconds ?? 60));
      return send(
        outcome.reason === 'throttled' ? 429 : 401,
        loginPage(view, {
          uid: details.uid,
          clientName: await clientName(details.params.client_id, view),
          username,
          error: message,
        }),
        { scripts: 'self-and-fetch' },
      );
    }
    // With the step's time and the account version the password was checked against (review R44).
    return finished(ctx, details, {
      login: stepSignIn(
        { accountId: outcome.person.id, acr: outcome.person.acr, amr: ['pwd'] },
        outcome.person,
        proofs.clock,
      ),
    });
  }

  async function chooseEntity(
    ctx: KoaContextWithOIDC,
    view: PageView,
    interactionDetails: () => Promise<InteractionDetails>,
    form: URLSearchParams,
    send: Send,
  ) {
    const details = await interactionDetails();
    const subject = parseAccountId(String(details.session?.accountId ?? ''));
    if (details.prompt.name !== 'select_entity' || subject.kind !== 'person') {
      throw new errors.InvalidRequest('not an entity choice step');
    }
    const creditCode = (form.get('entity') ?? '').trim().toUpperCase();
    const at = await signInAt(details.params.client_id, details.session?.acr);
    // Whether the person may act for the entity, and whether that covers signing in as it here: an agent
    // appointed only to issue may not sign in at a platform as the agency (review R22).
    const right = creditCode ? await directory.signInAs(subject.personId, creditCode, at) : undefined;
    const entity = right ? await directory.entityAccount(creditCode) : undefined;
    if (!entity || !right) {
      const person = await directory.findPerson(subject.personId);
      return send(
        403,
        entityPage(view, {
          uid: details.uid,
          clientName: await clientName(details.params.client_id, view),
          personName: person?.name ?? '',
          entities: await directory.entitiesFor(subject.personId, at),
          error: invalidEntityChoice(view.t),
        }),
      );
    }
    // Below level 3 (review R22: a level-2 account is whoever knew the number and the name), the step-up
    // first: the provider asks for it on this result, and it then signs the person in as the entity.
    if (right.stepUp) return finished(ctx, details, entityStepUpResult(entity.creditCode));
    return finished(ctx, details, {
      login: sameSignIn(
        details,
        formatAccountId({
          kind: 'entity',
          entityId: entity.id,
          personId: subject.personId,
          basis: basisOf(right),
        }),
      ),
    });
  }

  async function backToPersonal(ctx: KoaContextWithOIDC) {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    const subject = parseAccountId(String(details.session?.accountId ?? ''));
    if (details.prompt.name !== 'select_entity' || subject.kind !== 'entity') {
      throw new errors.InvalidRequest('not a return to personal use');
    }
    return finished(ctx, details, { login: sameSignIn(details, subject.personId) });
  }

  /**
   * Whom a share is for and whether the person may approve it: personally, always; acting for an
   * enterprise, a type held by enterprises only as its legal representative or as an agent whose
   * appointment covers licences (asked now, not when the session began).
   */
  async function sharingAuthority(
    accountId: unknown,
    sharing: readonly LicenceAccessDetail[],
  ): Promise<{ allowed: boolean; entityName?: string }> {
    const subject = parseAccountId(String(accountId ?? ''));
    if (subject.kind === 'person') return { allowed: true };
    const entity = await directory.findEntity(subject.entityId);
    if (!entity) return { allowed: false };
    const right = await directory.canActFor(subject.personId, entity.creditCode);
    // Only under the authority the session was made under (review R42).
    const standing = right && standsOn(subject, right) ? right : undefined;
    return { allowed: mayShareForEntity(sharing, standing), entityName: entity.name };
  }

  /**
   * Whose data the consent page would release: the signed-in person's name, and the enterprise's when
   * acting for one (one or two reads, on this page only; the first-party sign-ins never show it).
   */
  async function signedInAs(
    details: InteractionDetails,
  ): Promise<{ personName: string; entityName?: string } | undefined> {
    try {
      const subject = parseAccountId(String(details.session?.accountId ?? ''));
      const person = await directory.findPerson(subject.personId);
      if (!person) return undefined;
      if (subject.kind === 'person') return { personName: person.name };
      const entity = await directory.findEntity(subject.entityId);
      return { personName: person.name, ...(entity ? { entityName: entity.name } : {}) };
    } catch {
      // No session to name (it is checked again when the consent is given): the page just does not say.
      return undefined;
    }
  }

  async function confirm(ctx: KoaContextWithOIDC, form: URLSearchParams) {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    if (details.prompt.name !== 'consent' || !details.session)
      throw new errors.InvalidRequest('not a consent step');
    const asked = (details.prompt.details as { rar?: unknown }).rar;
    if (asked !== undefined) return confirmSharing(ctx, details, asked, form);
    const found = details.grantId ? await provider.Grant.find(details.grantId) : undefined;
    if (details.grantId && !found) throw new errors.SessionNotFound('grant not found');
    // A sign-in's consent never goes into a share's grant (review R34 M1): the provider loads none for a
    // sign-in (provider.ts, `existingOrFirstPartyGrant`); should an interaction name one all the same, the
    // sign-in gets a grant of its own.
    const continued = found && licenceAccessDetails(found.rar).length === 0 ? found : undefined;
    const grant =
      continued ??
      new provider.Grant({
        accountId: details.session.accountId,
        clientId: String(details.params.client_id),
      });
    addMissing(grant, details, form);
    const grantId = await grant.save();
    return finished(ctx, details, { consent: continued ? {} : { grantId } }, { merge: true });
  }

  /**
   * Approving a share (授权用证): a grant of its own, so that each authorization has its own purpose,
   * expiry and withdrawal (`GET /me/authorizations`). It carries the scopes this request asks for and its
   * page lists, the ID number only if ticked on this page (review R10), and exactly the approved details
   * (`addRar`), which the platform's code and tokens then carry; never the scopes of the platform's
   * sign-in (review R34 M1: the sign-in's ID number lived on in a share made in the same session after
   * the sign-in was withdrawn). The provider loads no grant for a share before its consent
   * (`existingOrFirstPartyGrant`), so what the prompt finds missing is all the request asks. Refused unless the session has the
   * level the licence types need (the sign-in step-up brought it there) and, acting for an enterprise,
   * the appointment allows it.
   */
  async function confirmSharing(
    ctx: KoaContextWithOIDC,
    details: InteractionDetails,
    asked: unknown,
    form: URLSearchParams,
  ) {
    const session = details.session!;
    const sharing = licenceAccessDetails(asked);
    if (!Array.isArray(asked) || sharing.length !== asked.length) {
      throw new errors.InvalidAuthorizationDetails('only licence_access details can be approved here');
    }
    if ((levelOfAcr(session.acr) ?? 1) < levelToShare(sharing)) {
      throw new errors.AccessDenied('the sign-in is below the level these licence types require');
    }
    if (!(await sharingAuthority(session.accountId, sharing)).allowed) {
      throw new errors.AccessDenied('the appointment as agent does not cover licences');
    }
    const clientId = String(details.params.client_id);
    const grant = new provider.Grant({ accountId: session.accountId, clientId });
    addMissing(grant, details, form);
    for (const detail of sharing) grant.addRar(detail);
    // A consent is a state change, and leaves its trace (security review): who let which platform read
    // which licence types, why, under which grant (withdrawal writes `authorization.withdrawn`). Saved with
    // the grant, one write (`authorization-granted#<grant id>`, the provider's pending work): a grant is
    // never without its entry, which is written now or, if that fails, by the reconciler a minute later.
    // The grant's id is chosen first, as its save would, so that the entry can name it.
    grant.jti = (grant as unknown as { generateTokenId(): string }).generateTokenId();
    const grantId = await saveWithTrace(
      `${grantAuditPrefix}${grant.jti}`,
      {
        at: new Date(proofs.clock.now()).toISOString(),
        action: 'authorization.granted',
        actor: session.accountId,
        reason: `client ${clientId}, grant ${grant.jti}, types ${sharing.flatMap((d) => d.licence_types).join(' ')}`,
        purpose: sharing.map((detail) => detail.purpose).join('；'),
      },
      (trace) => savedWithTrace('Grant', grant.jti, trace, () => grant.save()),
      { ...proofs, pendingAudit: proofs.providerAudit },
    );
    logger.info('licence access granted', { clientId, grantId });
    return provider.interactionFinished(
      ctx.req,
      ctx.res,
      { consent: { grantId } },
      { mergeWithLastSubmission: true },
    );
  }
}

/**
 * The login result of a step that changes whom the session acts for (an enterprise, or the person again)
 * without authenticating anyone: `accountId`, with the sign-in the session had, its time (`ts`, the ID
 * token's `auth_time`, kept in the interaction by provider.ts), `acr` and `amr` as they were. Without `ts`
 * the provider would take it for a sign-in now, and a platform's `max_age` would pass without the
 * password. An interaction that does not know the time (saved before it was kept) is not finished: the
 * person starts the sign-in again.
 */
function sameSignIn(details: InteractionDetails, accountId: string) {
  const session = details.session as (InteractionDetails['session'] & { loginTs?: unknown }) | undefined;
  if (!session || typeof session.loginTs !== 'number') {
    throw new errors.SessionNotFound('the sign-in time of the session is not known: sign in again');
  }
  return {
    accountId,
    ts: session.loginTs,
    ...(session.acr !== undefined && { acr: session.acr }),
    ...(session.amr !== undefined && { amr: session.amr }),
  };
}

/**
 * Adds to `grant` what the consent prompt found missing (OpenID scopes and claims, resource scopes), then
 * records the person's separate choice about the ID number, the form's own checkbox (`recordIdNumberChoice`):
 * the one "同意" never gives it.
 */
function addMissing(
  grant: InstanceType<Provider['Grant']>,
  details: InteractionDetails,
  form: URLSearchParams,
): void {
  const missing = details.prompt.details as {
    missingOIDCScope?: string[];
    missingOIDCClaims?: string[];
    missingResourceScopes?: Record<string, string[]>;
  };
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
    grant.addResourceScope(indicator, scopes.join(' '));
  }
  recordIdNumberChoice(
    grant,
    {
      scopes: String(details.params.scope ?? '').split(' '),
      ...(missing.missingResourceScopes ? { missingResourceScopes: missing.missingResourceScopes } : {}),
    },
    form.get(idNumberField) === 'yes',
  );
}

/**
 * What the provider's `interactionFinished` does, for an interaction this request has already read
 * through `interactionDetails` (which checked it against the browser's interaction cookie): the result
 * saved on it (merged with the last submission when `merge`, as the provider's option), and a 303 to
 * where the provider resumes. The provider's own call would read the interaction a second time.
 */
async function finished(
  ctx: KoaContextWithOIDC,
  details: InteractionDetails,
  result: InteractionResults,
  options: { merge?: boolean } = {},
): Promise<void> {
  details.result = options.merge && !('error' in result) ? { ...details.lastSubmission, ...result } : result;
  await details.persist();
  ctx.res.statusCode = 303;
  ctx.res.setHeader('Location', details.returnTo);
  ctx.res.setHeader('Content-Length', '0');
  ctx.res.end();
}
