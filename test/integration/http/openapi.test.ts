import { randomBytes, randomUUID } from 'node:crypto';
import { decodeJwt, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dependencies } from '../../../functions/composition/dependencies.js';
import { isDocumented } from '../../../functions/openapi/document.js';
import { routeKey, routes } from '../../../functions/routes.js';
import { walletClientId } from '../../../shared/identifiers/client-ids.js';
import { issuerBody, newCreditCode } from '../../support/http-api.js';
import { agencyHeadToken, appointClerk, clerkToken } from '../../support/clerks.js';
import {
  businessLicenceBody,
  drivingLicenceBody,
  issued,
  licencePath,
  newIdNumber,
} from '../../support/licences.js';
import { adminToken, writtenAccessToken } from '../../support/oidc-flows.js';
import { answerErrors, compileDocument, type DocumentCheck } from '../../support/openapi-responses.js';
import { clientCredentialsToken, startTestRuntime, type TestRuntime } from '../../support/runtime.js';
import { putInRegistry } from '../../support/sharing-flows.js';
import { SoftwareAuthenticator } from '../../support/software-authenticator.js';
import { startFakeHttpServer } from '../../support/fake-http-server.js';

/**
 * Every documented route over real HTTP, once answering as it should and once refusing, each answer
 * checked against the document that `GET /openapi.json` serves (Ajv, JSON Schema 2020-12): an answer
 * the document does not describe fails here.
 */
let runtime: TestRuntime;
let check: DocumentCheck;
let admin: string;
let issuerToken: string;
/** The demo citizen's tokens: of the wallet (passkeys) and of a platform, both at level 3. */
let walletToken: string;
let platformToken: string;
/** Route key → the statuses it answered here, each checked against the document. */
const exercised = new Map<string, Set<number>>();

/**
 * An access token of the demo citizen, written through the provider's adapter as the provider writes
 * one after an authorization-code flow (as test/integration/http/accounts-agents.test.ts does).
 */
async function personToken(
  clientId: string,
  scope: string,
  more: Record<string, unknown> = {},
): Promise<string> {
  const deps = dependencies();
  const { citizen } = runtime.credentials;
  const login = await deps.directory.checkPassword({
    idNumber: citizen.idNumber,
    password: citizen.password,
    source: '192.0.2.81',
  });
  if (!login.ok) throw new Error(`sign-in failed: ${login.reason}`);
  return writtenAccessToken({ accountId: login.person.id, clientId, scope, more });
}

/**
 * A share of the demo citizen's driving licences with the demo platform (授权用证), written through the
 * provider's adapter as the consent page writes one: its grant (with the approved details) and an access
 * token issued under it.
 */
async function sharedToken(): Promise<{ grantId: string; token: string }> {
  const deps = dependencies();
  const { citizen, platform } = runtime.credentials;
  const login = await deps.directory.checkPassword({
    idNumber: citizen.idNumber,
    password: citizen.password,
    source: '192.0.2.82',
  });
  if (!login.ok) throw new Error(`sign-in failed: ${login.reason}`);
  const rar = [{ type: 'licence_access', licence_types: ['driving-licence'], purpose: '办理车辆登记' }];
  const grantId = randomBytes(16).toString('base64url');
  const iat = Math.floor(Date.now() / 1000);
  await new deps.adapter('Grant').upsert(
    grantId,
    {
      jti: grantId,
      kind: 'Grant',
      accountId: login.person.id,
      clientId: platform.clientId,
      rar,
      iat,
      exp: iat + 600,
    },
    600,
  );
  const token = await personToken(platform.clientId, 'openid', { grantId, rar });
  return { grantId, token };
}

