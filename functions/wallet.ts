import { createHash } from 'node:crypto';
import { epochSeconds } from '../shared/clock.js';
import { composition } from './composition/dependencies.js';
import { handledAbove, routesOf } from './dispatch.js';
import {
  accessTokens,
  accounts,
  cookieSealer,
  doc,
  kms,
  pageClientSecrets,
  scanLogins,
  webMac,
} from './composition/factories.js';
import { NotFoundError, ServiceError } from '../shared/errors.js';
import { httpStatusOf } from '../shared/http/error-mapping.js';
import { parseJsonBody } from '../shared/http/request.js';
import { json, problem } from '../shared/http/response.js';
import type { HttpEvent, HttpResult } from '../shared/http/types.js';
import { header } from '../shared/http/request.js';
import * as z from 'zod';
import type { SafeHtml } from '../shared/web/kit/html.js';
import type { CookieSealer } from '../shared/web/kit/sealed-cookie.js';
import { logger } from '../shared/logger.js';
import { clientDisplayName, walletClientId } from '../shared/identifiers/client-ids.js';
import {
  CrossSiteError,
  requireOwnFileFetch,
  sameOrigin,
  sameSiteNavigation,
} from '../shared/web/kit/form.js';
import { htmlPage, redirect, renderPage } from '../shared/web/kit/layout.js';
import { walletErrorPage } from '../shared/web/pages/wallet-error-page.js';
import {
  licenceHref,
  licenceStepUpBody,
  signedInBody,
  signedOutBody,
} from '../shared/web/pages/wallet-home-page.js';
import { licenceBody } from '../shared/web/pages/wallet-licence-page.js';
import { qrBody, qrConfirmBody, walletScripts } from '../shared/web/pages/wallet-qr-page.js';
import { pageRelyingParty, type RelyingParty } from '../shared/web/relying-party.js';
import {
  checkDisclose,
  discloseFromQuery,
  refreshBody,
  refreshLeadSeconds,
  walletPresentationSeconds,
} from '../shared/web/wallet/disclose.js';
import { relayDownload } from '../shared/web/api-request.js';
import { walletReturnPath } from '../shared/web/wallet/return-page.js';
import { HolderApi, SessionEndedError, walletUsageKinds } from '../shared/web/wallet/holder-api.js';
import {
  PasskeyPasswordRefusedError,
  PasskeyStepUpError,
  PasskeysApi,
} from '../shared/web/wallet/passkeys-api.js';
import {
  passkeysBody,
  passkeysFreshHref,
  removePasskeyForm,
  removePasskeyLabels,
  walletPasskeyScripts,
} from '../shared/web/pages/wallet-passkeys-page.js';
import { usageBody } from '../shared/web/pages/wallet-usage-page.js';
import { AuthorizationsApi } from '../shared/web/wallet/authorizations-api.js';
import {
  AccountApi,
  ClosurePasswordRefusedError,
  FreshSignInRequiredError,
} from '../shared/web/wallet/account-api.js';
import {
  accountBody,
  closeAccountHref,
  closeAccountForm,
  closeAccountLabels,
  closeConfirmBody,
  closedBody,
  exportDataBody,
  exportDataHref,
  exportDataScripts,
} from '../shared/web/pages/wallet-account-page.js';
import { authorizationsBody } from '../shared/web/pages/wallet-authorizations-page.js';
import {
  agentsBody,
  agentsNotRepresentativeBody,
  agentsStepUpBody,
  appointFieldLabels,
  appointFields,
  appointRefusal,
  readAppointForm,
  withdrawable,
  withdrawConfirmBody,
  withdrawLabels,
  type AgentsPageState,
  type AppointField,
} from '../shared/web/pages/wallet-agents-page.js';
import { AgentsApi, AgentsRefusedError } from '../shared/web/wallet/agents-api.js';
import { agentScopes, type AgentScope } from '../shared/identity/entity-account.js';
import { calendarDate } from '../shared/web/kit/china-time.js';
import { validUntilAfter } from '../shared/validity-dates.js';
import { licenceTypeName } from '../shared/web/wallet/licence-format.js';
import { sessionFromSignIn, WalletCookies, type WalletSession } from '../shared/web/wallet/session.js';
import { webHandler, type PageContext } from '../shared/web/web-handler.js';
import { servedOverHttps } from '../shared/web/kit/cookies.js';
import { parseForm, shownRefusal, type ShownRefusal } from '../shared/web/kit/form.js';
import { stepUpHref, wantedAcr } from '../shared/web/wallet/step-up.js';
import { ScanLogins, recentEnough, scanLoginProblemOf } from '../shared/identity/scan-login.js';
import { approverOf } from '../shared/web/wallet/scan-login-approver.js';
import {
  scanAnsweredBody,
  scanConfirmBody,
  scanDecisionLabels,
  scanStepUpBody,
  scanSignInAgainBody,
  scanWalletProblemBody,
} from '../shared/web/pages/scan-login-pages.js';

/** What this function's handler uses, built once per container. */
const dependencies = composition({
  kms,
  webMac,
  secrets: pageClientSecrets,
  cookieSealer,
  doc,
  accessTokens,
  accounts,
  scanLogins,
});
type Dependencies = ReturnType<typeof dependencies>;

const secure = () => servedOverHttps(dependencies().config.issuerUrl);
const served = routesOf('wallet');

