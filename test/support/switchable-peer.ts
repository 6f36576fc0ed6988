import { startFakeHttpServer } from './fake-http-server.js';

/** A peer platform's status list endpoint that a test can take down and bring back. */
export interface SwitchablePeer {
  /** `http://127.0.0.1:<port>`: the peer's base URL (every path answers the same). */
  baseUrl: string;
  /** What it answers (200) to every request while up: a status list token, say. */
  serve(body: string): void;
  /** Down (`true`: 503 to every request) or up again (`false`). */
  down(isDown: boolean): void;
  close(): Promise<void>;
}

/**
 * A peer on the loopback interface that answers 200 with the body it was last given, or 503 while
 * down: for tests of what a verifier does with a peer's list it holds once that peer stops answering.
 *
 * @example
 * ```ts
 * const peer = await switchablePeer();
 * try {
 *   peer.serve(statusListToken);
 *   // … verify while the peer is up …
 *   peer.down(true);
 *   // … verify from the copy held …
 * } finally {
 *   await peer.close();
 * }
 * ```
 */
export async function switchablePeer(): Promise<SwitchablePeer> {
  const server = await startFakeHttpServer();
  let body = '';
  let isDown = false;
  server.answer((_request, response) => {
    response.writeHead(isDown ? 503 : 200).end(isDown ? 'down' : body);
  });
  return {
    baseUrl: server.url(''),
    serve: (next) => {
      body = next;
    },
    down: (next) => {
      isDown = next;
    },
    close: () => server.close(),
  };
}
