import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dependencies } from '../../../functions/composition/dependencies.js';
import { AuthenticationError } from '../../../shared/http/api-handler.js';
import { authenticate } from '../../../shared/http/authenticate.js';
import type { HttpEvent } from '../../../shared/http/types.js';
import { findAccessToken, oidcItemKey } from '../../../shared/adapters/dynamo/oidc-adapter.js';
import {
  basicAuth,
  clientItems,
  expectProblem,
  issuerBody,
  issuerItems,
  postJson,
  type ProblemDocument,
} from '../../support/http-api.js';
import { clientCredentialsToken, startTestRuntime, type TestRuntime } from '../../support/runtime.js';

let runtime: TestRuntime;
let adminToken: string;
let verifierToken: string;
let revokedToken: string;
let expiredToken: string;

const epochNow = () => Math.floor(Date.now() / 1000);

/** Revokes a token at the revocation endpoint, authenticated as the client it was issued to. */
async function revoke(token: string, client: { clientId: string; clientSecret: string }): Promise<void> {
  const response = await fetch(`${runtime.baseUrl}/token/revocation`, {
    method: 'POST',
    headers: { authorization: basicAuth(client), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token, token_type_hint: 'access_token' }),
  });
  expect(response.status).toBe(200);
}

/**
 * Makes a stored client-credentials token expired, as it will be once its lifetime (at least 60 s) has
 * passed: its `exp` and TTL attribute set in the past. DynamoDB may keep such an item for a while
 * (TTL deletes late), so this is the state the service must refuse.
 */
async function expireStoredToken(token: string): Promise<void> {
  const { doc, config } = dependencies();
  const past = epochNow() - 1;
  await doc.send(
    new UpdateCommand({
      TableName: config.tableName,
      Key: oidcItemKey('ClientCredentials', token),
      UpdateExpression: 'SET #payload.#exp = :past, expiresAt = :past',
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeNames: { '#payload': 'payload', '#exp': 'exp' },
      ExpressionAttributeValues: { ':past': past },
    }),
  );
}

beforeAll(async () => {
  runtime = await startTestRuntime();
  const { admin, verifier } = runtime.credentials;
  adminToken = await clientCredentialsToken(runtime, admin, 'admin');
  verifierToken = await clientCredentialsToken(runtime, verifier, 'licences:verify');
  revokedToken = await clientCredentialsToken(runtime, admin, 'admin');
  await revoke(revokedToken, admin);
  expiredToken = await clientCredentialsToken(runtime, admin, 'admin');
  await expireStoredToken(expiredToken);
});
afterAll(() => runtime?.close());

interface BadRequest {
  what: string;
  status: 400 | 401 | 403 | 413 | 415;
  code: string;
  send: (body: Record<string, unknown>) => Promise<Response>;
  /** The body; a new, otherwise valid issuer unless given, so that a wrong acceptance would show. */
  body?: Record<string, unknown>;
  check?: (problem: ProblemDocument, response: Response) => void;
}

/** Posts to `/admin/issuers` with the admin token, another token, or (`null`) none. */
const post = (body: unknown, headers: Record<string, string> = {}, token: string | null = adminToken) =>
  postJson(runtime, '/admin/issuers', token ?? undefined, body, headers);

const bearerChallenge = (error: string) => (_: ProblemDocument, response: Response) =>
  expect(response.headers.get('www-authenticate')).toMatch(new RegExp(`^Bearer error="${error}"`));

