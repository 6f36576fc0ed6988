import { isHttpsOrLoopback, type RegistryEndpoint } from '../../config.js';

/** The largest answer read from a registry; anything longer is malformed. */
const maxAnswerBytes = 16 * 1024;

/** Why a registry gave no usable answer: for logs and metrics, never carrying what was asked. */
export class RegistryUnanswered extends Error {
  constructor(
    readonly reason: 'timeout' | 'unreachable' | 'status' | 'malformed',
    /** The registry's own response code, for the logs: the service never decides on it beyond "not 200". */
    readonly answeredWith?: number,
  ) {
    super(`registry gave no usable answer: ${reason}${answeredWith === undefined ? '' : ` ${answeredWith}`}`);
    this.name = 'RegistryUnanswered';
  }
}

/**
 * Checks that an endpoint may carry ID numbers: https, or http to this machine (a test's fake server).
 * `loadConfig` already refuses other URLs; an adapter built by hand is held to the same rule.
 */
export function assertSafeEndpoint(endpoint: RegistryEndpoint): void {
  if (!isHttpsOrLoopback(new URL(endpoint.url))) {
    throw new Error('A registry endpoint must be https (http only to localhost): ID numbers are sent to it');
  }
}

/**
 * POSTs `body` as JSON to a registry and answers the JSON of a `200`, or throws {@link RegistryUnanswered}
 * (a timeout, a network failure, another status, an answer that is not JSON or too long). Redirects are
 * refused, so the ID number in the body never follows one to another host; the bearer token goes in
 * `Authorization`. Nothing here logs the body.
 */
export async function postToRegistry(
  endpoint: RegistryEndpoint,
  body: Record<string, string>,
  timeoutMs: number,
): Promise<unknown> {
  let response: Response;
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    response = await fetch(endpoint.url, {
      method: 'POST',
      redirect: 'error',
      signal,
      headers: {
        'content-type': 'application/json',
        accept: 'application/json',
        ...(endpoint.token && { authorization: `Bearer ${endpoint.token}` }),
      },
      body: JSON.stringify(body),
    });
  } catch {
    throw new RegistryUnanswered(signal.aborted ? 'timeout' : 'unreachable');
  }
  const declared = Number(response.headers.get('content-length') ?? 0);
  if (declared > maxAnswerBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw new RegistryUnanswered(response.status === 200 ? 'malformed' : 'status', response.status);
  }
  let text: string;
  try {
    text = await response.text();
  } catch {
    throw new RegistryUnanswered(signal.aborted ? 'timeout' : 'unreachable');
  }
  if (response.status !== 200) throw new RegistryUnanswered('status', response.status);
  if (Buffer.byteLength(text) > maxAnswerBytes) throw new RegistryUnanswered('malformed');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new RegistryUnanswered('malformed');
  }
}
