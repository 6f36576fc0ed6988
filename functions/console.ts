import { randomBytes, randomUUID } from 'node:crypto';
import * as z from 'zod';
import { epochSeconds } from '../shared/clock.js';
import { counterClerkDailyCaps } from '../shared/config.js';
import { composition } from './composition/dependencies.js';
import { handledAbove, routesOf } from './dispatch.js';
import {
  kms,
  doc,
  webMac,
  cookieSealer,
  webSessions,
  relayedAddresses,
  auditOf,
  pageClientSecrets,
} from './composition/factories.js';
import { bulkReadEntry } from '../shared/licence/bulk-reads.js';
import { InvalidInputError } from '../shared/errors.js';
import { zodErrors } from '../shared/http/request.js';
import type { HttpEvent, HttpResult } from '../shared/http/types.js';
import {
  clerkScope,
  consoleCookie,
  consoleLoginCookie,
  consoleSession,
  expiredGraceSeconds,
  sessionLifetimeSeconds,
  signIn,
  supervisionCookie,
  supervisionScope,
  consoleScope,
  type ConsoleSession,
} from '../shared/web/console/console-session.js';
import { apiFieldErrors, issueFormModel, parseIssueForm } from '../shared/web/console/issue-form.js';
import {
  AccessEndedError,
  ApiProblem,
  IssuerApi,
  TokenRejectedError,
  type Licence,
} from '../shared/web/console/issuer-api.js';
import { pageRelyingParty, pendingLogin, type RelyingParty } from '../shared/web/relying-party.js';
import { pendingLoginSeconds } from '../shared/web/wallet/session.js';
import { consoleClientId } from '../shared/identifiers/client-ids.js';
import { personalDataProblem } from '../shared/identifiers/personal-data-in-text.js';
import { fieldErrorText } from '../shared/web/kit/field-messages.js';
import { clerkAcr } from '../shared/clients/built-in-clients.js';
import { logger } from '../shared/logger.js';
import type { ConsoleWho } from '../shared/web/pages/console-common.js';
import { relayDownload } from '../shared/web/api-request.js';
import { statusLabel } from '../shared/web/console/labels.js';
import { statusReason } from '../shared/licence/status-reasons.js';
import { covers, holderDivision } from '../shared/issuers/jurisdiction.js';
import { schemaFields, type FormValues } from '../shared/web/console/schema-form.js';
import { servedOverHttps } from '../shared/web/kit/cookies.js';
import { SealedCookie } from '../shared/web/kit/sealed-cookie.js';
import {
  CrossSiteError,
  formFields,
  postedForm,
  requireOwnFileFetch,
  sameOrigin,
  unreadableForm,
  type PostedForm,
} from '../shared/web/kit/form.js';
import { printableText } from '../shared/printable-text.js';
import { html, htmlPage, notice, redirect, renderPage } from '../shared/web/kit/layout.js';
import {
  chooseTypeBody,
  issueFormBody,
  issueReviewBody,
  type TypeOffer,
} from '../shared/web/pages/console-issue-page.js';
import { actionsFor, licenceBody, type LicencePageInput } from '../shared/web/pages/console-licence-page.js';
import { consoleListBody, dayFilterError } from '../shared/web/pages/console-list-page.js';
import {
  counterBody,
  counterFieldMessage,
  counterLabels,
  type CounterPageInput,
} from '../shared/web/pages/console-counter-page.js';
import {
  dayFilters,
  readConsoleSearch,
  listQueryOf,
  personalFilters,
  type ConsoleSearch,
} from '../shared/web/console/licence-search.js';
import {
  collectCsvLines,
  csvLine,
  exportLimits,
  licenceCsvHeader,
  licenceCsvLine,
  utf8Bom,
} from '../shared/web/console/licence-csv.js';
import { consoleSignInBody, type ConsoleSignInInput } from '../shared/web/pages/console-sign-in-page.js';
import { webHandler, type PageContext } from '../shared/web/web-handler.js';
import { calendarDate } from '../shared/web/kit/china-time.js';
import type { Section } from '../shared/web/kit/layout.js';
import { SupervisionApi, type TrailPage } from '../shared/web/supervision/supervision-api.js';
import {
  supervisionBar,
  supervisionOverviewBody,
  supervisionTrailBody,
} from '../shared/web/pages/supervision-page.js';
import { checkLicenceTrail } from '../shared/web/supervision/check-licence-trail.js';
import { renderQrSvg } from '../shared/licence/qr.js';

/** What this function's handler uses, built once per container. */
const dependencies = composition({
  kms,
  doc,
  webMac,
  secrets: pageClientSecrets,
  cookieSealer,
  webSessions,
  relayedAddresses,
  audit: auditOf('console'),
});

const secure = () => servedOverHttps(dependencies().config.issuerUrl);
const served = routesOf('console');

const signInForm = z.strictObject({
  clientId: z.string().trim().min(1).max(200),
  clientSecret: z.string().min(1).max(500),
});

const statusForm = z.strictObject({
  status: z.enum(['suspended', 'valid', 'revoked']),
  reasonCode: z.string().max(64).optional(),
  // The API's rule (printable text, shared/printable-text.ts), empty allowed: a preset needs no words.
  reason: printableText(500, { multiLine: true, min: 0 }).optional(),
  confirm: z.literal('yes').optional(),
});

/** Licences per page of the console's list. */
const pageSize = 20;
/** Licences per API call of an export (the API's largest page). */
const exportPageSize = 100;

/**
 * The issuer console (发证机关控制台): a backend-for-frontend of the issuer API. A counter clerk signs in
 * with their own identity through the unified identity (authorization code with PKCE, as the first-party
 * client `elicence-console`, acting for the agency, at level 3), and the API checks on every call that they
 * are still an appointed clerk of an active issuer (shared/licence/issuer-actor.ts). Only while a
 * deployment migrates (`CONSOLE_CLIENT_SECRET_SIGN_IN`) may an agency still sign in with its OAuth client
 * (client credentials); the supervising office's desk (`/supervision`) does. The sealed cookie `console`
 * keeps the access token, the session is registered server-side (so signing out ends every copy of the
 * cookie), and every page is a call of the public API with the token. No JavaScript: forms and redirects
 * only.
 */