const cases: BadRequest[] = [
  {
    what: 'malformed JSON',
    status: 400,
    code: 'malformed_json',
    send: (body) => post(JSON.stringify(body).slice(0, -1)),
  },
  {
    what: 'a body that is not UTF-8',
    status: 400,
    code: 'malformed_json',
    // `{"name":<0xFF 0xFE>}`: invalid UTF-8 where a JSON value must start.
    send: () => post(Buffer.from([...Buffer.from('{"name":'), 0xff, 0xfe, 0x7d])),
  },
  {
    what: 'an empty body',
    status: 400,
    code: 'malformed_json',
    send: () => post(''),
  },
  {
    what: 'a JSON array instead of an object',
    status: 400,
    code: 'invalid_request',
    send: (body) => post([body]),
    check: (problem) =>
      expect(problem.errors).toEqual([{ path: '(body)', message: expect.any(String), code: 'invalid_type' }]),
  },
  {
    what: 'JSON null',
    status: 400,
    code: 'invalid_request',
    send: () => post('null'),
  },
  {
    what: 'the text/plain content type',
    status: 415,
    code: 'unsupported_media_type',
    send: (body) => post(JSON.stringify(body), { 'content-type': 'text/plain' }),
    check: (problem) => expect(problem.detail).toContain('text/plain'),
  },
  {
    what: 'a form instead of JSON',
    status: 415,
    code: 'unsupported_media_type',
    send: (body) =>
      post(new URLSearchParams(body as Record<string, string>).toString(), {
        'content-type': 'application/x-www-form-urlencoded',
      }),
  },
  {
    what: 'a body over 64 KiB',
    status: 413,
    code: 'payload_too_large',
    send: (body) => post({ ...body, name: 'x'.repeat(65 * 1024) }),
    check: (problem) => expect(problem.detail).toContain('65536'),
  },
  {
    what: 'a missing name',
    status: 400,
    code: 'invalid_request',
    body: issuerBody({ name: undefined }),
    send: (body) => post(body),
    check: (problem) => expect(problem.errors?.map((e) => e.path)).toEqual(['name']),
  },
  {
    what: 'a name of the wrong type',
    status: 400,
    code: 'invalid_request',
    body: issuerBody({ name: 42 }),
    send: (body) => post(body),
    check: (problem) => expect(problem.errors?.map((e) => e.path)).toEqual(['name']),
  },
  {
    what: 'an unknown field foo',
    status: 400,
    code: 'invalid_request',
    body: issuerBody({ foo: 'bar' }),
    send: (body) => post(body),
    check: (problem) => {
      // Named at its own path, as any other member (docs/api.md), with the code pages translate.
      expect(problem.errors).toEqual([{ path: 'foo', message: 'unknown field', code: 'unknown_field' }]);
      expect(problem.detail).toContain('foo');
    },
  },
  {
    what: 'a credit code with a wrong check character',
    status: 400,
    code: 'invalid_request',
    body: issuerBody({ creditCode: '11310000000024686A' }),
    send: (body) => post(body),
    check: (problem) =>
      expect(problem.errors).toEqual([
        {
          path: 'creditCode',
          message: 'check character should be D',
          code: 'invalid_check_character',
          params: { expected: 'D' },
        },
      ]),
  },
  {
    what: 'a credit code with a wrong organisation code check character',
    status: 400,
    code: 'invalid_request',
    body: issuerBody({ creditCode: '11310000000024685D' }),
    send: (body) => post(body),
    check: (problem) =>
      expect(problem.errors).toEqual([
        {
          path: 'creditCode',
          message: 'organisation code check character should be 6',
          code: 'invalid_check_character',
        },
      ]),
  },
  {
    what: 'empty licence types and a bad region',
    status: 400,
    code: 'invalid_request',
    body: issuerBody({ licenceTypes: [], region: '31000' }),
    send: (body) => post(body),
    check: (problem) => expect(problem.errors?.map((e) => e.path).sort()).toEqual(['licenceTypes', 'region']),
  },
  {
    what: 'no Authorization header',
    status: 401,
    code: 'invalid_request',
    send: (body) => post(body, {}, null),
    check: (_, response) => expect(response.headers.get('www-authenticate')).toBe('Bearer'),
  },
  {
    what: 'a Basic instead of a Bearer Authorization header',
    status: 401,
    code: 'invalid_token',
    send: (body) => post(body, { authorization: basicAuth(runtime.credentials.admin) }, null),
    check: bearerChallenge('invalid_token'),
  },
  {
    what: 'a forged token of the right shape',
    status: 401,
    code: 'invalid_token',
    send: (body) => post(body, {}, randomBytes(32).toString('base64url')),
    check: bearerChallenge('invalid_token'),
  },
  {
    what: 'a token of 10 000 characters',
    status: 401,
    code: 'invalid_token',
    send: (body) => post(body, {}, 'A'.repeat(10_000)),
    check: bearerChallenge('invalid_token'),
  },
  {
    what: 'a revoked admin token',
    status: 401,
    code: 'invalid_token',
    send: (body) => post(body, {}, revokedToken),
    check: bearerChallenge('invalid_token'),
  },
  {
    what: 'an expired admin token',
    status: 401,
    code: 'invalid_token',
    send: (body) => post(body, {}, expiredToken),
    check: bearerChallenge('invalid_token'),
  },
  {
    what: "another client's token without the admin scope",
    status: 403,
    code: 'insufficient_scope',
    send: (body) => post(body, {}, verifierToken),
    check: (problem, response) => {
      bearerChallenge('insufficient_scope')(problem, response);
      expect(problem.detail).toContain('admin');
    },
  },
];

describe('POST /admin/issuers refuses bad requests with a problem naming what is wrong, and writes nothing', () => {
  it.each(cases)('$what → $status $code', async ({ status, code, send, body, check }) => {
    const request = body ?? issuerBody();
    const issuersBefore = await issuerItems();
    const clientsBefore = await clientItems();

    const response = await send(request);
    const problem = await expectProblem(response, status, code);
    check?.(problem, response);
    expect(response.headers.get('cache-control')).toBe('no-store');

    expect(await issuerItems()).toEqual(issuersBefore);
    expect(await clientItems()).toHaveLength(clientsBefore.length);
  });

  it('still accepts a good request with the same admin token afterwards', async () => {
    const response = await post(issuerBody());
    expect(response.status, await response.clone().text()).toBe(201);
  });
});

