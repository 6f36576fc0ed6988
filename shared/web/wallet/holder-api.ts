import * as z from 'zod';
import {
  ConflictError,
  DependencyError,
  ForbiddenError,
  InvalidInputError,
  NotFoundError,
  UnauthenticatedError,
} from '../../errors.js';
import { logger } from '../../logger.js';
import { apiRequest, readProblem } from '../api-request.js';

/** A licence as `GET /me/licences` answers it (API.md); extra members are tolerated. */
export const walletLicence = z.object({
  id: z.string().min(1).max(200),
  type: z.string().min(1).max(100),
  issuer: z.object({
    id: z.string(),
    name: z.string(),
    creditCode: z.string(),
    // Only an active issuer's licences are signed as PDFs; absent (an older API) counts as not signed.
    status: z.string().max(40).optional(),
  }),
  holder: z.object({ kind: z.enum(['person', 'entity']), name: z.string(), masked: z.string() }),
  fields: z.record(z.string(), z.unknown()),
  status: z.string().max(40),
  statusReason: z.string().optional(),
  issuedAt: z.string(),
  validFrom: z.string(),
  validUntil: z.string().optional(),
  credential: z.string().optional(),
  // The key that signed its credential was withdrawn: its QR code no longer verifies, its PDF is not signed.
  keyWithdrawn: z.literal(true).optional(),
});
export type WalletLicence = z.output<typeof walletLicence>;

const licenceList = z.object({
  items: z.array(walletLicence),
  assurance: z.object({ acr: z.string(), stepUpTo: z.string().optional() }).optional(),
});

/** The signed-in person's licences, and the `acr` that more licence types would need, if any. */
export interface WalletHolding {
  licences: WalletLicence[];
  stepUpTo?: string;
}

const presentationAnswer = z.object({
  token: z.string().min(1),
  qr: z.object({ text: z.string(), svg: z.string().startsWith('<svg') }),
  expiresAt: z.iso.datetime({ offset: true }),
});
/** What the wallet keeps of a presentation: the picture and its expiry, never the token as text. */
export interface WalletPresentation {
  svg: string;
  expiresAt: string;
}

/**
 * The kinds of entry of the usage record the wallet's page offers to filter by (`GET /me/usage?action=`):
 * every kind but the person's own exports (`exported`, which the API filters by too), a counter's lookups
 * and proofs too (review R45 F2) and a change of an enterprise's legal representative naming or no longer
 * naming the person (shown at level 3 only, an empty page below it).
 */
export const walletUsageKinds = [
  'shared',
  'verified',
  'presented',
  'released',
  'issuer_read',
  'counter_lookup',
  'counter_proof',
  'representative_changed',
] as const;
export type WalletUsageKind = (typeof walletUsageKinds)[number];

/** Every kind of entry of the usage record: the ones the wallet's page filters by ({@link walletUsageKinds})
 * and the person's own export of their data (`GET /me/export`), which the API filters by too
 * (`?action=exported`) but the page does not offer. */
export const walletUsageEntryKinds = [...walletUsageKinds, 'exported'] as const;

/** One entry of the usage record as `GET /me/usage` answers it (API.md, 用证记录). */
export const walletUsageEntry = z.object({
  at: z.string(),
  action: z.enum(walletUsageEntryKinds),
  licenceId: z.string().max(200).optional(),
  licenceType: z.string().max(100).optional(),
  client: z.object({ id: z.string(), name: z.string() }).optional(),
  issuer: z.object({ id: z.string(), name: z.string() }).optional(),
  purpose: z.string().optional(),
  verdict: z.string().max(40).optional(),
  format: z.literal('pdf').optional(),
  refused: z.literal(true).optional(),
  entity: z.object({ creditCode: z.string().max(18), name: z.string().max(200) }).optional(),
  role: z.enum(['former', 'new']).optional(),
});
export type WalletUsageEntry = z.output<typeof walletUsageEntry>;

const usagePage = z.object({ items: z.array(walletUsageEntry), cursor: z.string().max(512).optional() });
/** One page of the usage record, newest first, and where the next (older) one starts. */
export type WalletUsagePage = z.output<typeof usagePage>;

/** How many entries a page of the wallet's usage record shows. */
export const usagePageSize = 20;

/** The access token was refused: it expired or was revoked (signed out elsewhere). */
export class SessionEndedError extends UnauthenticatedError {
  constructor() {
    super('The sign-in has ended; please sign in again', 'session_ended');
    this.name = 'SessionEndedError';
  }
}

/** The holder API could not be reached or answered with a failure of its own. */
export class HolderApiUnavailableError extends DependencyError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'holder_api_unavailable', options);
    this.name = 'HolderApiUnavailableError';
  }
}

/**
 * The body of a holder API answer, read against `schema`: one that is not JSON, or not of that shape (a
 * proxy's HTML error page with a 200, an API of another version), is the API being unavailable, which the
 * pages explain, not an exception that becomes a bare 500.
 *
 * @example
 * ```ts
 * const { items } = await answerOf(response, z.object({ items: z.array(walletPasskey) }), 'passkey list');
 * ```
 */
export async function answerOf<S extends z.ZodType>(
  response: Response,
  schema: S,
  what: string,
): Promise<z.output<S>> {
  return shapeOf(await response.json().catch(() => undefined), schema, what);
}

/** {@link answerOf} for a body already read (undefined when it was not JSON). */
function shapeOf<S extends z.ZodType>(body: unknown, schema: S, what: string): z.output<S> {
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new HolderApiUnavailableError(`The ${what} had an unexpected shape`);
  return parsed.data;
}

