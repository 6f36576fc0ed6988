import * as z from 'zod';
import { ServiceError, UnauthenticatedError, type ErrorKind } from '../../errors.js';
import { errorKindOfStatus } from '../../http/error-mapping.js';
import { apiRequest, readProblem, type ProblemDocument } from '../api-request.js';

/** A licence as the issuer API answers it (API.md `Licence`); unknown members are kept out. */
export const licenceSchema = z.object({
  id: z.string(),
  type: z.string(),
  issuer: z.object({ id: z.string(), name: z.string(), creditCode: z.string() }),
  holder: z.object({ kind: z.enum(['person', 'entity']), name: z.string(), masked: z.string() }),
  fields: z.record(z.string(), z.unknown()),
  status: z.enum(['valid', 'suspended', 'revoked', 'expired']),
  statusReason: z.string().optional(),
  issuedAt: z.string(),
  validFrom: z.string(),
  validUntil: z.string().optional(),
  // The signed credential its QR code carries: the licence page draws the code from it (one read).
  credential: z.string().optional(),
  // The key that signed its credential was withdrawn: its QR code no longer verifies, its PDF is not signed.
  keyWithdrawn: z.literal(true).optional(),
  // A re-issue (POST /licences/{id}/reissue): the licence this one replaces, or that replaced it.
  replaces: z.string().optional(),
  replacedBy: z.string().optional(),
  history: z
    .array(
      z.object({
        at: z.string(),
        action: z.string(),
        actor: z.string().optional(),
        clerk: z.string().optional(),
        reason: z.string().optional(),
        reasonCode: z.string().optional(),
        replaces: z.string().optional(),
        replacedBy: z.string().optional(),
      }),
    )
    .optional(),
});
export type Licence = z.output<typeof licenceSchema>;
export type LicenceStatus = Licence['status'];

const licencePage = z.object({
  items: z.array(licenceSchema),
  cursor: z.string().optional(),
  total: z.object({ count: z.number(), capped: z.boolean() }).optional(),
});
export type LicencePage = z.output<typeof licencePage>;

/** The search of `GET /licences` (its query parameters) or `POST /licences/search` (its body). */
export interface ListQuery {
  status?: string;
  holder?: string;
  /** With `holder`: read it as an ID number (`person`) or a credit code (`entity`) only. */
  holderKind?: string;
  holderName?: string;
  number?: string;
  type?: string;
  issuedFrom?: string;
  issuedTo?: string;
  /** `true`: only licences whose signing key was withdrawn. */
  keyWithdrawn?: string;
  sort?: string;
  total?: boolean;
  cursor?: string;
  limit?: number;
}

/** One entry of `GET /licence-types`. */
export const licenceTypeSchema = z.object({
  code: z.string(),
  name: z.string(),
  nameEn: z.string().optional(),
  holderKind: z.enum(['person', 'entity']),
  fields: z.record(z.string(), z.unknown()),
  defaultValidityYears: z.number().nullable().optional(),
  regional: z.boolean().optional(),
});
export type LicenceTypeEntry = z.output<typeof licenceTypeSchema>;

/** What the console reads of an issuer's trust-list entry (`GET /issuers/{id}`). */
const issuerEntry = z.object({
  status: z.string(),
  licenceTypes: z.array(z.object({ code: z.string() })).default([]),
  region: z.string().optional(),
  jurisdiction: z.array(z.string()).optional(),
});

/** What an issuer may issue, as its trust-list entry says: the type codes, and where (GB/T 2260 codes). */
export interface IssuerScope {
  types: string[];
  /** The divisions whose holders it may issue regional types to; empty when the entry names none. */
  jurisdiction: string[];
}

/** What `POST /licences` takes. */
export interface IssueRequest {
  type: string;
  holder: { idNumber: string } | { creditCode: string };
  holderName: string;
  fields: Record<string, unknown>;
  validFrom?: string;
  validUntil?: string;
}