export const handler = webHandler(
  'console',
  async (event: HttpEvent, context: PageContext): Promise<HttpResult> => {
    const deps = dependencies();
    const now = epochSeconds(deps.clock);
    const desk = deskOf(event);
    const session = await sessionCookie(desk).read(event, now);
    const clearCookie = () => sessionCookie(desk).clear();

    if (served.is(event, 'GET /console/login')) return clerkLogin(now);
    if (served.is(event, 'GET /console/callback')) return clerkCallback(event, context, now);
    if (served.is(event, 'POST /console/login') || served.is(event, 'POST /supervision/login'))
      return login(event, context, now, desk);
    if (served.is(event, 'POST /console/logout') || served.is(event, 'POST /supervision/logout')) {
      ensureSameOrigin(event);
      // The session is closed server-side, so a copy of the cookie stops working too.
      if (session) await deps.webSessions.close(session.sid);
      if (session?.clerk) {
        // A clerk's token is the console's own client's: revoked, and the single sign-on ended too (the
        // provider's sign-out page), so that the next person at a shared counter signs in as themselves.
        const rp = consoleParty();
        await rp.revoke(session.accessToken, 'access_token').catch((error: unknown) => {
          logger.warn('console access token not revoked', { error: String(error) });
        });
        return redirect(await rp.endSessionUrl(`${deps.config.issuerUrl}/console?m=signed-out`), [
          clearCookie(),
        ]);
      }
      // An OAuth client's token is not revoked: that needs the agency's secret, which the console never
      // keeps (nor can derive: it holds the web key only); unreachable from the browser, it lapses within
      // ACCESS_TOKEN_TTL_SECONDS.
      return redirect(`${desk.base}?m=signed-out`, [clearCookie()]);
    }
    if (session && session.expiresAt > now && !(await deps.webSessions.isOpen(session.sid, now))) {
      if (event.requestContext.http.method === 'POST') ensureSameOrigin(event);
      return redirect(`${desk.base}?m=signed-out`, [clearCookie()]);
    }
    if (!session || session.expiresAt <= now) {
      // A post without a session is answered like a page: sign in first. Nothing it asked is done.
      if (event.requestContext.http.method === 'POST') ensureSameOrigin(event);
      if ((served.is(event, 'GET /console') || served.is(event, 'GET /supervision')) && !session)
        return signInPage(context, 200, signInMessage(event, context), desk);
      // A clerk's token lives minutes (ACCESS_TOKEN_TTL_SECONDS): a page asked after it signs in again at
      // once, which the provider's single sign-on answers with redirects (and the API checks afresh).
      if (session?.clerk && event.requestContext.http.method === 'GET') {
        await deps.webSessions.close(session.sid);
        return clerkLogin(now, event.rawPath, [clearCookie()]);
      }
      return redirect(`${desk.base}?m=expired`, session ? [clearCookie()] : []);
    }

    try {
      if (desk.audience === 'supervisor') {
        const api = new SupervisionApi(deps.config.issuerUrl, session.accessToken);
        return await supervisionRoute(event, context, session, api);
      }
      return await route(event, context, session, new IssuerApi(deps.config.issuerUrl, session.accessToken));
    } catch (error) {
      if (error instanceof AccessEndedError) {
        // The API refused the caller itself (an appointment withdrawn, the issuer withdrawn): the session
        // ends now, whatever its token's expiry, and the page says why.
        await deps.webSessions.close(session.sid);
        return signInPage(context, 403, { message: accessEndedMessage(error.code, context) }, desk, [
          clearCookie(),
        ]);
      }
      if (error instanceof TokenRejectedError) return redirect(`${desk.base}?m=expired`, [clearCookie()]);
      throw error;
    }
  },
  served.edge,
);

/** The issuer console's relying party: the first-party client `elicence-console`. */
function consoleParty(): RelyingParty {
  const deps = dependencies();
  return pageRelyingParty(
    deps.config.issuerUrl,
    consoleClientId,
    () => deps.secrets.secretFor(consoleClientId),
    '/console/callback',
  );
}

/** The sealed cookie of a clerk's sign-in under way. */
function pendingCookie(): SealedCookie<typeof pendingLogin> {
  return new SealedCookie(
    dependencies().cookieSealer,
    consoleLoginCookie,
    pendingLogin,
    pendingLoginSeconds,
    secure(),
  );
}

/**
 * `GET /console/login`: a clerk's sign-in, through the unified identity, acting for an entity (the
 * provider asks which, when the person may act for several), at the clerk's level (`clerkAcr`: a session
 * below it is stepped up on the provider's own page).
 */
async function clerkLogin(now: number, returnTo?: string, cookies: string[] = []): Promise<HttpResult> {
  const back = returnTo && consolePath.test(returnTo) ? returnTo : undefined;
  const { url, pending } = await consoleParty().begin(clerkScope, { acr_values: clerkAcr }, back);
  return redirect(url, [...cookies, await pendingCookie().write(pending, now)]);
}

/** A console page to come back to after signing in again: its path only (a search is posted, never in a URL). */
const consolePath = /^\/console(?:\/licences\/[A-Za-z0-9._~%-]{1,200}|\/licences\/new)?$/;

/**
 * `GET /console/callback`: the provider's answer. The token is then shown to the issuer API
 * (`GET /issuer`), which decides whether this person, acting for this entity, is an appointed clerk of an
 * active issuer, and names the issuer and the clerk's reference; a refusal is the sign-in page saying why
 * (403), the token revoked. Nothing is kept of the ID token but the agency's name.
 */
async function clerkCallback(event: HttpEvent, context: PageContext, now: number): Promise<HttpResult> {
  const { t } = context;
  const deps = dependencies();
  const cookie = pendingCookie();
  const pending = await cookie.read(event, now);
  const answer = event.queryStringParameters ?? {};
  const refuse = (status: number, text: string, cookies: string[] = []) =>
    signInPage(context, status, { message: { kind: 'error', text } }, desks.issuer, [
      cookie.clear(),
      ...cookies,
    ]);
  // The provider's refusal of this browser's own sign-in (its `state`): a level not reached, a cancel.
  if (answer.error && pending && answer.state === pending.state) {
    return refuse(
      403,
      answer.error === 'unmet_authentication_requirements'
        ? t(
            '经办人须以三级认证（短信验证码、通行密钥或扫码登录）登录，未能完成认证。',
            'A clerk signs in at level 3 (an SMS code, a passkey or scan-to-login): that was not completed.',
          )
        : t('登录未完成，请重试。', 'The sign-in was not completed; please try again.'),
    );
  }
  const rp = consoleParty();
  const signedIn = await rp.finish(event, pending);
  const api = new IssuerApi(deps.config.issuerUrl, signedIn.accessToken);
  let acting;
  try {
    acting = await api.actingIssuer();
  } catch (error) {
    if (!(error instanceof AccessEndedError)) throw error;
    // Not a clerk (not acting for an agency, not appointed, below the level): the token is of no use.
    await rp.revoke(signedIn.accessToken, 'access_token').catch((revokeError: unknown) => {
      logger.warn('console access token not revoked', { error: String(revokeError) });
    });
    return refuse(403, accessEndedMessage(error.code, context).text);
  }
  if (!acting.clerk) throw new Error('GET /issuer named no clerk for a clerk’s token');
  const session: ConsoleSession = {
    sid: randomBytes(24).toString('base64url'),
    accessToken: signedIn.accessToken,
    expiresAt: signedIn.accessTokenExpiresAt,
    clientId: consoleClientId,
    issuerId: acting.issuerId,
    clerk: { reference: acting.clerk, agency: acting.name },
  };
  await deps.webSessions.open(session.sid, session.expiresAt);
  return redirect(pending?.returnTo ?? desks.issuer.base, [
    await sessionCookie(desks.issuer).write(session, now, sessionLifetimeSeconds(session, now)),
    cookie.clear(),
  ]);
}

/** Why the issuer API no longer accepts a sign-in (`AccessEndedError`), in the page's language. */
function accessEndedMessage(code: string, { t }: PageContext): { kind: 'error'; text: string } {
  const text =
    code === 'clerk_not_appointed'
      ? t(
          '您不是该发证机关任命的经办人，或任命已撤回、已到期。请联系本机关负责人。',
          'You are not an appointed clerk of this issuing agency, or your appointment was withdrawn or has lapsed. Ask your agency’s head.',
        )
      : code === 'not_a_clerk' || code === 'not_an_issuer'
        ? t(
            '请以所在发证机关的经办人身份登录（登录时选择本机关）。',
            'Sign in as a clerk of your issuing agency (choose the agency when signing in).',
          )
        : code === 'insufficient_assurance'
          ? t('经办人须以三级认证登录，请重新登录。', 'A clerk signs in at level 3: please sign in again.')
          : t('本发证机关已被撤销，无法继续操作。', 'This issuing agency has been withdrawn.');
  return { kind: 'error', text };
}

/** Who the bar above a page names: the clerk and their agency, or the OAuth client. */
function whoOf(session: ConsoleSession): ConsoleWho {
  return session.clerk ? { agency: session.clerk.agency, clerk: session.clerk.reference } : session.clientId;
}

