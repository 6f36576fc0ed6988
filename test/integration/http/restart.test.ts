import { GetPublicKeyCommand } from '@aws-sdk/client-kms';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { createPublicKey } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalRuntime } from '../../../infra/local/runtime.js';
import { StoreInUseError } from '../../../infra/local/store-lock.js';
import type { DemoCredentials } from '../../../infra/local/seed.js';
import { buildDependencies } from '../../../functions/composition/dependencies.js';
import { loadConfig } from '../../../shared/config.js';
import { parseIdNumber } from '../../../shared/identifiers/id-number.js';
import { personLookupKey } from '../../../shared/identifiers/lookup-key.js';
import { clerkToken } from '../../support/clerks.js';
import {
  basicAuth,
  emulatorKms,
  expectProblem,
  issuerBody,
  postJson,
  tokenRequest,
} from '../../support/http-api.js';
import { clientCredentialsToken, startTestRuntime, type TestRuntime } from '../../support/runtime.js';
import { thumbprintKeys } from '../../support/jwks.js';

interface CreatedIssuer {
  id: string;
  creditCode: string;
  kid: string;
  clientId: string;
  clientSecret: string;
}

interface BeforeRestart {
  baseUrl: string;
  credentials: DemoCredentials;
  credentialsFile: string;
  platformKid: string;
  issuer: CreatedIssuer;
  adminToken: string;
  issuerToken: string;
}

let dataDir: string;
let runtime: TestRuntime | undefined;
let before: BeforeRestart;

/** The runtime again on the same data and the same port, hence the same issuer URL. */
async function restart(port: string): Promise<TestRuntime> {
  await runtime?.close();
  runtime = undefined;
  const started = await startLocalRuntime(loadConfig({ PORT: port, DATA_DIR: dataDir, LOG_LEVEL: 'SILENT' }));
  runtime = { ...started, dataDir };
  return runtime;
}

/** The platform keys' kids (the ES256 key, then the RSA key of RS256 ID tokens), as the JWKS lists them. */
async function platformKid(baseUrl: string): Promise<string> {
  const { keys: all } = (await (await fetch(`${baseUrl}/.well-known/jwks.json`)).json()) as { keys: JWK[] };
  const keys = thumbprintKeys(all);
  expect(keys.map((key) => key.kty)).toEqual(['EC', 'RSA']);
  return keys.map((key) => key.kid!).join(' ');
}

