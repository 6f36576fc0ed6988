import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { HttpCarrierRegistry } from '../../../shared/adapters/http/carrier-registry.js';
import { HttpPopulationRegistry } from '../../../shared/adapters/http/population-registry.js';
import { ConfigError, loadConfig } from '../../../shared/config.js';
import { parseIdNumber, type IdNumber } from '../../../shared/identifiers/id-number.js';
import { registerPerson } from '../../../shared/identity/register-person.js';
import { fakeMac } from '../../support/in-memory.js';
import {
  FakePasswordHasher,
  FakePiiCipher,
  InMemoryAccountStore,
  InMemoryAudit,
  InMemoryLoginAttemptStore,
  newIdNumber,
  TestClock,
} from '../../support/in-memory-identity.js';
import { jsonAnswer, startFakeHttpServer, type FakeHttpServer } from '../../support/fake-http-server.js';

/*
 * The registry adapters for AWS (REGISTRIES=http) against a fake of the documented endpoints
 * (docs/operating.md, "Registries and SMS"), on this machine, started here and nowhere else.
 */

let server: FakeHttpServer;
let elsewhere: FakeHttpServer;
const token = 'registry-test-token-5f3a';
const timeoutMs = 300;

beforeAll(async () => {
  server = await startFakeHttpServer();
  elsewhere = await startFakeHttpServer();
});
afterAll(async () => {
  await server?.close();
  await elsewhere?.close();
});

/** Everything the service logged meanwhile: the ID number and phone must never be in it. */
let logged: string[];
beforeEach(() => {
  server.received.length = 0;
  elsewhere.received.length = 0;
  logged = [];
  for (const stream of [process.stdout, process.stderr]) {
    vi.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
      logged.push(String(chunk));
      return true;
    });
  }
});
afterEach(() => {
  vi.restoreAllMocks();
});

const idNumber = (): IdNumber => parseIdNumber(newIdNumber(), new Date());
const phone = '+8613912345678';

/** The answers of a registry that is there but broken, each of which must be taken as no answer. */
const brokenAnswers: Array<[string, Parameters<FakeHttpServer['answer']>[0]]> = [
  ['a 500', jsonAnswer(500, { found: true, name: '王小明', match: true })],
  ['a 503', (_, res) => void res.writeHead(503).end()],
  ['a 404', jsonAnswer(404, { found: false, match: false })],
  ['a 401 (wrong token)', jsonAnswer(401, { error: 'unauthorised' })],
  ['a body that is not JSON', (_, res) => void res.writeHead(200).end('<html>ok</html>')],
  ['JSON of another shape', jsonAnswer(200, { found: 'yes', name: 7, match: 'true' })],
  ['JSON null', jsonAnswer(200, null)],
  [
    'an answer over 16 KiB',
    jsonAnswer(200, { found: true, name: '王', match: true, pad: 'x'.repeat(20_000) }),
  ],
  ['a connection closed mid-answer', (_, res) => void res.destroy()],
  [
    'a redirect to another host',
    (_, res) => void res.writeHead(307, { location: elsewhere.url('/steal') }).end(),
  ],
  [
    'an answer later than the timeout',
    (_, res) =>
      void setTimeout(() => {
        if (!res.destroyed) res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      }, timeoutMs * 4),
  ],
];

describe('HttpPopulationRegistry', () => {
  const registry = () =>
    new HttpPopulationRegistry({ url: server.url('/population/v1/persons'), token }, timeoutMs);

  it('asks by ID number alone, over POST with the bearer token, and answers the registry’s name', async () => {
    const id = idNumber();
    server.answer(jsonAnswer(200, { found: true, name: '王小明' }));
    expect(await registry().findPerson('lk-1', id)).toEqual({
      lookupKey: 'lk-1',
      name: '王小明',
      masked: `${id.slice(0, 6)}********${id.slice(14)}`,
    });
    expect(server.received).toHaveLength(1);
    const [request] = server.received;
    expect(request).toMatchObject({ method: 'POST', url: '/population/v1/persons' });
    expect(request!.headers).toMatchObject({
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      accept: 'application/json',
    });
    expect(JSON.parse(request!.body)).toEqual({ idNumber: id });
    expect(logged.join('')).not.toContain(id);
  });

  it('answers nobody for a number the registry does not know', async () => {
    server.answer(jsonAnswer(200, { found: false }));
    expect(await registry().findPerson('lk-2', idNumber())).toBeUndefined();
  });

  it.each(brokenAnswers)(
    'fails closed on %s: unavailable, never "not found", nothing logged of the number',
    async (_, answer) => {
      const id = idNumber();
      server.answer(answer);
      const started = Date.now();
      await expect(registry().findPerson('lk-3', id)).rejects.toMatchObject({
        kind: 'unavailable',
        code: 'registry_unavailable',
      });
      expect(Date.now() - started).toBeLessThan(timeoutMs * 3);
      expect(elsewhere.received).toEqual([]);
      expect(logged.join('')).toContain('population registry unanswered');
      expect(logged.join('')).not.toContain(id);
      expect(logged.join('')).not.toContain(token);
    },
  );

  it('fails closed when nothing listens there', async () => {
    const gone = await startFakeHttpServer();
    const url = gone.url('/');
    await gone.close();
    await expect(
      new HttpPopulationRegistry({ url, token }, timeoutMs).findPerson('lk', idNumber()),
    ).rejects.toMatchObject({
      kind: 'unavailable',
    });
  });

  it('is never asked without the number, and never over plain http to another host', async () => {
    await expect(registry().findPerson('lk-4')).rejects.toThrow(/asked by ID number/);
    expect(server.received).toEqual([]);
    expect(() => new HttpPopulationRegistry({ url: 'http://registry.example/v1', token }, timeoutMs)).toThrow(
      /https/,
    );
  });

  it('makes registration fail closed: 503, no account, rather than an unchecked one', async () => {
    server.answer(jsonAnswer(502, {}));
    const accounts = new InMemoryAccountStore();
    const carrier = new HttpCarrierRegistry({ url: server.url('/carrier'), token }, timeoutMs);
    const error = await registerPerson(
      { consent: true, idNumber: newIdNumber(), name: '王小明', password: 'Correct-Horse-1', phone },
      {
        accounts,
        accountAudit: accounts.pendingAudit,
        passwords: new FakePasswordHasher(),
        pii: new FakePiiCipher(),
        lookupMac: fakeMac,
        registry: registry(),
        carrier,
        audit: new InMemoryAudit(),
        loginAttempts: new InMemoryLoginAttemptStore(),
        clock: new TestClock(),
      },
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'unavailable', code: 'registry_unavailable' });
    expect(accounts.byLookupKey.size).toBe(0);
  });
});