async function route(
  event: HttpEvent,
  context: PageContext,
  session: ConsoleSession,
  api: IssuerApi,
): Promise<HttpResult> {
  const { t } = context;
  const id = event.pathParameters?.id ?? '';
  return served.dispatch(event, {
    'GET /console/login': handledAbove,
    'GET /console/callback': handledAbove,
    'POST /console/login': handledAbove,
    'POST /console/logout': handledAbove,
    'GET /supervision': handledAbove,
    'POST /supervision/login': handledAbove,
    'POST /supervision/logout': handledAbove,
    'GET /supervision/trail': handledAbove,
    // A holder's name or number in the query is ignored: those filters are only ever posted.
    'GET /console': () => {
      const query = { ...(event.queryStringParameters ?? {}) };
      for (const name of personalFilters) delete query[name];
      return listPage(context, session, api, readConsoleSearch(query));
    },
    // The search is posted (a holder's name or number never put in a URL); the same list page answers.
    'POST /console': () => listPage(context, session, api, readConsoleSearch(singleValues(readForm(event)))),
    'POST /console/export': async () => {
      const asked = readConsoleSearch(singleValues(readForm(event)));
      // A day typed unreadable: the list page names it rather than export a search without it.
      if (Object.keys(asked.invalid).length > 0) return listPage(context, session, api, asked);
      const { search } = asked;
      try {
        return await exportCsv(context, api, search, {
          session,
          requestId: event.requestContext.requestId,
        });
      } catch (error) {
        // A search the API refuses (a partial ID number): the list page names the field, as a search would.
        if (error instanceof ApiProblem && error.status === 400)
          return listPage(context, session, api, { search, invalid: {} });
        throw error;
      }
    },
    'GET /console/licences/new': async () => {
      const offer = await typesOffered(api, session);
      const code = event.queryStringParameters?.type;
      const type = code ? offer.types.find((entry) => entry.code === code) : undefined;
      if (!type) {
        const known = code ? offer.all.some((entry) => entry.code === code) : false;
        const error = !code
          ? undefined
          : known
            ? t('本机关无权签发此类证照。', 'This issuer may not issue this type of licence.')
            : t('没有这种证照类型。', 'There is no such licence type.');
        return page(
          context,
          !code ? 200 : known ? 403 : 404,
          t('签发新证照', 'Issue a licence'),
          chooseTypeBody(t, whoOf(session), offer, error),
        );
      }
      const model = issueFormModel(type, t);
      return page(
        context,
        200,
        t('签发新证照', 'Issue a licence'),
        issueFormBody(t, {
          who: whoOf(session),
          model,
          values: {},
          errors: {},
          idempotencyKey: randomUUID(),
          ...(offer.jurisdiction ? { jurisdiction: offer.jurisdiction } : {}),
        }),
      );
    },
    'POST /console/licences': () => issue(event, context, session, api),
    'GET /console/counter': () =>
      page(
        context,
        200,
        t('当面核验', 'Prove in person'),
        counterBody(t, { who: whoOf(session), values: {}, errors: {} }),
      ),
    'POST /console/counter': () => counter(event, context, session, api),
    'GET /console/licences/{id}': () => {
      const done = event.queryStringParameters?.done;
      return licencePage(context, session, api, id, 200, (licence) => doneNotice(done, licence, context));
    },
    'POST /console/licences/{id}/status': () => changeStatus(event, context, session, api, id),
    'POST /console/licences/{id}/reissue': () => reissue(event, context, session, api, id),
    // The printable licence (docs/printable-licence.md): the issuer API's file, passed on as a download.
    // Rendered and (the signature) signed with the issuer's KMS key per fetch: only for the visitor's own
    // download or navigation, never for another site's embed, fetch or frame.
    'GET /console/licences/{id}/pdf': async () => {
      requireOwnFileFetch(event);
      return relayDownload(await api.printable(id, 'pdf', layoutOf(event)));
    },
    'GET /console/licences/{id}/pdf.jws': async () => {
      requireOwnFileFetch(event);
      return relayDownload(await api.printable(id, 'pdf.jws', layoutOf(event)));
    },
  });
}

/** The printable licence's layout a link asks for: A4 unless `card`. */
const layoutOf = (event: HttpEvent): 'a4' | 'card' =>
  event.queryStringParameters?.layout === 'card' ? 'card' : 'a4';

/** The overview's filter: an unreadable value is no filter, as a menu left at "all" would send. */
const overviewQuery = z.object({
  issuer: z.string().trim().min(1).max(100).optional().catch(undefined),
  type: z.string().trim().min(1).max(100).optional().catch(undefined),
});

/** Days of trend on the overview, and of alerts. */
const trendDays = 30;
const alertDays = 7;

async function supervisionRoute(
  event: HttpEvent,
  context: PageContext,
  session: ConsoleSession,
  api: SupervisionApi,
): Promise<HttpResult> {
  const { t } = context;
  return served.dispatch(event, {
    'GET /supervision': async () => {
      const filters = overviewQuery.parse(event.queryStringParameters ?? {});
      const today = calendarDate(new Date(dependencies().clock.now()).toISOString());
      const [days, alerts, issuers, types] = await Promise.all([
        api.stats({ from: daysBefore(today, trendDays - 1), to: today, ...filters }),
        api.alerts({ from: daysBefore(today, alertDays - 1), to: today }),
        api.issuers(),
        new IssuerApi(dependencies().config.issuerUrl, session.accessToken).licenceTypes(),
      ]);
      return page(
        context,
        200,
        t('电子监察', 'Supervision'),
        supervisionOverviewBody(t, {
          clientId: session.clientId,
          today,
          days,
          alerts: alerts.items,
          alertsCut: alerts.cut,
          alertDays,
          issuers,
          types,
          filters,
        }),
        'supervision',
      );
    },
    'GET /supervision/trail': () => trailPage(event, context, session, api),
    'POST /supervision/login': handledAbove,
    'POST /supervision/logout': handledAbove,
    'GET /console': handledAbove,
    'POST /console': handledAbove,
    'POST /console/export': handledAbove,
    'GET /console/login': handledAbove,
    'GET /console/callback': handledAbove,
    'POST /console/login': handledAbove,
    'POST /console/logout': handledAbove,
    'GET /console/licences/new': handledAbove,
    'POST /console/licences': handledAbove,
    'GET /console/licences/{id}': handledAbove,
    'POST /console/licences/{id}/status': handledAbove,
    'POST /console/licences/{id}/reissue': handledAbove,
    'GET /console/counter': handledAbove,
    'POST /console/counter': handledAbove,
    'GET /console/licences/{id}/pdf': handledAbove,
    'GET /console/licences/{id}/pdf.jws': handledAbove,
  });
}

/** The trail page's query: the licence, and the API's cursor of the page to show (absent: the first). */
const trailQuery = z.object({
  licence: z.string().trim().min(1).max(200),
  // Any text: the API judges it (a cursor it did not make is the 400 page below, not the first page).
  cursor: z.string().optional(),
});

/**
 * A licence's chained audit trail, a page at a time (`trailPageSize` entries, 下一页 to the next
 * through the API's cursor), each page checked through the public API as a third party would
 * (`checkLicenceTrail`). An id the form did not send (blank, too long) is the overview again; a cursor the
 * API did not make is a 400 page that offers the first.
 */
