import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { signCompactJws } from '../../../shared/crypto/compact-jws.js';
import {
  DEFAULT_MAX_TRUST_LIST_BYTES,
  DEFAULT_REQUEST_TIMEOUT_MS,
  OfflineTrustStore,
  statusListTokenMaxBytes,
  type OfflineTrustStoreOptions,
} from '../../../packages/verifier/src/offline-store.js';
import { nodeEs256 } from '../../../packages/verifier/src/node.js';
import { createStatusBytes, encodeStatusList } from '../../../packages/verifier/src/status-list.js';
import { zlibCompression } from '../../../packages/verifier/src/status-list-zlib.js';
import { createWorld, NOW, type World } from '../../support/verifier-world.js';

/*
 * The offline store's fetches are bounded while they stream in (review leftover): it used to read each
 * answer whole (`response.text()`) and only then look at its length, so a hostile or broken endpoint (or
 * anyone answering its requests) could make an app hold gigabytes. Over a real local HTTP server: an
 * answer that never ends, one that announces more than the bound, and one just past it.
 */

/** What the server sent of a streamed answer, and whether the client closed the connection. */
interface Streamed {
  sent: number;
  closed: Promise<void>;
}

/** Endless answers stop here: 64 MiB, far past every bound, so that a store that reads whole fails. */
const STREAM_CAP = 64 * 1024 * 1024;
const CHUNK = Buffer.alloc(64 * 1024, 'a');

let server: Server;
let base: string;
let world: World;
let now: number;
/** path → body (a string), or how to answer it. */
let answers: Map<string, string | ((response: ServerResponse) => void)>;
let streamed: Streamed[];

/** Writes chunks as fast as the client takes them (no Content-Length: chunked) until it closes or the cap. */
function streamEndlessly(response: ServerResponse): void {
  const record: Streamed = { sent: 0, closed: new Promise((resolve) => response.on('close', resolve)) };
  streamed.push(record);
  response.writeHead(200, { 'content-type': 'application/jwt' });
  const pump = () => {
    while (!response.destroyed && record.sent < STREAM_CAP) {
      record.sent += CHUNK.length;
      if (!response.write(CHUNK)) return void response.once('drain', pump);
    }
    if (!response.destroyed) response.end();
  };
  pump();
}

/** Announces 10 GiB, sends 1 KiB, and holds the connection open. */
function announceTenGigabytes(response: ServerResponse): void {
  const record: Streamed = { sent: 1024, closed: new Promise((resolve) => response.on('close', resolve)) };
  streamed.push(record);
  response.writeHead(200, { 'content-type': 'application/jwt', 'content-length': String(10 * 1024 ** 3) });
  response.write(CHUNK.subarray(0, 1024));
}