/** The access token was refused (expired or revoked): the console must sign in again. */
export class TokenRejectedError extends UnauthenticatedError {
  constructor(message = 'The issuer API refused the access token', code = 'console_session_expired') {
    super(message, code);
    this.name = 'TokenRejectedError';
  }
}

/**
 * The issuer API's refusals of the caller itself (shared/licence/issuer-actor.ts), not of what it asked:
 * the clerk's appointment was withdrawn or lapsed, the entity acted for is no agency, the sign-in is below
 * the clerk's level, the issuer was withdrawn. Checked by the API on every call, so the console's session
 * ends at the first call after (a {@link TokenRejectedError}: every page that lets that through lets this
 * through too). `code` is the API's.
 */
export const accessEndedCodes: ReadonlySet<string> = new Set([
  'clerk_not_appointed',
  'not_a_clerk',
  'not_an_issuer',
  'issuer_inactive',
  'insufficient_assurance',
]);

/** A refusal with one of the {@link accessEndedCodes}: the console ends the session and says why (403). */
export class AccessEndedError extends TokenRejectedError {
  constructor(code: string) {
    super('The issuer API no longer accepts this sign-in', code);
    this.name = 'AccessEndedError';
  }
}

/** What `GET /issuer` answers: the issuer acted for, and a clerk's reference. */
const actingIssuerSchema = z.object({
  issuerId: z.string(),
  name: z.string(),
  creditCode: z.string(),
  clerk: z.string().optional(),
});
export type ActingIssuer = z.output<typeof actingIssuerSchema>;

/**
 * A refusal of the issuer API (problem+json), kept whole so the pages can show each `errors[].path`
 * next to its field. Exposed: it is the API's own public message to this caller. It keeps the status
 * the API answered, and is of the kind that status stands for, so a page relays the same status.
 */
export class ApiProblem extends ServiceError {
  readonly kind: ErrorKind;

  constructor(
    readonly status: number,
    problem: ProblemDocument,
  ) {
    super(problem.code ?? 'api_error', problem.detail ?? problem.title ?? `HTTP ${status}`, {
      errors: problem.errors ?? [],
      ...(problem.licenceId !== undefined && { licenceId: problem.licenceId }),
    });
    this.kind = errorKindOfStatus(status);
    this.name = 'ApiProblem';
  }
}

/** What `POST /counter/accounts/lookup` answers (shared/identity/counter-proof.ts): the account, masked. */
const counterAccount = z.object({
  masked: z.string(),
  name: z.string(),
  assurance: z.string(),
  acr: z.string(),
  phoneProven: z.boolean(),
  provenPhoneMasked: z.string().optional(),
});
export type CounterAccount = z.output<typeof counterAccount>;

/** What `POST /counter/accounts/prove` answers: what the counter proof did. */
const counterProof = z.object({
  account: counterAccount,
  provenPhone: z.enum(['kept', 'set', 'cleared']),
  phoneConfirmedBy: z.string().optional(),
  tookOver: z.boolean(),
});
export type CounterProof = z.output<typeof counterProof>;

/** What `POST /counter/accounts/prove` answers (202) to a new phone without its code: a code went to it. */
const counterCodeSent = z.object({ codeSent: z.literal(true), phoneMasked: z.string() });
export type CounterCodeSent = z.output<typeof counterCodeSent>;

/** What the clerk posts to prove a person in person (the API's `counterProofInput`). */
export interface CounterProofRequest {
  idNumber: string;
  name: string;
  checkedIdCard: boolean;
  provenPhone: 'keep' | 'set' | 'clear';
  phone?: string;
  password?: string;
  /** The code texted to the new phone (`provenPhone: set`), typed back. */
  code?: string;
}

let catalogueCache: { baseUrl: string; types: Promise<LicenceTypeEntry[]> } | undefined;

/**
 * The console's client of the issuer API, over HTTP with the issuer's access token: the console is a
 * backend-for-frontend and holds no privilege of its own, so what an issuer can do here is exactly what
 * it could do with its own API client, checked by the same function.
 *
 * @example
 * ```ts
 * const api = new IssuerApi(issuerUrl, session.accessToken);
 * const { items, cursor } = await api.list({ status: 'valid' });
 * ```
 */
