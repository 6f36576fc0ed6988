import * as z from 'zod';
import { epochSeconds } from '../shared/clock.js';
import { composition } from './composition/dependencies.js';
import { routesOf } from './dispatch.js';
import { cookieSealer, kms, pageClientSecrets, webMac } from './composition/factories.js';
import { ServiceError } from '../shared/errors.js';
import { logger } from '../shared/logger.js';
import type { HttpEvent, HttpResult } from '../shared/http/types.js';
import { servedOverHttps } from '../shared/web/kit/cookies.js';
import { SealedCookie, type CookieSealer } from '../shared/web/kit/sealed-cookie.js';
import {
  demoClientId,
  demoLoginCookie,
  demoLoginSeconds,
  demoSession,
  demoSessionCookie,
  demoSessionSeconds,
  idTokenClaims,
  requestedScope,
} from '../shared/web/demo/demo-session.js';
import { parseForm } from '../shared/web/kit/form.js';
import { htmlPage, redirect, renderPage } from '../shared/web/kit/layout.js';
import { demoSignedInBody, demoSignedOutBody } from '../shared/web/pages/demo-page.js';
import { demoBusinessBody, demoBusinessStart } from '../shared/web/pages/demo-business-page.js';
import { demoBusinessDetails, readAndVerify } from '../shared/web/demo/demo-business.js';
import { html } from '../shared/web/kit/html.js';
import { pendingLogin, RelyingParty } from '../shared/web/relying-party.js';
import { webHandler, type PageContext } from '../shared/web/web-handler.js';

/** What this function's handler uses, built once per container. */
const dependencies = composition({ kms, webMac, secrets: pageClientSecrets, cookieSealer });

const secure = () => servedOverHttps(dependencies().config.issuerUrl);
const served = routesOf('demo-platform');

/**
 * The sign-in under way, the scopes it asked for (to show them once signed in), and whether it is the
 * 办理业务 example (which asked to read a driving licence).
 */
const pendingDemoLogin = z.strictObject({
  pending: pendingLogin,
  scope: z.string().max(200),
  business: z.boolean().optional(),
});

const relyingParties = new Map<string, RelyingParty>();

/** The demo platform's two sealed cookies: its session, and the sign-in under way. */
function demoCookies(sealer: CookieSealer) {
  return {
    session: new SealedCookie(sealer, demoSessionCookie, demoSession, demoSessionSeconds, secure()),
    login: new SealedCookie(sealer, demoLoginCookie, pendingDemoLogin, demoLoginSeconds, secure()),
  };
}

/**
 * The demo platform plays a separate platform that happens to run in this service: an ordinary,
 * not first-party client of the provider, with its own (derived) secret, so its visitors see the
 * consent page and it receives a pairwise `sub` like any other platform.
 */
function relyingParty(): RelyingParty {
  const { config, secrets } = dependencies();
  let rp = relyingParties.get(config.issuerUrl);
  if (!rp) {
    rp = new RelyingParty({
      issuerUrl: config.issuerUrl,
      clientId: demoClientId,
      clientSecret: () => secrets.secretFor(demoClientId),
      redirectUri: `${config.issuerUrl}/demo/callback`,
    });
    relyingParties.set(config.issuerUrl, rp);
  }
  return rp;
}

/**
 * The demo relying platform: `/demo` (signed out: choose scopes and sign in; signed in: what it
 * received), `/demo/login` → the provider, `/demo/callback` → back, `/demo/logout` → RP-initiated
 * logout. Server-rendered, no JavaScript.
 */
