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

  /** One attempt of 500 ms, at the server that never answers. */
  const oneAttempt = () => ({
    region: 'cn-north-1',
    endpoint,
    credentials,
    maxAttempts: 1,
    requestTimeoutMs: 500,
  });

  it.each([
    [
      'DynamoDB',
      () => {
        const doc = createDocumentClient(oneAttempt());
        const get = new GetCommand({ TableName: 't', Key: { pk: 'a', sk: 'b' } });
        return { call: () => doc.send(get), destroy: () => doc.destroy() };
      },
    ],
    [
      'KMS',
      () => {
        const kms = createKmsClient(oneAttempt());
        const sign = new SignCommand({
          KeyId: 'alias/x',
          Message: new Uint8Array(32),
          MessageType: 'DIGEST',
          SigningAlgorithm: 'ECDSA_SHA_256',
        });
        return { call: () => kms.send(sign), destroy: () => kms.destroy() };
      },
    ],
  ] as const)('%s (one attempt)', async (_service, open) => {
    const client = open();
    const failed = await failure(client.call);
    expect(failed.name).toBe('TimeoutError');
    expect(failed.ms).toBeLessThan(3_000);
    client.destroy();
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