async function trailPage(
  event: HttpEvent,
  context: PageContext,
  session: ConsoleSession,
  api: SupervisionApi,
): Promise<HttpResult> {
  const { t } = context;
  const query = trailQuery.safeParse(event.queryStringParameters ?? {});
  if (!query.success) return redirect('/supervision');
  const { licence: licenceId, cursor } = query.data;
  const title = t('证照审计链', 'A licence’s audit trail');
  const firstPage = `/supervision/trail?${new URLSearchParams({ licence: licenceId }).toString()}`;
  let trail: TrailPage | undefined;
  try {
    // An empty cursor is not the first page's (the API client would send none): refused like any other.
    if (cursor !== '') trail = await api.auditOfLicence(licenceId, cursor);
  } catch (error) {
    if (!(error instanceof ApiProblem && error.status === 400 && cursor !== undefined)) throw error;
  }
  if (trail === undefined) {
    return page(
      context,
      400,
      title,
      html`${supervisionBar(t, session.clientId)}
        <h1>${title}</h1>
        ${notice('error', t('翻页链接无效或已损坏。', 'This page link is not valid (its cursor was changed).'))}
        <p><a href="${firstPage}">${t('从第一页查看', 'Start from the first page')}</a></p>`,
      'supervision',
    );
  }
  const entries = trail.items;
  if (entries.length === 0) {
    // Past the last entry (a page cut short by DynamoDB's 1 MB left a cursor with nothing after it).
    const later = cursor !== undefined;
    return page(
      context,
      later ? 200 : 404,
      title,
      html`${supervisionBar(t, session.clientId)}
        <h1>${title}</h1>
        ${
          later
            ? notice('info', t('没有更多记录了。', 'There are no more entries.'))
            : notice(
                'error',
                t('没有这个证照标识的审计记录。', 'There is no audit entry for this licence id.'),
              )
        }
        <p>
          ${later ? html`<a href="${firstPage}">${t('第一页', 'First page')}</a> · ` : ''}
          <a href="/supervision">${t('返回监察概览', 'Back to the overview')}</a>
        </p>`,
      'supervision',
    );
  }
  // The page continues after the place its cursor carries, as the API says (`after`: the cursor stays
  // opaque here). The API takes back only the cursors it answered (sealed, security review R14 L2), so the
  // page starts where one of its pages ended; it still says where its stretch starts, since the entries
  // before it are not this page's to check.
  const check = await checkLicenceTrail(
    dependencies().config.issuerUrl,
    session.accessToken,
    licenceId,
    trail,
    fetch,
    dependencies().clock.now(),
  );
  const next = trail.cursor
    ? `/supervision/trail?${new URLSearchParams({ licence: licenceId, cursor: trail.cursor }).toString()}`
    : undefined;
  return page(
    context,
    200,
    title,
    supervisionTrailBody(t, {
      clientId: session.clientId,
      licenceId,
      entries,
      ...check,
      pages: {
        ...(cursor !== undefined ? { first: firstPage } : {}),
        ...(next ? { next } : {}),
        ...(trail.after !== undefined ? { after: trail.after.at } : {}),
      },
    }),
    'supervision',
  );
}

/** The calendar day `count` days before `date` (`YYYY-MM-DD`). */
function daysBefore(date: string, count: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) - count * 86_400_000).toISOString().slice(0, 10);
}

/**
 * `POST /console/login` and `POST /supervision/login`: the sign-in with an OAuth client's id and secret
 * (client credentials). The supervising office's; an issuing agency's only while its deployment migrates
 * to clerks' own sign-ins (`CONSOLE_CLIENT_SECRET_SIGN_IN`, off by default): every clerk of an agency shared
 * one secret, the trail named the client, and a clerk who left kept access until the secret was rotated.
 */
async function login(event: HttpEvent, context: PageContext, now: number, desk: Desk): Promise<HttpResult> {
  const { t } = context;
  if (desk.audience === 'issuer' && !dependencies().config.consoleClientSecretSignIn) {
    ensureSameOrigin(event);
    return signInPage(
      context,
      404,
      {
        message: {
          kind: 'error',
          text: t(
            '已停用客户端密钥登录：经办人请用本人的统一身份认证账号登录。',
            'Signing in with the client secret is off: clerks sign in with their own identity.',
          ),
        },
      },
      desk,
    );
  }
  const posted = readForm(event);
  const parsed = signInForm.safeParse(posted);
  if (!parsed.success) {
    const errors: ConsoleSignInInput['errors'] = {};
    for (const { path } of zodErrors(parsed.error)) {
      if (path === 'clientId') errors.clientId = t('请填写客户端 ID。', 'Please enter the client id.');
      if (path === 'clientSecret')
        errors.clientSecret = t('请填写客户端密钥。', 'Please enter the client secret.');
    }
    return signInPage(
      context,
      400,
      {
        clientId: typeof posted.clientId === 'string' ? posted.clientId.slice(0, 200) : '',
        errors,
        message: {
          kind: 'error',
          text: t('请填写客户端 ID 和密钥。', 'Please enter the client id and secret.'),
        },
      },
      desk,
    );
  }
  const { clientId, clientSecret } = parsed.data;
  const deps = dependencies();
  const result = await signIn(
    deps.config.issuerUrl,
    clientId,
    clientSecret,
    now,
    await deps.relayedAddresses.vouch(event.requestContext.http.sourceIp, clientId),
    desk.scope,
  );
  if ('failure' in result) {
    const text = {
      invalid_client: t('客户端 ID 或密钥不正确。', 'The client id or secret is not correct.'),
      invalid_scope:
        desk.audience === 'supervisor'
          ? t(
              '此客户端不是监察机关的客户端，无权查看监察数据（supervision）。',
              'This client is not a supervisor’s client and may not read supervision data (supervision).',
            )
          : t(
              '此客户端不是发证机关的客户端，无权签发证照（licences:issue）。',
              'This client is not an issuing agency’s client and may not issue licences (licences:issue).',
            ),
      throttled: t(
        `此客户端登录失败次数过多，请 ${result.retryAfterSeconds ?? 60} 秒后再试。`,
        `Too many failed sign-ins for this client; try again in ${result.retryAfterSeconds ?? 60} seconds.`,
      ),
      unavailable: t(
        '认证服务暂时不可用，请稍后再试。',
        'The sign-in service is unavailable; please try again later.',
      ),
    }[result.failure];
    const status = { unavailable: 503, invalid_scope: 403, throttled: 429, invalid_client: 401 }[
      result.failure
    ];
    return signInPage(context, status, { clientId, message: { kind: 'error', text } }, desk);
  }
  await deps.webSessions.open(result.session.sid, result.session.expiresAt);
  return redirect(desk.base, [
    await sessionCookie(desk).write(result.session, now, sessionLifetimeSeconds(result.session, now)),
  ]);
}

async function listPage(
  context: PageContext,
  session: ConsoleSession,
  api: IssuerApi,
  { search, invalid }: ReturnType<typeof readConsoleSearch>,
): Promise<HttpResult> {
  const { t } = context;
  const typedWrong = Object.keys(invalid).length > 0;
  const [types, listed] = await Promise.all([
    api.licenceTypes(),
    // A day typed unreadable is refused here (400 naming it), the API not asked: the search is not the one meant.
    typedWrong
      ? Promise.resolve({ error: undefined })
      : api.list(listQueryOf(search, pageSize)).then(
          (page) => ({ page }),
          (error: unknown) => {
            if (error instanceof ApiProblem && error.status === 400) return { error };
            throw error;
          },
        ),
  ]);
  // A number that is both a person's ID number and an enterprise's credit code, each holding this issuer's
  // licences: the API asks which (400 `ambiguous_holder`), and so does the page, as a question.
  const askHolderKind = 'error' in listed && listed.error?.code === 'ambiguous_holder';
  const errors = {
    ...('error' in listed && listed.error && !askHolderKind ? searchErrors(listed.error, context) : {}),
    ...Object.fromEntries(
      dayFilters.filter((f) => invalid[f] !== undefined).map((f) => [f, dayFilterError(t, f)]),
    ),
  };
  const body = consoleListBody(t, {
    who: whoOf(session),
    types,
    search,
    pageSize,
    // A page turn carries the first page's total (not counted again): shown as it was.
    page:
      'page' in listed
        ? { ...listed.page, ...(!listed.page.total && search.total && { total: search.total }) }
        : { items: [] },
    ...(askHolderKind
      ? { askHolderKind }
      : 'error' in listed
        ? {
            notice: {
              kind: 'error' as const,
              text: t('查询条件有误，请按提示更正。', 'The search is not valid: see the fields below.'),
            },
            errors,
            typed: invalid,
          }
        : {}),
  });
  return page(context, 'error' in listed ? 400 : 200, t('发证机关控制台', 'Issuer console'), body);
}