describe('HttpCarrierRegistry', () => {
  const carrier = () => new HttpCarrierRegistry({ url: server.url('/carrier/v1/verify'), token }, timeoutMs);

  it('asks with the number, name and phone, and confirms on a clear yes', async () => {
    const id = idNumber();
    server.answer(jsonAnswer(200, { match: true }));
    expect(await carrier().confirms({ lookupKey: 'lk', name: '王小明', phone, idNumber: id })).toBe(true);
    const [request] = server.received;
    expect(request).toMatchObject({ method: 'POST', url: '/carrier/v1/verify' });
    expect(request!.headers.authorization).toBe(`Bearer ${token}`);
    expect(JSON.parse(request!.body)).toEqual({ idNumber: id, name: '王小明', phone });
  });

  it('says no on a clear no', async () => {
    server.answer(jsonAnswer(200, { match: false }));
    expect(await carrier().confirms({ lookupKey: 'lk', name: '王小明', phone, idNumber: idNumber() })).toBe(
      false,
    );
  });

  it.each(brokenAnswers)(
    'fails closed on %s: not confirmed, nothing logged of what was asked',
    async (_, answer) => {
      const id = idNumber();
      server.answer(answer);
      const started = Date.now();
      expect(await carrier().confirms({ lookupKey: 'lk', name: '王小明', phone, idNumber: id })).toBe(false);
      expect(Date.now() - started).toBeLessThan(timeoutMs * 3);
      expect(elsewhere.received).toEqual([]);
      const log = logged.join('');
      expect(log).toContain('carrier registry unanswered');
      for (const secret of [id, phone, '13912345678', '王小明', token]) expect(log).not.toContain(secret);
    },
  );

  it('does not ask, and does not confirm, without the ID number', async () => {
    server.answer(jsonAnswer(200, { match: true }));
    expect(await carrier().confirms({ lookupKey: 'lk', name: '王小明', phone })).toBe(false);
    expect(server.received).toEqual([]);
  });

  it('without a token configured, sends no Authorization header', async () => {
    server.answer(jsonAnswer(200, { match: true }));
    const open = new HttpCarrierRegistry({ url: server.url('/c'), token: undefined }, timeoutMs);
    expect(await open.confirms({ lookupKey: 'lk', name: '王小明', phone, idNumber: idNumber() })).toBe(true);
    expect(server.received[0]!.headers.authorization).toBeUndefined();
  });
});

describe('REGISTRIES in the configuration', () => {
  it('defaults to the local table, and with http needs both endpoints, https or loopback', () => {
    expect(loadConfig({}).registries).toEqual({ kind: 'local' });
    expect(() => loadConfig({ REGISTRIES: 'http' })).toThrow(/POPULATION_REGISTRY_URL.*CARRIER_REGISTRY_URL/);
    expect(() =>
      loadConfig({
        REGISTRIES: 'http',
        POPULATION_REGISTRY_URL: 'http://population.example/v1',
        CARRIER_REGISTRY_URL: 'https://carrier.example/v1',
      }),
    ).toThrow(ConfigError);
    expect(
      loadConfig({
        REGISTRIES: 'http',
        POPULATION_REGISTRY_URL: 'https://population.example/v1',
        POPULATION_REGISTRY_TOKEN: 'p',
        CARRIER_REGISTRY_URL: 'http://127.0.0.1:9999/c',
        REGISTRY_TIMEOUT_MS: '1500',
      }).registries,
    ).toEqual({
      kind: 'http',
      population: { url: 'https://population.example/v1', token: 'p' },
      carrier: { url: 'http://127.0.0.1:9999/c', token: undefined },
      timeoutMs: 1500,
    });
  });
});
