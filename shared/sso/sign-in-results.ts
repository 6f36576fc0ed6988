import type { KoaContextWithOIDC } from 'oidc-provider';
import type { Clock } from '../clock.js';
import type { SignInMoment } from '../identity/person-account.js';

/** What a sign-in step authenticated: whom, at what level, and how (RFC 8176 `amr`). */
export type SignedIn = {
  accountId: string;
  acr: string;
  amr: string[];
};

/**
 * The login result of a step that authenticated the person (a password, a passkey, an SMS code): with
 * `ts`, the step's time in whole epoch seconds, and `version`, the version of the account its check read
 * (review R44). The provider takes `ts` for the sign-in's time (the session's `loginTs`, the ID token's
 * `auth_time`): without it, the time of the resume (`/authorize/{uid}`), which may come up to an hour
 * later (the interaction's life), so that a platform's `max_age` and a closure's or a passkey's
 * `requireFreshSignIn` counted from when the browser went on, not from when the person authenticated.
 * `version` is the provider's to ignore and ours to check at the resume (find-account.ts): a step whose
 * check read the account before a takeover or a reset ended its sign-ins counts for nothing after it,
 * whatever the clocks say (`signInEndedBy`).
 *
 * @example
 * ```ts
 * finished(ctx, details, { login: stepSignIn({ accountId, acr, amr: ['pwd'] }, person, clock) });
 * ```
 */
export function stepSignIn(
  signedIn: SignedIn,
  checked: { version: number },
  clock: Clock,
): SignedIn & { ts: number; version: number } {
  return { ...signedIn, ts: Math.floor(clock.now() / 1000), version: checked.version };
}

/**
 * The sign-in behind a lookup of the provider's (find-account.ts), as far as it is known: a code's or a
 * refresh token's `authTime`, an access token's `auth_time` (provider.ts, `extraTokenClaims`); at the
 * resume of a step's result, that result's own `ts` and `version` (the provider has already made it the
 * session's, with the resume's time when it had none); else the session's `loginTs`.
 */
export function signInOf(
  ctx: KoaContextWithOIDC,
  accountId: string,
  token: object | undefined,
): SignInMoment {
  const number = (value: unknown) => (typeof value === 'number' ? value : undefined);
  if (token) {
    const held = token as { authTime?: unknown; extra?: { auth_time?: unknown } };
    const ts = number(held.authTime) ?? number(held.extra?.auth_time);
    return ts === undefined ? {} : { ts };
  }
  const login = (ctx.oidc.result as { login?: Record<string, unknown> } | undefined)?.login;
  if (ctx.oidc.route === 'resume' && login && login['accountId'] === accountId) {
    const ts = number(login['ts']);
    const version = number(login['version']);
    return { ...(ts !== undefined && { ts }), ...(version !== undefined && { version }) };
  }
  const ts = number((ctx.oidc.session as { loginTs?: unknown } | undefined)?.loginTs);
  return ts === undefined ? {} : { ts };
}

/**
 * Undoes what the provider's resume made of a step's result that {@link signInOf} showed to be ended
 * (find-account.ts): the session's account, time, `acr` and `amr`. Otherwise the session, saved at the
 * end of the request, would keep the refused sign-in, dated by its step; a step in the same second as the
 * reset would then pass for the owner's own sign-in of that second (`signInEndedBy` counts a session by
 * its second), and sign the browser in at its next request. Only at the resume of that result: a session
 * that holds a refused sign-in otherwise is left to the provider (the sign-in page, `account_unavailable`).
 */
export function forgetResumedSignIn(ctx: KoaContextWithOIDC, accountId: string): void {
  const login = (ctx.oidc.result as { login?: { accountId?: unknown } } | undefined)?.login;
  const session = ctx.oidc.session as unknown as Record<string, unknown> | undefined;
  if (ctx.oidc.route !== 'resume' || login?.accountId !== accountId || session?.['accountId'] !== accountId)
    return;
  for (const field of ['accountId', 'loginTs', 'acr', 'amr', 'transient']) delete session[field];
}
