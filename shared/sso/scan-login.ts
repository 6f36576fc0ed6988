import { createHmac, timingSafeEqual } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type Provider from 'oidc-provider';
import * as z from 'zod';
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import { epochSeconds, type Clock } from '../clock.js';
import { ServiceError } from '../errors.js';
import { httpStatusOf } from '../http/error-mapping.js';
import { acrOf } from '../identity/assurance.js';
import type { IdentityDirectory } from '../identity/identity-directory.js';
import type { ScanLogins } from '../identity/scan-login.js';
import {
  codeOfSignIn,
  recencyAsked,
  recentEnough,
  scanLoginError,
  scanLoginProblemOf,
} from '../identity/scan-login.js';
import { renderQrSvg } from '../licence/qr.js';
import { logger } from '../logger.js';
import { approximateAddress, userAgentSummary } from '../web/kit/browser-summary.js';
import { cookieName, serializeCookie, servedOverHttps } from '../web/kit/cookies.js';
import type { SafeHtml } from '../web/kit/html.js';
import type { PageScripts, PageView } from '../web/pages/interaction-html.js';
import {
  scanCompleteLabels,
  scanLoginSection,
  scanProblemPage,
  scanWaitingPage,
  scanWhoPage,
  type ShownScanCode,
} from '../web/pages/scan-login-pages.js';
import { maskPersonName } from '../identifiers/person-name.js';
import { clientDisplayName } from '../identifiers/client-ids.js';

type InteractionDetails = Awaited<ReturnType<Provider['interactionDetails']>>;
type Person = NonNullable<Awaited<ReturnType<IdentityDirectory['findPerson']>>>;

/**
 * The showing browser's answer to "sign in as 王*明?", and `shown`: which code and person that page named
 * ({@link ScanLoginInteractions#shownTag}), so that the answer is to what the person read (review R41 L1).
 */
const scanCompleteForm = z.object({
  decision: z.enum(['continue', 'not_me']),
  shown: z
    .string()
    .regex(/^[A-Za-z0-9_-]{43}$/)
    .optional(),
});

/**
 * How a sign-in completed by scan-to-login is described in `amr`: `mca`, RFC 8176's "multiple-channel
 * authentication" (the sign-in involves more than one distinct channel: the browser shows the code, and a
 * second device, holding a wallet session at level 3, approves). The level comes from that wallet session
 * (`acr` `urn:elicence:loa:3`); `amr` says how this sign-in was made.
 */
export const scanLoginAmr = ['mca'] as const;

/**
 * The cookie binding a shown code to the browser that showed it: `<code>.<binding>.<mac>`, HttpOnly. The
 * MAC (HMAC-SHA256 under `scanLoginCookieKey`) covers the code, the binding and the interaction's uid, so
 * the service stores a code only from a cookie it set for that sign-in: a code read off someone else's
 * page (its link names it) cannot be claimed by another browser before its own page's QR fetch stores it.
 */
const cookieBase = 'scan-login';
/** Bound into every cookie's MAC: a new format gets a new label. */
const cookieMacLabel = 'elicence/scan-login-cookie/v1';
/**
 * Bound into the "sign in as 王*明?" page's tag, made with the same key as the cookie's MAC: the label
 * keeps one from ever standing for the other.
 */
const shownTagLabel = 'elicence/scan-login-shown/v1';
/** The cookie outlives the code, so that a late reload is told "expired" rather than "another browser". */
const cookieSeconds = 3600;
/**
 * A code shown again keeps its place only with this much time left (or a quarter of its lifetime, if
 * shorter); otherwise a new one is made.
 */
const keepSeconds = 30;
/** How often the held request looks at the code again. */
const pollMilliseconds = 1000;
const cookieValue = /^([A-Za-z0-9_-]{43})\.([A-Za-z0-9_-]{43})\.([A-Za-z0-9_-]{43})$/;

/** The sign-in page's step as the interaction routes pass it. */
export interface ScanLoginStep {
  uid: string;
  clientId: string;
  clientName: string;
}

/**
 * The provider side of scan-to-login (扫码登录): the sign-in page shows a fresh code (QR code and link)
 * and binds it to the browser with a cookie; `GET /interaction/{uid}/scan` is the waiting page (a long
 * poll), which once the wallet has confirmed names whom it would sign in as, and `POST` there completes
 * the sign-in, for the person who confirmed, at level 3, dated as their wallet's sign-in. The wallet side
 * is `functions/wallet.ts` (`/scan-login/{code}`).
 */