export const handler = webHandler(
  'demo',
  async (event: HttpEvent, context: PageContext): Promise<HttpResult> => {
    const deps = dependencies();
    const now = epochSeconds(deps.clock);
    const cookies = demoCookies(deps.cookieSealer);
    const session = await cookies.session.read(event, now);
    const { t } = context;

    return served.dispatch(event, {
      'GET /demo': async () => {
        if (session) {
          return page(
            context,
            200,
            html`${demoSignedInBody(t, {
              idTokenClaims: idTokenClaims(session.idToken),
              userinfo: session.userinfo,
              scope: session.scope,
            })}
            ${demoBusinessStart(t)}`,
          );
        }
        const message =
          event.queryStringParameters?.m === 'signed-out'
            ? {
                kind: 'success' as const,
                text: t('您已退出本平台。', 'You have signed out of this platform.'),
              }
            : undefined;
        return page(context, 200, html`${demoSignedOutBody(t, message)} ${demoBusinessStart(t)}`);
      },
      'GET /demo/business': async () => {
        const scope = 'openid profile';
        const { url, pending } = await relyingParty().begin(scope, {
          authorization_details: demoBusinessDetails(),
          ...(context.lang === 'en' ? { ui_locales: 'en' } : {}),
        });
        return redirect(url, [await cookies.login.write({ pending, scope, business: true }, now)]);
      },
      'GET /demo/login': async () => {
        const scope = requestedScope(new URLSearchParams(event.rawQueryString ?? ''));
        const { url, pending } = await relyingParty().begin(
          scope,
          context.lang === 'en' ? { ui_locales: 'en' } : {},
        );
        return redirect(url, [await cookies.login.write({ pending, scope }, now)]);
      },
      'GET /demo/callback': async () => {
        const started = await cookies.login.read(event, now);
        const clearLogin = cookies.login.clear();
        let signedIn;
        try {
          signedIn = await relyingParty().finish(event, started?.pending);
        } catch (error) {
          if (error instanceof ServiceError && error.code === 'login_refused') {
            const body = demoSignedOutBody(t, {
              kind: 'error',
              text: t(
                '登录未完成：您取消了登录或拒绝了授权。',
                'Sign-in was not completed: it was cancelled or consent was refused.',
              ),
            });
            return htmlPage(
              400,
              renderPage({ ...context, section: 'demo', title: t('演示平台', 'Demo platform'), body }),
              [clearLogin],
            );
          }
          throw error;
        }
        const rp = relyingParty();
        const userinfo = await rp.userinfo(signedIn.accessToken, String(signedIn.claims.sub));
        const signedInCookie = await cookies.session.write(
          { idToken: signedIn.idToken, userinfo, scope: started?.scope ?? 'openid' },
          now,
        );
        if (started?.business) {
          // The platform reads the shared licence and verifies it itself; the access token then goes back
          // (the authorization stays, listed in the person's wallet, until it ends or is withdrawn).
          const outcome = await readAndVerify(
            deps.config.issuerUrl,
            signedIn.accessToken,
            signedIn.authorizationDetails,
          );
          await rp.revoke(signedIn.accessToken, 'access_token').catch((error: unknown) =>
            logger.warn('demo platform could not revoke its token', {
              error: error instanceof Error ? error.name : 'unknown',
            }),
          );
          return htmlPage(
            200,
            renderPage({
              ...context,
              section: 'demo',
              title: t('办理业务', 'Doing business'),
              body: demoBusinessBody(t, context.lang, outcome),
            }),
            [clearLogin, signedInCookie],
          );
        }
        // The platform has read what it needs: its tokens go back rather than sit unused until they expire.
        await Promise.all([
          rp.revoke(signedIn.accessToken, 'access_token'),
          ...(signedIn.refreshToken ? [rp.revoke(signedIn.refreshToken, 'refresh_token')] : []),
        ]).catch((error: unknown) =>
          logger.warn('demo platform could not revoke its tokens', {
            error: error instanceof Error ? error.name : 'unknown',
          }),
        );
        return redirect('/demo', [clearLogin, signedInCookie]);
      },
      'POST /demo/logout': async () => {
        // The form has no fields of its own: nothing for a refusal to name.
        parseForm(event, deps.config.issuerUrl, z.object({}), {});
        const clear = cookies.session.clear();
        if (!session) return redirect('/demo?m=signed-out', [clear]);
        const url = await relyingParty().endSessionUrl(`${deps.config.issuerUrl}/demo`);
        return redirect(url, [clear]);
      },
    });
  },
  served.edge,
);

function page(
  context: PageContext,
  statusCode: number,
  body: ReturnType<typeof demoSignedOutBody>,
): HttpResult {
  return htmlPage(
    statusCode,
    renderPage({ ...context, section: 'demo', title: context.t('演示平台', 'Demo platform'), body }),
  );
}
