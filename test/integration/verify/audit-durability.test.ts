import { fork } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ServiceInputTypes, ServiceOutputTypes } from '@aws-sdk/lib-dynamodb';
import type { InitializeMiddleware } from '@smithy/types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dependencies } from '../../../functions/composition/dependencies.js';
import { GroupCommitAuditTrail } from '../../../shared/adapters/dynamo/audit-trail.js';
import { createDynamoClient, documentClientFor } from '../../../shared/adapters/dynamo/client.js';
import { licenceAuditEntries } from '../../support/audit-entries.js';
import { postJson } from '../../support/http-api.js';
import { clientCredentialsToken, startTestRuntime, type TestRuntime } from '../../support/runtime.js';
import { demoTokens, issueDrivingLicence, postVerify, type IssuedLicence } from './helpers.js';

/**
 * Issue 16, item 2: a verification's audit entry leaves the critical path by group commit, never by
 * answering first. No verdict goes out without its entry: when the entry cannot be written the answer is
 * a 5xx, and a process killed as it writes the entries has answered none of their verdicts.
 */

/** Verification entries of a licence in the runtime's table. */
const verifiedEntries = async (licenceId: string) =>
  (await licenceAuditEntries(dependencies().auditPages, licenceId)).filter(
    (entry) => entry.action === 'licence.verified',
  );

describe('POST /verify when its audit entry cannot be written', () => {
  let runtime: TestRuntime;
  let tokens: Awaited<ReturnType<typeof demoTokens>>;
  let licence: IssuedLicence;
  let failing = false;

  beforeAll(async () => {
    runtime = await startTestRuntime(
      undefined,
      {},
      {
        // /verify's own trail, over a client whose verification writes fail while `failing`.
        audit: (operator) => {
          const doc = documentClientFor(
            createDynamoClient({
              region: operator.config.region,
              endpoint: operator.config.dynamodbEndpoint,
              credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
            }),
          );
          const fail: InitializeMiddleware<ServiceInputTypes, ServiceOutputTypes> =
            (next) => async (args) => {
              if (failing && JSON.stringify(args.input).includes('"licence.verified"')) {
                throw new Error('the audit store is unavailable');
              }
              return next(args);
            };
          doc.middlewareStack.add(fail, { step: 'initialize', name: 'failAuditFlush' } as const);
          return new GroupCommitAuditTrail(doc, operator.config.auditTableName);
        },
      },
    );
    tokens = await demoTokens(runtime);
    licence = await issueDrivingLicence(runtime, tokens.issuer);
  });
  afterAll(() => runtime?.close());

  it('answers a 5xx, never the verdict, alone or among concurrent verifications, with or without a token', async () => {
    failing = true;
    try {
      const responses = await Promise.all([
        postVerify(runtime, licence.credential),
        ...Array.from({ length: 6 }, (_, i) =>
          postVerify(runtime, licence.credential, i % 2 ? tokens.verifier : undefined),
        ),
      ]);
      for (const response of responses) {
        const text = await response.text();
        expect(response.status, text).toBeGreaterThanOrEqual(500);
        expect(text).not.toContain('verdict');
        expect(text).not.toContain(licence.holder.masked);
      }
    } finally {
      failing = false;
    }
    expect(await verifiedEntries(licence.id)).toEqual([]);
  });

  it('POST /verify/pdf too: a 5xx, never the check, while its entry cannot be written', async () => {
    const path = `${runtime.baseUrl}/licences/${encodeURIComponent(licence.id)}`;
    const get = (suffix: string) =>
      fetch(`${path}/${suffix}`, { headers: { authorization: `Bearer ${tokens.issuer}` } });
    const file = {
      pdf: Buffer.from(await (await get('pdf')).arrayBuffer()).toString('base64'),
      jws: await (await get('pdf.jws')).text(),
    };
    failing = true;
    try {
      const responses = await Promise.all(
        Array.from({ length: 3 }, (_, i) =>
          postJson(runtime, '/verify/pdf', i % 2 ? tokens.verifier : undefined, file),
        ),
      );
      for (const response of responses) {
        const text = await response.text();
        expect(response.status, text).toBeGreaterThanOrEqual(500);
        expect(text).not.toContain('licenceStatus');
      }
    } finally {
      failing = false;
    }
    expect(await verifiedEntries(licence.id)).toEqual([]);
    const answered = await postJson(runtime, '/verify/pdf', undefined, file);
    expect(answered.status).toBe(200);
    expect(await verifiedEntries(licence.id)).toEqual([
      expect.objectContaining({ actor: 'anonymous', format: 'pdf', verdict: 'valid' }),
    ]);
  });

  it('answers the verdict once the entry is written again', async () => {
    const response = await postVerify(runtime, licence.credential, tokens.verifier);
    expect(response.status).toBe(200);
    expect((await verifiedEntries(licence.id)).filter((entry) => entry.format !== 'pdf')).toEqual([
      expect.objectContaining({ actor: runtime.credentials.verifier.clientId, verdict: 'valid' }),
    ]);
  });
});

describe('POST /verify in a runtime killed as it writes the entries', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'elicence-audit-crash-'));
  });
  afterAll(() => rm(dataDir, { recursive: true, force: true }));

  it('every verdict answered has its entry: none of those it was writing was answered', async () => {
    const child = fork(fileURLToPath(new URL('./audit-crash-runtime.ts', import.meta.url)), [], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, CRASH_DATA_DIR: dataDir },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.once('exit', (_, signal) => resolve(signal)),
    );
    let licence: IssuedLicence;
    const answered: number[] = [];
    try {
      const started = await new Promise<Pick<TestRuntime, 'baseUrl' | 'credentials'>>((resolve, reject) => {
        child.once('message', (message) => resolve(message as Pick<TestRuntime, 'baseUrl' | 'credentials'>));
        child.once('exit', (code) => reject(new Error(`the runtime exited (${code})`)));
      });
      const issuerToken = await clientCredentialsToken(started, started.credentials.issuer, 'licences:issue');
      licence = await issueDrivingLicence(started, issuerToken);
      // Before the crash: answered, and recorded.
      expect((await postVerify(started, licence.credential)).status).toBe(200);
      answered.push(1);
      // A check of its printable licence (POST /verify/pdf) is one too.
      const get = (suffix: string) =>
        fetch(`${started.baseUrl}/licences/${encodeURIComponent(licence.id)}/${suffix}`, {
          headers: { authorization: `Bearer ${issuerToken}` },
        });
      const file = {
        pdf: Buffer.from(await (await get('pdf')).arrayBuffer()).toString('base64'),
        jws: await (await get('pdf.jws')).text(),
      };
      expect((await postJson(started, '/verify/pdf', undefined, file)).status).toBe(200);
      answered.push(1);

      await new Promise<void>((resolve) => {
        child.once('message', () => resolve());
        child.send('arm');
      });
      const outcomes = await Promise.allSettled([
        ...Array.from({ length: 5 }, () => postVerify(started, licence.credential)),
        ...Array.from({ length: 2 }, () => postJson(started, '/verify/pdf', undefined, file)),
      ]);
      for (const outcome of outcomes) {
        // The connection died with the process: no status, no verdict.
        expect(outcome.status).toBe('rejected');
      }
      expect(await exited).toBe('SIGKILL');
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }

    // The same data, read by a new runtime: exactly the entries of the verdicts that went out.
    const restarted = await startTestRuntime(dataDir);
    try {
      expect(await verifiedEntries(licence.id)).toHaveLength(answered.length);
    } finally {
      await restarted.close();
    }
  });
});