export class ScanLoginInteractions {
  readonly #scan: ScanLogins;
  readonly #secure: boolean;
  readonly #cookie: string;
  readonly #cookieKey: Buffer;

  constructor(
    private readonly deps: {
      scan: ScanLogins;
      issuerUrl: string;
      directory: IdentityDirectory;
      clock: Clock;
      /** How long the waiting page holds its request open for the wallet's answer (a long poll). */
      waitSeconds: number;
      /** The key of the cookie's MAC (`scanLoginCookieKey`, shared/sso/derived-secrets.ts), 32 bytes. */
      cookieKey: Uint8Array;
    },
  ) {
    if (deps.cookieKey.byteLength < 32) throw new Error('the scan-to-login cookie key needs 32 bytes');
    this.#cookieKey = Buffer.from(deps.cookieKey);
    this.#scan = deps.scan;
    this.#secure = servedOverHttps(deps.issuerUrl);
    this.#cookie = cookieName(cookieBase, this.#secure);
  }

  /** The link a wallet opens: `ISSUER_URL/scan-login/<code>`. */
  urlOf(code: string): string {
    return `${this.deps.issuerUrl}/scan-login/${code}`;
  }

  /**
   * The sign-in page's section, and its code's cookie set on the answer; nothing when no code can be
   * shown (the page then offers the password alone, and the fault is logged). A new code is stored
   * nowhere yet: the page's QR image is `GET /interaction/{uid}/qr` ({@link qr}), which stores it, so a
   * sign-in page makes no table write for scan-to-login unless its QR code is fetched.
   */
  async section(ctx: KoaContextWithOIDC, view: PageView, step: ScanLoginStep): Promise<SafeHtml | undefined> {
    try {
      // The same page shown again (a language switch, a reload) keeps its code while it has time left.
      const kept = await this.#stillShowable(ctx, step.uid);
      if (kept) return scanLoginSection(view, await this.#shown(step.uid, kept.code, kept.expiresAt));
      const { code, binding } = this.#scan.fresh(step.uid);
      ctx.append(
        'set-cookie',
        serializeCookie(this.#cookie, `${code}.${binding}.${this.#macOf(step.uid, code, binding)}`, {
          secure: this.#secure,
          maxAge: cookieSeconds,
        }),
      );
      return scanLoginSection(view, {
        uid: step.uid,
        url: this.urlOf(code),
        qrSrc: `/interaction/${step.uid}/qr`,
        expiresIn: this.#scan.lifetimeSeconds,
        lifetimeSeconds: this.#scan.lifetimeSeconds,
      });
    } catch (error) {
      logger.error('scan-to-login code not made', error instanceof Error ? error : String(error));
      return undefined;
    }
  }

