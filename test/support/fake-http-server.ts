import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the fake server received it. */
export interface ReceivedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface FakeHttpServer {
  /** `http://127.0.0.1:<port>/<path>` */
  url(path?: string): string;
  received: ReceivedRequest[];
  /** How the next requests are answered (until set again). */
  answer(handler: (request: ReceivedRequest, response: ServerResponse) => void | Promise<void>): void;
  close(): Promise<void>;
}

/**
 * A throwaway HTTP server on the loopback interface, for tests only: it records each request (its body
 * read whole) and answers it as told, so an adapter of a remote service can be tried against every kind
 * of answer (and non-answer) that service might give.
 */
export async function startFakeHttpServer(): Promise<FakeHttpServer> {
  const received: ReceivedRequest[] = [];
  let handler: (request: ReceivedRequest, response: ServerResponse) => void | Promise<void> = (_, res) => {
    res.writeHead(500).end();
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      received.push(request);
      void Promise.resolve(handler(request, res)).catch(() => res.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (path = '/') => `http://127.0.0.1:${port}${path}`,
    received,
    answer: (next) => {
      handler = next;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Answers JSON with `status`. */
export function jsonAnswer(status: number, body: unknown) {
  return (_: ReceivedRequest, res: ServerResponse) => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };
}