/**
 * The wallet's client of the public holder API: it calls `/me/licences` over HTTP with the person's
 * access token, exactly as any other platform would, so the wallet holds no privilege of its own.
 * Problem answers become errors the pages explain: 401 → {@link SessionEndedError}, 404 →
 * `licence_not_found`, 400 → the API's code and field errors; anything else →
 * {@link HolderApiUnavailableError}.
 *
 * @example
 * ```ts
 * const api = new HolderApi(config.issuerUrl, session.accessToken);
 * const licences = await api.licences();
 * const { svg, expiresAt } = await api.present(licences[0].id, { disclose: [], ttlSeconds: 120 });
 * ```
 */
export class HolderApi {
  constructor(
    private readonly baseUrl: string,
    private readonly accessToken: string,
    private readonly fetcher: typeof fetch = fetch,
  ) {}

  async licences(): Promise<WalletLicence[]> {
    return (await this.holding()).licences;
  }

  /** {@link licences}, with what the API says of the person's assurance level. */
  async holding(): Promise<WalletHolding> {
    const body = await this.call('GET', '/me/licences', undefined, 200);
    const list = shapeOf(body, licenceList, 'licence list');
    const stepUpTo = list.assurance?.stepUpTo;
    return { licences: list.items, ...(stepUpTo ? { stepUpTo } : {}) };
  }

  /** One of {@link licences}, or a 404 `licence_not_found`, as the API treats a licence one may not see. */
  async licence(id: string): Promise<WalletLicence> {
    const found = (await this.licences()).find((licence) => licence.id === id);
    if (!found) throw new NotFoundError('No such licence among yours', 'licence_not_found');
    return found;
  }

  /**
   * A page of the person's usage record (`GET /me/usage`), from `cursor` (a previous page's) on, of one
   * kind of entry only if `action` is given.
   */
  async usage(cursor?: string, action?: WalletUsageKind): Promise<WalletUsagePage> {
    const query = new URLSearchParams({
      limit: String(usagePageSize),
      ...(cursor ? { cursor } : {}),
      ...(action ? { action } : {}),
    });
    const body = await this.call('GET', `/me/usage?${query.toString()}`, undefined, 200);
    return shapeOf(body, usagePage, 'usage record');
  }

  async present(id: string, input: { disclose: string[]; ttlSeconds: number }): Promise<WalletPresentation> {
    const body = await this.call('POST', `/me/licences/${encodeURIComponent(id)}/presentations`, input, 201);
    const { qr, expiresAt } = shapeOf(body, presentationAnswer, 'presentation');
    return { svg: qr.svg, expiresAt };
  }

  /**
   * One of my licences as a printable PDF (`GET /me/licences/{id}/pdf`) or its detached signature
   * (`…/pdf.jws`), as the API answered it, for the wallet to pass on as a download.
   */
  async printable(id: string, file: 'pdf' | 'pdf.jws', layout: 'a4' | 'card'): Promise<Response> {
    const path = `/me/licences/${encodeURIComponent(id)}/${file}?layout=${layout}`;
    const response = await holderApiRequest(this.baseUrl, this.accessToken, 'GET', path, {
      headers: { accept: 'application/pdf, application/jose, application/json' },
      fetch: this.fetcher,
    });
    if (response.status === 200) return response;
    return this.refused(response, path);
  }

  private async call(method: string, path: string, json: unknown, expected: number): Promise<unknown> {
    const response = await holderApiRequest(this.baseUrl, this.accessToken, method, path, {
      json,
      fetch: this.fetcher,
    });
    if (response.status === expected) return response.json().catch(() => undefined);
    return this.refused(response, path);
  }

  /** A refusal of the holder API as the wallet's errors. */
  private async refused(response: Response, path: string): Promise<never> {
    const problem = await readProblem(response);
    const code = problem?.code;
    // The code and status only: a problem's detail may repeat what the request carried.
    logger.info('holder API refused', {
      path: path.split('?')[0]!.split('/').slice(0, 3).join('/'),
      status: response.status,
      code,
    });
    if (response.status === 401) throw new SessionEndedError();
    if (response.status === 404) {
      throw new NotFoundError('No such licence among yours', 'licence_not_found');
    }
    if (response.status === 400 && problem) {
      throw new InvalidInputError(problem.detail ?? 'The request was refused', code ?? 'invalid_request', {
        errors: problem.errors ?? [],
      });
    }
    if (response.status === 403) {
      throw new ForbiddenError('This sign-in may not see these licences', code ?? 'forbidden');
    }
    // The licence's state refuses it (its issuer withdrawn: no signature for its PDF). Not a failure of
    // the API: "try again later" would be wrong, so the page says why, by the API's code.
    if (response.status === 409) {
      throw new ConflictError('The holder API refused it in this state', code ?? 'conflict');
    }
    throw new HolderApiUnavailableError(`The holder API answered ${response.status}`);
  }
}

/**
 * A request to the holder API with the person's token, for the wallet's clients of it: a network failure
 * is {@link HolderApiUnavailableError} (the pages say "try again later"), any answer is returned.
 *
 * @example
 * ```ts
 * const response = await holderApiRequest(baseUrl, session.accessToken, 'GET', '/me/authorizations');
 * ```
 */
export async function holderApiRequest(
  baseUrl: string,
  accessToken: string,
  method: string,
  path: string,
  options: Parameters<typeof apiRequest>[4] = {},
): Promise<Response> {
  try {
    return await apiRequest(baseUrl, accessToken, method, path, options);
  } catch (error) {
    throw new HolderApiUnavailableError('The holder API could not be reached', { cause: error });
  }
}
