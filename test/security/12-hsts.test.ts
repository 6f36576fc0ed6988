import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpsTestRuntime, startTestRuntime, type TestRuntime } from '../support/runtime.js';
import { basicAuth } from '../support/http-api.js';

/**
 * Finding 12: pages and API answers carry `Strict-Transport-Security` whenever the public origin
 * (ISSUER_URL) is https, and none when it is http (the local runtime). Every kind of answer: API JSON,
 * problem JSON, pages, the OpenID provider's answers, redirects, assets.
 *
 * The https runtime listens on plain http on a port chosen here, with ISSUER_URL naming https on that
 * port, as a deployment behind TLS-terminating API Gateway does; the requests go to the listener.
 */

let https: TestRuntime;
let http: TestRuntime;
let httpsListener: string;

interface Probe {
  what: string;
  path: string;
  init?: RequestInit;
  /** The status that shows the request reached what it is meant to (not a refusal of the gateway). */
  status: number;
}

const probes = (runtime: () => TestRuntime): Probe[] => [
  { what: 'API JSON', path: '/healthz', status: 200 },
  { what: 'public API JSON', path: '/licence-types', status: 200 },
  { what: 'a signed token', path: '/trust-list', status: 200 },
  { what: 'a problem (401)', path: '/licences', status: 401 },
  { what: 'a problem (404 at the edge)', path: `/licences/${'x'.repeat(300)}`, status: 404 },
  {
    what: 'a problem (400)',
    path: '/verify',
    init: { method: 'POST', headers: { 'content-type': 'application/json' }, body: '[' },
    status: 400,
  },
  { what: 'a page', path: '/', status: 200 },
  { what: 'the verifier page', path: '/verifier', status: 200 },
  { what: 'the register page', path: '/register', status: 200 },
  { what: 'the wallet signed out', path: '/wallet', status: 200 },
  { what: 'the console signed out', path: '/console', status: 200 },
  { what: 'an asset', path: '/assets/app.css', status: 200 },
  { what: 'a page refusal', path: '/wallet/licences/%3Cb%3E', status: 404 },
  { what: 'a page redirect', path: '/console/logout', init: { method: 'POST' }, status: 303 },
  { what: 'OpenID discovery', path: '/.well-known/openid-configuration', status: 200 },
  { what: 'the JWKS', path: '/.well-known/jwks.json', status: 200 },
  {
    what: 'an OAuth error',
    path: '/token',
    init: {
      method: 'POST',
      headers: {
        authorization: basicAuth(runtime().credentials.admin),
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=password',
    },
    status: 400,
  },
  {
    what: 'an OpenID redirect',
    path: `/authorize?${new URLSearchParams({
      client_id: runtime().credentials.platform.clientId,
      redirect_uri: runtime().credentials.platform.redirectUri,
      response_type: 'code',
      scope: 'openid',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
    })}`,
    status: 303,
  },
  {
    what: 'an OpenID error page',
    path: '/interaction/unknown',
    init: { headers: { accept: 'text/html' } },
    status: 400,
  },
];

// One runtime at a time: the handlers of a process serve the runtime started last.
describe('Strict-Transport-Security when the public origin is https', () => {
  beforeAll(async () => {
    const started = await startHttpsTestRuntime();
    https = started;
    httpsListener = started.listener;
  });
  afterAll(() => https?.close());

  it('is on every kind of answer', async () => {
    for (const probe of probes(() => https)) {
      const response = await fetch(`${httpsListener}${probe.path}`, { redirect: 'manual', ...probe.init });
      const body = await response.text();
      expect(response.status, `${probe.what}: ${body.slice(0, 200)}`).toBe(probe.status);
      expect(response.headers.get('strict-transport-security'), probe.what).toBe('max-age=31536000');
    }
  });
});

describe('Strict-Transport-Security when the public origin is http (the local runtime)', () => {
  beforeAll(async () => {
    http = await startTestRuntime();
  });
  afterAll(() => http?.close());

  it('is on no answer', async () => {
    for (const probe of probes(() => http)) {
      const response = await fetch(`${http.baseUrl}${probe.path}`, { redirect: 'manual', ...probe.init });
      const body = await response.text();
      expect(response.status, `${probe.what}: ${body.slice(0, 200)}`).toBe(probe.status);
      expect(response.headers.get('strict-transport-security'), probe.what).toBeNull();
    }
  });
});
