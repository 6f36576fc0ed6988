import * as z from 'zod';
import { answerOf, holderApiRequest, HolderApiUnavailableError, SessionEndedError } from './holder-api.js';

/** What `GET /me/account` answers (shared/identity/close-account.ts), as the wallet shows it. */
export const walletAccount = z.object({
  masked: z.string(),
  name: z.string(),
  assurance: z.string(),
  acr: z.string(),
  phone: z.object({ masked: z.string(), confirmedAt: z.string() }).optional(),
  phoneProven: z.boolean(),
  provenPhoneMasked: z.string().optional(),
  passkeys: z.number(),
  createdAt: z.string(),
});
export type WalletAccount = z.output<typeof walletAccount>;

/**
 * The API asked for a fresh sign-in at the account's level before closing it, exporting its data, or
 * enrolling or removing a passkey (403 `fresh_sign_in_required`).
 */
export class FreshSignInRequiredError extends Error {
  constructor() {
    super('This change needs a fresh sign-in');
    this.name = 'FreshSignInRequiredError';
  }
}

/**
 * The API refused the password typed again to close the account: none or a wrong one (400
 * `password_required`, 403 `wrong_password`), or too many wrong ones (429, `retryAfterSeconds`).
 */
export class ClosurePasswordRefusedError extends Error {
  constructor(readonly retryAfterSeconds?: number) {
    super('The password typed to close the account was refused');
    this.name = 'ClosurePasswordRefusedError';
  }
}

/**
 * How long the wallet waits for `GET /me/export` (review R55 F2): past `me`'s own 10 s timeout, so that an
 * export `me` finishes (and has recorded) reaches the person; the wallet function's timeout is longer
 * still (infra/stack.ts, test/cdk/guards.test.ts).
 */
export const exportRelayTimeoutMs = 12_000;

/**
 * The wallet's client of the holder API's account routes (`/me/account`), with the person's access token,
 * as any first-party app of theirs would call them.
 *
 * @example
 * ```ts
 * const account = await new AccountApi(config.issuerUrl, session.accessToken).read();
 * ```
 */
export class AccountApi {
  constructor(
    private readonly baseUrl: string,
    private readonly accessToken: string,
  ) {}

  async read(): Promise<WalletAccount> {
    const response = await holderApiRequest(this.baseUrl, this.accessToken, 'GET', '/me/account');
    // A token whose account is gone (closed elsewhere) is a sign-in that has ended.
    if (response.status === 401 || response.status === 404) throw new SessionEndedError();
    if (response.status !== 200)
      throw new HolderApiUnavailableError(`The holder API answered ${response.status}`);
    return answerOf(response, walletAccount, 'account');
  }

  /**
   * A copy of the person's data (`GET /me/export`), as the API answered it, for the wallet to pass on as a
   * download; throws {@link FreshSignInRequiredError} when the sign-in is too old or acts for an enterprise
   * (a personal sign-in made now answers both).
   */
  async export(): Promise<Response> {
    const response = await holderApiRequest(this.baseUrl, this.accessToken, 'GET', '/me/export', {
      timeoutMs: exportRelayTimeoutMs,
    });
    if (response.status === 200) return response;
    if (response.status === 401 || response.status === 404) throw new SessionEndedError();
    if (response.status === 403) {
      const body = (await response.json().catch(() => ({}))) as { code?: unknown };
      if (body.code === 'fresh_sign_in_required' || body.code === 'personal_sign_in_required') {
        throw new FreshSignInRequiredError();
      }
    }
    throw new HolderApiUnavailableError(`The holder API answered ${response.status}`);
  }

  /**
   * Closes the account with its password typed again: resolves when it is closed; throws
   * {@link FreshSignInRequiredError} when the sign-in is too old, {@link ClosurePasswordRefusedError} when
   * the password is refused.
   */
  async close(password: string): Promise<void> {
    const response = await holderApiRequest(this.baseUrl, this.accessToken, 'DELETE', '/me/account', {
      json: { password },
    });
    if (response.status === 200) return;
    if (response.status === 401 || response.status === 404) throw new SessionEndedError();
    if (response.status === 429) {
      throw new ClosurePasswordRefusedError(Number(response.headers.get('retry-after')) || undefined);
    }
    // The body's one field is the password: any 400 is about it (none, or an empty one).
    if (response.status === 400) throw new ClosurePasswordRefusedError();
    if (response.status === 403) {
      const body = (await response.json().catch(() => ({}))) as { code?: unknown };
      if (body.code === 'fresh_sign_in_required') throw new FreshSignInRequiredError();
      if (body.code === 'wrong_password') throw new ClosurePasswordRefusedError();
    }
    throw new HolderApiUnavailableError(`The holder API answered ${response.status}`);
  }
}
