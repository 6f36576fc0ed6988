import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { citizenAnswers } from '../support/oidc-flows.js';
import { startHttpsTestRuntime, startTestRuntime, type TestRuntime } from '../support/runtime.js';
import { parseForm } from '../support/user-agent.js';

/**
 * Finding 5: the public origin comes from ISSUER_URL alone. A client that forges the headers a proxy
 * sets (X-Forwarded-Host, X-Forwarded-Proto, Forwarded) or the Host header itself must not change any
 * URL the service publishes: discovery, the JWKS URI, the endpoints, the redirects of a sign-in, the
 * forms of the provider's pages, the links of our pages.
 */

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A raw HTTP request, so that the Host header too is ours to choose (fetch sets its own). */
function raw(
  baseUrl: string,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Answer> {
  const url = new URL(path, baseUrl);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        path: `${url.pathname}${url.search}`,
        method: options.method ?? 'GET',
        headers: { accept: 'text/html', ...options.headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

const evil = 'evil.example';
const forgeries: Record<string, Record<string, string>> = {
  'X-Forwarded-Host': { 'x-forwarded-host': evil },
  'X-Forwarded-Host with a port': { 'x-forwarded-host': `${evil}:8443` },
  'X-Forwarded-Proto https on an http origin': { 'x-forwarded-proto': 'https' },
  'Forwarded (RFC 7239)': { forwarded: `for=192.0.2.1;host=${evil};proto=https` },
  Host: { host: evil },
  'all of them': {
    host: evil,
    'x-forwarded-host': evil,
    'x-forwarded-proto': 'https',
    'x-forwarded-port': '443',
    forwarded: `host=${evil};proto=https`,
  },
};

let runtime: TestRuntime;

/** Every absolute URL an answer names (headers and body), which must all be on the public origin or elsewhere than the forged one. */
function expectOnlyOurOrigin(answer: Answer, what: string) {
  const text = `${JSON.stringify(answer.headers)}\n${answer.body}`;
  expect(text, `${what} names the forged host`).not.toContain(evil);
  const location = answer.headers.location;
  if (typeof location === 'string' && /^[a-z]+:/i.test(location)) {
    // Our own redirects, and the platform's callback (the seed's is on our origin).
    expect(location.startsWith(`${runtime.baseUrl}/`), `${what} redirects to ${location}`).toBe(true);
  }
  const ourHost = new URL(runtime.baseUrl).host;
  for (const match of text.matchAll(/https?:\/\/[^\s"'<>\\&,;]+/g)) {
    const url = URL.parse(match[0]);
    if (url?.host === ourHost) {
      expect(url.origin, `${what} names ${match[0]}`).toBe(runtime.baseUrl);
    }
  }
}

describe('forged forwarding headers change no published URL', () => {
  // One runtime at a time per process (the handlers serve the runtime started last).
  beforeAll(async () => {
    runtime = await startTestRuntime();
  });
  afterAll(() => runtime?.close());

  it.each(Object.entries(forgeries))('discovery and JWKS with a forged %s', async (_name, headers) => {
    const discovery = await raw(runtime.baseUrl, '/.well-known/openid-configuration', {
      headers: { ...headers, accept: 'application/json' },
    });
    expect(discovery.status).toBe(200);
    expectOnlyOurOrigin(discovery, 'discovery');
    const metadata = JSON.parse(discovery.body) as Record<string, unknown>;
    expect(metadata.issuer).toBe(runtime.baseUrl);
    expect(metadata.jwks_uri).toBe(`${runtime.baseUrl}/.well-known/jwks.json`);
    expect(metadata.authorization_endpoint).toBe(`${runtime.baseUrl}/authorize`);
    expect(metadata.token_endpoint).toBe(`${runtime.baseUrl}/token`);
    expect(metadata.userinfo_endpoint).toBe(`${runtime.baseUrl}/userinfo`);
    expect(metadata.end_session_endpoint).toBe(`${runtime.baseUrl}/session/end`);
    for (const [name, value] of Object.entries(metadata)) {
      if (typeof value === 'string' && /^https?:/.test(value)) {
        expect(value.startsWith(`${runtime.baseUrl}/`) || value === runtime.baseUrl, name).toBe(true);
      }
    }

    const jwks = await raw(runtime.baseUrl, '/.well-known/jwks.json', { headers });
    expect(jwks.status).toBe(200);
    expectOnlyOurOrigin(jwks, 'JWKS');
  });

  it.each(Object.entries(forgeries))(
    'a whole sign-in with a forged %s redirects and posts only to the public origin',
    async (_name, headers) => {
      const { platform } = runtime.credentials;
      const cookies = new Map<string, string>();
      const send = async (path: string, form?: Record<string, string>) => {
        const answer = await raw(runtime.baseUrl, path, {
          method: form ? 'POST' : 'GET',
          headers: {
            ...headers,
            ...(cookies.size > 0 ? { cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; ') } : {}),
            ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
          },
          body: form ? new URLSearchParams(form).toString() : undefined,
        });
        for (const line of (answer.headers['set-cookie'] as string[] | undefined) ?? []) {
          const [pair] = line.split(';');
          const at = pair!.indexOf('=');
          cookies.set(pair!.slice(0, at), pair!.slice(at + 1));
        }
        expectOnlyOurOrigin(answer, `${form ? 'POST' : 'GET'} ${path}`);
        return answer;
      };

      const query = new URLSearchParams({
        client_id: platform.clientId,
        redirect_uri: platform.redirectUri,
        response_type: 'code',
        scope: 'openid profile',
        state: 'state-1',
        nonce: 'nonce-1',
        code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
        code_challenge_method: 'S256',
      });
      let answer = await send(`/authorize?${query}`);
      let callback: URL | undefined;
      for (let hops = 0; hops < 12 && !callback; hops++) {
        const location = answer.headers.location;
        if (answer.status >= 300 && answer.status < 400 && typeof location === 'string') {
          const next = new URL(location, runtime.baseUrl);
          if (next.href.startsWith(platform.redirectUri)) callback = next;
          else answer = await send(`${next.pathname}${next.search}`);
          continue;
        }
        expect(answer.status, answer.body.slice(0, 300)).toBe(200);
        const form = parseForm(answer.body);
        expect(form, answer.body.slice(0, 300)).toBeDefined();
        const action = new URL(form!.action, runtime.baseUrl);
        expect(action.origin).toBe(runtime.baseUrl);
        const fields =
          'username' in form!.fields || /name="username"/.test(answer.body)
            ? citizenAnswers(runtime)
            : form!.fields;
        answer = await send(`${action.pathname}${action.search}`, fields);
      }
      expect(callback?.searchParams.get('code')).toBeTruthy();
      expect(callback?.searchParams.get('iss')).toBe(runtime.baseUrl);
    },
  );

  it.each(Object.entries(forgeries))(
    'the logout page with a forged %s posts to the public origin',
    async (_n, headers) => {
      const answer = await raw(runtime.baseUrl, '/session/end', { headers });
      expect(answer.status).toBe(200);
      expectOnlyOurOrigin(answer, 'logout page');
      const form = parseForm(answer.body);
      expect(new URL(form!.action, runtime.baseUrl).origin).toBe(runtime.baseUrl);
    },
  );

  it.each(Object.entries(forgeries))(
    'our pages with a forged %s link only to the public origin',
    async (_n, headers) => {
      for (const path of [
        '/',
        '/verifier',
        '/wallet',
        '/wallet/login',
        '/demo',
        '/demo/login',
        '/console',
        '/register',
      ]) {
        const answer = await raw(runtime.baseUrl, path, { headers });
        expect(answer.status, path).toBeLessThan(500);
        expectOnlyOurOrigin(answer, path);
      }
    },
  );
});

describe('on an https public origin', () => {
  let https: Awaited<ReturnType<typeof startHttpsTestRuntime>>;

  beforeAll(async () => {
    https = await startHttpsTestRuntime();
  });
  afterAll(() => https?.close());

  it.each([
    ['X-Forwarded-Proto http', { 'x-forwarded-proto': 'http' }],
    ['Forwarded proto=http', { forwarded: 'proto=http' }],
    ['Host and X-Forwarded-Host', { host: evil, 'x-forwarded-host': evil }],
  ])('discovery with a forged %s names only the https origin', async (_name, headers) => {
    const discovery = await raw(https.listener, '/.well-known/openid-configuration', {
      headers: { ...headers, accept: 'application/json' },
    });
    expect(discovery.status).toBe(200);
    const metadata = JSON.parse(discovery.body) as Record<string, unknown>;
    expect(metadata.issuer).toBe(https.baseUrl);
    for (const [name, value] of Object.entries(metadata)) {
      if (typeof value === 'string' && /^https?:/.test(value)) {
        expect(value.startsWith(`${https.baseUrl}/`) || value === https.baseUrl, `${name}: ${value}`).toBe(
          true,
        );
      }
    }
    // The provider's cookies are Secure on https whatever the request says.
    const page = await raw(https.listener, '/session/end', { headers });
    const cookies = (page.headers['set-cookie'] as string[] | undefined) ?? [];
    expect(cookies.length).toBeGreaterThan(0);
    for (const cookie of cookies) expect(cookie.toLowerCase()).toContain('secure');
  });
});
