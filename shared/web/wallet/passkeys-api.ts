import * as z from 'zod';
import { ForbiddenError } from '../../errors.js';
import { readProblem } from '../api-request.js';
import { FreshSignInRequiredError } from './account-api.js';
import { answerOf, holderApiRequest, HolderApiUnavailableError, SessionEndedError } from './holder-api.js';

/** A passkey as `GET /me/passkeys` lists it. */
export const walletPasskey = z.object({
  id: z.string().min(1).max(1024),
  name: z.string().max(100),
  createdAt: z.string(),
  lastUsedAt: z.string().optional(),
  synced: z.boolean(),
});
export type WalletPasskey = z.output<typeof walletPasskey>;

/** The API's answer as it came, for the page script that asked (its status and body). */
export interface Relayed {
  status: number;
  body: unknown;
}

/** The person's sign-in is below level 3: passkeys are managed only at level 3 (API.md). */
export class PasskeyStepUpError extends ForbiddenError {
  constructor() {
    super('Passkeys are managed at assurance level 3 only', 'insufficient_assurance');
    this.name = 'PasskeyStepUpError';
  }
}

/**
 * The API refused the password typed again to remove a passkey: none or a wrong one (400
 * `password_required`, 403 `wrong_password`), or too many wrong ones (429).
 */
export class PasskeyPasswordRefusedError extends Error {
  constructor() {
    super('The password typed to remove the passkey was refused');
    this.name = 'PasskeyPasswordRefusedError';
  }
}

/**
 * The wallet's client of the holder API's passkey routes (`/me/passkeys`), with the person's access token,
 * as any platform would call them. Listing and removing become values or errors the page explains;
 * the two enrolment steps are relayed to the page script as the API answered them.
 *
 * @example
 * ```ts
 * const passkeys = await new PasskeysApi(config.issuerUrl, session.accessToken).list();
 * ```
 */
export class PasskeysApi {
  constructor(
    private readonly baseUrl: string,
    private readonly accessToken: string,
  ) {}

  async list(): Promise<WalletPasskey[]> {
    const response = await this.request('GET', '/me/passkeys');
    if (response.status !== 200) throw await this.refusal(response);
    return (await answerOf(response, z.object({ items: z.array(walletPasskey) }), 'passkey list')).items;
  }

  /**
   * Removes a passkey with the account's password typed again: throws {@link FreshSignInRequiredError}
   * when the sign-in is too old, {@link PasskeyPasswordRefusedError} when the password is refused.
   */
  async remove(id: string, password: string): Promise<void> {
    const response = await this.request('DELETE', `/me/passkeys/${encodeURIComponent(id)}`, { password });
    // Already gone is what the person asked for.
    if (response.status === 204 || response.status === 404) return;
    if (response.status === 400 || response.status === 429) throw new PasskeyPasswordRefusedError();
    throw await this.refusal(response);
  }

  /** `POST /me/passkeys/options`, relayed. */
  options(): Promise<Relayed> {
    return this.relay('/me/passkeys/options', {});
  }

  /** `POST /me/passkeys` with the browser's registration response and a name, relayed. */
  enrol(body: unknown): Promise<Relayed> {
    return this.relay('/me/passkeys', body);
  }

  private async relay(path: string, json: unknown): Promise<Relayed> {
    const response = await this.request('POST', path, json);
    if (response.status === 401) throw new SessionEndedError();
    return { status: response.status, body: await response.json().catch(() => undefined) };
  }

  private request(method: string, path: string, json?: unknown): Promise<Response> {
    return holderApiRequest(this.baseUrl, this.accessToken, method, path, { json });
  }

  private async refusal(response: Response): Promise<Error> {
    if (response.status === 401) return new SessionEndedError();
    const problem = await readProblem(response);
    if (response.status === 403 && problem?.code === 'insufficient_assurance')
      return new PasskeyStepUpError();
    if (response.status === 403 && problem?.code === 'fresh_sign_in_required')
      return new FreshSignInRequiredError();
    if (response.status === 403 && problem?.code === 'wrong_password')
      return new PasskeyPasswordRefusedError();
    return new HolderApiUnavailableError(`The holder API answered ${response.status}`);
  }
}
