import * as z from 'zod';
import { fieldErrorCodes, type FieldErrorCode } from '../errors.js';
import { download } from '../http/downloads.js';
import type { HttpResult } from '../http/types.js';

/** A problem document (RFC 9457) of our API, bounded: what a page may show of a refusal. */
export const problemDocument = z.object({
  code: z.string().max(100).optional(),
  title: z.string().max(200).optional(),
  detail: z.string().max(2000).optional(),
  errors: z
    .array(
      z.object({
        path: z.string(),
        message: z.string(),
        // The code the pages translate; one this page does not know yet is read as `invalid` (generic words).
        code: z
          .string()
          .optional()
          .transform((code) =>
            fieldErrorCodes.includes(code as FieldErrorCode) ? (code as FieldErrorCode) : 'invalid',
          ),
        params: z
          .record(z.string().max(50), z.union([z.string().max(200), z.number(), z.boolean()]))
          .optional()
          .catch(undefined),
      }),
    )
    .max(100)
    .optional(),
  /** The licence a refused request wrote all the same (409 `issuer_key_withdrawn`). */
  licenceId: z.string().max(200).optional().catch(undefined),
});
export type ProblemDocument = z.output<typeof problemDocument>;

/** The API could not be reached at all (network, DNS, timeout). */
export class ApiUnreachableError extends Error {
  constructor(method: string, path: string, options: { cause: unknown }) {
    super(`${method} ${path.split('?')[0]} could not be reached`, options);
    this.name = 'ApiUnreachableError';
  }
}

const defaultTimeoutMs = 10_000;

/**
 * One call of our public API as a backend-for-frontend makes it: the caller's bearer token, JSON in,
 * no redirects followed (a redirect would carry the token elsewhere), a 10 s timeout (`timeoutMs`). The answer is
 * returned as it is; the caller maps statuses to what its pages say.
 *
 * @example
 * ```ts
 * const response = await apiRequest(issuerUrl, token, 'GET', '/me/licences');
 * if (!response.ok) throw explain(response.status, await readProblem(response));
 * ```
 */
export async function apiRequest(
  baseUrl: string,
  accessToken: string,
  method: string,
  path: string,
  options: {
    json?: unknown;
    headers?: Record<string, string>;
    fetch?: typeof fetch;
    timeoutMs?: number;
  } = {},
): Promise<Response> {
  const { json } = options;
  try {
    return await (options.fetch ?? fetch)(new URL(path, baseUrl), {
      method,
      headers: {
        authorization: `Bearer ${accessToken}`,
        accept: 'application/json',
        ...(json === undefined ? {} : { 'content-type': 'application/json' }),
        ...options.headers,
      },
      ...(json === undefined ? {} : { body: JSON.stringify(json) }),
      redirect: 'error',
      signal: AbortSignal.timeout(options.timeoutMs ?? defaultTimeoutMs),
    });
  } catch (error) {
    throw new ApiUnreachableError(method, path, { cause: error });
  }
}

/** The problem document of a refusal, or undefined when the body is not one. */
export async function readProblem(response: Response): Promise<ProblemDocument | undefined> {
  const body: unknown = await response.json().catch(() => undefined);
  const parsed = problemDocument.safeParse(body);
  return parsed.success ? parsed.data : undefined;
}

/**
 * A file our API answered (a printable licence, its signature), passed on to the browser as a download
 * under the name the API gave it; a name of another shape than the API's own becomes `download`.
 *
 * @example
 * ```ts
 * return relayDownload(await apiRequest(issuerUrl, token, 'GET', `/me/licences/${id}/pdf`));
 * ```
 */
export async function relayDownload(response: Response): Promise<HttpResult> {
  const name = /filename="([0-9A-Za-z.-]{1,100})"/.exec(
    response.headers.get('content-disposition') ?? '',
  )?.[1];
  const type = response.headers.get('content-type') ?? 'application/octet-stream';
  return download(new Uint8Array(await response.arrayBuffer()), type, name ?? 'download');
}