/** Sends a request and checks the answer against the document; `route` is the route key it takes. */
async function call(
  route: string,
  path: string,
  init: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Response> {
  const [method, template] = route.split(' ') as [string, string];
  const response = await fetch(`${runtime.baseUrl}${path}`, {
    method,
    headers: {
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
      ...init.headers,
    },
    ...(init.body === undefined
      ? {}
      : { body: typeof init.body === 'string' ? init.body : JSON.stringify(init.body) }),
  });
  const errors = await answerErrors(check, method, template, response);
  expect(errors, `${route} → ${response.status}: ${await response.clone().text()}`).toEqual([]);
  const statuses = exercised.get(route) ?? new Set<number>();
  statuses.add(response.status);
  exercised.set(route, statuses);
  return response;
}

async function expectStatus(response: Response, status: number): Promise<Response> {
  expect(response.status, await response.clone().text()).toBe(status);
  return response;
}

const tooLongQuery = `?q=${'x'.repeat(9000)}`;

beforeAll(async () => {
  runtime = await startTestRuntime();
  const document = await fetch(`${runtime.baseUrl}/openapi.json`);
  expect(document.status).toBe(200);
  check = compileDocument(await document.json());
  admin = await adminToken(runtime);
  issuerToken = await clientCredentialsToken(runtime, runtime.credentials.issuer, 'licences:issue');
  walletToken = await personToken(walletClientId, 'openid licences');
  platformToken = await personToken(runtime.credentials.platform.clientId, 'openid licences entity');
});
afterAll(() => runtime?.close());

describe('the answers of every documented route match GET /openapi.json', () => {
  it('serves the document with ISSUER_URL as its server', async () => {
    const response = await call('GET /openapi.json', '/openapi.json');
    const body = (await expectStatus(response, 200).then((r) => r.json())) as {
      servers: unknown;
      components: {
        securitySchemes: {
          oauth2: {
            flows: {
              clientCredentials: { tokenUrl: string; scopes: Record<string, string> };
              authorizationCode: {
                authorizationUrl: string;
                tokenUrl: string;
                scopes: Record<string, string>;
              };
            };
          };
        };
      };
    };
    expect(body.servers).toEqual([{ url: runtime.config.issuerUrl }]);
    // The security schemes say what discovery says: the same endpoints and scopes.
    const discovery = (await (await fetch(`${runtime.baseUrl}/.well-known/openid-configuration`)).json()) as {
      token_endpoint: string;
      authorization_endpoint: string;
      scopes_supported: string[];
    };
    const { clientCredentials, authorizationCode } = body.components.securitySchemes.oauth2.flows;
    expect(clientCredentials.tokenUrl).toBe(discovery.token_endpoint);
    expect(authorizationCode.tokenUrl).toBe(discovery.token_endpoint);
    expect(authorizationCode.authorizationUrl).toBe(discovery.authorization_endpoint);
    expect(Object.keys(authorizationCode.scopes).sort()).toEqual([...discovery.scopes_supported].sort());
    // What each scope grants, as the API does it: userinfo gives the ID number in clear; the agents of an
    // entity and passkeys answer a first-party app only (403 first_party_only otherwise).
    expect(authorizationCode.scopes['idcard']).toMatch(/in clear/);
    expect(authorizationCode.scopes['idcard']).not.toMatch(/masked/);
    expect(authorizationCode.scopes['licences']).toMatch(/first-party app \(the wallet\) only: .*passkeys/);
    expect(authorizationCode.scopes['entity']).toMatch(
      /first-party app \(the wallet\) also manages its agents/,
    );
    expect(authorizationCode.scopes['offline_access']).toMatch(/prompt=consent/);
    await expectStatus(await call('GET /openapi.json', `/openapi.json${tooLongQuery}`), 414);
    await expectStatus(await call('GET /schemas/data-export-1.json', '/schemas/data-export-1.json'), 200);
    await expectStatus(
      await call('GET /schemas/data-export-1.json', `/schemas/data-export-1.json${tooLongQuery}`),
      414,
    );
  });

  it('public routes: health, catalogue, trust list, status lists, verify', async () => {
    await expectStatus(await call('GET /healthz', '/healthz'), 200);
    await expectStatus(await call('GET /healthz', `/healthz${tooLongQuery}`), 414);
    await expectStatus(await call('GET /licence-types', '/licence-types'), 200);
    await expectStatus(await call('GET /licence-types', `/licence-types${tooLongQuery}`), 414);
    await expectStatus(await call('GET /licence-types/{code}', '/licence-types/driving-licence'), 200);
    await expectStatus(await call('GET /licence-types/{code}', '/licence-types/fishing-licence'), 404);
    const issuerId = runtime.credentials.issuer.id;
    await expectStatus(await call('GET /issuers/{id}', `/issuers/${issuerId}`), 200);
    await expectStatus(await call('GET /issuers/{id}', '/issuers/iss_nobody'), 404);
    await expectStatus(await call('GET /trust-list', '/trust-list'), 200);
    await expectStatus(await call('GET /trust-list', `/trust-list${tooLongQuery}`), 414);
    // The notice keys (review R31 L1): public, a JWK Set; an over-long query is refused at the edge.
    await expectStatus(
      await call('GET /.well-known/notices-jwks.json', '/.well-known/notices-jwks.json'),
      200,
    );
    await expectStatus(
      await call('GET /.well-known/notices-jwks.json', `/.well-known/notices-jwks.json${tooLongQuery}`),
      414,
    );

    const licence = await issued(runtime, issuerToken, drivingLicenceBody(newIdNumber()));
    const claims = decodeJwt(licence.credential) as { status?: { status_list?: { uri?: string } } };
    const listPath = new URL(String(claims.status?.status_list?.uri)).pathname;
    await expectStatus(await call('GET /status-lists/{listId}', listPath), 200);
    await expectStatus(await call('GET /status-lists/{listId}', '/status-lists/no*such'), 404);

    await expectStatus(await call('POST /verify', '/verify', { body: { qr: licence.credential } }), 200);
    const verifier = await clientCredentialsToken(runtime, runtime.credentials.verifier, 'licences:verify');
    await expectStatus(
      await call('POST /verify', '/verify', { token: verifier, body: { qr: licence.credential } }),
      200,
    );
    await expectStatus(await call('POST /verify', '/verify', { body: { qr: 'EL1:???' } }), 200);
    await expectStatus(await call('POST /verify', '/verify', { body: {} }), 400);
    await expectStatus(
      await call('POST /verify', '/verify', { token: 'x'.repeat(30), body: { qr: '' } }),
      401,
    );
  });

  it('the issuing agencies’ API', async () => {
    const key = randomUUID();
    const body = drivingLicenceBody(newIdNumber());
    const idempotent = { token: issuerToken, body, headers: { 'idempotency-key': key } };
    const created = await call('POST /licences', '/licences', idempotent);
    const licence = (await (await expectStatus(created, 201)).json()) as { id: string };
    await expectStatus(await call('POST /licences', '/licences', idempotent), 200);
    await expectStatus(await call('POST /licences', '/licences', { token: issuerToken, body }), 400);
    await expectStatus(
      await call('POST /licences', '/licences', {
        ...idempotent,
        headers: { 'idempotency-key': randomUUID() },
        body: { ...body, type: 'nope' },
      }),
      400,
    );
    await expectStatus(await call('POST /licences', '/licences', { body }), 401);
    // Each refusal of the holder's number or the licence's size is a code the document lists (review R51
    // F3): a wrong check character in an ID number or a credit code, and a credential too large for its QR.
    const wrongLast = (number: string) => `${number.slice(0, 17)}${number.endsWith('1') ? '2' : '1'}`;
    const business = businessLicenceBody(newCreditCode('91', '110105'), newIdNumber()) as {
      fields: Record<string, unknown>;
    };
    for (const [refused, code] of [
      [drivingLicenceBody(wrongLast(newIdNumber())), 'invalid_id_number'],
      [businessLicenceBody(wrongLast(newCreditCode('91', '110105')), newIdNumber()), 'invalid_credit_code'],
      [
        {
          ...business,
          holderName: '测'.repeat(100),
          fields: {
            ...business.fields,
            businessScope: '测'.repeat(250),
            address: '测'.repeat(200),
            legalRepresentativeName: '测'.repeat(50),
          },
        },
        'credential_too_large',
      ],
    ] as const) {
      const response = await call('POST /licences', '/licences', {
        token: issuerToken,
        body: refused,
        headers: { 'idempotency-key': randomUUID() },
      });
      expect(((await (await expectStatus(response, 400)).json()) as { code: string }).code).toBe(code);
    }
    // A body in another charset: 415, a code every route taking a body lists (review R51 F1).
    await expectStatus(
      await call('POST /licences', '/licences', {
        token: issuerToken,
        body,
        headers: { 'idempotency-key': randomUUID(), 'content-type': 'application/json; charset=GBK' },
      }),
      415,
    );

    await expectStatus(await call('GET /licences', '/licences?limit=1', { token: issuerToken }), 200);
    await expectStatus(await call('GET /licences', '/licences?limit=0', { token: issuerToken }), 400);
    // A holder's number only in a body (privacy review L1): the GET refuses it, the POST answers it.
    await expectStatus(
      await call('GET /licences', `/licences?holder=${(body.holder as { idNumber: string }).idNumber}`, {
        token: issuerToken,
      }),
      400,
    );
    await expectStatus(
      await call('POST /licences/search', '/licences/search', {
        token: issuerToken,
        body: { holder: (body.holder as { idNumber: string }).idNumber, limit: 5, total: true },
      }),
      200,
    );
    await expectStatus(
      await call('POST /licences/search', '/licences/search', { token: issuerToken, body: { limit: 0 } }),
      400,
    );
    for (const holder of [
      `${newIdNumber().slice(0, 17)}Z`,
      wrongLast(newIdNumber()),
      `${newCreditCode('91', '110105').slice(0, 17)}Z`,
    ]) {
      await expectStatus(
        await call('POST /licences/search', '/licences/search', { token: issuerToken, body: { holder } }),
        400,
      );
    }
    // Whom the caller acts as (a clerk's token is in test/integration/http/clerk-tokens.test.ts).
    await expectStatus(await call('GET /issuer', '/issuer', { token: issuerToken }), 200);
    await expectStatus(await call('GET /issuer', '/issuer', { token: admin }), 403);
    // The console's search: filters, a sort and the capped total, answered as documented.
    await expectStatus(
      await call('GET /licences', '/licences?number=1&sort=number&total=true&issuedTo=2099-12-31', {
        token: issuerToken,
      }),
      200,
    );
    await expectStatus(
      await call('GET /licences/{id}', licencePath(licence.id), { token: issuerToken }),
      200,
    );
    await expectStatus(await call('GET /licences/{id}', licencePath('1.2.3'), { token: issuerToken }), 404);
    // The holder's token reads the holder's own licences only (the wallet's token is the demo citizen's).
    await expectStatus(
      await call('GET /licences/{id}', licencePath(licence.id), { token: walletToken }),
      404,
    );
    await expectStatus(
      await call('GET /licences/{id}/qr.svg', `${licencePath(licence.id)}/qr.svg`, { token: issuerToken }),
      200,
    );
    await expectStatus(
      await call('GET /licences/{id}/qr.svg', `${licencePath('1.2.3')}/qr.svg`, { token: issuerToken }),
      404,
    );
    await expectStatus(
      await call('GET /licences/{id}/qr.png', `${licencePath(licence.id)}/qr.png`, { token: issuerToken }),
      200,
    );
    await expectStatus(await call('GET /licences/{id}/qr.png', `${licencePath(licence.id)}/qr.png`), 401);
    // The printable licence (docs/printable-licence.md) and its signature, checked by POST /verify/pdf.
    const pdf = await expectStatus(
      await call('GET /licences/{id}/pdf', `${licencePath(licence.id)}/pdf?layout=card`, {
        token: issuerToken,
      }),
      200,
    );
    await expectStatus(
      await call('GET /licences/{id}/pdf', `${licencePath(licence.id)}/pdf?layout=poster`, {
        token: issuerToken,
      }),
      400,
    );
    await expectStatus(
      await call('GET /licences/{id}/pdf', `${licencePath('1.2.3')}/pdf`, { token: issuerToken }),
      404,
    );
    const jws = await expectStatus(
      await call('GET /licences/{id}/pdf.jws', `${licencePath(licence.id)}/pdf.jws?layout=card`, {
        token: issuerToken,
      }),
      200,
    );
    await expectStatus(await call('GET /licences/{id}/pdf.jws', `${licencePath(licence.id)}/pdf.jws`), 401);
    const file = { pdf: Buffer.from(await pdf.arrayBuffer()).toString('base64'), jws: await jws.text() };
    await expectStatus(await call('POST /verify/pdf', '/verify/pdf', { body: file }), 200);
    await expectStatus(await call('POST /verify/pdf', '/verify/pdf', { body: { jws: file.jws } }), 400);
    const status = `${licencePath(licence.id)}/status`;
    await expectStatus(
      await call('POST /licences/{id}/status', status, {
        token: issuerToken,
        body: { status: 'suspended', reason: 'check' },
      }),
      200,
    );
    await expectStatus(
      await call('POST /licences/{id}/status', status, {
        token: issuerToken,
        body: { status: 'valid', reasonCode: 'investigation-closed' },
      }),
      200,
    );
    await expectStatus(
      await call('POST /licences/{id}/status', status, {
        token: issuerToken,
        body: { status: 'suspended', reasonCode: 'violation' },
      }),
      400,
    );
    await expectStatus(
      await call('POST /licences/{id}/status', status, { token: issuerToken, body: { status: 'gone' } }),
      400,
    );
    // The admin's token lacks the scope.
    await expectStatus(await call('GET /licences', '/licences', { token: admin }), 403);

    // Re-issue (docs/operating.md, "Backup and key rotation"): the withdrawn-key list, a re-issue, and
    // the refusal of a licence already re-issued.
    await expectStatus(
      await call('GET /licences', '/licences?keyWithdrawn=true&status=valid&total=true', {
        token: issuerToken,
      }),
      200,
    );
    const toReissue = (await (
      await expectStatus(
        await call('POST /licences', '/licences', {
          token: issuerToken,
          body: drivingLicenceBody(newIdNumber()),
          headers: { 'idempotency-key': randomUUID() },
        }),
        201,
      )
    ).json()) as { id: string };
    const reissuePath = `${licencePath(toReissue.id)}/reissue`;
    await expectStatus(await call('POST /licences/{id}/reissue', reissuePath, { token: issuerToken }), 201);
    await expectStatus(await call('POST /licences/{id}/reissue', reissuePath, { token: issuerToken }), 409);
    await expectStatus(await call('POST /licences/{id}/reissue', reissuePath, { token: admin }), 403);

    // Bulk issuance (docs/batch-issuance.md): a job of two items, read back once the queue ran it.
    const batchBody = { items: [drivingLicenceBody(newIdNumber()), { type: 'driving-licence' }] };
    const batchKey = { 'idempotency-key': randomUUID() };
    const batch = await call('POST /licences/batches', '/licences/batches', {
      token: issuerToken,
      body: batchBody,
      headers: batchKey,
    });
    const job = (await (await expectStatus(batch, 202)).json()) as { id: string };
    await expectStatus(
      await call('POST /licences/batches', '/licences/batches', { token: issuerToken, body: batchBody }),
      400,
    );
    await expectStatus(
      await call('POST /licences/batches', '/licences/batches', {
        token: issuerToken,
        body: { items: [] },
        headers: batchKey,
      }),
      400,
    );
    await expectStatus(
      await call('POST /licences/batches', '/licences/batches', {
        token: issuerToken,
        body: { items: [drivingLicenceBody(newIdNumber())] },
        headers: batchKey,
      }),
      409,
    );
    await runtime.drainBatches();
    await expectStatus(
      await call('GET /licences/batches/{id}', `/licences/batches/${job.id}`, { token: issuerToken }),
      200,
    );
    await expectStatus(
      await call('GET /licences/batches/{id}', `/licences/batches/bat_${'A'.repeat(22)}`, {
        token: issuerToken,
      }),
      404,
    );
    await expectStatus(
      await call('GET /licences/batches/{id}/licences', `/licences/batches/${job.id}/licences`, {
        token: issuerToken,
      }),
      200,
    );
    await expectStatus(
      await call('GET /licences/batches/{id}/licences', `/licences/batches/${job.id}/licences?cursor=9`, {
        token: issuerToken,
      }),
      400,
    );
    await expectStatus(await call('GET /licences/batches/{id}', `/licences/batches/${job.id}`), 401);
  });

  it('the operators’ API', async () => {
    const input = issuerBody({ licenceTypes: ['driving-licence'], region: '110000' });
    const created = await call('POST /admin/issuers', '/admin/issuers', { token: admin, body: input });
    const issuer = (await (await expectStatus(created, 201)).json()) as { id: string; kid: string };
    await expectStatus(
      await call('POST /admin/issuers', '/admin/issuers', { token: admin, body: input }),
      409,
    );
    const keys = `/admin/issuers/${issuer.id}/keys`;
    const rotated = (await (
      await expectStatus(await call('POST /admin/issuers/{id}/keys', keys, { token: admin, body: {} }), 201)
    ).json()) as { kid: string };
    const withdrawKey = 'POST /admin/issuers/{id}/keys/{kid}/withdraw';
    const reason = { reason: 'test' };
    await expectStatus(
      await call(withdrawKey, `${keys}/${issuer.kid}/withdraw`, { token: admin, body: reason }),
      200,
    );
    await expectStatus(
      await call(withdrawKey, `${keys}/${rotated.kid}/withdraw`, { token: admin, body: reason }),
      409,
    );
    await expectStatus(
      await call(withdrawKey, `${keys}/nokid/withdraw`, { token: admin, body: reason }),
      404,
    );
    await expectStatus(
      await call('POST /admin/issuers/{id}/keys', '/admin/issuers/iss_none/keys', { token: admin, body: {} }),
      404,
    );
    const withdraw = `/admin/issuers/${issuer.id}/withdraw`;
    await expectStatus(
      await call('POST /admin/issuers/{id}/withdraw', withdraw, { token: admin, body: { reason: 'test' } }),
      200,
    );
    await expectStatus(
      await call('POST /admin/issuers/{id}/withdraw', withdraw, { token: admin, body: { reason: 'again' } }),
      409,
    );

    const client = { name: 'OpenAPI verifier app', scopes: ['licences:verify'] };
    const registered = (await (
      await expectStatus(
        await call('POST /admin/clients', '/admin/clients', { token: admin, body: client }),
        201,
      )
    ).json()) as { clientId: string };
    const secret = `/admin/clients/${registered.clientId}/secret`;
    await expectStatus(await call('POST /admin/clients/{id}/secret', secret, { token: admin }), 200);
    await expectStatus(
      await call('POST /admin/clients/{id}/secret', '/admin/clients/cl_none/secret', { token: admin }),
      404,
    );
    const publicClient = {
      name: 'OpenAPI public platform',
      scopes: ['openid'],
      redirectUris: ['https://platform.example/cb'],
      tokenEndpointAuthMethod: 'none',
    };
    const registeredPublic = (await (
      await expectStatus(
        await call('POST /admin/clients', '/admin/clients', { token: admin, body: publicClient }),
        201,
      )
    ).json()) as { clientId: string };
    await expectStatus(
      await call('POST /admin/clients/{id}/secret', `/admin/clients/${registeredPublic.clientId}/secret`, {
        token: admin,
      }),
      409,
    );
    await expectStatus(await call('POST /admin/clients', '/admin/clients', { token: admin, body: '{' }), 400);
    const platformClient = `/admin/clients/${registeredPublic.clientId}`;
    const eventsUri = { eventsUri: 'https://platform.example/events' };
    await expectStatus(
      await call('PATCH /admin/clients/{id}', platformClient, { token: admin, body: eventsUri }),
      200,
    );
    await expectStatus(
      await call('PATCH /admin/clients/{id}', `/admin/clients/${registered.clientId}`, {
        token: admin,
        body: eventsUri,
      }),
      400,
    );
    await expectStatus(
      await call('PATCH /admin/clients/{id}', '/admin/clients/cl_none', { token: admin, body: eventsUri }),
      404,
    );

    const licence = await issued(runtime, issuerToken, drivingLicenceBody(newIdNumber()));
    await expectStatus(
      await call('GET /admin/audit', `/admin/audit?licence=${encodeURIComponent(licence.id)}`, {
        token: admin,
      }),
      200,
    );
    await expectStatus(await call('GET /admin/audit', '/admin/audit', { token: admin }), 400);
  });

  it('the admin’s peer platforms (跨地区互认)', async () => {
    // A peer platform: a fake serving a trust list signed with its key.
    const peer = await startFakeHttpServer();
    try {
      const { publicKey, privateKey } = await generateKeyPair('ES256');
      const jwk = { ...(await exportJWK(publicKey)), kid: 'peer-1' };
      const baseUrl = peer.url('').replace(/\/$/, '');
      const now = Math.floor(Date.now() / 1000);
      const jws = await new SignJWT({ ttl: 3600, issuers: [] })
        .setProtectedHeader({ alg: 'ES256', typ: 'trust-list+jwt', kid: 'peer-1' })
        .setIssuer(baseUrl)
        .setIssuedAt(now)
        .setExpirationTime(now + 86_400)
        .sign(privateKey);
      peer.answer((_, response) => {
        response.writeHead(200).end(jws);
      });
      const body = { name: 'Shanghai', region: '310000', baseUrl, jwks: { keys: [jwk] } };
      const other = { ...(await exportJWK((await generateKeyPair('ES256')).publicKey)), kid: 'other' };
      await expectStatus(
        await call('POST /admin/peers', '/admin/peers', {
          token: admin,
          body: { ...body, jwks: { keys: [other] } },
        }),
        422,
      );
      await expectStatus(await call('POST /admin/peers', '/admin/peers', { token: admin, body: '{' }), 400);
      const created = await expectStatus(
        await call('POST /admin/peers', '/admin/peers', { token: admin, body }),
        201,
      );
      const { id } = (await created.json()) as { id: string };
      await expectStatus(await call('POST /admin/peers', '/admin/peers', { token: admin, body }), 409);
      await expectStatus(await call('GET /admin/peers', '/admin/peers', { token: admin }), 200);
      await expectStatus(await call('GET /admin/peers', '/admin/peers'), 401);
      await expectStatus(
        await call('POST /admin/peers/{id}/refresh', `/admin/peers/${id}/refresh`, { token: admin }),
        200,
      );
      await expectStatus(
        await call('POST /admin/peers/{id}/refresh', '/admin/peers/peer_nobody/refresh', { token: admin }),
        404,
      );
      await expectStatus(await call('DELETE /admin/peers/{id}', `/admin/peers/${id}`, { token: admin }), 204);
      await expectStatus(await call('DELETE /admin/peers/{id}', `/admin/peers/${id}`, { token: admin }), 404);
    } finally {
      await peer.close();
    }
  });

  it('the supervisor’s API', async () => {
    const supervisor = await clientCredentialsToken(runtime, runtime.credentials.supervisor, 'supervision');
    await runtime.drainStreams();
    const day = new Date(Date.now() + 8 * 3_600_000).toISOString().slice(0, 10);
    const stats = `/supervision/stats?from=${day}&to=${day}`;
    await expectStatus(await call('GET /supervision/stats', stats, { token: supervisor }), 200);
    await expectStatus(
      await call('GET /supervision/stats', '/supervision/stats?from=2020-01-02&to=2020-01-01', {
        token: supervisor,
      }),
      400,
    );
    await expectStatus(await call('GET /supervision/stats', stats, { token: admin }), 403);
    const alerts = `/supervision/alerts?from=${day}&to=${day}`;
    await expectStatus(await call('GET /supervision/alerts', alerts, { token: supervisor }), 200);
    await expectStatus(
      await call('GET /supervision/alerts', '/supervision/alerts', { token: supervisor }),
      400,
    );
  });

  it('supervision of the audit trail (电子监察)', async () => {
    const admin = await adminToken(runtime);
    const registered = await call('POST /admin/clients', '/admin/clients', {
      token: admin,
      body: { name: 'OpenAPI supervisor', scopes: ['supervision'] },
    });
    const supervisor = (await (await expectStatus(registered, 201)).json()) as {
      clientId: string;
      clientSecret: string;
    };
    const token = await clientCredentialsToken(runtime, supervisor, 'supervision');
    const day = new Date().toISOString().slice(0, 10);
    const licence = await issued(runtime, issuerToken, drivingLicenceBody(newIdNumber()));
    await expectStatus(
      await call('GET /supervision/audit', `/supervision/audit?licence=${encodeURIComponent(licence.id)}`, {
        token,
      }),
      200,
    );
    await expectStatus(
      await call('GET /supervision/audit', `/supervision/audit?from=${day}&to=${day}&limit=2`, { token }),
      200,
    );
    await expectStatus(await call('GET /supervision/audit', '/supervision/audit', { token }), 400);
    await expectStatus(
      await call('GET /supervision/audit', `/supervision/audit?from=${day}&to=${day}&cursor=nope`, { token }),
      400,
    );
    await expectStatus(
      await call('GET /supervision/audit', `/supervision/audit?from=${day}&to=${day}`, { token: admin }),
      403,
    );
    await expectStatus(
      await call('POST /supervision/audit/checkpoints', '/supervision/audit/checkpoints', {
        token,
        body: {},
      }),
      201,
    );
    // A second one within the interval (docs/supervision.md): refused, naming when to retry.
    const again = await call('POST /supervision/audit/checkpoints', '/supervision/audit/checkpoints', {
      token,
      body: {},
    });
    await expectStatus(again, 429);
    expect(Number(again.headers.get('retry-after'))).toBeGreaterThan(0);
    await expectStatus(
      await call('POST /supervision/audit/checkpoints', '/supervision/audit/checkpoints', {
        token,
        body: { from: day },
      }),
      400,
    );
    const listed = await call('GET /supervision/audit/checkpoints', '/supervision/audit/checkpoints', {
      token,
    });
    await expectStatus(listed, 200);
    const { items } = (await listed.json()) as { items: Array<{ jws: string }> };
    const jti = String(decodeJwt(items[0]!.jws).jti);
    await expectStatus(
      await call(
        'GET /supervision/audit/checkpoints/heads',
        `/supervision/audit/checkpoints/heads?checkpoint=${jti}`,
        { token },
      ),
      200,
    );
    await expectStatus(
      await call('GET /supervision/audit/checkpoints/heads', '/supervision/audit/checkpoints/heads', {
        token,
      }),
      400,
    );
    await expectStatus(
      await call(
        'GET /supervision/audit/checkpoints/heads',
        `/supervision/audit/checkpoints/heads?checkpoint=${jti}&cursor=nope`,
        { token },
      ),
      400,
    );
    await expectStatus(
      await call('GET /supervision/audit/checkpoints', '/supervision/audit/checkpoints'),
      401,
    );
    // The audit keys are public: no token needed; an over-long query is refused at the edge.
    await expectStatus(await call('GET /supervision/audit/keys', '/supervision/audit/keys'), 200);
    await expectStatus(
      await call('GET /supervision/audit/keys', `/supervision/audit/keys${tooLongQuery}`),
      414,
    );
    await expectStatus(
      await call('GET /supervision/audit/checkpoints', '/supervision/audit/checkpoints?cursor=nope', {
        token,
      }),
      400,
    );
  });

  it('registration and the holder’s API', async () => {
    const person = runtime.credentials.people[0]!;
    const account = {
      consent: true,
      idNumber: person.idNumber,
      name: person.name,
      password: 'Openapi-2026!',
    };
    await expectStatus(await call('POST /accounts', '/accounts', { body: account }), 201);
    await expectStatus(await call('POST /accounts', '/accounts', { body: account }), 409);

    const mine = await issued(runtime, issuerToken, drivingLicenceBody(runtime.credentials.citizen.idNumber));
    await expectStatus(await call('GET /me/licences', '/me/licences', { token: walletToken }), 200);
    // A platform's `licences` token (one registered before privacy review R9 H1): first-party only.
    await expectStatus(await call('GET /me/licences', '/me/licences', { token: platformToken }), 403);
    await expectStatus(
      await call('GET /me/licences', '/me/licences', { token: 'not-a-token-but-long-enough' }),
      401,
    );
    const printable = `/me/licences/${encodeURIComponent(mine.id)}/pdf`;
    await expectStatus(await call('GET /me/licences/{id}/pdf', printable, { token: walletToken }), 200);
    await expectStatus(await call('GET /me/licences/{id}/pdf', printable, { token: platformToken }), 403);
    await expectStatus(
      await call('GET /me/licences/{id}/pdf', `/me/licences/${encodeURIComponent('1.2.3')}/pdf`, {
        token: walletToken,
      }),
      404,
    );
    await expectStatus(
      await call('GET /me/licences/{id}/pdf.jws', `${printable}.jws`, { token: walletToken }),
      200,
    );
    await expectStatus(
      await call('GET /me/licences/{id}/pdf.jws', `${printable}.jws`, { token: platformToken }),
      403,
    );
    await expectStatus(await call('GET /me/licences/{id}/pdf.jws', `${printable}.jws`), 401);
    const presentations = `/me/licences/${encodeURIComponent(mine.id)}/presentations`;
    await expectStatus(
      await call('POST /me/licences/{id}/presentations', presentations, {
        token: walletToken,
        body: { disclose: ['vehicleClass'] },
      }),
      201,
    );
    await expectStatus(
      await call('POST /me/licences/{id}/presentations', presentations, {
        token: walletToken,
        body: { ttlSeconds: 1 },
      }),
      400,
    );
    // Presenting is the holder's own act: not for a platform that may read the licences.
    await expectStatus(
      await call('POST /me/licences/{id}/presentations', presentations, {
        token: platformToken,
        body: { disclose: ['vehicleClass'] },
      }),
      403,
    );

    await expectStatus(await call('GET /me/passkeys', '/me/passkeys', { token: walletToken }), 200);
    await expectStatus(await call('GET /me/passkeys', '/me/passkeys', { token: platformToken }), 403);
    // The seeded citizen's token says no sign-in time: not fresh enough to enrol a passkey (review R28 H1).
    await expectStatus(
      await call('POST /me/passkeys/options', '/me/passkeys/options', { token: walletToken, body: {} }),
      403,
    );
    const freshWallet = await personToken(walletClientId, 'openid licences', {
      extra: { acr: 'urn:elicence:loa:3', auth_time: Math.floor(Date.now() / 1000) },
    });
    const options = await call('POST /me/passkeys/options', '/me/passkeys/options', {
      token: freshWallet,
      body: {},
    });
    const optionsJson = (await (await expectStatus(options, 200)).json()) as Parameters<
      SoftwareAuthenticator['register']
    >[0];
    await expectStatus(
      await call('POST /me/passkeys/options', '/me/passkeys/options', { token: platformToken, body: {} }),
      403,
    );
    const authenticator = new SoftwareAuthenticator(new URL(runtime.baseUrl).origin);
    const { password } = runtime.credentials.citizen;
    const enrol = { name: 'OpenAPI key', password, response: authenticator.register(optionsJson) };
    await expectStatus(
      await call('POST /me/passkeys', '/me/passkeys', { token: freshWallet, body: enrol }),
      201,
    );
    await expectStatus(
      await call('POST /me/passkeys', '/me/passkeys', { token: freshWallet, body: { name: 'x' } }),
      400,
    );
    const passkey = `/me/passkeys/${authenticator.credentialId}`;
    await expectStatus(await call('DELETE /me/passkeys/{id}', passkey, { token: freshWallet }), 400);
    await expectStatus(
      await call('DELETE /me/passkeys/{id}', passkey, { token: freshWallet, body: { password: 'Not-It-1' } }),
      403,
    );
    await expectStatus(
      await call('DELETE /me/passkeys/{id}', passkey, { token: freshWallet, body: { password } }),
      204,
    );
    await expectStatus(
      await call('DELETE /me/passkeys/{id}', passkey, { token: freshWallet, body: { password } }),
      404,
    );
  });

  it('the usage record (用证记录)', async () => {
    // Two presentations of one of the person's licences: a page of one, then the rest.
    const held = (await (await call('GET /me/licences', '/me/licences', { token: walletToken })).json()) as {
      items: Array<{ id: string }>;
    };
    const presentations = `/me/licences/${encodeURIComponent(held.items[0]!.id)}/presentations`;
    for (const _ of [1, 2]) {
      await expectStatus(
        await call('POST /me/licences/{id}/presentations', presentations, { token: walletToken, body: {} }),
        201,
      );
    }
    const first = await call('GET /me/usage', '/me/usage?limit=1', { token: walletToken });
    const { items, cursor } = (await (await expectStatus(first, 200)).json()) as {
      items: unknown[];
      cursor?: string;
    };
    expect(items).toHaveLength(1);
    expect(cursor).toBeDefined();
    await expectStatus(
      await call('GET /me/usage', `/me/usage?cursor=${encodeURIComponent(cursor!)}`, { token: walletToken }),
      200,
    );
    await expectStatus(await call('GET /me/usage', '/me/usage?cursor=nonsense', { token: walletToken }), 400);
    await expectStatus(await call('GET /me/usage', '/me/usage?limit=0', { token: walletToken }), 400);
    await expectStatus(await call('GET /me/usage', '/me/usage', { token: platformToken }), 403);
    await expectStatus(await call('GET /me/usage', '/me/usage'), 401);
  });

  it('sharing licences with a platform (授权用证)', async () => {
    await issued(runtime, issuerToken, drivingLicenceBody(runtime.credentials.citizen.idNumber));
    const { grantId, token } = await sharedToken();
    await expectStatus(await call('GET /shared/licences', '/shared/licences', { token }), 200);
    await expectStatus(await call('GET /shared/licences', '/shared/licences', { token: platformToken }), 403);
    await expectStatus(await call('GET /shared/licences', '/shared/licences'), 401);
    await expectStatus(
      await call('GET /me/authorizations', '/me/authorizations', { token: walletToken }),
      200,
    );
    await expectStatus(await call('GET /me/authorizations', '/me/authorizations'), 401);
    const authorization = `/me/authorizations/${grantId}`;
    // Another platform holding the person's `licences` token neither lists nor withdraws their shares
    // (security review: it could read a competitor's share and end it).
    await expectStatus(
      await call('GET /me/authorizations', '/me/authorizations', { token: platformToken }),
      403,
    );
    await expectStatus(
      await call('DELETE /me/authorizations/{id}', authorization, { token: platformToken }),
      403,
    );
    await expectStatus(
      await call('DELETE /me/authorizations/{id}', authorization, { token: walletToken }),
      204,
    );
    await expectStatus(
      await call('DELETE /me/authorizations/{id}', authorization, { token: walletToken }),
      404,
    );
    await expectStatus(await call('GET /shared/licences', '/shared/licences', { token }), 401);
  });

  it('the account: what it holds, and closing it', async () => {
    await expectStatus(await call('GET /me/account', '/me/account', { token: walletToken }), 200);
    await expectStatus(await call('GET /me/account', '/me/account', { token: platformToken }), 403);
    await expectStatus(await call('GET /me/account', '/me/account'), 401);
    // The seeded citizen's token says no sign-in time: not fresh enough to close the account.
    const citizenPassword = { password: runtime.credentials.citizen.password };
    await expectStatus(
      await call('DELETE /me/account', '/me/account', { token: walletToken, body: citizenPassword }),
      403,
    );
    // A token alone (no password typed again) closes nothing (review R10).
    await expectStatus(await call('DELETE /me/account', '/me/account', { token: walletToken }), 400);
    await expectStatus(await call('DELETE /me/account', '/me/account'), 401);
    const person = { idNumber: newIdNumber(), name: '孙关闭', password: 'Sun-Close-2026', consent: true };
    await expectStatus(await call('POST /accounts', '/accounts', { body: person }), 201);
    const login = await dependencies().directory.checkPassword({ ...person, source: '192.0.2.83' });
    if (!login.ok) throw new Error(`sign-in failed: ${login.reason}`);
    const fresh = await personToken(walletClientId, 'openid licences', {
      accountId: login.person.id,
      extra: { acr: 'urn:elicence:loa:1', auth_time: Math.floor(Date.now() / 1000) },
    });
    // A copy of the person's data (GET /me/export): with the fresh sign-in, not the seeded one's token.
    await expectStatus(await call('GET /me/export', '/me/export', { token: fresh }), 200);
    await expectStatus(await call('GET /me/export', '/me/export', { token: walletToken }), 403);
    await expectStatus(await call('GET /me/export', '/me/export', { token: platformToken }), 403);
    await expectStatus(await call('GET /me/export', '/me/export'), 401);
    await expectStatus(
      await call('DELETE /me/account', '/me/account', { token: fresh, body: { password: 'Not-Sun-2026' } }),
      403,
    );
    await expectStatus(
      await call('DELETE /me/account', '/me/account', { token: fresh, body: { password: person.password } }),
      200,
    );
    // A token written outside any grant (so no ending finds it) finds no account either.
    await expectStatus(await call('GET /me/account', '/me/account', { token: fresh }), 404);
  });

  it('entities and their agents', async () => {
    const { entity, people } = runtime.credentials;
    // The wallet's: a platform that is not first-party is refused (403 first_party_only).
    const entityToken = await personToken(walletClientId, 'openid licences entity');
    await expectStatus(await call('GET /me/entities', '/me/entities', { token: platformToken }), 403);
    await expectStatus(await call('GET /me/entities', '/me/entities', { token: entityToken }), 200);
    await expectStatus(await call('GET /me/entities', '/me/entities'), 401);
    await expectStatus(
      await call('POST /me/entities', '/me/entities', {
        token: entityToken,
        body: { creditCode: entity.creditCode },
      }),
      200,
    );
    await expectStatus(
      await call('POST /me/entities', '/me/entities', {
        token: entityToken,
        body: { creditCode: newCreditCode('91', '110105') },
      }),
      403,
    );
    const agents = `/me/entities/${entity.creditCode}/agents`;
    const appointment = {
      idNumber: people[1]!.idNumber,
      name: people[1]!.name,
      scope: ['licences'],
      expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
    };
    const appointed = await call('POST /me/entities/{creditCode}/agents', agents, {
      token: entityToken,
      body: appointment,
    });
    const { agentId } = (await (await expectStatus(appointed, 201)).json()) as { agentId: string };
    await expectStatus(
      await call('POST /me/entities/{creditCode}/agents', agents, {
        token: entityToken,
        body: { ...appointment, idNumber: runtime.credentials.citizen.idNumber },
      }),
      400,
    );
    await expectStatus(
      await call('GET /me/entities/{creditCode}/agents', agents, { token: entityToken }),
      200,
    );
    await expectStatus(
      await call('GET /me/entities/{creditCode}/agents', '/me/entities/no*code/agents', {
        token: entityToken,
      }),
      404,
    );
    const agent = `${agents}/${agentId}`;
    await expectStatus(
      await call('DELETE /me/entities/{creditCode}/agents/{agentId}', agent, { token: entityToken }),
      204,
    );
    await expectStatus(
      await call('DELETE /me/entities/{creditCode}/agents/{agentId}', `${agents}/agt_none`, {
        token: entityToken,
      }),
      404,
    );
  });

  it('a counter clerk’s proof in person (当面核验)', async () => {
    const head = await agencyHeadToken(runtime);
    // A clerk the population registry knows (an appointment's name is checked against it).
    const clerkPerson = { idNumber: newIdNumber(), name: '窗口丙', phone: '+8613766669001' };
    await putInRegistry(runtime, clerkPerson.idNumber, clerkPerson.name);
    const clerk = await appointClerk(runtime, head, runtime.credentials.issuer.creditCode, clerkPerson, [
      'licences:issue',
      'accounts:prove-in-person',
    ]);
    const { token } = await clerkToken(runtime, clerk);
    const { citizen } = runtime.credentials;
    const person = { idNumber: citizen.idNumber, name: citizen.name };
    await expectStatus(
      await call('POST /counter/accounts/lookup', '/counter/accounts/lookup', { token, body: person }),
      200,
    );
    await expectStatus(
      await call('POST /counter/accounts/lookup', '/counter/accounts/lookup', {
        token,
        body: { ...person, name: '别人' },
      }),
      400,
    );
    await expectStatus(
      await call('POST /counter/accounts/lookup', '/counter/accounts/lookup', {
        token: issuerToken,
        body: person,
      }),
      403,
    );
    await expectStatus(
      await call('POST /counter/accounts/prove', '/counter/accounts/prove', {
        token,
        body: { ...person, checkedIdCard: true, password: citizen.password },
      }),
      200,
    );
    await expectStatus(
      await call('POST /counter/accounts/prove', '/counter/accounts/prove', {
        token,
        body: { ...person, checkedIdCard: true },
      }),
      400,
    );
  });

  it('exercised every documented route, answering and refusing', () => {
    const missing = routes
      .filter(isDocumented)
      .map(routeKey)
      .filter((key) => {
        const statuses = [...(exercised.get(key) ?? [])];
        return !statuses.some((s) => s < 300) || !statuses.some((s) => s >= 400);
      });
    expect(missing).toEqual([]);
  });

  it('fails an answer the document does not describe', () => {
    const licenceErrors = check.response('GET', '/licences/{id}', {
      status: 200,
      contentType: 'application/json',
      body: JSON.stringify({ id: 'x', extra: true }),
    });
    expect(licenceErrors.length).toBeGreaterThan(0);
    expect(
      check.response('GET', '/healthz', { status: 418, contentType: 'application/json', body: '{}' }),
    ).toEqual(['GET /healthz answered 418, which the document does not list']);
    expect(
      check.response('GET', '/healthz', { status: 200, contentType: 'text/html', body: '<p>' })[0],
    ).toMatch(/came as text\/html/);
    const unlisted = {
      type: 'urn:elicence:problem:teapot',
      title: 'Conflict',
      status: 409,
      detail: 'x',
      code: 'teapot',
    };
    expect(
      check.response('POST', '/admin/issuers', {
        status: 409,
        contentType: 'application/problem+json',
        body: JSON.stringify(unlisted),
      }),
    ).toEqual(['409 teapot is not a code the document lists for POST /admin/issuers']);
    // A 401 without its challenge (every 401 carries one: the document says so).
    const unauthenticated = {
      type: 'urn:elicence:problem:invalid_token',
      title: 'Unauthorized',
      status: 401,
      detail: 'x',
      code: 'invalid_token',
    };
    const answer401 = (headers: Headers) =>
      check.response('GET', '/me/licences', {
        status: 401,
        contentType: 'application/problem+json',
        body: JSON.stringify(unauthenticated),
        headers,
      });
    expect(answer401(new Headers())).toEqual([
      '401 came without WWW-Authenticate, which the document says it carries',
    ]);
    expect(answer401(new Headers({ 'www-authenticate': 'Bearer error="invalid_token"' }))).toEqual([]);
  });
});