/** The API's refusal of a search, by the search field it names, in the page's language. */
function searchErrors(error: ApiProblem, { t }: PageContext): Record<string, string> {
  const paths = new Set(error.errors.map((entry) => entry.path));
  const errors: Record<string, string> = {};
  if (paths.has('holder') || paths.size === 0)
    errors.holder = t(
      '请输入完整的身份证号码或统一社会信用代码。',
      'Enter a full resident ID number or credit code.',
    );
  if (paths.has('issuedTo'))
    errors.issuedTo = t('截止日期不能早于起始日期。', 'The end date cannot be before the start date.');
  if (paths.has('issuedFrom')) errors.issuedFrom = dayFilterError(t, 'issuedFrom');
  return errors;
}

/**
 * The search as a CSV file (UTF-8 with a byte-order mark, so Excel reads the Chinese): every page of it
 * read through the API, up to 5,000 licences, 50 API calls, 6 seconds and 5 MB
 * ({@link exportLimits}: a sparse filter pages through the whole index, and Lambda answers at most 6 MB);
 * holder numbers masked and every cell guarded against formula injection (`licenceCsvLine`). A larger
 * search is cut at the first bound reached and the file's last line says so.
 */
async function exportCsv(
  context: PageContext,
  api: IssuerApi,
  search: ConsoleSearch,
  by: { session: ConsoleSession; requestId: string },
): Promise<HttpResult> {
  const { t } = context;
  const types = await api.licenceTypes();
  const { lines: rows, cut } = await collectCsvLines(
    (cursor) => api.list({ ...listQueryOf({ ...search, cursor }, exportPageSize), total: false }),
    (licence) => licenceCsvLine(licence, types, t),
    exportLimits,
    dependencies().clock,
  );
  // Traced before the file leaves (and no file without its entry): who exported how many, by which search
  // (shared/licence/bulk-reads.ts: no holder's number or name), for supervision and its bulk-export alert.
  const deps = dependencies();
  await deps.audit.record(
    bulkReadEntry('licences.exported', search, {
      at: new Date(deps.clock.now()).toISOString(),
      actor: by.session.clientId,
      clerk: by.session.clerk?.reference,
      issuerId: by.session.issuerId,
      count: rows.length,
      requestId: by.requestId,
    }),
  );
  const lines = [licenceCsvHeader(t), ...rows];
  if (cut) {
    lines.push(
      csvLine([
        t(
          `仅导出前 ${rows.length} 条，请缩小查询条件后分批导出。`,
          `Only the first ${rows.length} were exported: narrow the search and export in parts.`,
        ),
      ]),
    );
  }
  const day = calendarDate(new Date(dependencies().clock.now()).toISOString()).replaceAll('-', '');
  return {
    statusCode: 200,
    headers: {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': `attachment; filename="licences-${day}.csv"`,
      'cache-control': 'private, no-store',
      'x-content-type-options': 'nosniff',
    },
    body: `${utf8Bom}${lines.join('')}`,
  };
}

/**
 * The licence types to offer: the catalogue's, narrowed to those the signed-in issuer's trust-list entry
 * lists (`restricted`); all of them when the session does not name its issuer (the API still refuses).
 */
async function typesOffered(api: IssuerApi, session: ConsoleSession): Promise<TypeOffer> {
  const [all, scope] = await Promise.all([
    api.licenceTypes(),
    session.issuerId ? api.issuerScope(session.issuerId) : Promise.resolve(undefined),
  ]);
  if (!scope) return { all, types: all, restricted: false };
  return {
    all,
    types: all.filter((type) => scope.types.includes(type.code)),
    restricted: true,
    ...(scope.jurisdiction.length > 0 ? { jurisdiction: scope.jurisdiction } : {}),
  };
}

async function issue(
  event: HttpEvent,
  context: PageContext,
  session: ConsoleSession,
  api: IssuerApi,
): Promise<HttpResult> {
  const { t } = context;
  ensureSameOrigin(event);
  const posted = postedForm(event);
  const values: FormValues = singleValues(posted.fields);
  const offer = await typesOffered(api, session);
  const type = offer.types.find((entry) => entry.code === values.type);
  if (!type) {
    const known = offer.all.some((entry) => entry.code === values.type);
    return page(
      context,
      known ? 403 : 400,
      t('签发新证照', 'Issue a licence'),
      chooseTypeBody(
        t,
        whoOf(session),
        offer,
        known
          ? t('本机关无权签发此类证照。', 'This issuer may not issue this type of licence.')
          : t('请选择证照类型。', 'Please choose a licence type.'),
      ),
    );
  }
  const model = issueFormModel(type, t);
  // A field of the form that was not UTF-8 text is named on it again (below); any other such field (the
  // type, the key, one the form does not have) refuses the post.
  refuseUnreadableOutside(posted, [
    'holderNumber',
    'holderName',
    'validFrom',
    'validUntil',
    ...schemaFields(model.fields).map((f) => f.name),
  ]);
  const form = (status: number, errors: Record<string, string>, idempotencyKey: string, message?: string) =>
    page(
      context,
      status,
      t('签发新证照', 'Issue a licence'),
      issueFormBody(t, {
        who: whoOf(session),
        model,
        values,
        errors,
        idempotencyKey,
        ...(message ? { message } : {}),
        ...(offer.jurisdiction ? { jurisdiction: offer.jurisdiction } : {}),
      }),
    );
  const outsideJurisdiction = () =>
    t(
      `持证人不在本机关辖区（行政区划代码 ${(offer.jurisdiction ?? []).join('、')}）内，不能签发此类证照。`,
      `The holder is outside this issuer’s jurisdiction (division codes ${(offer.jurisdiction ?? []).join(', ')}): this type cannot be issued to them.`,
    );
  const key = z.uuid().safeParse(values.idempotencyKey);
  if (!key.success) {
    return form(
      400,
      {},
      randomUUID(),
      t('表单已失效，请重新提交。', 'The form is out of date; please submit it again.'),
    );
  }
  const step = values.step;
  delete values.step;
  // Back from the review: the filled form again. Nothing was issued under its key, and the edited form
  // is another request, so it gets a fresh key.
  if (step === 'edit') return form(200, {}, randomUUID());
  const parsed = parseIssueForm(model, values, t);
  // A field that was not UTF-8 text (a GBK name) is named next to the others as typed (session 27).
  const unreadable = Object.fromEntries(posted.unreadable.map((e) => [e.path, fieldErrorText(t, e)]));
  // Nothing was issued under a refused form's key, so the corrected form gets a fresh one.
  if ('errors' in parsed || Object.keys(unreadable).length > 0) {
    return form(400, { ...('errors' in parsed ? parsed.errors : {}), ...unreadable }, randomUUID());
  }
  // A regional type for a holder outside the jurisdiction is refused before the review, not after it
  // (the API refuses it all the same, outside_jurisdiction).
  if (type.regional && offer.jurisdiction) {
    const division = holderDivision(parsed.request.holder);
    if (!offer.jurisdiction.some((code) => covers(code, division))) {
      return form(400, { holderNumber: outsideJurisdiction() }, randomUUID());
    }
  }
  // The form's first post is only reviewed: the licence is signed when the review is confirmed.
  if (step !== 'confirm') {
    return page(
      context,
      200,
      t('核对证照信息', 'Review the licence'),
      issueReviewBody(t, {
        who: whoOf(session),
        model,
        // Each day as read (`2026年3月5日` shown and carried on as `2026-03-05`): what will be signed.
        values: parsed.values,
        request: parsed.request,
        idempotencyKey: key.data,
      }),
    );
  }
  try {
    const { licence } = await api.issue(parsed.request, key.data);
    return redirect(`/console/licences/${encodeURIComponent(licence.id)}?done=issued`);
  } catch (error) {
    if (!(error instanceof ApiProblem)) throw error;
    const names = new Set([
      'holderNumber',
      'holderName',
      'validFrom',
      'validUntil',
      ...schemaFields(model.fields).map((f) => f.name),
    ]);
    switch (error.code) {
      case 'licence_type_not_allowed':
        return form(
          403,
          {},
          randomUUID(),
          t('本机关无权签发此类证照。', 'This issuer may not issue this type of licence.'),
        );
      case 'outside_jurisdiction':
        return form(403, { holderNumber: outsideJurisdiction() }, randomUUID());
      case 'idempotency_key_in_use':
        return form(
          409,
          {},
          key.data,
          t(
            '这份表单正在处理中，请稍后再提交一次。',
            'This form is being processed; submit it again in a moment.',
          ),
        );
      case 'idempotency_key_reused':
        return form(
          409,
          {},
          randomUUID(),
          t('表单内容已更改，请再提交一次。', 'The form changed since it was first sent; submit it again.'),
        );
      case 'idempotency_key_taken_over':
        // Another submission of this form took its key over: resent with it, it gets that one's answer.
        return form(
          409,
          {},
          key.data,
          t(
            '这份表单已由另一次提交处理，请再提交一次查看结果。',
            'Another submission of this form took it over; submit it again to see the outcome.',
          ),
        );
      case 'issuer_key_withdrawn':
        // The licence WAS written (review R70 F2): its page, saying so and offering its re-issue, never
        // this form again, whose next submission would issue a second licence. A withdrawn issuer ends
        // the session there instead (the API refuses its clerks: `issuer_inactive`).
        if (error.licenceId) {
          return redirect(`/console/licences/${encodeURIComponent(error.licenceId)}?done=key_withdrawn`);
        }
        return form(
          409,
          {},
          key.data,
          t(
            '证照已写入，但签发过程中本机关的签名密钥被撤销，此证照无法通过核验。请勿再次提交（那会签发第二份证照）：请在证照列表中找到它并重新签发。',
            'The licence was written, but this issuer’s signing key was withdrawn while it was issued, so it does not verify. Do not submit again (that would issue a second licence): find it in the list of licences and re-issue it.',
          ),
        );
      default: {
        const errors = apiFieldErrors(error.errors, names, t);
        if (error.status === 400 && Object.keys(errors).length > 0) return form(400, errors, randomUUID());
        // The API's detail is English for developers: the page says it in its own language.
        return form(
          error.status,
          {},
          randomUUID(),
          t('证照未能签发，请核对填写的内容后重试。', `The licence could not be issued: ${error.message}`),
        );
      }
    }
  }
}

