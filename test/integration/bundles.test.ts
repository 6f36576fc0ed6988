import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FunctionName } from '../../functions/routes.js';
import { functionBuild } from '../../infra/bundling.js';
import { startLocalRuntime, type LocalRuntime } from '../../infra/local/runtime.js';
import { importHandler } from '../../infra/local/server.js';
import { loadConfig } from '../../shared/config.js';
import type { HttpHandler } from '../../shared/http/types.js';
import { runFlow, citizenAnswers } from '../support/oidc-flows.js';
import { clientCredentialsToken } from '../support/runtime.js';
import { UserAgent } from '../support/user-agent.js';
import {
  drivingLicenceBody,
  getWithToken,
  issued,
  licencePath,
  newIdNumber,
  verifiedTrustList,
} from '../support/licences.js';

/**
 * The functions a licence's life and a wallet sign-in cross, and the catalogue (for /openapi.json),
 * bundled exactly as the CDK stack bundles them.
 */
const bundled: readonly FunctionName[] = [
  'health',
  'catalogue',
  'oidc',
  'licences',
  'verify',
  'trust-list',
  'status-lists',
  // Invoked by the two list functions through Lambda's Invoke API (the runtime's emulator).
  'list-signer',
  'wallet',
  'me',
];

/**
 * The bundles, not the sources: what Lambda runs. Each is configured by its environment alone, as in
 * Lambda (the local runtime's launcher is the sources' module, which a bundle does not share), takes its
 * credentials from the environment provider the bundling aliases in, and composes only what its handler
 * uses, with our files declared free of side effects. A bundling mistake there (a dropped module, a
 * renamed class oidc-provider looks up, a missing alias) shows here and nowhere else.
 */
describe('the Lambda bundles, run as Lambda runs them', () => {
  let runtime: LocalRuntime;
  let outdir: string;
  let dataDir: string;

  beforeAll(async () => {
    outdir = await mkdtemp(join(tmpdir(), 'elicence-bundles-'));
    dataDir = await mkdtemp(join(tmpdir(), 'elicence-bundles-data-'));
    await Promise.all(
      // Each in its own folder, `index.mjs` and its chunks, as in the Lambda package.
      bundled.map((name) => build(functionBuild(name, join(outdir, name)))),
    );
    const loadHandler = async (name: FunctionName): Promise<HttpHandler> => {
      if (!bundled.includes(name)) return importHandler(name);
      const module = (await import(pathToFileURL(join(outdir, name, 'index.mjs')).href)) as {
        handler: HttpHandler;
      };
      return module.handler;
    };
    runtime = await startLocalRuntime(
      loadConfig({ PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'SILENT' }),
      process.env,
      { loadHandler },
    );
    // What the stack gives each function, pointed at the embedded services; bundles load on first request.
    Object.assign(process.env, {
      ISSUER_URL: runtime.baseUrl,
      AWS_REGION: runtime.config.region,
      AWS_ENDPOINT_URL_DYNAMODB: runtime.config.dynamodbEndpoint,
      AWS_ENDPOINT_URL_KMS: runtime.config.kmsEndpoint,
      AWS_ENDPOINT_URL_LAMBDA: runtime.config.lambdaEndpoint,
      TABLE_NAME: runtime.config.tableName,
      AUDIT_TABLE_NAME: runtime.config.auditTableName,
      BATCH_TABLE_NAME: runtime.config.batchTableName,
      LOG_LEVEL: 'SILENT',
    });
  }, 120_000);
  afterAll(async () => {
    await runtime?.close();
    await rm(outdir, { recursive: true, force: true });
    await rm(dataDir, { recursive: true, force: true });
  });

  it('answers the health check and OpenID discovery', async () => {
    expect((await fetch(`${runtime.baseUrl}/healthz`)).status).toBe(200);
    const discovery = (await (await fetch(`${runtime.baseUrl}/.well-known/openid-configuration`)).json()) as {
      issuer: string;
    };
    expect(discovery.issuer).toBe(runtime.baseUrl);
    // The OpenAPI document: its component titles come from zod's registry, which the bundle must keep.
    const openApi = (await (await fetch(`${runtime.baseUrl}/openapi.json`)).json()) as {
      servers: unknown;
      components: { schemas: Record<string, unknown> };
    };
    expect(openApi.servers).toEqual([{ url: runtime.baseUrl }]);
    expect(Object.keys(openApi.components.schemas)).toEqual(expect.arrayContaining(['Licence', 'Problem']));
  });

  it('issues a licence, renders its QR code and its PDF, verifies them and publishes its lists', async () => {
    const token = await clientCredentialsToken(runtime, runtime.credentials.issuer, 'licences:issue');
    const licence = await issued(runtime, token, drivingLicenceBody(newIdNumber()));
    expect(licence.status).toBe('valid');

    const png = await getWithToken(runtime, `${licencePath(licence.id)}/qr.png`, token);
    expect(png.status).toBe(200);
    expect(png.headers.get('content-type')).toBe('image/png');
    expect(
      Buffer.from(await png.arrayBuffer())
        .subarray(1, 4)
        .toString(),
    ).toBe('PNG');

    // The printable licence: pdfkit, its font and the signature, bundled (no standard font file needed).
    const pdf = await getWithToken(runtime, `${licencePath(licence.id)}/pdf?layout=card`, token);
    expect(pdf.status).toBe(200);
    const pdfBytes = Buffer.from(await pdf.arrayBuffer());
    expect(pdfBytes.subarray(0, 5).toString()).toBe('%PDF-');
    const jws = await (
      await getWithToken(runtime, `${licencePath(licence.id)}/pdf.jws?layout=card`, token)
    ).text();
    const checked = await fetch(`${runtime.baseUrl}/verify/pdf`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ pdf: pdfBytes.toString('base64'), jws }),
    });
    expect(((await checked.json()) as { valid: boolean }).valid).toBe(true);

    const verified = await fetch(`${runtime.baseUrl}/verify`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ qr: licence.credential }),
    });
    expect(((await verified.json()) as { verdict: string }).verdict).toBe('valid');

    const trustList = await verifiedTrustList(runtime);
    const issuer = trustList.issuers.find((entry) => entry.id === runtime.credentials.issuer.id);
    expect(issuer?.statusLists).toBe(1);
    const list = await fetch(`${runtime.baseUrl}/status-lists/${encodeURIComponent(`${issuer?.id}.0`)}`);
    expect(list.status).toBe(200);
  });

  it('signs a citizen in to the wallet, which derives its own secret and lists their licences', async () => {
    const outcome = await runFlow(new UserAgent(runtime.baseUrl), '/wallet/login', citizenAnswers(runtime));
    expect(outcome.page?.url.pathname).toBe('/wallet');
    expect(outcome.page?.status).toBe(200);
    expect(outcome.page?.html).toMatch(/class="card licence-card status-[a-z]+"/);
  });
});
