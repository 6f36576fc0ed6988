import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateKeyCommand, GetPublicKeyCommand, KMSClient, SignCommand } from '@aws-sdk/client-kms';
import {
  BatchWriteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  type DynamoDBDocumentClient,
  type ServiceInputTypes,
  type ServiceOutputTypes,
} from '@aws-sdk/lib-dynamodb';
import type { FinalizeRequestMiddleware } from '@smithy/types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalDynamo, type LocalDynamo, type WriteRequest } from '../../infra/local/dynamo.js';
import { startKmsEmulator, type KmsEmulator } from '../../infra/local/kms-emulator.js';
import type { InProcessTransport } from '../../infra/local/in-process-transport.js';
import { documentClientFor } from '../../shared/adapters/dynamo/client.js';
import { ensureTable } from '../../shared/adapters/dynamo/create-table.js';

/**
 * The local runtime's own clients reach the embedded DynamoDB and the KMS emulator in process
 * (`infra/local/in-process-transport.ts`): the same signed requests, read and answered by the same
 * emulator code as over a socket, counted and tapped alike.
 */
const region = 'cn-north-1';
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const tableName = 'transport-test';

let dataDir: string;
let dynamo: LocalDynamo;
let kmsEmulator: KmsEmulator;

const docClient = (requestHandler?: InProcessTransport): DynamoDBDocumentClient =>
  documentClientFor(
    new DynamoDBClient({
      region,
      endpoint: dynamo.endpoint,
      credentials,
      ...(requestHandler ? { requestHandler } : {}),
    }),
  );
let overSocket: DynamoDBDocumentClient;
let inProcess: DynamoDBDocumentClient;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'elicence-transport-'));
  dynamo = await startLocalDynamo({ dataDir });
  kmsEmulator = await startKmsEmulator({ dataDir });
  overSocket = docClient();
  inProcess = docClient(dynamo.transport);
  await ensureTable(new DynamoDBClient({ region, endpoint: dynamo.endpoint, credentials }), tableName);
});

afterAll(async () => {
  overSocket.destroy();
  inProcess.destroy();
  await dynamo.close();
  await kmsEmulator.close();
  await rm(dataDir, { recursive: true, force: true });
});