async function changeStatus(
  event: HttpEvent,
  context: PageContext,
  session: ConsoleSession,
  api: IssuerApi,
  id: string,
): Promise<HttpResult> {
  const { t } = context;
  // A field that is not UTF-8 text (a GBK reason) is named on the form again, the rest kept as typed.
  const { fields: posted, unreadable } = readPostedForm(event, ['reason', 'reasonCode', 'confirm']);
  const parsed = statusForm.safeParse(posted);
  const status = statusForm.shape.status.safeParse(posted.status);
  if (!status.success) throw new InvalidInputError('Unknown status', 'invalid_form');
  const reason = typeof posted.reason === 'string' ? posted.reason.trim() : '';
  const reasonCode = typeof posted.reasonCode === 'string' ? posted.reasonCode : '';
  const errors: NonNullable<LicencePageInput['action']>['errors'] = {};
  for (const refused of unreadable) {
    if (refused.path === 'reason' || refused.path === 'reasonCode' || refused.path === 'confirm')
      errors[refused.path] = fieldErrorText(t, refused);
  }
  if (!parsed.success) {
    for (const refused of zodErrors(parsed.error)) {
      if (refused.path === 'reason' && !errors.reason)
        errors.reason =
          refused.code === 'too_long'
            ? t('补充说明最多 500 字。', 'The details may be at most 500 characters.')
            : fieldErrorText(t, refused);
    }
  }
  // The same rules as the API's (which checks them again): a preset of this status, and text for "other".
  if (!statusReason(status.data, reasonCode)) {
    errors.reasonCode = t('请从列表中选择原因。', 'Choose a reason from the list.');
  } else if (reasonCode === 'other' && !reason && !errors.reason) {
    errors.reason = t('选择“其他”时请填写具体原因。', 'Give the reason in words when choosing “Other”.');
  }
  // The reason goes into the audit chain for good and before supervisors: no ID number or mobile in it.
  const personal = errors.reason ? undefined : personalDataProblem(reason);
  if (personal) errors.reason = fieldErrorText(t, personal);
  if (status.data === 'revoked' && posted.confirm !== 'yes') {
    errors.confirm = t('吊销无法撤回，请勾选确认。', 'Revocation cannot be undone: tick the box to confirm.');
  }
  if (!parsed.success || Object.keys(errors).length > 0) {
    return licencePage(context, session, api, id, 400, undefined, {
      status: status.data,
      reasonCode,
      reason,
      errors,
    });
  }
  try {
    await api.changeStatus(id, parsed.data.status, { reasonCode, ...(reason ? { reason } : {}) });
  } catch (error) {
    return apiRefusalPage(error, context, session, api, id, (problem) =>
      t(
        problem.code === 'reissue_pending'
          ? // Its suspension was passed on to the replacement of an unfinished re-issue (R38 M1).
            '此证照的重新签发尚未完成，暂扣已同步至新证照：请先再次提交重新签发，再恢复新证照。'
          : problem.code === 'replacement_revocation_pending'
            ? // A clerk's revocation of this licence's replacement is recorded: revoking this one too
              // would leave the holder none once it is made (review R56-1).
              '此前有人撤销了此证照重新签发生成的新证照，该撤销已记录，系统将在稍后自动完成；在此之前不能撤销此证照（否则两张证照都将被撤销），请待新证照撤销后再试。'
            : '无法变更状态：证照的状态可能已被更改，请刷新后重试。',
        `The status could not be changed: ${problem.message}`,
      ),
    );
  }
  return redirect(`/console/licences/${encodeURIComponent(id)}?done=${parsed.data.status}`);
}

/** The counter's forms (当面核验): find (ID number, name), then prove (docs/console.md, "At the counter"). */
const counterForm = z.object({
  step: z.enum(['find', 'prove']),
  idNumber: z.string().trim().max(32).default(''),
  name: z.string().trim().max(100).default(''),
  checkedIdCard: z.string().optional(),
  provenPhone: z.enum(['keep', 'set', 'clear']).default('keep'),
  phone: z.string().trim().max(32).default(''),
  password: z.string().max(1024).default(''),
  code: z.string().trim().max(16).default(''),
});

/**
 * `POST /console/counter`: finds the person's account (`POST /counter/accounts/lookup`), or proves them
 * (`POST /counter/accounts/prove`); the API checks the clerk (appointed with `accounts:prove-in-person`),
 * the ID number and the name, and every refusal is shown next to its field, in the page's language.
 */
