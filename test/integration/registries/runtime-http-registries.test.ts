import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { dependencies } from '../../../functions/composition/dependencies.js';
import { parseIdNumber } from '../../../shared/identifiers/id-number.js';
import { personLookupKey } from '../../../shared/identifiers/lookup-key.js';
import { expectProblem, postJson } from '../../support/http-api.js';
import { newIdNumber } from '../../support/in-memory-identity.js';
import { jsonAnswer, startFakeHttpServer, type FakeHttpServer } from '../../support/fake-http-server.js';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.js';

/** A body with the privacy notice agreed to (`consent`), unless it says otherwise or is not an object. */
const withConsent = (body: unknown) =>
  body !== null && typeof body === 'object' && !Array.isArray(body) && !('consent' in body)
    ? { ...body, consent: true }
    : body;

/*
 * The local runtime with REGISTRIES=http: POST /accounts asks the population and carrier services (fakes
 * started here) through the composition's HTTP adapters, instead of the table the seed filled.
 */

let runtime: TestRuntime;
let population: FakeHttpServer;
let carrier: FakeHttpServer;

beforeAll(async () => {
  population = await startFakeHttpServer();
  carrier = await startFakeHttpServer();
  // The seed registers the demo citizen through the same services: they do not know them.
  population.answer(jsonAnswer(200, { found: false }));
  carrier.answer(jsonAnswer(200, { match: false }));
  runtime = await startTestRuntime(undefined, {
    REGISTRIES: 'http',
    POPULATION_REGISTRY_URL: population.url('/persons'),
    POPULATION_REGISTRY_TOKEN: 'population-token',
    CARRIER_REGISTRY_URL: carrier.url('/verify'),
    CARRIER_REGISTRY_TOKEN: 'carrier-token',
    REGISTRY_TIMEOUT_MS: '500',
  });
});
afterAll(async () => {
  await runtime?.close();
  await population?.close();
  await carrier?.close();
});
beforeEach(() => {
  population.received.length = 0;
  carrier.received.length = 0;
});

const register = (body: unknown) => postJson(runtime, '/accounts', undefined, withConsent(body));

async function storedAccount(idNumber: string) {
  const deps = dependencies();
  return deps.accounts.findByLookupKey(
    await personLookupKey(deps.lookupMac, parseIdNumber(idNumber, new Date())),
  );
}

describe('REGISTRIES=http in the runtime', () => {
  it('registers against the services: the registry’s spelling, and the phone the carrier confirms', async () => {
    const idNumber = newIdNumber();
    population.answer((request, res) => {
      const known = (JSON.parse(request.body) as { idNumber: string }).idNumber === idNumber;
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify(known ? { found: true, name: '欧阳·娜娜' } : { found: false }));
    });
    carrier.answer((request, res) => {
      const asked = JSON.parse(request.body) as { idNumber: string; name: string; phone: string };
      const match =
        asked.idNumber === idNumber && asked.name === '欧阳·娜娜' && asked.phone === '+8615900002233';
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ match }));
    });
    const response = await register({
      idNumber,
      name: '欧阳・娜娜',
      password: 'Ouyang-2026!',
      phone: '+8615900002233',
    });
    const text = await response.text();
    expect(response.status, text).toBe(201);
    expect(JSON.parse(text)).toMatchObject({ name: '欧阳·娜娜', assurance: 'registry-verified' });
    expect(population.received.map((r) => [r.headers.authorization, JSON.parse(r.body)])).toEqual([
      ['Bearer population-token', { idNumber }],
    ]);
    expect(carrier.received.map((r) => r.headers.authorization)).toEqual(['Bearer carrier-token']);
    expect((await storedAccount(idNumber))?.phone?.masked).toBe('159****2233');
  });

  it('registers as unconfirmed when the carrier fails, and not at all when the population registry does', async () => {
    population.answer((_, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ found: false }));
    });
    carrier.answer((_, res) => void res.writeHead(500).end());
    const unconfirmed = newIdNumber();
    const response = await register({
      idNumber: unconfirmed,
      name: '赵六',
      password: 'Zhao-Liu-2026',
      phone: '+8615900002233',
    });
    expect(response.status, await response.text()).toBe(201);
    expect((await storedAccount(unconfirmed))?.phone).toBeUndefined();

    population.answer((_, res) => void res.writeHead(502).end());
    const refused = newIdNumber();
    await expectProblem(await register({ idNumber: refused, name: '钱七', password: 'Qian-Qi-2026' }), 503);
    expect(await storedAccount(refused)).toBeUndefined();
  });
});
