import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchFrom } from '../support/from-address.js';
import { basicAuth, onboardIssuer } from '../support/http-api.js';
import { UserAgent } from '../support/user-agent.js';
import {
  clientCredentialsToken,
  startTestRuntime,
  type TestRuntime,
  clientSecretConsole,
} from '../support/runtime.js';

/**
 * Finding 15: client-secret guessing at the token endpoint was not throttled. Failed client
 * authentications now count per (client id, source address) with growing waits; a throttled attempt
 * checks no secret (429, Retry-After and an OAuth error body for the right secret as for a wrong one),
 * and the same client from another address is not affected.
 *
 * Clients at different addresses: requests leave from 127.0.0.x, and the runtime takes the client's
 * address from the connection, as API Gateway does.
 */

let runtime: TestRuntime;
beforeAll(async () => {
  runtime = await startTestRuntime(undefined, clientSecretConsole);
});
afterAll(() => runtime?.close());

const sleep = (seconds: number) => new Promise((resolve) => setTimeout(resolve, seconds * 1000));

/** A client-credentials token request for the demo issuer client from `address`, with `secret`. */
async function tokenFrom(
  address: string,
  secret: string,
  path = '/token',
  extra: Record<string, string> = {},
  clientId = runtime.credentials.issuer.clientId,
) {
  const response = await fetchFrom(address)(`${runtime.baseUrl}${path}`, {
    method: 'POST',
    headers: {
      authorization: basicAuth({ clientId, clientSecret: secret }),
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
      ...extra,
    },
    body: new URLSearchParams(
      path === '/token' ? { grant_type: 'client_credentials', scope: 'licences:issue' } : { token: 'x' },
    ).toString(),
  });
  const text = await response.text();
  return {
    status: response.status,
    retryAfter: Number(response.headers.get('retry-after') ?? 0),
    contentType: response.headers.get('content-type') ?? '',
    body: (text ? JSON.parse(text) : {}) as {
      error?: string;
      error_description?: string;
      access_token?: string;
    },
  };
}