export class IssuerApi {
  constructor(
    private readonly baseUrl: string,
    private readonly accessToken: string,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  /** Whom the token acts as (`GET /issuer`): the issuer and, for a clerk, their reference. */
  async actingIssuer(): Promise<ActingIssuer> {
    return actingIssuerSchema.parse(await this.json('GET', '/issuer'));
  }

  /** A person's account, by ID number and name, masked (`POST /counter/accounts/lookup`: 当面核验). */
  async counterLookup(person: { idNumber: string; name: string }): Promise<CounterAccount> {
    return counterAccount.parse(await this.json('POST', '/counter/accounts/lookup', person));
  }

  /** Proves the person in person, the proven phone kept, set or cleared (`POST /counter/accounts/prove`). */
  async counterProve(request: CounterProofRequest): Promise<CounterProof | CounterCodeSent> {
    return z
      .union([counterCodeSent, counterProof])
      .parse(await this.json('POST', '/counter/accounts/prove', request));
  }

  /**
   * This issuer's licences, newest first unless sorted otherwise, a page at a time: `GET /licences`, or
   * `POST /licences/search` when a holder's number or name is searched for, so that neither is ever in a
   * URL (API Gateway's and any proxy's access logs keep query strings: privacy review L1).
   */
  async list(query: ListQuery): Promise<LicencePage> {
    if (query.holder || query.holderName) {
      const body: Record<string, unknown> = {};
      for (const [name, value] of Object.entries(query)) {
        if (value === undefined || value === '') continue;
        body[name] = name === 'keyWithdrawn' ? value === 'true' : value;
      }
      return licencePage.parse(await this.json('POST', '/licences/search', body));
    }
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(query))
      if (value !== undefined && value !== '') params.set(name, String(value));
    const search = params.size > 0 ? `?${params.toString()}` : '';
    return licencePage.parse(await this.json('GET', `/licences${search}`));
  }

  async get(id: string): Promise<Licence> {
    return licenceSchema.parse(await this.json('GET', `/licences/${encodeURIComponent(id)}`));
  }

  /** `POST /licences`: the same key with the same body answers the same licence (`created: false`). */
  async issue(
    request: IssueRequest,
    idempotencyKey: string,
  ): Promise<{ licence: Licence; created: boolean }> {
    const response = await this.send('POST', '/licences', request, { 'idempotency-key': idempotencyKey });
    return { licence: licenceSchema.parse(await response.json()), created: response.status === 201 };
  }

  /** `POST /licences/{id}/status`: a preset reason code, a free reason, or both (see `statusReasons`). */
  async changeStatus(
    id: string,
    status: 'valid' | 'suspended' | 'revoked',
    why: { reasonCode?: string; reason?: string },
  ): Promise<Licence> {
    return licenceSchema.parse(
      await this.json('POST', `/licences/${encodeURIComponent(id)}/status`, { status, ...why }),
    );
  }

  /** Re-issues a licence (`POST /licences/{id}/reissue`): answers the new licence. */
  async reissue(id: string): Promise<Licence> {
    return licenceSchema.parse(await this.json('POST', `/licences/${encodeURIComponent(id)}/reissue`));
  }

  /**
   * The printable licence (`GET /licences/{id}/pdf`) or its detached signature (`…/pdf.jws`), as the API
   * answered it, for the console to pass on as a download.
   */
  async printable(id: string, file: 'pdf' | 'pdf.jws', layout: 'a4' | 'card'): Promise<Response> {
    return sendApi(
      this.baseUrl,
      this.accessToken,
      'GET',
      `/licences/${encodeURIComponent(id)}/${file}?layout=${layout}`,
      {
        headers: { accept: 'application/pdf, application/jose, application/json' },
        fetch: this.fetchImpl,
      },
    );
  }

