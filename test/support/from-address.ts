import { request } from 'node:http';

/**
 * A `fetch` whose requests leave from `localAddress` (any 127.x.y.z on Linux), so that tests can play
 * clients at different addresses: the local runtime, like API Gateway, takes the client's address from
 * the connection, never from a header. Plain http only, no redirect following (as `redirect: 'manual'`).
 *
 * @example
 * ```ts
 * const attacker = fetchFrom('127.0.0.2');
 * const response = await attacker(`${runtime.baseUrl}/token`, { method: 'POST', headers, body });
 * ```
 */
export function fetchFrom(localAddress: string): typeof fetch {
  return (async (input: string | URL | Request, init: RequestInit = {}) => {
    const url = new URL(input instanceof Request ? input.url : input);
    const headers = new Headers(init.headers);
    const body =
      init.body === undefined || init.body === null
        ? undefined
        : typeof init.body === 'string'
          ? init.body
          : init.body instanceof URLSearchParams
            ? init.body.toString()
            : undefined;
    if (init.body instanceof URLSearchParams && !headers.has('content-type')) {
      headers.set('content-type', 'application/x-www-form-urlencoded;charset=UTF-8');
    }
    return new Promise<Response>((resolve, reject) => {
      const outgoing = request(
        {
          // The runtime listens on every interface; 127.0.0.1 is reachable from any loopback address.
          host: '127.0.0.1',
          port: url.port,
          localAddress,
          method: init.method ?? 'GET',
          path: `${url.pathname}${url.search}`,
          headers: { ...headerRecord(headers), host: url.host },
        },
        (incoming) => {
          const chunks: Buffer[] = [];
          incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
          incoming.on('error', reject);
          incoming.on('end', () => {
            const responseHeaders = new Headers();
            for (const [name, value] of Object.entries(incoming.headersDistinct)) {
              for (const one of value ?? []) responseHeaders.append(name, one);
            }
            const status = incoming.statusCode ?? 500;
            const nullBody = [101, 204, 205, 304].includes(status);
            resolve(
              new Response(nullBody ? null : Buffer.concat(chunks), { status, headers: responseHeaders }),
            );
          });
        },
      );
      outgoing.on('error', reject);
      if (body !== undefined) outgoing.write(body);
      outgoing.end();
    });
  }) as typeof fetch;
}

function headerRecord(headers: Headers): Record<string, string> {
  const record: Record<string, string> = {};
  headers.forEach((value, name) => {
    record[name] = value;
  });
  return record;
}