/** The answer without what differs per request (its id, the attempts' timing). */
async function outcome(promise: Promise<object>): Promise<unknown> {
  try {
    const { $metadata: _metadata, ...output } = (await promise) as { $metadata?: unknown };
    return { output };
  } catch (error) {
    const { name, message } = error as Error;
    return {
      error: name,
      message,
      status: (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode,
    };
  }
}

describe('the in-process transport to the embedded DynamoDB', () => {
  it('answers every request as the socket does, errors included', async () => {
    const requests = (client: DynamoDBDocumentClient, n: string) => [
      () => client.send(new PutCommand({ TableName: tableName, Item: { pk: `p#${n}`, sk: 'a', v: 1 } })),
      () =>
        client.send(
          new PutCommand({
            TableName: tableName,
            Item: { pk: `p#${n}`, sk: 'a', v: 2 },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        ),
      () => client.send(new GetCommand({ TableName: tableName, Key: { pk: `p#${n}`, sk: 'a' } })),
      () =>
        client.send(
          new QueryCommand({
            TableName: tableName,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': `p#${n}` },
          }),
        ),
      () => client.send(new GetCommand({ TableName: tableName, Key: { pk: `p#${n}` } })),
      () => client.send(new GetCommand({ TableName: 'no-such-table', Key: { pk: 'x', sk: 'y' } })),
    ];
    const viaSocket = [];
    for (const request of requests(overSocket, 'same')) viaSocket.push(await outcome(request()));
    await overSocket.send(
      new BatchWriteCommand({
        RequestItems: { [tableName]: [{ DeleteRequest: { Key: { pk: 'p#same', sk: 'a' } } }] },
      }),
    );
    const viaProcess = [];
    for (const request of requests(inProcess, 'same')) viaProcess.push(await outcome(request()));

    expect(viaProcess).toEqual(viaSocket);
    expect(viaProcess.map((o) => (o as { error?: string }).error)).toEqual([
      undefined,
      'ConditionalCheckFailedException',
      undefined,
      undefined,
      'ValidationException',
      'ResourceNotFoundException',
    ]);
  });

  it('hands the emulator the signed request, which it checks as it would from a socket', async () => {
    // Drops the signature after signing: dynalite refuses the request, through either transport.
    const unsign: FinalizeRequestMiddleware<ServiceInputTypes, ServiceOutputTypes> = (next) => (args) => {
      delete (args.request as { headers: Record<string, string> }).headers.authorization;
      return next(args);
    };
    const refusals = [];
    for (const client of [docClient(), docClient(dynamo.transport)]) {
      client.middlewareStack.add(unsign, { step: 'finalizeRequest', priority: 'low', name: 'unsign' });
      refusals.push(
        await outcome(client.send(new GetCommand({ TableName: tableName, Key: { pk: 'p#1', sk: 'a' } }))),
      );
      client.destroy();
    }
    expect(refusals[1]).toEqual(refusals[0]);
    expect(refusals[1]).toMatchObject({ error: 'MissingAuthenticationTokenException', status: 400 });
  });

  it('is counted and tapped as a socket request is', async () => {
    const writes: WriteRequest[] = [];
    const stop = dynamo.onWrite((write) => writes.push(write));
    dynamo.resetStats();
    try {
      await inProcess.send(new PutCommand({ TableName: tableName, Item: { pk: 'p#tap', sk: 'a' } }));
      await inProcess.send(
        new BatchWriteCommand({
          RequestItems: { [tableName]: [{ PutRequest: { Item: { pk: 'p#tap', sk: 'b' } } }] },
        }),
      );
      await inProcess.send(new GetCommand({ TableName: tableName, Key: { pk: 'p#tap', sk: 'a' } }));
    } finally {
      stop();
    }
    expect(dynamo.stats()).toEqual({ PutItem: 1, BatchWriteItem: 1, GetItem: 1 });
    expect(writes.map((w) => w.operation)).toEqual(['PutItem', 'BatchWriteItem']);
    expect(writes[0]?.input).toMatchObject({ Item: { pk: { S: 'p#tap' }, sk: { S: 'a' } } });
    expect(writes[1]?.output).toEqual({ UnprocessedItems: {} });
  });
});

describe('the in-process transport to the KMS emulator', () => {
  it('signs as over the socket, and faults and retries apply alike', async () => {
    const kms = new KMSClient({
      region,
      endpoint: kmsEmulator.endpoint,
      credentials,
      requestHandler: kmsEmulator.transport,
    });
    try {
      const { KeyMetadata } = await kms.send(
        new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' }),
      );
      const keyId = KeyMetadata!.KeyId!;
      // The region of new ARNs comes from the signed request's credential scope.
      expect(KeyMetadata?.Arn).toContain(`:${region}:`);
      const { PublicKey } = await kms.send(new GetPublicKeyCommand({ KeyId: keyId }));
      const message = Buffer.from('signed in process');
      kmsEmulator.resetStats();
      kmsEmulator.setFaults({ throttleRate: 0.5 });
      const signatures = [];
      for (let i = 0; i < 2; i++) {
        signatures.push(
          (
            await kms.send(
              new SignCommand({
                KeyId: keyId,
                Message: message,
                MessageType: 'RAW',
                SigningAlgorithm: 'ECDSA_SHA_256',
              }),
            )
          ).Signature!,
        );
      }
      kmsEmulator.setFaults({});
      const publicKey = createPublicKey({ key: Buffer.from(PublicKey!), format: 'der', type: 'spki' });
      for (const signature of signatures)
        expect(nodeVerify('sha256', message, publicKey, signature)).toBe(true);
      // Each throttled attempt reached the emulator and was retried by the SDK.
      expect(kmsEmulator.stats().Sign).toBeGreaterThan(2);
    } finally {
      kms.destroy();
    }
  });
});