describe('guessing a client secret at the token endpoint', () => {
  it('is throttled per client and address; the right secret is refused during the wait; other addresses go on', async () => {
    const attacker = '127.0.0.5';
    const right = runtime.credentials.issuer.clientSecret;
    const statuses: number[] = [];
    let refused: Awaited<ReturnType<typeof tokenFrom>> | undefined;
    for (let guess = 0; guess < 12 && !refused; guess++) {
      const answer = await tokenFrom(attacker, `wrong-secret-${guess}`);
      statuses.push(answer.status);
      if (answer.status === 429) refused = answer;
      else expect(answer.body.error).toBe('invalid_client');
    }
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(refused, `statuses ${statuses.join(',')}`).toBeDefined();
    expect(refused!.retryAfter).toBeGreaterThanOrEqual(1);
    // An OAuth error body, as every OAuth library reads one.
    expect(refused!.contentType).toMatch(/^application\/json/);
    expect(refused!.body.error).toBe('invalid_client');
    expect(refused!.body.error_description).toMatch(/retry/i);

    // Sit out the wait, guess again: the next wait is longer.
    await sleep(refused!.retryAfter);
    expect((await tokenFrom(attacker, 'wrong-secret-after')).status).toBe(401);
    const again = await tokenFrom(attacker, 'wrong-secret-again');
    expect(again.status).toBe(429);

    // The right secret during the wait: refused alike, so a guess cannot be confirmed while blocked.
    const rightDuringBlock = await tokenFrom(attacker, right);
    expect(rightDuringBlock.status).toBe(429);
    expect(rightDuringBlock.body.error_description).toBe(again.body.error_description);
    expect(rightDuringBlock.body.error).toBe('invalid_client');
    expect(rightDuringBlock.body.access_token).toBeUndefined();
    // A forwarding header the client writes itself does not move it to another address.
    const spoofed = await tokenFrom(attacker, right, '/token', { 'x-forwarded-for': '127.0.0.6' });
    expect(spoofed.status).toBe(429);
    // The other client-authenticating endpoints share the count.
    expect((await tokenFrom(attacker, right, '/token/introspection')).status).toBe(429);
    expect((await tokenFrom(attacker, right, '/token/revocation')).status).toBe(429);

    // The issuer's own servers, at another address, are not affected.
    const elsewhere = await tokenFrom('127.0.0.6', right);
    expect(elsewhere.status).toBe(200);
    expect(elsewhere.body.access_token).toBeTruthy();

    // After the wait the right secret works from the attacker's address too (and starts the count over).
    await sleep(rightDuringBlock.retryAfter);
    const after = await tokenFrom(attacker, right);
    expect(after.status).toBe(200);
    expect(after.body.access_token).toBeTruthy();
    for (let i = 0; i < 5; i++) expect((await tokenFrom(attacker, `wrong-later-${i}`)).status).toBe(401);
  }, 60_000);

  // Review R35 F2: `/token/` reached the token endpoint (the gateway drops the empty segment) but not
  // the throttle, which compared the raw path: twenty guesses there, then the right secret, while
  // `/token` was blocked. A path in any form but its canonical one now reaches no function.
  it('cannot be gone round by another form of the endpoint’s path', async () => {
    const attacker = '127.0.0.8';
    const right = runtime.credentials.issuer.clientSecret;
    const form = { grant_type: 'client_credentials', scope: 'licences:issue' };
    const post = (path: string, secret: string) =>
      fetchFrom(attacker)(`${runtime.baseUrl}${path}`, {
        method: 'POST',
        headers: {
          authorization: basicAuth({ clientId: runtime.credentials.issuer.clientId, clientSecret: secret }),
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: new URLSearchParams(form).toString(),
      }).then(async (response) => ({ status: response.status, body: await response.text() }));
    for (let guess = 0; guess < 8; guess++) await post('/token', `wrong-${guess}`);
    expect((await post('/token', right)).status).toBe(429);
    // (A dot segment never leaves fetch, which resolves it as a browser does: test/unit/http/edge.test.ts.)
    for (const path of ['/token/', '//token', '/token//', '/token%2F']) {
      const answer = await post(path, right);
      expect(answer.status, path).toBe(404);
      expect(answer.body, path).not.toContain('access_token');
    }
    for (const path of ['/token/introspection/', '/token/revocation/', '/request/']) {
      expect((await post(path, right)).status, path).toBe(404);
    }
  }, 60_000);

  it('cannot be reset by a request the provider refuses before checking any secret', async () => {
    // Four guesses, then a Basic-auth request the provider refuses as malformed (400, no secret looked
    // at), again and again: the count must keep growing, not start over at each malformed request.
    const attacker = '127.0.0.7';
    const statuses: number[] = [];
    for (let round = 0; round < 4 && !statuses.includes(429); round++) {
      for (let guess = 0; guess < 4; guess++) {
        statuses.push((await tokenFrom(attacker, `wrong-${round}-${guess}`)).status);
      }
      const malformed = await tokenFrom(attacker, 'wrong', '/token', { 'content-type': 'text/plain' });
      expect(malformed.status).toBeLessThan(500);
    }
    expect(statuses, `statuses ${statuses.join(',')}`).toContain(429);
  }, 60_000);

  it('through the console, counts each visitor at their own address, so nobody can lock an issuer out', async () => {
    // A client of its own, so that this test's failures touch no other test's client.
    const admin = await clientCredentialsToken(runtime, runtime.credentials.admin, 'admin');
    const issuer = await onboardIssuer(runtime, admin);
    const consoleSignIn = (address: string, clientSecret: string) =>
      new UserAgent(runtime.baseUrl, [], fetchFrom(address)).request('/console/login', {
        form: { clientId: issuer.clientId, clientSecret },
      });

    // The attacker fails at the console until it throttles them.
    const statuses: number[] = [];
    for (let guess = 0; guess < 8 && !statuses.includes(429); guess++) {
      statuses.push((await consoleSignIn('127.0.0.10', `wrong-${guess}`)).status);
    }
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses.at(-1)).toBe(429);

    // A client cannot claim to be relayed from elsewhere: the header without the console's MAC is
    // ignored, so the blocked address stays blocked.
    const forged = await tokenFrom(
      '127.0.0.10',
      issuer.clientSecret,
      '/token',
      {
        'x-elicence-relayed-for': `${Buffer.from('127.0.0.12').toString('base64url')}.${Math.floor(Date.now() / 1000)}.AAAA`,
      },
      issuer.clientId,
    );
    expect(forged.status).toBe(429);

    // The issuer's own staff, at another address, signs in to the console at once.
    const staff = await consoleSignIn('127.0.0.11', issuer.clientSecret);
    expect(staff.status).toBe(303);
    expect(staff.headers.get('location')).toBe('/console');
  }, 60_000);
});