  /**
   * `GET /interaction/{uid}/qr`: the QR code of this browser's code (its cookie) for this sign-in (its
   * interaction cookie), as an SVG image; the code is stored now, its lifetime starting now, with the
   * platform and browser the wallet will show, in the sign-in's one record (replacing an earlier code of
   * the same sign-in). Fetched again, the stored code is shown as it is.
   */
  async qr(ctx: KoaContextWithOIDC, provider: Provider): Promise<void> {
    const { details, held } = await this.#signInStep(ctx, provider);
    ctx.set('cache-control', 'no-store');
    try {
      // Only a code this service issued to this browser for this sign-in is stored (the cookie's MAC).
      if (!held) throw scanLoginError('other_browser');
      const { code, binding } = held;
      const clientId = String(details.params.client_id);
      const client = await provider.Client.find(clientId);
      await this.#scan.store({
        code,
        binding,
        interactionUid: details.uid,
        clientId,
        clientName: String(client?.clientName ?? clientId),
        browser: {
          userAgent: userAgentSummary(ctx.get('user-agent')),
          ...optional('address', approximateAddress(ctx.req.socket.remoteAddress)),
        },
        recency: recencyAsked(details.params, details.iat),
      });
      ctx.status = 200;
      ctx.type = 'image/svg+xml';
      ctx.body = await renderQrSvg(this.urlOf(code));
    } catch (error) {
      const problem = scanLoginProblemOf(error);
      if (!problem) throw error;
      logger.info('scan-to-login QR code refused', { problem });
      ctx.status = error instanceof ServiceError ? httpStatusOf(error) : 400;
      ctx.type = 'text/plain; charset=utf-8';
      ctx.body = scanLoginError(problem).message;
    }
  }

  /**
   * `GET /interaction/{uid}/scan`, a long poll: the request is held open (checking once a second) for up
   * to `waitSeconds` until the wallet has answered. Still waiting, the page offers to wait again;
   * confirmed, it names whom the browser would be signed in as (the name masked) and asks the person to
   * continue or say "not me" ({@link complete}): someone else's wallet may have confirmed the code first
   * (review R39 L1). A code that expired, was used, was refused, or was shown in another browser gets a
   * clear page; so does one confirmed by a wallet whose sign-in is older than the platform accepts.
   */
  async wait(
    ctx: KoaContextWithOIDC,
    provider: Provider,
    view: PageView,
    send: (status: number, body: string, options?: { scripts?: PageScripts }) => void,
  ): Promise<void> {
    const { details, held } = await this.#signInStep(ctx, provider);
    try {
      if (!held) throw scanLoginError('other_browser');
      const own = { ...held, interactionUid: details.uid };
      const deadline = this.deps.clock.now() + this.deps.waitSeconds * 1000;
      let outcome = await this.#scan.peek(own);
      while (outcome.state === 'pending' && this.deps.clock.now() + pollMilliseconds <= deadline) {
        await sleep(pollMilliseconds);
        outcome = await this.#scan.peek(own);
      }
      if (outcome.state === 'pending') {
        return send(
          200,
          scanWaitingPage(view, await this.#shown(details.uid, held.code, outcome.expiresAt)),
          // The code's countdown (review R62-4).
          { scripts: 'self' },
        );
      }
      await this.#refuseStale(details, outcome, own);
      return send(200, await this.#whoPage(provider, view, details, held.code, outcome.personId, false));
    } catch (error) {
      return this.#problem(error, view, details.uid, send);
    }
  }

  /**
   * `POST /interaction/{uid}/scan`, the answer to "sign in as 王*明?": `decision=continue` completes the
   * sign-in for the person whose wallet confirmed, at level 3, as the sign-in that wallet made (`ts`, its
   * `auth_time`: review R39 M1), and the code is used up; `decision=not_me` abandons the code, which then
   * completes nothing. Only this browser (its interaction cookie, its code's cookie) can answer, and only
   * from this origin (a cross-site post is refused, as the wallet's forms refuse one).
   *
   * `continue` answers the page that asked: its `shown` must name the code this browser holds now and the
   * person who confirmed it. A page left open while its code ran out and a later code of the sign-in was
   * confirmed (by someone else, perhaps) names another code: the browser is asked again, the page naming
   * whoever confirmed the code it holds now (409), and nothing completes (review R41 L1).
   */
  async complete(
    ctx: KoaContextWithOIDC,
    provider: Provider,
    view: PageView,
    form: URLSearchParams,
    send: (status: number, body: string, options?: { scripts?: PageScripts }) => void,
  ): Promise<void> {
    // As the wallet's forms (`sameOrigin`, web/kit/form.ts): where the browser sends Sec-Fetch-Site, it
    // decides (under `Referrer-Policy: no-referrer` a form post's Origin is "null"); otherwise an Origin
    // sent must be ours. The interaction and code cookies (SameSite=Lax) are not sent cross-site either.
    const site = ctx.get('sec-fetch-site');
    const origin = ctx.get('origin');
    const ours = site
      ? site === 'same-origin' || site === 'none'
      : !origin || origin === new URL(this.deps.issuerUrl).origin;
    if (!ours) throw new errors.InvalidRequest('cross-site form posts are refused');
    const parsed = scanCompleteForm.safeParse(Object.fromEntries(form));
    if (!parsed.success) {
      const field = parsed.error.issues[0]?.path[0];
      throw new errors.InvalidRequest(
        field === 'shown'
          ? 'shown: not the tag of a "sign in as" page (reload the page)'
          : `decision: ${scanCompleteLabels.decision(view.t)} (continue or not_me)`,
      );
    }
    const { details, held } = await this.#signInStep(ctx, provider);
    try {
      if (!held) throw scanLoginError('other_browser');
      const own = { ...held, interactionUid: details.uid };
      if (parsed.data.decision === 'not_me') {
        await this.#scan.disown(own);
        ctx.append('set-cookie', serializeCookie(this.#cookie, '', { secure: this.#secure, maxAge: 0 }));
        logger.info('scan-to-login disowned in the showing browser', { clientId: details.params.client_id });
        throw scanLoginError('disowned');
      }
      const looked = await this.#scan.peek(own);
      if (looked.state === 'pending') {
        return send(200, scanWaitingPage(view, await this.#shown(details.uid, held.code, looked.expiresAt)), {
          scripts: 'self',
        });
      }
      await this.#refuseStale(details, looked, own);
      const tag = this.#shownTag(details.uid, held.code, looked.personId);
      if (!sameTag(parsed.data.shown, tag)) {
        logger.info('scan-to-login answer was to another code or person: asked again', {
          clientId: details.params.client_id,
        });
        return send(409, await this.#whoPage(provider, view, details, held.code, looked.personId, true));
      }
      const outcome = await this.#scan.redeem(own);
      // The code is the one peeked at, and a confirmed code's person never changes: this only restates it.
      if (outcome.state !== 'confirmed' || outcome.personId !== looked.personId) throw scanLoginError('used');
      const person = await this.#personAtLevel3(outcome.personId);
      ctx.append('set-cookie', serializeCookie(this.#cookie, '', { secure: this.#secure, maxAge: 0 }));
      logger.info('scan-to-login completed', { clientId: details.params.client_id });
      await provider.interactionFinished(
        ctx.req,
        ctx.res,
        {
          login: {
            accountId: person.id,
            // The sign-in is the confirming wallet's, made then, not now: the ID token's `auth_time` says
            // so, and a platform's `max_age` or a `requireFreshSignIn` reads it truly.
            ts: outcome.authTime,
            // The version of the account the wallet's confirmation read (review R47 F2): a takeover or a
            // reset saved since ends this sign-in at the resume (find-account.ts), even in the second of
            // the confirmation, which its time alone would let through.
            ...(outcome.accountVersion !== undefined && { version: outcome.accountVersion }),
            acr: acrOf(3),
            amr: [...scanLoginAmr],
          },
        },
        { mergeWithLastSubmission: false },
      );
    } catch (error) {
      return this.#problem(error, view, details.uid, send);
    }
  }

  /**
   * "Sign in as 王*明?" for the code `code` this browser holds, confirmed by `personId`: the name masked,
   * the platform's name, and the tag of both in a hidden field. `changed`: asked again, because an answer
   * came from a page naming another code or person.
   */
  async #whoPage(
    provider: Provider,
    view: PageView,
    details: InteractionDetails,
    code: string,
    personId: string,
    changed: boolean,
  ): Promise<string> {
    const person = await this.#personAtLevel3(personId);
    const client = await provider.Client.find(String(details.params.client_id));
    const clientName = clientDisplayName(
      String(details.params.client_id),
      client?.clientName === undefined ? undefined : String(client.clientName),
      view.t,
    );
    return scanWhoPage(view, {
      uid: details.uid,
      maskedName: maskPersonName(person.name),
      clientName,
      shown: this.#shownTag(details.uid, code, personId),
      changed,
    });
  }

  /**
   * The tag of a "sign in as 王*明?" page: HMAC-SHA256, under the cookie's key with its own label, over
   * the sign-in, the code and the person who confirmed it. It says nothing of either (the person's id is
   * not in the page), and a page's answer completes only the code and person it names.
   */
  #shownTag(uid: string, code: string, personId: string): string {
    return createHmac('sha256', this.#cookieKey)
      .update(`${shownTagLabel}\n${uid}\n${code}\n${personId}`)
      .digest('base64url');
  }

  /**
   * A code confirmed by a wallet whose sign-in is older than the platform accepts is refused, and
   * abandoned: `max_age` (seconds since that sign-in) and `prompt=login` (a sign-in made once the sign-in
   * request began: the interaction's `iat`, review R41 L2). The provider's own checks would not see it: a
   * login result of this interaction passes them whatever its `ts`.
   */
  async #refuseStale(
    details: InteractionDetails,
    approval: { authTime: number; shownAt: number },
    own: { code: string; binding: string; interactionUid: string },
  ): Promise<void> {
    const now = epochSeconds(this.deps.clock);
    const recency = recencyAsked(details.params, details.iat);
    if (recentEnough(recency, approval.shownAt, approval.authTime, now)) return;
    await this.#scan.disown(own);
    logger.info('scan-to-login refused: the wallet sign-in is not recent enough', {
      clientId: details.params.client_id,
    });
    throw scanLoginError('stale');
  }

  /**
   * The person who confirmed, still at level 3: an account since lowered or gone signs in no one. The
   * account's own level counts (not the password's): the wallet's confirmation is the possession factor,
   * so an account raised by an SMS code (possession-verified) signs in at level 3 here too.
   */
  async #personAtLevel3(personId: string): Promise<Person> {
    const person = await this.deps.directory.findPerson(personId);
    if (!person || (person.accountAcr ?? person.acr) !== acrOf(3)) throw scanLoginError('unknown');
    return person;
  }

  #problem(error: unknown, view: PageView, uid: string, send: (status: number, body: string) => void): void {
    const problem = scanLoginProblemOf(error);
    if (!problem) throw error;
    logger.info('scan-to-login refused', { problem });
    send(error instanceof ServiceError ? httpStatusOf(error) : 400, scanProblemPage(view, uid, problem));
  }

  /** This browser's code for this sign-in, if still waiting with at least {@link keepSeconds} left. */
  async #stillShowable(
    ctx: KoaContextWithOIDC,
    uid: string,
  ): Promise<{ code: string; expiresAt: number } | undefined> {
    const held = this.#held(ctx, uid);
    if (!held) return undefined;
    const { code, binding } = held;
    const outcome = await this.#scan.peek({ code, binding, interactionUid: uid }).catch((error: unknown) => {
      if (scanLoginProblemOf(error)) return undefined;
      throw error;
    });
    const enough =
      epochSeconds(this.deps.clock) + Math.min(keepSeconds, Math.floor(this.#scan.lifetimeSeconds / 4));
    // A confirmed code is kept whatever its time left: the next "continue" completes it.
    const keep = outcome && (outcome.state === 'confirmed' || outcome.expiresAt >= enough);
    return keep ? { code, expiresAt: outcome.expiresAt } : undefined;
  }

  /** The MAC of the cookie naming `code` and `binding` for the sign-in `uid`. */
  #macOf(uid: string, code: string, binding: string): string {
    return createHmac('sha256', this.#cookieKey)
      .update(`${cookieMacLabel}\n${uid}\n${code}\n${binding}`)
      .digest('base64url');
  }

  /**
   * This browser's sign-in step (the provider finds the interaction by this browser's interaction cookie,
   * and refuses another's; only a sign-in step is answered) and the code it holds for it ({@link #held}).
   */
  async #signInStep(
    ctx: KoaContextWithOIDC,
    provider: Provider,
  ): Promise<{ details: InteractionDetails; held: { code: string; binding: string } | undefined }> {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    if (details.prompt.name !== 'login') throw new errors.InvalidRequest('not a sign-in step');
    return { details, held: this.#held(ctx, details.uid) };
  }

  /**
   * This browser's code and binding for the sign-in `uid`, from its cookie: only as this service set it
   * for that sign-in (the MAC checked in constant time) and only a code of that sign-in's slot (so that a
   * sign-in stores one record, whatever it is shown); nothing for a cookie altered, made up, of an older
   * format or set for another sign-in.
   */
  #held(ctx: KoaContextWithOIDC, uid: string): { code: string; binding: string } | undefined {
    const held = cookieValue.exec(ctx.cookies.get(this.#cookie, { signed: false }) ?? '');
    if (!held) return undefined;
    const [, code = '', binding = '', mac = ''] = held;
    const expected = Buffer.from(this.#macOf(uid, code, binding));
    const given = Buffer.from(mac);
    return given.length === expected.length && timingSafeEqual(given, expected) && codeOfSignIn(code, uid)
      ? { code, binding }
      : undefined;
  }

  /** A code already stored, its QR code in the page (no further request). */
  async #shown(uid: string, code: string, expiresAt: number): Promise<ShownScanCode> {
    const url = this.urlOf(code);
    const svg = await renderQrSvg(url);
    return {
      uid,
      url,
      qrSrc: `data:image/svg+xml;base64,${Buffer.from(svg, 'utf8').toString('base64')}`,
      expiresIn: Math.max(0, expiresAt - epochSeconds(this.deps.clock)),
      lifetimeSeconds: this.#scan.lifetimeSeconds,
    };
  }
}

/** Whether the page's `given` tag is `expected` (constant time); no tag is no match. */
function sameTag(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function optional<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}