beforeAll(async () => {
  server = createServer((request, response) => {
    const answer = answers.get(request.url ?? '');
    if (answer === undefined) return void response.writeHead(404).end('{"status":404}');
    if (typeof answer === 'string') return void response.writeHead(200).end(answer);
    answer(response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const listPath = () => `/status-lists/${world.issuer.id}.0`;

beforeEach(async () => {
  world = await createWorld();
  now = NOW;
  answers = new Map();
  streamed = [];
  answers.set('/.well-known/jwks.json', JSON.stringify({ keys: world.trust.platform }));
  const iat = now;
  answers.set(
    '/trust-list',
    await signCompactJws(
      { typ: 'trust-list+jwt' },
      {
        iss: base,
        iat,
        exp: iat + 7 * 86_400,
        ttl: 3600,
        issuers: [
          {
            id: world.issuer.id,
            name: world.issuer.name,
            creditCode: world.issuer.creditCode,
            region: '110000',
            status: 'active',
            jwks: { keys: world.issuer.keys },
            licenceTypes: world.issuer.licenceTypes,
            statusLists: 1,
          },
        ],
      },
      world.platformSigner,
    ),
  );
  answers.set(
    listPath(),
    await signCompactJws(
      { typ: 'statuslist+jwt' },
      {
        iss: world.issuer.id,
        sub: `${base}${listPath()}`,
        iat,
        exp: iat + 2 * 86_400,
        ttl: 300,
        status_list: await encodeStatusList(createStatusBytes(1024), zlibCompression),
      },
      world.issuerSigner,
    ),
  );
});

function storeOf(options: Partial<OfflineTrustStoreOptions> = {}) {
  return new OfflineTrustStore({
    baseUrl: base,
    crypto: nodeEs256,
    clock: () => now * 1000,
    compression: zlibCompression,
    ...options,
  });
}

/** The one streamed answer: the client closed it, having let the server send no more than `atMost`. */
async function stoppedEarly(atMost: number): Promise<void> {
  expect(streamed).toHaveLength(1);
  await streamed[0]!.closed;
  expect(streamed[0]!.sent).toBeLessThanOrEqual(atMost);
}

describe('OfflineTrustStore reads what it fetches no further than its bounds', () => {
  it('gives up a trust list that never ends (too_large), closing the connection, and keeps what it held', async () => {
    const store = storeOf();
    await store.sync();
    answers.set('/trust-list', streamEndlessly);
    await expect(store.sync()).rejects.toMatchObject({ name: 'SyncError', code: 'too_large' });
    await expect(store.refreshTrustList()).rejects.toMatchObject({ code: 'too_large' });
    // Read no further than the bound (1 MiB) and what the sockets had buffered: far from the 64 MiB.
    expect(streamed).toHaveLength(2);
    for (const answer of streamed) {
      await answer.closed;
      expect(answer.sent).toBeLessThanOrEqual(DEFAULT_MAX_TRUST_LIST_BYTES + 8 * 1024 * 1024);
    }
    // The copy held still answers.
    expect(store.snapshot().statusLists).toHaveLength(1);
  });

  it('refuses a Content-Length past the bound before reading the body', async () => {
    answers.set('/trust-list', announceTenGigabytes);
    await expect(storeOf().sync()).rejects.toMatchObject({ code: 'too_large' });
    await stoppedEarly(1024);
    // The platform keys are bounded the same way.
    answers.set('/.well-known/jwks.json', announceTenGigabytes);
    await expect(storeOf().refreshTrustList()).rejects.toMatchObject({ code: 'too_large' });
  });

  it('bounds the trust list by maxTrustListBytes, which must be a whole number of 1 or more', async () => {
    const trustList = answers.get('/trust-list') as string;
    await expect(storeOf({ maxTrustListBytes: trustList.length - 1 }).sync()).rejects.toMatchObject({
      code: 'too_large',
    });
    expect(await storeOf({ maxTrustListBytes: trustList.length }).sync()).toMatchObject({ failures: [] });
    for (const bad of [0, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => storeOf({ maxTrustListBytes: bad })).toThrow(/maxTrustListBytes/);
    }
  });

  it('gives up a status list that never ends: a failure of the sync, a refresh refused, the held copy kept', async () => {
    const store = storeOf();
    await store.sync();
    answers.set(listPath(), streamEndlessly);
    expect((await store.sync()).failures).toEqual([{ url: `${base}${listPath()}`, code: 'too_large' }]);
    await stoppedEarly(statusListTokenMaxBytes(1024 * 1024) + 8 * 1024 * 1024);
    streamed = [];
    await expect(store.refreshStatusList(`${base}${listPath()}`)).rejects.toMatchObject({
      code: 'too_large',
    });
    await stoppedEarly(statusListTokenMaxBytes(1024 * 1024) + 8 * 1024 * 1024);
    expect(store.snapshot().statusLists).toHaveLength(1);
  });

  it('bounds a status list answer by the token a list of maxStatusListBytes makes at most', async () => {
    const maxStatusListBytes = 1024;
    const bound = statusListTokenMaxBytes(maxStatusListBytes);
    // A list of 1 KiB, even incompressible, is a token far shorter than this; the genuine one passes.
    expect(bound).toBeLessThan(20_000);
    const store = storeOf({ maxStatusListBytes });
    expect(await store.sync()).toMatchObject({ statusLists: 1, failures: [] });
    answers.set(listPath(), 'a'.repeat(bound + 1));
    await expect(store.refreshStatusList(`${base}${listPath()}`)).rejects.toMatchObject({
      code: 'too_large',
    });
  });
});

/** Sends a byte, then nothing more, the connection held open: far below every bound, and never done. */
function trickle(response: ServerResponse): void {
  const record: Streamed = { sent: 1, closed: new Promise((resolve) => response.on('close', resolve)) };
  streamed.push(record);
  response.writeHead(200, { 'content-type': 'application/jwt' });
  response.write(' ');
}

describe('OfflineTrustStore gives each request a deadline (R32 L2)', () => {
  it('abandons an answer that never completes (unreachable), closes the connection, keeps what it held', async () => {
    const store = storeOf({ requestTimeoutMs: 200 });
    await store.sync();
    answers.set('/trust-list', trickle);
    await expect(store.sync()).rejects.toMatchObject({ name: 'SyncError', code: 'unreachable' });
    await streamed[0]!.closed;
    answers.set('/trust-list', answers.get('/.well-known/jwks.json') as string);
    answers.set(listPath(), trickle);
    await expect(store.refreshStatusList(listPath())).rejects.toMatchObject({ code: 'unreachable' });
    expect(store.snapshot().statusLists).toHaveLength(1);
  });

  it('abandons it even through a fetch that ignores its signal, whose body never ends', async () => {
    const slow = () =>
      new Response(new ReadableStream({ pull: () => new Promise<void>(() => undefined) }), { status: 200 });
    const store = storeOf({ requestTimeoutMs: 100, fetch: async () => slow() });
    await expect(store.sync()).rejects.toMatchObject({ code: 'unreachable' });
  });

  it('is 15 s unless told, and must be a whole number of 1 or more', () => {
    expect(DEFAULT_REQUEST_TIMEOUT_MS).toBe(15_000);
    for (const bad of [0, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => storeOf({ requestTimeoutMs: bad })).toThrow(/requestTimeoutMs/);
    }
  });
});
