import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issuerBody, postJson } from '../../support/http-api.js';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.js';
import { demoTokens, issueDrivingLicence } from '../verify/helpers.js';

/**
 * Cross-origin calls (review R25, L7): a browser verifier served from another origin (a bank's web app)
 * may verify and read what verification needs; no page of another origin may call an operator's,
 * issuer's or holder's route. What a browser does, done by hand: its preflight, then the request with
 * its `Origin`.
 */
let runtime: TestRuntime;
let tokens: Awaited<ReturnType<typeof demoTokens>>;
const origin = 'https://counter.bank.example';

beforeAll(async () => {
  runtime = await startTestRuntime();
  tokens = await demoTokens(runtime);
});
afterAll(() => runtime?.close());

/** A browser's preflight of `method` with `headers` at `path`. */
function preflight(path: string, method: string, headers: string): Promise<Response> {
  return fetch(`${runtime.baseUrl}${path}`, {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': method,
      'access-control-request-headers': headers,
    },
  });
}

describe('a browser verifier on another origin', () => {
  it('may post a verification with its token (a DPoP proof allowed too) and read the verdict', async () => {
    const allowed = await preflight('/verify', 'POST', 'authorization,content-type,dpop');
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe('*');
    expect(allowed.headers.get('access-control-allow-methods')).toBe('POST');
    expect(allowed.headers.get('access-control-allow-headers')?.split(', ')).toEqual(
      expect.arrayContaining(['authorization', 'content-type', 'dpop']),
    );
    expect(allowed.headers.get('access-control-allow-credentials')).toBeNull();

    const licence = await issueDrivingLicence(runtime, tokens.issuer);
    const answer = await fetch(`${runtime.baseUrl}/verify`, {
      method: 'POST',
      headers: { origin, 'content-type': 'application/json', authorization: `Bearer ${tokens.verifier}` },
      body: JSON.stringify({ qr: licence.credential }),
    });
    expect(answer.status, await answer.clone().text()).toBe(200);
    expect(answer.headers.get('access-control-allow-origin')).toBe('*');
    expect(((await answer.json()) as { verdict: string }).verdict).toBe('valid');

    // A refusal is readable too, with why the token was refused.
    const refused = await fetch(`${runtime.baseUrl}/verify`, {
      method: 'POST',
      headers: { origin, 'content-type': 'application/json', authorization: 'Bearer bogus' },
      body: JSON.stringify({ qr: licence.credential }),
    });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('access-control-allow-origin')).toBe('*');
    expect(refused.headers.get('access-control-expose-headers')).toContain('www-authenticate');
  });

  it('may read the trust list, an issuer, a status list, the catalogue, the OpenAPI document and the export’s schema', async () => {
    const licence = await issueDrivingLicence(runtime, tokens.issuer);
    const claims = decodeJwt(licence.credential.split('~')[0]!) as {
      status: { status_list: { uri: string } };
    };
    const statusList = new URL(claims.status.status_list.uri).pathname;
    expect(statusList).toMatch(/^\/status-lists\//);
    for (const path of [
      statusList,
      '/trust-list',
      `/issuers/${runtime.credentials.issuer.id}`,
      '/licence-types',
      '/openapi.json',
      '/schemas/data-export-1.json',
    ]) {
      const response = await fetch(`${runtime.baseUrl}${path}`, { headers: { origin } });
      expect(response.status, path).toBe(200);
      expect(response.headers.get('access-control-allow-origin'), path).toBe('*');
      expect((await preflight(path, 'GET', 'if-none-match')).status, path).toBe(204);
    }
  });
});

describe('a page of another origin', () => {
  it('gets no preflight, and no CORS header, from an operator’s, issuer’s or holder’s route', async () => {
    for (const [path, method] of [
      ['/admin/issuers', 'POST'],
      ['/licences', 'POST'],
      ['/licences/search', 'POST'],
      ['/me/licences', 'GET'],
      ['/me/usage', 'GET'],
    ] as const) {
      const refused = await preflight(path, method, 'authorization,content-type');
      // API Gateway's own answer for a route it does not have (no OPTIONS route for these paths).
      expect(refused.status, path).toBe(404);
      expect(refused.headers.get('access-control-allow-origin'), path).toBeNull();
    }
    const answered = await postJson(runtime, '/admin/issuers', tokens.issuer, issuerBody());
    expect(answered.status).toBe(403);
    expect(answered.headers.get('access-control-allow-origin')).toBeNull();
  });
});