describe('an expired access token', () => {
  it('is refused by the API and reported inactive by introspection', async () => {
    const token = await clientCredentialsToken(runtime, runtime.credentials.admin, 'admin');
    const before = await post(issuerBody(), {}, token);
    expect(before.status).toBe(201);

    await expireStoredToken(token);
    await expectProblem(await post(issuerBody(), {}, token), 401, 'invalid_token');
    const introspection = await fetch(`${runtime.baseUrl}/token/introspection`, {
      method: 'POST',
      headers: {
        authorization: basicAuth(runtime.credentials.admin),
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ token }),
    });
    expect(await introspection.json()).toEqual({ active: false });
  });

  it('is not found by the token store once its lifetime has passed (adapter level, simulated clock)', async () => {
    const { doc, config } = dependencies();
    const token = await clientCredentialsToken(runtime, runtime.credentials.admin, 'admin');
    const at = (seconds: number) => ({
      doc,
      tableName: config.tableName,
      clock: { now: () => seconds * 1000 },
    });
    const issuedAt = epochNow();
    const lifetime = config.accessTokenTtlSeconds;

    const live = await findAccessToken(at(issuedAt + lifetime - 5), token);
    expect(live).toMatchObject({ clientId: 'demo-admin', scope: 'admin', exp: expect.any(Number) });
    expect(live!.exp).toBeGreaterThanOrEqual(issuedAt + lifetime);
    expect(live!.exp).toBeLessThanOrEqual(issuedAt + lifetime + 5);
    expect(await findAccessToken(at(live!.exp as number), token)).toBeUndefined();
    expect(await findAccessToken(at(issuedAt + lifetime + 60), token)).toBeUndefined();
  });

  it('is refused by the bearer check once its lifetime has passed, even if the store still returns it', async () => {
    const { config } = dependencies();
    const token = await clientCredentialsToken(runtime, runtime.credentials.admin, 'admin');
    const stored = await dependencies().accessTokens(token);
    expect(stored?.exp).toEqual(expect.any(Number));
    const event = { headers: { authorization: `Bearer ${token}` } } as unknown as HttpEvent;
    const check = (nowSeconds: number) =>
      authenticate(event, async () => stored, {
        audience: config.issuerUrl,
        requiredScope: 'admin',
        nowSeconds,
        dpop: { proofs: dependencies().dpopProofs, publicUrl: config.issuerUrl },
      });

    await expect(check(stored!.exp! - 1)).resolves.toMatchObject({ clientId: 'demo-admin' });
    const refused = await check(stored!.exp!).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(AuthenticationError);
    expect(refused).toMatchObject({ status: 401, code: 'invalid_token' });
  });
});

/**
 * Sends 10 MiB and 1 KiB to `POST /admin/issuers`, with its length declared or chunked, and resolves to
 * the status of the answer or, when the server closed the connection while the body was still
 * flowing, the socket error's code.
 */
function postHuge({ declareLength }: { declareLength: boolean }): Promise<number | string> {
  const chunk = Buffer.alloc(64 * 1024, 0x20);
  const chunks = (10 * 1024 * 1024 + 1024) / chunk.length;
  return new Promise((resolve) => {
    const request = httpRequest(`${runtime.baseUrl}/admin/issuers`, {
      method: 'POST',
      agent: false,
      headers: {
        authorization: `Bearer ${adminToken}`,
        'content-type': 'application/json',
        ...(declareLength ? { 'content-length': chunks * chunk.length } : {}),
      },
    });
    request.on('response', (response) => {
      response.on('error', () => undefined);
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
    let sent = 0;
    const write = () => {
      while (sent < chunks && !request.destroyed) {
        sent += 1;
        if (!request.write(chunk)) return void request.once('drain', write);
      }
      if (!request.destroyed) request.end();
    };
    write();
  });
}

describe('requests API Gateway itself refuses', () => {
  it('answers an unknown path with its own 404 {"message":"Not Found"}', async () => {
    for (const [method, path] of [
      ['GET', '/no/such/path'],
      ['POST', '/admin/issuer'],
      ['GET', '/admin/issuers'],
      ['DELETE', '/admin/issuers'],
    ] as const) {
      const response = await fetch(`${runtime.baseUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${adminToken}` },
      });
      expect(response.status, `${method} ${path}`).toBe(404);
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      expect(await response.json()).toEqual({ message: 'Not Found' });
    }
  });

  it('refuses a body over 10 MiB with 413 and keeps serving', async () => {
    const issuersBefore = await issuerItems();

    expect([413, 'ECONNRESET', 'EPIPE']).toContain(await postHuge({ declareLength: true }));
    expect([413, 'ECONNRESET', 'EPIPE']).toContain(await postHuge({ declareLength: false }));

    expect(await (await fetch(`${runtime.baseUrl}/healthz`)).json()).toEqual({ status: 'ok' });
    expect((await post(issuerBody())).status).toBe(201);
    expect(await issuerItems()).toHaveLength(issuersBefore.length + 1);
  });
});