  /**
   * The licence type codes an issuer may issue, as its public entry in the trust list (`GET /issuers/{id}`)
   * lists them; undefined when that entry cannot be read (the API still refuses the others).
   *
   * @example
   * ```ts
   * await api.allowedTypes('iss_8kq2'); // ['driving-licence']
   * ```
   */
  async allowedTypes(issuerId: string): Promise<string[] | undefined> {
    return (await this.issuerScope(issuerId))?.types;
  }

  /**
   * The types an issuer may issue and its jurisdiction, from its public trust-list entry
   * (`GET /issuers/{id}`); undefined when that entry cannot be read (the API still decides).
   *
   * @example
   * ```ts
   * await api.issuerScope('iss_8kq2'); // { types: ['business-licence'], jurisdiction: ['310000'] }
   * ```
   */
  async issuerScope(issuerId: string): Promise<IssuerScope | undefined> {
    try {
      const response = await this.fetchImpl(`${this.baseUrl}/issuers/${encodeURIComponent(issuerId)}`, {
        headers: { accept: 'application/json' },
      });
      if (!response.ok) return undefined;
      const parsed = issuerEntry.safeParse(await response.json());
      if (!parsed.success) return undefined;
      const { status, licenceTypes, region, jurisdiction } = parsed.data;
      return {
        // A withdrawn issuer may issue nothing, whatever its entry still lists.
        types: status === 'active' ? licenceTypes.map((type) => type.code) : [],
        jurisdiction: jurisdiction && jurisdiction.length > 0 ? jurisdiction : region ? [region] : [],
      };
    } catch {
      return undefined;
    }
  }

  /**
   * The public catalogue, fetched once per container and base URL: it changes only with a deployment,
   * and the form generator needs it on every issuance page.
   */
  async licenceTypes(): Promise<LicenceTypeEntry[]> {
    if (catalogueCache?.baseUrl !== this.baseUrl) {
      const types = this.fetchCatalogue();
      catalogueCache = { baseUrl: this.baseUrl, types };
      types.catch(() => (catalogueCache = undefined));
    }
    return catalogueCache.types;
  }

  private async fetchCatalogue(): Promise<LicenceTypeEntry[]> {
    const response = await this.fetchImpl(`${this.baseUrl}/licence-types`, {
      headers: { accept: 'application/json' },
    });
    if (!response.ok) throw new Error(`GET /licence-types answered ${response.status}`);
    return z.array(licenceTypeSchema).parse(await response.json());
  }

  private async json(method: string, path: string, body?: unknown): Promise<unknown> {
    return (await this.send(method, path, body)).json();
  }

  private send(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Response> {
    return sendApi(this.baseUrl, this.accessToken, method, path, {
      json: body,
      headers: { accept: 'application/json, image/svg+xml', ...headers },
      fetch: this.fetchImpl,
    });
  }
}

/**
 * One call of our API for a console page ({@link apiRequest}), its refusals typed: a refused token is a
 * {@link TokenRejectedError} (sign in again), a problem+json refusal an {@link ApiProblem} the page can
 * explain, anything else (a 5xx, an unreadable refusal) a plain error for the page boundary to log.
 *
 * @example
 * ```ts
 * const response = await sendApi(issuerUrl, session.accessToken, 'GET', '/supervision/stats?from=…');
 * ```
 */
export async function sendApi(
  baseUrl: string,
  accessToken: string,
  method: string,
  path: string,
  options: Parameters<typeof apiRequest>[4] = {},
): Promise<Response> {
  const response = await apiRequest(baseUrl, accessToken, method, path, options);
  if (response.ok) return response;
  if (response.status === 401) throw new TokenRejectedError();
  const problem = await readProblem(response);
  if (response.status === 403 && problem?.code && accessEndedCodes.has(problem.code)) {
    throw new AccessEndedError(problem.code);
  }
  if (response.status >= 500 || !problem) {
    // A fault of the API is ours, not the visitor's: the page boundary logs it and shows a request id.
    throw new Error(`${method} ${path.split('?')[0]} answered ${response.status}`);
  }
  throw new ApiProblem(response.status, problem);
}
