import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routes, type Route } from '../../functions/routes.js';
import { maxPathLength, maxQueryLength } from '../../shared/http/edge.js';
import { adminToken, registerPlatform, signIn, citizenAnswers } from '../support/oidc-flows.js';
import { expectProblem } from '../support/http-api.js';
import { clientCredentialsToken, startTestRuntime, type TestRuntime } from '../support/runtime.js';
import { UserAgent } from '../support/user-agent.js';

/**
 * Finding 8: a licence id over 2 KB gave a 500 (`GET /licences/{id}`, `POST /me/licences/{id}/presentations`),
 * as DynamoDB refuses keys over 2,048 bytes. Every path parameter of every route is bounded at the edge:
 * a value outside its kind's shape is a 404 naming the parameter, an overlong path or query a 414, never
 * a 5xx, whoever calls.
 */

let runtime: TestRuntime;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  runtime = await startTestRuntime();
  const admin = await adminToken(runtime);
  tokens.admin = admin;
  tokens['licences:issue'] = await clientCredentialsToken(
    runtime,
    runtime.credentials.issuer,
    'licences:issue',
  );
  const wallet = await registerPlatform(runtime, admin, {
    name: 'Long ids wallet',
    redirectUris: ['https://wallet.example/cb'],
    scopes: ['openid', 'profile', 'licences'],
    firstParty: true,
  });
  const { tokens: person } = await signIn(wallet, new UserAgent(runtime.baseUrl), citizenAnswers(runtime), {
    scope: 'openid licences',
  });
  tokens.licences = person.access_token;
});
afterAll(() => runtime?.close());

const bearer = (route: Route): Record<string, string> => {
  const scope = typeof route.auth === 'object' ? route.auth.scope : undefined;
  const token = scope ? tokens[scope] : undefined;
  return token ? { authorization: `Bearer ${token}` } : {};
};

function call(route: Route, path: string): Promise<Response> {
  const method = route.method === 'ANY' ? 'GET' : route.method;
  return fetch(`${runtime.baseUrl}${path}`, {
    method,
    headers: {
      ...bearer(route),
      ...(method === 'GET' || method === 'DELETE' ? {} : { 'content-type': 'application/json' }),
    },
    body: method === 'GET' || method === 'DELETE' ? undefined : '{}',
    redirect: 'manual',
  });
}

/** The route's path with every parameter replaced by `value` (percent-encoded, as a client sends it). */
const withParameters = (route: Route, value: string) =>
  route.path.replace(/\{[A-Za-z]+\}/g, encodeURIComponent(value));

describe('overlong and malformed ids are refused at the edge, never a 5xx', () => {
  it('GET /licences/{id} with a 3 KB id is a 404 problem naming the id, for the issuer', async () => {
    const response = await fetch(`${runtime.baseUrl}/licences/${'1'.repeat(3000)}`, {
      headers: { authorization: `Bearer ${tokens['licences:issue']}` },
    });
    const problem = await expectProblem(response, 404, 'licence_not_found');
    expect(problem.errors?.map((e) => e.path)).toEqual(['id']);
  });

  it('POST /me/licences/{id}/presentations with a 3 KB id is a 404 problem, for the holder', async () => {
    const response = await fetch(`${runtime.baseUrl}/me/licences/${'1.'.repeat(1500)}/presentations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.licences}`, 'content-type': 'application/json' },
      body: '{}',
    });
    await expectProblem(response, 404, 'licence_not_found');
  });

  const hostile = [
    ['2,100 ASCII characters', 'a'.repeat(2100)],
    ['2,100 bytes of CJK (700 characters)', '证'.repeat(700)],
    ['a 1,000-character id of valid characters', '1.2.156.'.repeat(125)],
    ['full-width digits', '１２３４５６'],
    ['a NUL byte', 'a\u0000b'],
    ['an encoded slash', 'a/b'],
    ['an emoji', '🙂'],
    ['markup', '<script>alert(1)</script>'],
  ] as const;
  const parameterised = routes.filter((route) => route.path.includes('{'));

  it.each(hostile)('every route with a path parameter refuses %s with a 4xx', async (_what, value) => {
    for (const route of parameterised) {
      const path = withParameters(route, value);
      const response = await call(route, path);
      const text = await response.text();
      expect(response.status, `${route.method} ${route.path}: ${text.slice(0, 200)}`).toBeGreaterThanOrEqual(
        400,
      );
      expect(response.status, `${route.method} ${route.path}: ${text.slice(0, 200)}`).toBeLessThan(500);
    }
  });

  it('answers 404 naming the parameter on every parameterised route (API and pages)', async () => {
    for (const route of parameterised) {
      const path = withParameters(route, 'x'.repeat(2049));
      const response = await call(route, path);
      const text = await response.text();
      // Two such parameters make a path over the bound: refused as a whole first.
      const expected = path.length > maxPathLength ? 414 : 404;
      expect(response.status, `${route.method} ${route.path}: ${text.slice(0, 200)}`).toBe(expected);
    }
  });

  it('refuses an overlong path or query string with a 414', async () => {
    const longPath = await fetch(`${runtime.baseUrl}/licences/${'a'.repeat(maxPathLength)}`, {
      headers: { authorization: `Bearer ${tokens['licences:issue']}` },
    });
    await expectProblem(longPath, 414, 'uri_too_long');
    const longQuery = await fetch(`${runtime.baseUrl}/licences?holder=${'1'.repeat(maxQueryLength)}`, {
      headers: { authorization: `Bearer ${tokens['licences:issue']}` },
    });
    await expectProblem(longQuery, 414, 'uri_too_long');
    const longAuthorize = await fetch(`${runtime.baseUrl}/authorize?client_id=${'c'.repeat(maxQueryLength)}`);
    expect(longAuthorize.status).toBe(414);
  });

  it('still serves well-formed ids: a known asset and an unknown licence', async () => {
    expect((await fetch(`${runtime.baseUrl}/assets/app.css`)).status).toBe(200);
    const unknown = await fetch(`${runtime.baseUrl}/licences/1.2.156.3005.2.003.91110000MA00000000.1.001.X`, {
      headers: { authorization: `Bearer ${tokens['licences:issue']}` },
    });
    await expectProblem(unknown, 404, 'licence_not_found');
  });

  it('gives every parameter of every route a kind', () => {
    for (const route of routes) {
      const names = [...route.path.matchAll(/\{([A-Za-z]+)\+?\}/g)].map((m) => m[1]);
      expect(Object.keys(route.parameters ?? {}).sort(), `${route.method} ${route.path}`).toEqual(
        names.sort(),
      );
    }
  });
});