async function issuerKeyThumbprint(current: TestRuntime, issuerId: string): Promise<string> {
  const kms = emulatorKms(current);
  try {
    const key = await kms.send(new GetPublicKeyCommand({ KeyId: `alias/elicence/issuer/${issuerId}` }));
    const jwk = createPublicKey({ key: Buffer.from(key.PublicKey!), format: 'der', type: 'spki' }).export({
      format: 'jwk',
    });
    return calculateJwkThumbprint(jwk as JWK, 'sha256');
  } finally {
    kms.destroy();
  }
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'elicence-restart-'));
  const first = await startTestRuntime(dataDir);
  runtime = first;

  const adminToken = await clientCredentialsToken(first, first.credentials.admin, 'admin');
  const response = await postJson(first, '/admin/issuers', adminToken, issuerBody());
  expect(response.status, await response.clone().text()).toBe(201);
  const issuer = (await response.json()) as CreatedIssuer;
  before = {
    baseUrl: first.baseUrl,
    credentials: first.credentials,
    credentialsFile: await readFile(first.credentialsFile, 'utf8'),
    platformKid: await platformKid(first.baseUrl),
    issuer,
    adminToken,
    issuerToken: await clientCredentialsToken(first, issuer, 'licences:issue'),
  };
  // The demo clerk as a start before the counter's scope appointed them: `licences:issue` alone.
  const deps = buildDependencies(first.config);
  try {
    const { clerk } = first.credentials;
    const key = await personLookupKey(deps.lookupMac, parseIdNumber(clerk.idNumber, new Date()));
    const standing = (await deps.entities.findAppointment(clerk.creditCode, key))!;
    expect(standing.scope).toContain('accounts:prove-in-person');
    await deps.entities.saveAppointment({ ...standing, scope: ['licences:issue'] });
  } finally {
    deps.doc.destroy();
    deps.kms.destroy();
  }

  await restart(new URL(first.baseUrl).port);
});
afterAll(async () => {
  await runtime?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('after a restart on the same data directory', () => {
  it('serves again at the same base URL', async () => {
    expect(runtime!.baseUrl).toBe(before.baseUrl);
    expect(await (await fetch(`${runtime!.baseUrl}/healthz`)).json()).toEqual({ status: 'ok' });
  });

  it('hands out the same demo credentials: client ids, secrets and the demo issuer', async () => {
    expect(runtime!.credentials).toEqual(before.credentials);
    expect(await readFile(runtime!.credentialsFile, 'utf8')).toBe(before.credentialsFile);
    const token = await clientCredentialsToken(runtime!, runtime!.credentials.issuer, 'licences:issue');
    expect(token).toEqual(expect.any(String));
  });

  it('still knows the issuer created before: its credit code is taken (409)', async () => {
    const again = await postJson(
      runtime!,
      '/admin/issuers',
      before.adminToken,
      issuerBody({ creditCode: before.issuer.creditCode }),
    );
    await expectProblem(again, 409, 'issuer_exists');
  });

  it("keeps the created issuer's key and client secret", async () => {
    expect(await issuerKeyThumbprint(runtime!, before.issuer.id)).toBe(before.issuer.kid);
    const response = await tokenRequest(runtime!, before.issuer, {
      grant_type: 'client_credentials',
      scope: 'licences:issue',
    });
    expect(response.status).toBe(200);
  });

  it('publishes the same platform key (same JWKS kid)', async () => {
    expect(await platformKid(runtime!.baseUrl)).toBe(before.platformKid);
  });

  it('accepts access tokens issued before the restart (they live in DynamoDB)', async () => {
    const response = await postJson(runtime!, '/admin/issuers', before.adminToken, issuerBody());
    expect(response.status, await response.clone().text()).toBe(201);

    const introspection = await fetch(`${runtime!.baseUrl}/token/introspection`, {
      method: 'POST',
      headers: {
        authorization: basicAuth(before.issuer),
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ token: before.issuerToken }),
    });
    expect(await introspection.json()).toMatchObject({ active: true, scope: 'licences:issue' });
  });
});

describe('a second start on the same data directory (review R53 F2)', () => {
  it('is refused, naming the running process, and leaves the running one serving', async () => {
    const second = startLocalRuntime(loadConfig({ PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'SILENT' }));
    await expect(second).rejects.toThrow(StoreInUseError);
    await expect(second).rejects.toThrow(`in use by process ${process.pid} (npm start, since `);
    expect((await fetch(`${runtime!.baseUrl}/healthz`)).status).toBe(200);
  });
});

describe('after a restart on another port', () => {
  it('keeps the credentials but refuses tokens issued for the old base URL (their audience)', async () => {
    const moved = await restart('0');
    expect(moved.baseUrl).not.toBe(before.baseUrl);
    const { admin, issuer, verifier, platform } = moved.credentials;
    expect({ admin, issuer, verifier }).toEqual({
      admin: before.credentials.admin,
      issuer: before.credentials.issuer,
      verifier: before.credentials.verifier,
    });
    expect(platform).toEqual({
      ...before.credentials.platform,
      redirectUri: `${moved.baseUrl}/demo/callback`,
    });

    const refused = await postJson(moved, '/admin/issuers', before.adminToken, issuerBody());
    const problem = await expectProblem(refused, 401, 'invalid_token');
    expect(problem.detail).toMatch(/not meant for this API/);

    const fresh = await clientCredentialsToken(moved, admin, 'admin');
    expect((await postJson(moved, '/admin/issuers', fresh, issuerBody())).status).toBe(201);
  });
  it("gives the demo clerk the counter's scope, even over an appointment an earlier start made without it", async () => {
    const current = runtime!;
    const { clerk, citizen } = current.credentials;
    const { token } = await clerkToken(current, clerk);
    const found = await postJson(current, '/counter/accounts/lookup', token, {
      idNumber: citizen.idNumber,
      name: citizen.name,
    });
    expect(found.status, await found.clone().text()).toBe(200);
    expect(await found.json()).toMatchObject({ name: citizen.name, assurance: 'in-person-verified' });
  });
});
