import * as z from 'zod';
import type { AgentScope } from '../../identity/entity-account.js';
import { agentViewSchema, authorityViewSchema } from '../../identity/entity-account.js';
import { readProblem, type ProblemDocument } from '../api-request.js';
import { answerOf, holderApiRequest, HolderApiUnavailableError, SessionEndedError } from './holder-api.js';

/** An enterprise the person acts for, as `GET /me/entities` lists it. */
export type WalletAuthority = z.output<typeof authorityViewSchema>;
/** An agent of the enterprise, as `GET /me/entities/{creditCode}/agents` lists it (number masked). */
export type WalletAgent = z.output<typeof agentViewSchema>;

/** What the appointment form sends: the agent's number and name, what they may do, until when. */
export interface AppointRequest {
  idNumber: string;
  name: string;
  scope: AgentScope[];
  expiresAt: string;
}

/** The API refused the request (400, 403 or 409): its problem document, for the page to say why. */
export class AgentsRefusedError extends Error {
  constructor(
    readonly status: number,
    readonly problem: ProblemDocument,
  ) {
    super(`The agents API refused the request (${status} ${problem.code ?? ''})`);
    this.name = 'AgentsRefusedError';
  }
}

/**
 * The wallet's client of the representative's API (`/me/entities…`, scope `entity`), with the access
 * token of a sign-in acting for the enterprise, as any first-party app would call it. The API decides who
 * may do what (only the legal representative, at level 3, lists, appoints and withdraws); the wallet
 * shows what it answers.
 *
 * @example
 * ```ts
 * const api = new AgentsApi(config.issuerUrl, session.accessToken);
 * const agents = await api.list('91110105MA01DEM078');
 * ```
 */
export class AgentsApi {
  constructor(
    private readonly baseUrl: string,
    private readonly accessToken: string,
  ) {}

  /** The enterprises the person acts for, and in which role. */
  async authorities(): Promise<WalletAuthority[]> {
    const response = await this.request('GET', '/me/entities');
    await this.refused(response, [200]);
    return this.parse(response, z.object({ items: z.array(authorityViewSchema) })).then((r) => r.items);
  }

  async list(creditCode: string): Promise<WalletAgent[]> {
    const response = await this.request('GET', this.#agents(creditCode));
    await this.refused(response, [200]);
    return this.parse(response, z.object({ items: z.array(agentViewSchema) })).then((r) => r.items);
  }

  async appoint(creditCode: string, input: AppointRequest): Promise<void> {
    const response = await this.request('POST', this.#agents(creditCode), input);
    await this.refused(response, [201]);
  }

  async withdraw(creditCode: string, agentId: string): Promise<void> {
    const response = await this.request(
      'DELETE',
      `${this.#agents(creditCode)}/${encodeURIComponent(agentId)}`,
    );
    await this.refused(response, [204]);
  }

  #agents(creditCode: string): string {
    return `/me/entities/${encodeURIComponent(creditCode)}/agents`;
  }

  /** 401: the sign-in ended; a refusal with a problem document: {@link AgentsRefusedError}; else unavailable. */
  private async refused(response: Response, ok: readonly number[]): Promise<void> {
    if (ok.includes(response.status)) return;
    if (response.status === 401) throw new SessionEndedError();
    if ([400, 403, 404, 409].includes(response.status)) {
      const problem = await readProblem(response);
      if (problem) throw new AgentsRefusedError(response.status, problem);
    }
    throw new HolderApiUnavailableError(`The agents API answered ${response.status}`);
  }

  private parse<S extends z.ZodType>(response: Response, schema: S): Promise<z.output<S>> {
    return answerOf(response, schema, 'agents API answer');
  }

  private request(method: string, path: string, json?: unknown): Promise<Response> {
    return holderApiRequest(this.baseUrl, this.accessToken, method, path, json === undefined ? {} : { json });
  }
}