/**
 * The wallet (我的证照): a backend-for-frontend that signs people in through our own OpenID provider as
 * the first-party client `elicence-wallet` and then calls the public holder API with their access
 * token, like any platform. Its session lives in a sealed cookie; it has no table of its own.
 */
export const handler = webHandler(
  'wallet',
  async (event: HttpEvent, context: PageContext): Promise<HttpResult> => {
    if (served.is(event, 'POST /wallet/licences/{id}/presentations')) return refresh(event);
    if (served.is(event, 'POST /wallet/passkeys/options') || served.is(event, 'POST /wallet/passkeys')) {
      return relayPasskeyEnrolment(event);
    }
    const back = served.is(event, 'GET /wallet/licences/{id}/qr')
      ? licenceHref(event.pathParameters?.id ?? '')
      : '/wallet';
    try {
      return await page(event, context);
    } catch (error) {
      return walletErrorPage(error, context, back);
    }
  },
  served.edge,
);

/** The wallet's relying party (one per issuer URL: a container serves one; the tests start several). */
function relyingParty(deps: Dependencies): RelyingParty {
  return pageRelyingParty(
    deps.config.issuerUrl,
    walletClientId,
    () => deps.secrets.secretFor(walletClientId),
    '/wallet/callback',
  );
}

const personalScope = 'openid profile licences';
const entityScope = `${personalScope} entity`;

/** The sign-in that comes back to `returnTo`, acting for an entity again if the session did. */
function signInUrl(returnTo: string, entity: boolean): string {
  const query = new URLSearchParams({ ...(entity ? { as: 'entity' } : {}), returnTo });
  return `/wallet/login?${query.toString()}`;
}

function currentPath(event: HttpEvent): string {
  const query = new URLSearchParams(event.rawQueryString ?? '');
  query.delete('lang');
  const rest = query.toString();
  return rest ? `${event.rawPath}?${rest}` : event.rawPath;
}

/**
 * The wallet QR page's confirmation link, for browsers that send no fetch metadata: `?confirm=` a value
 * sealed for this licence and this very sign-in (a digest of its access token, which no other session,
 * not even a colleague acting for the same enterprise, shares), for two minutes. Another site can neither
 * make one for a visitor nor pass on its own; it is refused from any browser that does say where a
 * navigation comes from (those need no confirmation for their own clicks); and following it discloses no
 * optional field, whatever the link adds.
 */
class QrConfirmation {
  static readonly #name = 'wallet-qr-confirm';
  static readonly #schema = z.strictObject({ licence: z.string(), session: z.string() });

  constructor(private readonly sealer: CookieSealer) {}

