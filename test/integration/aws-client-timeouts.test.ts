/**
 * Operator review M4: the DynamoDB, KMS and Lambda clients had no working timeout, so a dependency that
 * accepted the connection and never answered held the function until Lambda killed it (a 504, nothing
 * logged). The SDK's `requestTimeout` alone only logs a warning; `throwOnRequestTimeout` makes it fail.
 * Real clients, real HTTP: a server that takes each request and never answers.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { SignCommand } from '@aws-sdk/client-kms';
import { InvokeCommand } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../shared/adapters/dynamo/client.js';
import { createKmsClient } from '../../shared/adapters/kms/client.js';
import { createLambdaClient } from '../../shared/adapters/lambda/client.js';
import { requestTimeoutFor } from '../../shared/adapters/aws-timeouts.js';

let hung: Server;
let endpoint: string;
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

beforeAll(async () => {
  // Reads each request and never answers it.
  hung = createServer((request) => request.resume());
  await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(hung.address() as AddressInfo).port}`;
});
afterAll(async () => {
  hung.closeAllConnections();
  await new Promise((resolve) => hung.close(resolve));
});

/** How long `call` took to fail, and how. */
async function failure(call: () => Promise<unknown>): Promise<{ ms: number; name: string }> {
  const begin = performance.now();
  try {
    await call();
  } catch (error) {
    return { ms: performance.now() - begin, name: (error as Error).name };
  }
  throw new Error('the call answered');
}

describe('a dependency that never answers fails the call within its timeout', () => {
  it('is a second per attempt in AWS, 30 s at a local endpoint (its cores shared with tests)', () => {
    expect(requestTimeoutFor(undefined)).toBe(1_000);
    expect(requestTimeoutFor('http://127.0.0.1:8000')).toBe(30_000);
  });

  it('DynamoDB (one attempt)', async () => {
    const doc = createDocumentClient({
      region: 'cn-north-1',
      endpoint,
      credentials,
      maxAttempts: 1,
      requestTimeoutMs: 500,
    });
    const failed = await failure(() =>
      doc.send(new GetCommand({ TableName: 't', Key: { pk: 'a', sk: 'b' } })),
    );
    expect(failed.name).toBe('TimeoutError');
    expect(failed.ms).toBeLessThan(3_000);
    doc.destroy();
  });

  it('KMS (one attempt)', async () => {
    const kms = createKmsClient({
      region: 'cn-north-1',
      endpoint,
      credentials,
      maxAttempts: 1,
      requestTimeoutMs: 500,
    });
    const failed = await failure(() =>
      kms.send(
        new SignCommand({
          KeyId: 'alias/x',
          Message: new Uint8Array(32),
          MessageType: 'DIGEST',
          SigningAlgorithm: 'ECDSA_SHA_256',
        }),
      ),
    );
    expect(failed.name).toBe('TimeoutError');
    expect(failed.ms).toBeLessThan(3_000);
    kms.destroy();
  });

  it('Lambda (the list signer’s caller, two attempts)', async () => {
    const lambda = createLambdaClient({ region: 'cn-north-1', endpoint, requestTimeoutMs: 300 });
    lambda.config.credentials = async () => credentials;
    const failed = await failure(() =>
      lambda.send(new InvokeCommand({ FunctionName: 'elicence-list-signer' })),
    );
    expect(failed.name).toBe('TimeoutError');
    expect(failed.ms).toBeLessThan(3_000);
    lambda.destroy();
  }, 10_000);
});
