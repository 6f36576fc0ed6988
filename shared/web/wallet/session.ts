import * as z from 'zod';
import type { HttpEvent } from '../../http/types.js';
import { cookieName } from '../kit/cookies.js';
import { pendingLogin, type PendingLogin } from '../relying-party.js';
import { SealedCookie, type CookieSealer } from '../kit/sealed-cookie.js';

/**
 * How long the wallet's cookie lives: as long as the provider's SSO session (8 h). The access token
 * inside expires much sooner (10 min by default); the cookie outlives it so that the wallet knows whom
 * to send back through sign-in, which the SSO session then answers with redirects and no form.
 */
export const walletSessionSeconds = 8 * 3600;

/** A sign-in left unfinished for longer than this is started again. */
export const pendingLoginSeconds = 10 * 60;

/**
 * An access token this close to its expiry is treated as expired: a page must still be able to make
 * its API calls with it, and the QR page's first refresh comes a while after the page.
 */
export const accessTokenMarginSeconds = 30;

/** The enterprise the person acts for, from the `entity` scope's claims (API.md). */
export const actingFor = z.strictObject({
  name: z.string().min(1).max(200),
  creditCode: z.string().min(1).max(18),
  /** The acting person's pairwise subject (`act.sub`). */
  actorSub: z.string().max(200).optional(),
});
export type ActingFor = z.output<typeof actingFor>;

/** What the wallet's sealed cookie holds: enough to call the holder API and to end the session. */
export const walletSession = z.strictObject({
  accessToken: z.string().min(1).max(2000),
  /** Epoch seconds. */
  accessTokenExpiresAt: z.int().nonnegative(),
  /** The sign-in's ID token as received; logout names the wallet by `client_id`, never by this token. */
  idToken: z.string().min(1).max(2500),
  /** The pairwise subject of this sign-in: the person's, or the entity's while acting for one. */
  sub: z.string().min(1).max(200),
  /** The person's name; unknown when the sign-in named only the entity. */
  name: z.string().max(200).optional(),
  entity: actingFor.optional(),
});
export type WalletSession = z.output<typeof walletSession>;

/** The cookie names: `__Host-` prefixed on https (see `cookieName`). */
export function walletCookieNames(secure: boolean) {
  return { session: cookieName('wallet', secure), pending: cookieName('wallet-login', secure) };
}

/** The session found in a request, and whether its access token can still be used. */
export type FoundSession = { session: WalletSession; usable: boolean } | undefined;

/**
 * Reads and writes the wallet's two sealed cookies: the session, and the pending sign-in (PKCE verifier,
 * `state`, `nonce`, where to return). A cookie that was altered, sealed for another name, or has expired
 * opens as nothing, which the pages treat as signed out.
 *
 * @example
 * ```ts
 * const cookies = new WalletCookies(deps.cookieSealer, secure);
 * const found = await cookies.session(event, nowSeconds);
 * if (!found) return signedOutPage();
 * ```
 */
export class WalletCookies {
  readonly names: ReturnType<typeof walletCookieNames>;
  readonly #session: SealedCookie<typeof walletSession>;
  readonly #pending: SealedCookie<typeof pendingLogin>;

  constructor(sealer: CookieSealer, secure: boolean) {
    this.names = walletCookieNames(secure);
    this.#session = new SealedCookie(sealer, 'wallet', walletSession, walletSessionSeconds, secure);
    this.#pending = new SealedCookie(sealer, 'wallet-login', pendingLogin, pendingLoginSeconds, secure);
  }

  async session(event: HttpEvent, nowSeconds: number): Promise<FoundSession> {
    const session = await this.#session.read(event, nowSeconds);
    if (!session) return undefined;
    return { session, usable: session.accessTokenExpiresAt - accessTokenMarginSeconds > nowSeconds };
  }

  sessionCookie(session: WalletSession, nowSeconds: number): Promise<string> {
    return this.#session.write(session, nowSeconds);
  }

  pending(event: HttpEvent, nowSeconds: number): Promise<PendingLogin | undefined> {
    return this.#pending.read(event, nowSeconds);
  }

  pendingCookie(pending: PendingLogin, nowSeconds: number): Promise<string> {
    return this.#pending.write(pending, nowSeconds);
  }

  clearSession(): string {
    return this.#session.clear();
  }

  clearPending(): string {
    return this.#pending.clear();
  }
}

const signInClaims = z.object({
  sub: z.string().min(1).max(200),
  name: z.string().max(200).optional(),
  subject_type: z.string().optional(),
  credit_code: z.string().max(18).optional(),
  act: z.object({ sub: z.string().max(200) }).optional(),
});

/**
 * The session of a finished sign-in, from the ID token's claims (the provider puts every granted scope's
 * claims there; the access token is for the holder API, not userinfo). Under scope `entity` the `name`
 * is the entity's, so the person's name is kept from the
 * previous wallet session when that was the same person (its `sub` is this one's `act.sub`: pairwise
 * subjects of one person agree within one client).
 *
 * @example
 * ```ts
 * const session = sessionFromSignIn(await rp.finish(event, pending), previousSession);
 * ```
 */
export function sessionFromSignIn(
  signedIn: {
    accessToken: string;
    accessTokenExpiresAt: number;
    idToken: string;
    claims: Record<string, unknown>;
  },
  previous: WalletSession | undefined,
): WalletSession {
  const claims = signInClaims.parse(signedIn.claims);
  const base = {
    accessToken: signedIn.accessToken,
    accessTokenExpiresAt: signedIn.accessTokenExpiresAt,
    idToken: signedIn.idToken,
    sub: claims.sub,
  };
  if (claims.subject_type === 'legal_person' && claims.credit_code) {
    const actorSub = claims.act?.sub;
    const previousPerson = previous?.entity ? previous.entity.actorSub : previous?.sub;
    const samePerson = previous !== undefined && actorSub !== undefined && previousPerson === actorSub;
    return {
      ...base,
      ...(samePerson && previous?.name ? { name: previous.name } : {}),
      entity: {
        name: claims.name ?? claims.credit_code,
        creditCode: claims.credit_code,
        ...(actorSub ? { actorSub } : {}),
      },
    };
  }
  return { ...base, ...(claims.name ? { name: claims.name } : {}) };
}
