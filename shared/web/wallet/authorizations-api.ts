import * as z from 'zod';
import { answerOf, holderApiRequest, HolderApiUnavailableError, SessionEndedError } from './holder-api.js';

/** An authorization as `GET /me/authorizations` lists it (shared/sharing/authorizations.ts). */
export const walletAuthorization = z.object({
  id: z.string().min(1).max(64),
  kind: z.enum(['sign_in', 'licence_access']),
  client: z.object({ id: z.string(), name: z.string() }),
  scopes: z.array(z.string()),
  licenceTypes: z.array(z.string()),
  purpose: z.string().optional(),
  grantedAt: z.string(),
  expiresAt: z.string().optional(),
});
export type WalletAuthorization = z.output<typeof walletAuthorization>;

/**
 * The wallet's client of the holder API's sharing routes (`/me/authorizations`), with the person's access
 * token, as any application of theirs would call them.
 *
 * @example
 * ```ts
 * const items = await new AuthorizationsApi(config.issuerUrl, session.accessToken).list();
 * ```
 */
export class AuthorizationsApi {
  constructor(
    private readonly baseUrl: string,
    private readonly accessToken: string,
  ) {}

  async list(): Promise<WalletAuthorization[]> {
    const response = await this.request('GET', '/me/authorizations');
    if (response.status === 401) throw new SessionEndedError();
    if (response.status !== 200)
      throw new HolderApiUnavailableError(`The holder API answered ${response.status}`);
    const list = z.object({ items: z.array(walletAuthorization) });
    return (await answerOf(response, list, 'authorization list')).items;
  }

  async withdraw(id: string): Promise<void> {
    const response = await this.request('DELETE', `/me/authorizations/${encodeURIComponent(id)}`);
    // Already gone is what the person asked for.
    if (response.status === 204 || response.status === 404) return;
    if (response.status === 401) throw new SessionEndedError();
    throw new HolderApiUnavailableError(`The holder API answered ${response.status}`);
  }

  private request(method: string, path: string): Promise<Response> {
    return holderApiRequest(this.baseUrl, this.accessToken, method, path);
  }
}