  static #binding(session: WalletSession): string {
    return createHash('sha256').update(session.accessToken).digest('base64url');
  }

  async href(licenceId: string, session: WalletSession, now: number): Promise<string> {
    const value = await this.sealer.seal(
      QrConfirmation.#name,
      { licence: licenceId, session: QrConfirmation.#binding(session) },
      120,
      now,
    );
    return `/wallet/licences/${encodeURIComponent(licenceId)}/qr?${new URLSearchParams({ confirm: value }).toString()}`;
  }

  async valid(event: HttpEvent, licenceId: string, session: WalletSession, now: number): Promise<boolean> {
    if (header(event, 'sec-fetch-site') !== undefined) return false;
    const value = new URLSearchParams(event.rawQueryString ?? '').get('confirm');
    if (!value || value.length > 1024) return false;
    const opened = await this.sealer.open(QrConfirmation.#name, value, QrConfirmation.#schema, now);
    return opened?.licence === licenceId && opened.session === QrConfirmation.#binding(session);
  }
}

async function page(event: HttpEvent, context: PageContext): Promise<HttpResult> {
  const deps = dependencies();
  const cookies = new WalletCookies(deps.cookieSealer, secure());
  const now = epochSeconds(deps.clock);
  const { t, lang } = context;
  const title = t('我的证照', 'My licences');

  /** The usable session, or the answer that gets one: sign-in, which the SSO session makes silent. */
  const requireSession = async (): Promise<WalletSession | HttpResult> => {
    const found = await cookies.session(event, now);
    if (found?.usable) return found.session;
    return redirect(signInUrl(currentPath(event), Boolean(found?.session.entity)));
  };
  /** The API refused the token before its expiry (revoked, signed out elsewhere): close the session. */
  const ended = (error: unknown): HttpResult => {
    if (!(error instanceof SessionEndedError)) throw error;
    return htmlPage(200, renderPage({ ...context, section: 'wallet', title, body: signedOutBody(t, true) }), [
      cookies.clearSession(),
    ]);
  };
  const api = (session: WalletSession) => new HolderApi(deps.config.issuerUrl, session.accessToken);
  const passkeysApi = (session: WalletSession) => new PasskeysApi(deps.config.issuerUrl, session.accessToken);
  const authorizationsApi = (session: WalletSession) =>
    new AuthorizationsApi(deps.config.issuerUrl, session.accessToken);
  const qrConfirmation = new QrConfirmation(deps.cookieSealer);
  /** The QR page's frame: the wallet section, its title, and the QR scripts when the code is shown. */
  const qrPage = (body: SafeHtml, scripts?: typeof walletScripts) =>
    renderPage({
      ...context,
      section: 'wallet',
      title: t('亮证二维码', 'Licence QR code'),
      body,
      ...(scripts ? { scripts } : {}),
    });

  /** A licence's PDF or its signature, in the layout the link asks for (A4 unless `card`). */
  const printable = async (file: 'pdf' | 'pdf.jws'): Promise<HttpResult> => {
    // Rendered and (the signature) signed with the presentation key in KMS per fetch: never for another
    // site's embed, fetch or frame, only for the visitor's own download or navigation.
    requireOwnFileFetch(event);
    const session = await requireSession();
    if (!('accessToken' in session)) return session;
    const layout = new URLSearchParams(event.rawQueryString ?? '').get('layout') === 'card' ? 'card' : 'a4';
    try {
      return await relayDownload(await api(session).printable(event.pathParameters?.id ?? '', file, layout));
    } catch (error) {
      return ended(error);
    }
  };

  return served.dispatch(event, {
    'POST /wallet/licences/{id}/presentations': handledAbove,
    'GET /scan-login/{code}': () => scanLogin(event, context),
    'POST /scan-login/{code}': () => scanLogin(event, context),
    'POST /wallet/passkeys/options': handledAbove,
    'POST /wallet/passkeys': handledAbove,

    'GET /wallet/passkeys': async () => {
      const session = await requireSession();
      if (!('accessToken' in session)) return session;
      const query = new URLSearchParams(event.rawQueryString ?? '');
      const passkeysTitle = t('通行密钥', 'Passkeys');
      const show = (body: SafeHtml, scripts?: typeof walletPasskeyScripts) =>
        htmlPage(
          200,
          renderPage({
            ...context,
            section: 'wallet',
            title: passkeysTitle,
            body,
            ...(scripts ? { scripts } : {}),
          }),
        );
      try {
        const passkeys = await passkeysApi(session).list();
        return show(
          passkeysBody(t, {
            passkeys,
            added: query.has('added'),
            removed: query.has('removed'),
            wrongPassword: query.has('wrong'),
          }),
          walletPasskeyScripts,
        );
      } catch (error) {
        if (error instanceof PasskeyStepUpError) return show(passkeysBody(t, { stepUp: true }));
        return ended(error);
      }
    },

    // The printable licence (docs/printable-licence.md): the holder API's file, passed on as a download.
    'GET /wallet/licences/{id}/pdf': () => printable('pdf'),
    'GET /wallet/licences/{id}/pdf.jws': () => printable('pdf.jws'),

    'GET /wallet/usage': async () => {
      const session = await requireSession();
      if (!('accessToken' in session)) return session;
      const query = new URLSearchParams(event.rawQueryString ?? '');
      const cursor = query.get('cursor') ?? undefined;
      // A kind the record does not have is shown as no filter: the links only ever make known ones.
      const asked = query.get('action');
      const action = walletUsageKinds.find((kind) => kind === asked);
      try {
        const usage = await api(session).usage(cursor, action);
        return htmlPage(
          200,
          renderPage({
            ...context,
            section: 'wallet',
            title: t('用证记录', 'Licence usage'),
            body: usageBody(t, usage, { older: cursor !== undefined, ...(action ? { action } : {}) }),
          }),
        );
      } catch (error) {
        return ended(error);
      }
    },

    'POST /wallet/passkeys/{id}/remove': async () => {
      let password: string | undefined;
      let refused: ShownRefusal | undefined;
      try {
        ({ password } = parseForm(event, deps.config.issuerUrl, removePasskeyForm, removePasskeyLabels));
      } catch (error) {
        refused = shownRefusal(error, event, t);
      }
      const session = await requireSession();
      if (!('accessToken' in session)) return session;
      try {
        // Refused by its schema (a password too long, not UTF-8 text): the page again, said at the field.
        if (refused) {
          const passkeys = await passkeysApi(session).list();
          const message = refused.errors.map((e) => e.message).join(t('；', '; '));
          const passkeyId = event.pathParameters?.id ?? '';
          return htmlPage(
            400,
            renderPage({
              ...context,
              section: 'wallet',
              title: t('通行密钥', 'Passkeys'),
              body: passkeysBody(t, { passkeys, refused: { passkeyId, message } }),
              scripts: walletPasskeyScripts,
            }),
          );
        }
        await passkeysApi(session).remove(event.pathParameters?.id ?? '', password ?? '');
        return redirect('/wallet/passkeys?removed=1');
      } catch (error) {
        if (error instanceof PasskeyStepUpError) return redirect('/wallet/passkeys');
        // Removing needs a sign-in of the last ten minutes (review R28 H1): sign in again, then remove.
        if (error instanceof FreshSignInRequiredError) return redirect(passkeysFreshHref);
        if (error instanceof PasskeyPasswordRefusedError) return redirect('/wallet/passkeys?wrong=1');
        return ended(error);
      }
    },
    'GET /wallet/account': async () => {
      const session = await requireSession();
      if (!('accessToken' in session)) return session;
      try {
        const account = await new AccountApi(deps.config.issuerUrl, session.accessToken).read();
        const body = accountBody(t, account);
        return htmlPage(
          200,
          renderPage({ ...context, section: 'wallet', title: t('我的账号', 'My account'), body }),
        );
      } catch (error) {
        return ended(error);
      }
    },

    // Closing the account (注销): the confirmation, shown after the fresh sign-in its link asks for, and
    // the confirmed form, which the API refuses unless that sign-in is recent (then: sign in again).
    'GET /wallet/account/close': async () => {
      const session = await requireSession();
      if (!('accessToken' in session)) return session;
      try {
        const account = await new AccountApi(deps.config.issuerUrl, session.accessToken).read();
        const body = closeConfirmBody(t, account);
        return htmlPage(
          200,
          renderPage({ ...context, section: 'wallet', title: t('注销账号', 'Close the account'), body }),
        );
      } catch (error) {
        return ended(error);
      }
    },
    'POST /wallet/account/close': async () => {
      let posted: z.output<typeof closeAccountForm> = {};
      let refused: ShownRefusal | undefined;
      try {
        posted = parseForm(event, deps.config.issuerUrl, closeAccountForm, closeAccountLabels);
      } catch (error) {
        refused = shownRefusal(error, event, t);
      }
      const { confirm, password } = posted;
      const session = await requireSession();
      if (!('accessToken' in session)) return session;
      const accountApi = new AccountApi(deps.config.issuerUrl, session.accessToken);
      try {
        // Refused by its schema (a password too long, not UTF-8 text): the page again, said at the field.
        if (refused) {
          const body = closeConfirmBody(t, await accountApi.read(), { refused: refused.errors });
          return htmlPage(
            400,
            renderPage({ ...context, section: 'wallet', title: t('注销账号', 'Close the account'), body }),
          );
        }
        if (confirm !== 'yes') {
          const body = closeConfirmBody(t, await accountApi.read(), { unconfirmed: true });
          return htmlPage(
            400,
            renderPage({ ...context, section: 'wallet', title: t('注销账号', 'Close the account'), body }),
          );
        }
        try {
          await accountApi.close(password ?? '');
        } catch (error) {
          if (error instanceof FreshSignInRequiredError)
            return redirect(closeAccountHref(await accountApi.read()));
          if (error instanceof ClosurePasswordRefusedError) {
            const body = closeConfirmBody(t, await accountApi.read(), {
              wrongPassword: true,
              ...(error.retryAfterSeconds ? { retryAfterSeconds: error.retryAfterSeconds } : {}),
            });
            return htmlPage(
              error.retryAfterSeconds ? 429 : 403,
              renderPage({ ...context, section: 'wallet', title: t('注销账号', 'Close the account'), body }),
            );
          }
          throw error;
        }
        logger.info('wallet account closed');
        return htmlPage(
          200,
          renderPage({
            ...context,
            section: 'wallet',
            title: t('账号已注销', 'The account is closed'),
            body: closedBody(t),
          }),
          [cookies.clearSession(), cookies.clearPending()],
        );
      } catch (error) {
        return ended(error);
      }
    },

    // Exporting the person's data (导出我的数据): the page, shown after the fresh sign-in its link asks
    // for, and its form, which the API refuses unless that sign-in is recent (then: sign in again).
    'GET /wallet/account/export': async () => {
      const session = await requireSession();
      if (!('accessToken' in session)) return session;
      return htmlPage(
        200,
        renderPage({
          ...context,
          section: 'wallet',
          title: t('导出我的数据', 'Export my data'),
          body: exportDataBody(t),
          scripts: exportDataScripts,
        }),
      );
    },
    'POST /wallet/account/export': async () => {
      // A download of the person's data: never for another site's form, only the page's own.
      if (!sameOrigin(event, deps.config.issuerUrl)) throw new CrossSiteError();
      const session = await requireSession();
      if (!('accessToken' in session)) return session;
      const accountApi = new AccountApi(deps.config.issuerUrl, session.accessToken);
      try {
        try {
          // Passed on as the API answered it; the wallet neither logs nor keeps it.
          return await relayDownload(await accountApi.export());
        } catch (error) {
          if (error instanceof FreshSignInRequiredError)
            return redirect(exportDataHref(await accountApi.read()));
          throw error;
        }
      } catch (error) {
        return ended(error);
      }
    },

    'GET /wallet/authorizations': async () => {
      const session = await requireSession();
      if (!('accessToken' in session)) return session;
      try {
        const items = await authorizationsApi(session).list();
        const withdrawn = new URLSearchParams(event.rawQueryString ?? '').has('withdrawn');
        return htmlPage(
          200,
          renderPage({
            ...context,
            section: 'wallet',
            title: t('已授权的平台', 'Authorized platforms'),
            body: authorizationsBody(t, { items, withdrawn }),
          }),
        );
      } catch (error) {
        return ended(error);
      }
    },

    'POST /wallet/authorizations/{id}/withdraw': async () => {
      if (!sameOrigin(event, deps.config.issuerUrl)) throw new CrossSiteError();
      const session = await requireSession();
      if (!('accessToken' in session)) return session;
      try {
        await authorizationsApi(session).withdraw(event.pathParameters?.id ?? '');
        return redirect('/wallet/authorizations?withdrawn=1');
      } catch (error) {
        return ended(error);
      }
    },

    'GET /wallet/agents': () => agents(event, context),
    'POST /wallet/agents': () => agents(event, context),
    'GET /wallet/agents/{agentId}/withdraw': () => agents(event, context),
    'POST /wallet/agents/{agentId}/withdraw': () => agents(event, context),

    'GET /wallet': async () => {
      const found = await cookies.session(event, now);
      if (!found) {
        return htmlPage(200, renderPage({ ...context, section: 'wallet', title, body: signedOutBody(t) }));
      }
      if (!found.usable) return redirect(signInUrl('/wallet', Boolean(found.session.entity)));
      try {
        const holding = await api(found.session).holding();
        return htmlPage(
          200,
          renderPage({
            ...context,
            section: 'wallet',
            title,
            body: signedInBody(t, found.session, holding.licences, holding.stepUpTo, {
              stepUpUnmet: event.queryStringParameters?.stepUp === 'unmet',
            }),
          }),
        );
      } catch (error) {
        return ended(error);
      }
    },

    'GET /wallet/login': async () => {
      const query = event.queryStringParameters ?? {};
      // Only a wallet page of an allow-list, never a QR page (shared/web/wallet/return-page.ts).
      const returnTo = walletReturnPath(query.returnTo, deps.config.issuerUrl);
      // `acr=3` (the wallet's step-up links, 提升认证等级) asks the provider for that level: its step-up
      // page then shows even within a live single sign-on session below it.
      const acr = wantedAcr(query.acr);
      // `fresh=1` (closing the account): a sign-in made now, whatever single sign-on session there is.
      const { url, pending } = await relyingParty(deps).begin(
        query.as === 'entity' ? entityScope : personalScope,
        { ...(acr ? { acr_values: acr } : {}), ...(query.fresh === '1' ? { max_age: '0' } : {}) },
        returnTo,
      );
      return redirect(url, [await cookies.pendingCookie(pending, now)]);
    },

    'GET /wallet/callback': async () => {
      const pending = await cookies.pending(event, now);
      const answer = event.queryStringParameters ?? {};
      // A person who could not raise their level (无法验证，返回) goes back to the wallet, still signed in
      // as before, and is told so: not an error page. Only for this browser's own sign-in (its `state`).
      if (
        answer.error === 'unmet_authentication_requirements' &&
        pending !== undefined &&
        answer.state === pending.state
      ) {
        const back = pending.returnTo?.startsWith('/wallet') ? pending.returnTo : '/wallet';
        const url = new URL(back, deps.config.issuerUrl);
        url.searchParams.set('stepUp', 'unmet');
        return redirect(`${url.pathname}${url.search}`, [cookies.clearPending()]);
      }
      const rp = relyingParty(deps);
      const signedIn = await rp.finish(event, pending);
      const previous = (await cookies.session(event, now))?.session;
      const session = sessionFromSignIn(signedIn, previous);
      return redirect(pending?.returnTo ?? '/wallet', [
        await cookies.sessionCookie(session, now),
        cookies.clearPending(),
      ]);
    },

    'POST /wallet/logout': async () => {
      if (!sameOrigin(event, deps.config.issuerUrl)) throw new CrossSiteError();
      const found = await cookies.session(event, now);
      const clear = [cookies.clearSession(), cookies.clearPending()];
      if (!found) return redirect('/wallet', clear);
      const rp = relyingParty(deps);
      // Revoked first so that the token stops working even if the person never confirms the provider's
      // sign-out page; a failure still ends the wallet's session.
      await rp.revoke(found.session.accessToken, 'access_token').catch((error: unknown) => {
        logger.warn('wallet access token not revoked', { error: String(error) });
      });
      return redirect(await rp.endSessionUrl(`${deps.config.issuerUrl}/wallet`), clear);
    },

    'GET /wallet/licences/{id}': async () => {
      const session = await requireSession();
      if (!('accessToken' in session)) return session;
      const id = event.pathParameters?.id ?? '';
      try {
        const holding = await api(session).holding();
        const licence = holding.licences.find((held) => held.id === id);
        if (!licence && holding.stepUpTo) {
          // Below the level some types need, the list hides them: the way up, back to this page.
          const body = licenceStepUpBody(t, session, licenceHref(id), holding.stepUpTo);
          return htmlPage(403, renderPage({ ...context, section: 'wallet', title, body }));
        }
        if (!licence) throw new NotFoundError('No such licence among yours', 'licence_not_found');
        return htmlPage(
          200,
          renderPage({
            ...context,
            section: 'wallet',
            title: licenceTypeName(licence.type, t),
            body: licenceBody(t, lang, licence),
          }),
        );
      } catch (error) {
        return ended(error);
      }
    },

    'GET /wallet/licences/{id}/qr': async () => {
      const id = event.pathParameters?.id ?? '';
      // Showing the page signs a presentation and audits it: another site's link or frame must not make
      // a visitor's wallet do that. Unless the browser says the navigation is our own (or typed), the
      // page asks first, with a link only this sign-in can follow, which discloses no optional field;
      // a signed-out visitor signs in and lands on the licence page, never straight on a QR code.
      // Optional fields are the licence page's choice (its form, or this page's own reload link): a
      // same-origin navigation. A link opened from a mail or SMS app arrives as `none`, like a typed URL,
      // with whatever `disclose` its writer chose: it is asked first too, and discloses none.
      const disclosing = new URLSearchParams(event.rawQueryString ?? '').has('disclose');
      const ours =
        sameSiteNavigation(event) && (!disclosing || header(event, 'sec-fetch-site') === 'same-origin');
      const found = await cookies.session(event, now);
      if (!found?.usable) {
        return redirect(signInUrl(licenceHref(id), Boolean(found?.session.entity)));
      }
      const session = found.session;
      const confirmed = !ours && (await qrConfirmation.valid(event, id, session, now));
      if (!ours && !confirmed) {
        return htmlPage(200, qrPage(qrConfirmBody(t, id, await qrConfirmation.href(id, session, now))));
      }
      const disclose = confirmed ? [] : discloseFromQuery(event);
      try {
        const holder = api(session);
        const licence = await holder.licence(id);
        checkDisclose(licence, disclose);
        const presentation = await holder.present(id, { disclose, ttlSeconds: walletPresentationSeconds });
        const expiresIn = Math.max(
          0,
          Math.floor((Date.parse(presentation.expiresAt) - deps.clock.now()) / 1000),
        );
        return htmlPage(
          200,
          qrPage(
            qrBody(t, lang, {
              licence,
              presentation,
              disclose,
              expiresIn,
              refreshLeadSeconds,
              signInUrl: signInUrl(currentPath(event), Boolean(session.entity)),
            }),
            walletScripts,
          ),
        );
      } catch (error) {
        return ended(error);
      }
    },
  });
}

/**
 * `POST /wallet/passkeys/options` and `POST /wallet/passkeys`: the passkeys page script's two enrolment
 * calls, relayed to the holder API (`/me/passkeys/options`, `/me/passkeys`) with the session's token and
 * answered as the API answered. JSON only: 403 from another site, 401 when signed out or the API refused
 * the token.
 */
async function relayPasskeyEnrolment(event: HttpEvent): Promise<HttpResult> {
  const deps = dependencies();
  const cookies = new WalletCookies(deps.cookieSealer, secure());
  const refuse = (status: number, code: string, detail: string) =>
    problem({ status, code, title: code.replaceAll('_', ' '), detail });
  if (!sameOrigin(event, deps.config.issuerUrl)) {
    return refuse(403, 'cross_site_request', 'Requests must come from this site’s own pages');
  }
  const found = await cookies.session(event, epochSeconds(deps.clock));
  if (!found?.usable) return refuse(401, 'signed_out', 'Not signed in to the wallet');
  const api = new PasskeysApi(deps.config.issuerUrl, found.session.accessToken);
  try {
    const relayed = served.is(event, 'POST /wallet/passkeys/options')
      ? await api.options()
      : await api.enrol(parseJsonBody(event, z.unknown()));
    return json(relayed.status, relayed.body ?? {});
  } catch (error) {
    if (error instanceof SessionEndedError) {
      return { ...refuse(401, 'signed_out', 'The sign-in has ended'), cookies: [cookies.clearSession()] };
    }
    if (error instanceof ServiceError && error.expose) {
      return refuse(httpStatusOf(error), error.code, error.message);
    }
    logger.error('wallet passkey relay failed', error instanceof Error ? error : String(error));
    return refuse(502, 'holder_api_unavailable', 'The passkey could not be added');
  }
}

/**
 * `POST /wallet/licences/{id}/presentations`: the page script's refresh. JSON in and out, never a page
 * or a redirect (a `fetch` would follow it silently): 403 from another site, 401 `signed_out` or
 * `session_expired` (the script then offers, or makes, a new sign-in), the API's 400 and 404 as they
 * are, otherwise `{ svg, expiresAt, expiresIn }`. The QR text itself is not sent: the picture is all the
 * page needs.
 */
async function refresh(event: HttpEvent): Promise<HttpResult> {
  const deps = dependencies();
  const cookies = new WalletCookies(deps.cookieSealer, secure());
  const requestId = event.requestContext?.requestId;
  const refuse = (status: number, code: string, detail: string, headers: Record<string, string> = {}) =>
    problem(
      { status, code, title: code.replaceAll('_', ' '), detail, ...(requestId ? { requestId } : {}) },
      headers,
    );
  try {
    if (!sameOrigin(event, deps.config.issuerUrl)) {
      return refuse(403, 'cross_site_request', 'Requests must come from this site’s own pages');
    }
    const found = await cookies.session(event, epochSeconds(deps.clock));
    if (!found) return refuse(401, 'signed_out', 'Not signed in to the wallet');
    if (!found.usable) return refuse(401, 'session_expired', 'The wallet sign-in needs renewing');
    const { disclose } = parseJsonBody(event, refreshBody);
    const presentation = await new HolderApi(deps.config.issuerUrl, found.session.accessToken).present(
      event.pathParameters?.id ?? '',
      { disclose, ttlSeconds: walletPresentationSeconds },
    );
    const expiresIn = Math.max(0, Math.floor((Date.parse(presentation.expiresAt) - deps.clock.now()) / 1000));
    return json(200, { svg: presentation.svg, expiresAt: presentation.expiresAt, expiresIn });
  } catch (error) {
    if (error instanceof SessionEndedError) {
      const answer = refuse(401, 'signed_out', 'The sign-in has ended');
      return { ...answer, cookies: [cookies.clearSession()] };
    }
    if (error instanceof ServiceError && error.expose) {
      return problem({
        status: httpStatusOf(error),
        code: error.code,
        title: error.code.replaceAll('_', ' '),
        detail: error.message,
        errors: error.errors,
        ...(requestId ? { requestId } : {}),
      });
    }
    logger.error('wallet refresh failed', error instanceof Error ? error : String(error));
    return refuse(
      error instanceof ServiceError ? httpStatusOf(error) : 500,
      'server_error',
      'The QR code could not be made',
    );
  }
}

/** The appointment form as posted: strings, checked here and by the API, each error naming its field. */
const appointForm = z.strictObject({
  idNumber: z.string().max(64).default(''),
  name: z.string().max(100).default(''),
  scope: z
    .array(z.string().max(40))
    .max(agentScopes.length * 2)
    .default([]),
  expiresAt: z.string().max(40).default(''),
});

/** The withdrawal's form: the box ticked (`confirm=yes`); absent is asked again, not refused. */
const withdrawForm = z.strictObject({ confirm: z.literal('yes').optional() });

/**
 * The appointment form again after its schema refused it: the name, scopes and day as posted (never the
 * ID number, which is typed again), each refused field's message at it.
 */
function appointRefused(refused: ShownRefusal): Pick<AgentsPageState, 'values' | 'errors'> {
  const text = (name: string) => {
    const value = refused.fields[name];
    return typeof value === 'string' ? value : undefined;
  };
  const scope = refused.fields.scope;
  return {
    values: {
      ...(text('name') === undefined ? {} : { name: text('name') }),
      ...(scope === undefined ? {} : { scope: Array.isArray(scope) ? scope : [scope] }),
      ...(text('expiresAt') === undefined ? {} : { expiresAt: text('expiresAt') }),
    },
    errors: refused.errors.map(({ field, message }) => ({
      ...((appointFields as readonly string[]).includes(field) ? { field: field as AppointField } : {}),
      message,
    })),
  };
}

/** A day's date `days` from `now` in China (`YYYY-MM-DD`), for the form's default and bounds. */
const chinaDate = (now: number, days = 0) => calendarDate(new Date(now + days * 86_400_000).toISOString());

/**
 * `/wallet/agents` (经办人): an enterprise's legal representative, signed in for it, lists its agents,
 * appoints one (the form posts here) and withdraws one (a confirmation at `…/{agentId}/withdraw`, whose
 * form posts there); all through `/me/entities/{creditCode}/agents` with the session's token, which
 * decides who may (the representative, at level 3). Anyone else sees what they were appointed to; a
 * personal sign-in is asked to sign in for the enterprise. Posts from another site are refused before
 * anything is read (`parseForm`).
 */
async function agents(event: HttpEvent, context: PageContext): Promise<HttpResult> {
  const deps = dependencies();
  const cookies = new WalletCookies(deps.cookieSealer, secure());
  const now = epochSeconds(deps.clock);
  const { t } = context;
  const method = event.requestContext.http.method;
  const withdrawing = served.is(
    event,
    'GET /wallet/agents/{agentId}/withdraw',
    'POST /wallet/agents/{agentId}/withdraw',
  );
  const appointing = method === 'POST' && !withdrawing;
  // A form its schema refuses (a name too long, a field not UTF-8 text) is shown again, not an error page.
  let refused: ShownRefusal | undefined;
  let posted: z.output<typeof appointForm> | z.output<typeof withdrawForm> | undefined;
  try {
    posted = appointing
      ? parseForm(event, deps.config.issuerUrl, appointForm, appointFieldLabels)
      : method === 'POST'
        ? parseForm(event, deps.config.issuerUrl, withdrawForm, withdrawLabels)
        : undefined;
  } catch (error) {
    refused = shownRefusal(error, event, t);
  }
  const show = (status: number, body: SafeHtml, pageTitle = t('经办人', 'Agents')) =>
    htmlPage(status, renderPage({ ...context, section: 'wallet', title: pageTitle, body }));
  const found = await cookies.session(event, now);
  // A post's sign-in is renewed back to the page, never replayed: the person submits again from there.
  const here = withdrawing && method === 'GET' ? currentPath(event) : '/wallet/agents';
  if (!found?.usable) return redirect(signInUrl(here, Boolean(found?.session.entity)));
  const { session } = found;
  const api = new AgentsApi(deps.config.issuerUrl, session.accessToken);
  const asEntity = signInUrl('/wallet/agents', true);
  const stepUp = () => show(403, agentsStepUpBody(t, stepUpHref('/wallet/agents', { entity: true })));
  try {
    // A personal sign-in carries no `entity` scope: the API would refuse it. Say how to get one.
    if (!session.entity) {
      return show(200, agentsNotRepresentativeBody(t, { appointments: [], signInAsEntity: asEntity }));
    }
    const entity = session.entity;
    const authorities = await api.authorities();
    if (authorities.find((a) => a.creditCode === entity.creditCode)?.role !== 'legal_representative') {
      return show(
        method === 'GET' ? 200 : 403,
        agentsNotRepresentativeBody(t, { entity, appointments: authorities, signInAsEntity: asEntity }),
      );
    }
    const page = async (status: number, extra: Partial<AgentsPageState> = {}) =>
      show(
        status,
        agentsBody(t, {
          entity,
          agents: await api.list(entity.creditCode),
          defaultExpiry: chinaDate(deps.clock.now(), 365),
          latestExpiry: chinaDate(deps.clock.now(), 3 * 365),
          ...extra,
        }),
        extra.errors?.length ? `${t('错误：', 'Error: ')}${t('经办人', 'Agents')}` : undefined,
      );
    if (withdrawing) {
      const agentId = event.pathParameters?.agentId ?? '';
      const agent = (await api.list(entity.creditCode)).find((a) => a.agentId === agentId && withdrawable(a));
      if (!agent) return redirect('/wallet/agents');
      const confirmTitle = t('撤销委托', 'Withdraw the appointment');
      if (method === 'GET') return show(200, withdrawConfirmBody(t, agent), confirmTitle);
      if (refused || (posted as z.output<typeof withdrawForm>).confirm !== 'yes') {
        return show(
          400,
          withdrawConfirmBody(t, agent, { unconfirmed: true }),
          `${t('错误：', 'Error: ')}${confirmTitle}`,
        );
      }
      await api.withdraw(entity.creditCode, agentId);
      return redirect('/wallet/agents?withdrawn=1');
    }
    if (!appointing) {
      const query = new URLSearchParams(event.rawQueryString ?? '');
      return await page(200, { appointed: query.has('appointed'), withdrawn: query.has('withdrawn') });
    }
    if (refused) return await page(400, appointRefused(refused));
    const form = posted as z.output<typeof appointForm>;
    const { errors, expiresOn } = readAppointForm(t, form);
    // A day typed unreadable is shown again as typed, to correct; a readable one as it was read.
    const values = { name: form.name, scope: form.scope, expiresAt: expiresOn ?? form.expiresAt };
    if (errors.length > 0 || !expiresOn) return await page(400, { values, errors });
    try {
      await api.appoint(entity.creditCode, {
        idNumber: form.idNumber.trim(),
        name: form.name.trim(),
        scope: form.scope as AgentScope[],
        // Through the whole of the chosen day in China, as a licence (shared/validity-dates.ts): the
        // exclusive end, 00:00 Beijing time of the next day.
        expiresAt: validUntilAfter(expiresOn),
      });
    } catch (error) {
      if (!(error instanceof AgentsRefusedError) || error.status === 403) throw error;
      return await page(400, { values, errors: appointRefusal(t, error.status, error.problem) });
    }
    return redirect('/wallet/agents?appointed=1');
  } catch (error) {
    if (error instanceof AgentsRefusedError && error.problem.code === 'insufficient_assurance')
      return stepUp();
    if (error instanceof AgentsRefusedError && error.status === 403) {
      // No longer the representative (the registry changed) since the page was shown: say so.
      const appointments = await api.authorities().catch(() => []);
      const body = agentsNotRepresentativeBody(t, {
        ...(session.entity ? { entity: session.entity } : {}),
        appointments,
        signInAsEntity: asEntity,
      });
      return show(403, body);
    }
    // The appointment was withdrawn meanwhile (another window): what the person asked for.
    if (error instanceof AgentsRefusedError && error.problem.code === 'agent_not_found') {
      return redirect('/wallet/agents?withdrawn=1');
    }
    if (error instanceof SessionEndedError) {
      return htmlPage(
        200,
        renderPage({
          ...context,
          section: 'wallet',
          title: t('我的证照', 'My licences'),
          body: signedOutBody(t, true),
        }),
        [cookies.clearSession()],
      );
    }
    throw error;
  }
}

const scanDecision = z.strictObject({ decision: z.enum(['confirm', 'cancel']) });

/**
 * `/scan-login/{code}` (扫码登录): the request of a sign-in page, as the wallet shows it (which platform,
 * which browser, when), and its answer, 确认登录 or 取消, posted from this page with the wallet session.
 * The person must be signed in to the wallet at level 3 (as the API sees their token); below it they are
 * told to step up. Nothing completes without the posted confirmation: opening the link only shows it.
 */
async function scanLogin(event: HttpEvent, context: PageContext): Promise<HttpResult> {
  const deps = dependencies();
  const cookies = new WalletCookies(deps.cookieSealer, secure());
  const now = epochSeconds(deps.clock);
  const { t } = context;
  const code = event.pathParameters?.code ?? '';
  const here = `/scan-login/${code}`;
  const show = (status: number, body: SafeHtml) =>
    htmlPage(
      status,
      renderPage({ ...context, section: 'wallet', title: t('扫码登录确认', 'Confirm the sign-in'), body }),
    );
  // A post from another site is refused before anything else is read.
  const decision =
    event.requestContext.http.method === 'POST'
      ? parseForm(event, deps.config.issuerUrl, scanDecision, scanDecisionLabels).decision
      : undefined;
  const found = await cookies.session(event, now);
  if (!found?.usable) return redirect(signInUrl(here, Boolean(found?.session.entity)));
  const approver = await approverOf(found.session, deps);
  if (!approver) return redirect(signInUrl(here, Boolean(found.session.entity)), [cookies.clearSession()]);
  if (approver.level < 3) {
    return show(403, scanStepUpBody(t, stepUpHref(here)));
  }
  const scan = new ScanLogins(deps.scanLogins, deps.clock, deps.config.scanLoginSeconds);
  // The platform asked for a more recent sign-in than this wallet's: a sign-in made now, then back here.
  const signInAgain = () =>
    show(
      403,
      scanSignInAgainBody(
        t,
        `/wallet/login?${new URLSearchParams({
          ...(found.session.entity ? { as: 'entity' } : {}),
          acr: '3',
          fresh: '1',
          returnTo: here,
        }).toString()}`,
      ),
    );
  try {
    if (decision === undefined) {
      const request = await scan.pending(code, approver.personId);
      if (!recentEnough(request.recency, request.shownAt, approver.authTime, now)) return signInAgain();
      return show(
        200,
        scanConfirmBody(
          t,
          {
            code,
            clientName: clientDisplayName(request.clientId, request.clientName, t),
            userAgent: request.browser.userAgent,
            ...(request.browser.address ? { address: request.browser.address } : {}),
            shownAt: new Date(request.shownAt * 1000).toISOString(),
          },
          approver.name,
        ),
      );
    }
    const answered =
      decision === 'confirm'
        ? await scan.confirm(code, approver.personId, approver.authTime, approver.accountVersion)
        : await scan.cancel(code, approver.personId);
    logger.info('scan-to-login answered in the wallet', { decision, clientId: answered.clientId });
    return show(
      200,
      scanAnsweredBody(t, decision, clientDisplayName(answered.clientId, answered.clientName, t)),
    );
  } catch (error) {
    const problem = scanLoginProblemOf(error);
    if (!problem || !(error instanceof ServiceError)) throw error;
    if (problem === 'stale') return signInAgain();
    return show(httpStatusOf(error), scanWalletProblemBody(t, problem));
  }
}