async function counter(
  event: HttpEvent,
  context: PageContext,
  session: ConsoleSession,
  api: IssuerApi,
): Promise<HttpResult> {
  const { t } = context;
  const title = t('当面核验', 'Prove in person');
  const posted = readPostedForm(event, ['idNumber', 'name', 'phone', 'password', 'code']);
  const parsed = counterForm.safeParse(singleValues(posted.fields));
  if (!parsed.success) throw new InvalidInputError('The counter form is not one of ours', 'invalid_form');
  const form = parsed.data;
  const values = {
    idNumber: form.idNumber,
    name: form.name,
    provenPhone: form.provenPhone,
    phone: form.phone,
  };
  const show = (
    status: number,
    more: Omit<CounterPageInput, 'who' | 'values' | 'errors'> & { errors?: Record<string, string> },
  ) => page(context, status, title, counterBody(t, { who: whoOf(session), values, errors: {}, ...more }));
  // A field that was not UTF-8 text (a GBK name): the form again, that field named, nothing looked up.
  if (posted.unreadable.length > 0) {
    return show(400, {
      errors: Object.fromEntries(
        posted.unreadable.map((e) => [e.path, counterFieldMessage(t, e.path, e.code)]),
      ),
    });
  }
  const required: Record<string, string> = {};
  if (!form.idNumber) required.idNumber = counterFieldMessage(t, 'idNumber', 'required');
  if (!form.name) required.name = counterFieldMessage(t, 'name', 'required');
  if (Object.keys(required).length > 0) return show(400, { errors: required });
  const person = { idNumber: form.idNumber, name: form.name };
  try {
    if (form.step === 'find') return show(200, { account: await api.counterLookup(person) });
    const proof = await api.counterProve({
      ...person,
      checkedIdCard: form.checkedIdCard === 'yes',
      provenPhone: form.provenPhone,
      ...(form.phone ? { phone: form.phone } : {}),
      ...(form.password ? { password: form.password } : {}),
      ...(form.code && form.provenPhone === 'set' ? { code: form.code } : {}),
    });
    // A new phone: a code went to it; the same form again, with the code's field (review R30 H1).
    if ('codeSent' in proof)
      return show(200, { account: await api.counterLookup(person), codeSentTo: proof.phoneMasked });
    return show(200, { proof });
  } catch (error) {
    if (!(error instanceof ApiProblem) || error.status >= 500) throw error;
    const errors: Record<string, string> = {};
    for (const field of error.errors) {
      const path = field.path === 'checkedIdCard' || field.path in counterLabels ? field.path : '';
      if (path && !errors[path]) errors[path] = counterFieldMessage(t, path, field.code ?? error.code);
    }
    const refusal =
      error.code === 'clerk_scope_missing'
        ? t(
            '您的委托不含“当面核验”，不能办理。请本机关负责人在“我的证照 › 经办人”中为您添加。',
            'Your appointment does not include “Prove in person”: ask your agency’s head to add it (wallet › Agents).',
          )
        : error.code === 'counter_daily_cap'
          ? t(
              `您今日的当面核验已达上限（每名经办人每天查找 ${counterClerkDailyCaps.lookups} 次、核验 ${counterClerkDailyCaps.proofs} 人），请明日（北京时间 0 点后）再办；如确有需要，请联系本机关负责人。`,
              `You reached today’s limit at the counter (${counterClerkDailyCaps.lookups} lookups and ${counterClerkDailyCaps.proofs} proofs a clerk a day): try again tomorrow (after 00:00 China time), or ask your agency’s head.`,
            )
          : error.code === 'account_not_found'
            ? t(
                '该身份证号尚未注册账号：请本人先注册。',
                'No account has this ID number: the person registers first.',
              )
            : Object.keys(errors).length === 0
              ? t(`无法办理：${error.message}`, `Could not be done: ${error.message}`)
              : undefined;
    // After a refused proof, the account is shown again with its form (the fields kept but the password).
    const account =
      form.step === 'prove' && Object.keys(errors).length > 0 && !errors.idNumber && !errors.name
        ? await api.counterLookup(person).catch(() => undefined)
        : undefined;
    return show(error.status, {
      errors,
      ...(errors.code ? { codeSentTo: '' } : {}),
      ...(refusal ? { error: refusal } : {}),
      ...(account ? { account } : {}),
    });
  }
}

/**
 * The re-issue form (重新签发): with its confirmation ticked, `POST /licences/{id}/reissue`, then the new
 * licence's page. Refused by the API (re-issued or revoked meanwhile, suspended): this page again, saying so.
 */
async function reissue(
  event: HttpEvent,
  context: PageContext,
  session: ConsoleSession,
  api: IssuerApi,
  id: string,
): Promise<HttpResult> {
  const { t } = context;
  const posted = readForm(event);
  if (posted.confirm !== 'yes') {
    return licencePage(context, session, api, id, 400, undefined, undefined, {
      errors: {
        confirm: t(
          '重新签发会吊销此证照，请勾选确认。',
          'Re-issuing revokes this licence: tick the box to confirm.',
        ),
      },
    });
  }
  let renewed;
  try {
    renewed = await api.reissue(id);
  } catch (error) {
    // The re-issue finished (this licence revoked as replaced) but its replacement's key was withdrawn
    // as it was signed (review R70 F3): the replacement's page, which offers re-issuing it in turn.
    if (error instanceof ApiProblem && error.code === 'issuer_key_withdrawn' && error.licenceId) {
      return redirect(`/console/licences/${encodeURIComponent(error.licenceId)}?done=reissued_key_withdrawn`);
    }
    return apiRefusalPage(error, context, session, api, id, (problem) =>
      t(
        problem.code === 'licence_reissued'
          ? '此证照已重新签发过，请查看其新证照。'
          : problem.code === 'licence_revoked_during_reissue' ||
              problem.code === 'licence_suspended_during_reissue'
            ? // The replacement took the old licence's new status (docs/operating.md, re-issue).
              '重新签发期间此证照已被撤销或暂扣，新证照已随之撤销或暂扣。'
            : problem.code === 'replacement_revoked'
              ? // An earlier attempt's replacement was revoked since: this licence is left valid (R38 L1).
                '此前重新签发生成的新证照已被撤销，此证照保持不变；如需替换，请签发新证照后撤销此证照。'
              : problem.code === 'reissue_given_up'
                ? // A clerk's revocation of the replacement gave the re-issue up, and was refused: the
                  // replacement is not revoked (valid, or suspended since: review R56-1), nor owed.
                  '此前有人撤销重新签发生成的新证照，重新签发因此已放弃，但该撤销未成功，新证照未被撤销（有效或已暂扣，以新证照页面为准）：如保留此证照，请再次撤销新证照；如保留新证照，请撤销此证照。'
                : problem.code === 'replacement_revocation_pending'
                  ? // That revocation is recorded, and the reconciler makes it: nothing to choose (R56-1).
                    // Answered on the old licence's page and on the new one's (re-issuing it is refused
                    // too, review R58): the words fit either, as the code does not say which this is.
                    '此前有人撤销重新签发生成的新证照，重新签发因此已放弃；该撤销已记录，系统将在稍后自动完成，原证照保持不变。在此之前该新证照不能重新签发，也无需再撤销任何证照。'
                  : problem.code === 'reissue_pending'
                    ? '此证照所替换的证照的重新签发尚未完成，请先完成那次重新签发。'
                    : problem.code === 'issuer_key_withdrawn'
                      ? '重新签发已完成，此证照已吊销；但新证照签发时本机关的签名密钥被撤销，新证照无法通过核验：请打开新证照（见“已重新签发为”）再次重新签发。'
                      : '无法重新签发：证照的状态可能已被更改，请刷新后重试。',
        `The licence could not be re-issued: ${problem.message}`,
      ),
    );
  }
  return redirect(`/console/licences/${encodeURIComponent(renewed.id)}?done=reissued`);
}

/**
 * The API's refusal of an action on a licence page (a status change, a re-issue): the licence page again,
 * with the refusal's status and `text` (the API's detail is English for developers, so the page says it in
 * its own words). A 404 (not this issuer's licence) and anything that is no refusal go up to the boundary.
 */
async function apiRefusalPage(
  error: unknown,
  context: PageContext,
  session: ConsoleSession,
  api: IssuerApi,
  id: string,
  text: (problem: ApiProblem) => string,
): Promise<HttpResult> {
  if (!(error instanceof ApiProblem) || error.status === 404) throw error;
  return licencePage(context, session, api, id, error.status, { kind: 'error', text: text(error) });
}

async function licencePage(
  context: PageContext,
  session: ConsoleSession,
  api: IssuerApi,
  id: string,
  statusCode: number,
  /** What the page says above the licence, or how to say it of the licence as read. */
  said?: LicencePageInput['notice'] | ((licence: Licence) => LicencePageInput['notice']),
  action?: LicencePageInput['action'],
  reissued?: LicencePageInput['reissue'],
): Promise<HttpResult> {
  const { t } = context;
  const [licence, types] = await Promise.all([api.get(id), api.licenceTypes()]);
  const notice = typeof said === 'function' ? said(licence) : said;
  // The QR code drawn here from the credential the licence read carried: one view of the page is one
  // read in the holder's usage record (GET /licences/{id}/qr.svg would record a second). A licence
  // without its QR code is still worth showing.
  const qr = licence.credential
    ? await renderQrSvg(licence.credential).catch((error: unknown) => {
        logger.warn('console: QR code not drawn', { error: String(error) });
        return undefined;
      })
    : undefined;
  // An action the status no longer allows (another tab changed it) is not offered again.
  const shown = action && actionsFor(licence.status).includes(action.status) ? action : undefined;
  return page(
    context,
    statusCode,
    t('证照详情', 'Licence'),
    licenceBody(t, {
      who: whoOf(session),
      licence,
      types,
      ...(qr ? { qrDataUrl: `data:image/svg+xml;base64,${Buffer.from(qr, 'utf8').toString('base64')}` } : {}),
      ...(notice ? { notice } : {}),
      ...(shown ? { action: shown } : {}),
      ...(reissued ? { reissue: reissued } : {}),
    }),
  );
}

function doneNotice(
  done: string | undefined,
  licence: Licence,
  { t }: PageContext,
): LicencePageInput['notice'] {
  // Said of a licence whose key is withdrawn and that is still to be re-issued: a link followed later
  // (the licence re-issued since, or revoked) says nothing of it.
  const toReissue = licence.keyWithdrawn === true && licence.status === 'valid';
  switch (done) {
    case 'key_withdrawn':
      // Review R70 F2: the issue form was answered 409 issuer_key_withdrawn, this licence written all the same.
      return toReissue
        ? {
            kind: 'error',
            text: t(
              '证照已写入（即此证照），但签发过程中本机关的签名密钥被撤销，此证照无法通过核验。请勿再次提交签发表单（那会签发第二份证照），请在下方“重新签发”此证照。',
              'The licence was written (this one), but this issuer’s signing key was withdrawn while it was issued, so it does not verify. Do not submit the issue form again (that would issue a second licence): re-issue this licence below.',
            ),
          }
        : undefined;
    case 'reissued_key_withdrawn':
      // Review R70 F3: the re-issue finished, and wrote this licence under a key withdrawn meanwhile.
      return toReissue
        ? {
            kind: 'error',
            text: t(
              '重新签发已完成，原证照已吊销；但新证照（即此证照）签发时本机关的签名密钥被撤销，它无法通过核验。请在下方再次“重新签发”此证照。',
              'The re-issue finished and the old licence is revoked, but this issuer’s signing key was withdrawn while the new licence (this one) was signed, so it does not verify: re-issue this licence again below.',
            ),
          }
        : undefined;
    case 'issued':
      return { kind: 'success', text: t('证照已签发。', 'The licence was issued.') };
    case 'reissued':
      return {
        kind: 'success',
        text: t(
          '证照已重新签发；原证照已以“证照已换发或补发”吊销。',
          'The licence was re-issued; the old one is revoked as replaced by a reissued licence.',
        ),
      };
    case 'suspended':
    case 'valid':
    case 'revoked':
      return {
        kind: 'success',
        text: t(`状态已变更为“${statusLabel(done, t)}”。`, `The status is now “${statusLabel(done, t)}”.`),
      };
    default:
      return undefined;
  }
}

function signInMessage(event: HttpEvent, { t }: PageContext): ConsoleSignInInput {
  switch (event.queryStringParameters?.m) {
    case 'expired':
      return {
        message: {
          kind: 'info',
          text: t('登录已过期，请重新登录。', 'Your session expired: please sign in again.'),
        },
      };
    case 'signed-out':
      return { message: { kind: 'success', text: t('已退出登录。', 'You have signed out.') } };
    default:
      return {};
  }
}

function signInPage(
  context: PageContext,
  statusCode: number,
  input: ConsoleSignInInput,
  desk: Desk,
  cookies: string[] = [],
): HttpResult {
  const clientSecret = desk.audience === 'supervisor' || dependencies().config.consoleClientSecretSignIn;
  return page(
    context,
    statusCode,
    desk.audience === 'supervisor'
      ? context.t('电子监察', 'Supervision')
      : context.t('发证机关控制台', 'Issuer console'),
    consoleSignInBody(context.t, { ...input, audience: desk.audience, clientSecret }),
    desk.section,
    cookies,
  );
}

function page(
  context: PageContext,
  statusCode: number,
  title: string,
  body: ReturnType<typeof consoleSignInBody>,
  section: Section = 'console',
  cookies: string[] = [],
) {
  return htmlPage(statusCode, renderPage({ ...context, section, title, body }), cookies);
}

/**
 * The two consoles this function serves: the issuing agencies' (`/console`) and the supervising office's
 * (`/supervision`). Each has its own sealed cookie, so a browser signed in to one is not signed in to the
 * other, and its own scope, so a supervisor's token cannot issue and an issuer's cannot supervise.
 */
const desks = {
  issuer: {
    audience: 'issuer',
    base: '/console',
    cookie: consoleCookie,
    scope: consoleScope,
    section: 'console',
  },
  supervisor: {
    audience: 'supervisor',
    base: '/supervision',
    cookie: supervisionCookie,
    scope: supervisionScope,
    section: 'supervision',
  },
} as const;
type Desk = (typeof desks)[keyof typeof desks];

function deskOf(event: HttpEvent): Desk {
  const supervision =
    served.is(event, 'GET /supervision') ||
    served.is(event, 'POST /supervision/login') ||
    served.is(event, 'POST /supervision/logout') ||
    served.is(event, 'GET /supervision/trail');
  return supervision ? desks.supervisor : desks.issuer;
}

/** A console's sealed session cookie. */
function sessionCookie(desk: Desk): SealedCookie<typeof consoleSession> {
  return new SealedCookie(
    dependencies().cookieSealer,
    desk.cookie,
    consoleSession,
    expiredGraceSeconds,
    secure(),
  );
}

function ensureSameOrigin(event: HttpEvent): void {
  if (!sameOrigin(event, dependencies().config.issuerUrl)) throw new CrossSiteError();
}

/** Posted fields as single values: a `name[]` list keeps its last, as a repeated plain field does. */
function singleValues(fields: Record<string, string | string[]>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(fields).map(([name, value]) => [
      name,
      Array.isArray(value) ? (value.at(-1) ?? '') : value,
    ]),
  );
}

/**
 * The posted fields of a form from this site (refused from another site before anything is read); a
 * field that is not UTF-8 text is refused (400, named), the form not shown again.
 */
function readForm(event: HttpEvent): Record<string, string | string[]> {
  ensureSameOrigin(event);
  return formFields(event);
}

/**
 * {@link readForm} for a form its page shows again: the fields that were not UTF-8 text apart, for the
 * page to name next to the rest as typed, as long as each is one of `shown` (the fields the page can
 * mark); any other such field refuses the form (400, named).
 */
function readPostedForm(event: HttpEvent, shown: readonly string[]): PostedForm {
  ensureSameOrigin(event);
  const form = postedForm(event);
  refuseUnreadableOutside(form, shown);
  return form;
}

/** Refuses (400, named) the fields of `form` that were not UTF-8 text and that are not among `shown`. */
function refuseUnreadableOutside(form: PostedForm, shown: readonly string[]): void {
  const elsewhere = form.unreadable.filter((refused) => !shown.includes(refused.path));
  if (elsewhere.length > 0) throw unreadableForm(elsewhere, {});
}
