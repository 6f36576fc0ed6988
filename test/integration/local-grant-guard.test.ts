import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GenerateMacCommand, type KMSClient } from '@aws-sdk/client-kms';
import { BatchWriteCommand, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { functionGrants, type FunctionGrants } from '../../functions/grants.js';
import type { FunctionName } from '../../functions/routes.js';
import { ensurePlatformKeys, serviceKeyRoles } from '../../infra/local/bootstrap-keys.js';
import { guardGrants, LocalAccessDenied, stringLike } from '../../infra/local/grant-guard.js';
import { invocation } from '../../infra/local/invocation.js';
import { startKmsEmulator, type KmsEmulator } from '../../infra/local/kms-emulator.js';
import { loadConfig } from '../../shared/config.js';
import { createKmsClient } from '../../shared/crypto/kms-client.js';
import { table } from '../../shared/storage/table.js';
import { startTestTable, type TestTable } from '../support/dynamo-table.js';

const tableName = 'guarded';
const config = loadConfig({});
const as = <T>(functionName: FunctionName, run: () => Promise<T>) => invocation.run({ functionName }, run);

describe('the local runtime refuses what IAM would (grant guard)', () => {
  let data: TestTable;
  let emulator: KmsEmulator;
  let kms: KMSClient;
  let dataDir: string;

  beforeAll(async () => {
    data = await startTestTable(tableName);
    dataDir = await mkdtemp(join(tmpdir(), 'elicence-guard-'));
    emulator = await startKmsEmulator({ dataDir });
    kms = createKmsClient({
      region: config.region,
      endpoint: emulator.endpoint,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    await ensurePlatformKeys(kms, config);
    const grantsOf = (name: FunctionName): FunctionGrants => functionGrants[name];
    guardGrants(
      { doc: data.doc, kms },
      { grantsOf, keyRoles: await serviceKeyRoles(kms, config), partitionKey: table.partitionKey },
    );
  });
  afterAll(async () => {
    kms?.destroy();
    await emulator?.close();
    await data?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  const licence = { pk: 'licence#lic_1', sk: 'licence' };
  const audit = { pk: 'audit#2026-11-22#3', sk: '2026-11-22T00:00:00Z#a' };

  it('lets a function do what it is granted: verify reads a licence and writes an audit entry', async () => {
    await data.doc.send(new PutCommand({ TableName: tableName, Item: { ...licence, status: 'valid' } }));
    const read = await as('verify', () =>
      data.doc.send(new GetCommand({ TableName: tableName, Key: licence })),
    );
    expect(read.Item?.status).toBe('valid');
    await as('verify', () => data.doc.send(new PutCommand({ TableName: tableName, Item: audit })));
  });

  it('refuses an action outside the grant, naming the function, action and key, and writes nothing', async () => {
    const attempt = as('verify', () =>
      data.doc.send(new PutCommand({ TableName: tableName, Item: { ...licence, status: 'revoked' } })),
    );
    await expect(attempt).rejects.toThrow(LocalAccessDenied);
    await expect(attempt).rejects.toThrow(
      'Function verify is not granted dynamodb:PutItem on partition key licence#lic_1',
    );
    const after = await data.doc.send(new GetCommand({ TableName: tableName, Key: licence }));
    expect(after.Item?.status).toBe('valid');
  });

  it('refuses a read of a partition the function was not granted (the console reads only its sessions)', async () => {
    await expect(
      as('console', () => data.doc.send(new GetCommand({ TableName: tableName, Key: licence }))),
    ).rejects.toThrow('Function console is not granted dynamodb:GetItem on partition key licence#lic_1');
  });

  it('refuses a batch when any one of its keys is outside the grant, as ForAllValues does', async () => {
    const batch = (pk: string) =>
      new BatchWriteCommand({
        RequestItems: {
          [tableName]: [
            { DeleteRequest: { Key: { pk: 'oidc#AccessToken#a', sk: 'oidc' } } },
            { DeleteRequest: { Key: { pk, sk: 'oidc' } } },
          ],
        },
      });
    await as('oidc', () => data.doc.send(batch('oidc#RefreshToken#b')));
    await expect(as('oidc', () => data.doc.send(batch('licence#lic_1')))).rejects.toThrow(
      'dynamodb:BatchWriteItem on partition key licence#lic_1',
    );
  });

  it('allows queries on granted indexes only, and never on the base table', async () => {
    const query = (index?: string) =>
      new QueryCommand({
        TableName: tableName,
        ...(index && { IndexName: index }),
        KeyConditionExpression: index ? `${index}pk = :pk` : 'pk = :pk',
        ExpressionAttributeValues: { ':pk': 'issuer-id#x' },
      });
    await as('verify', () => data.doc.send(query('gsi1')));
    await expect(as('verify', () => data.doc.send(query('gsi2')))).rejects.toThrow(
      'dynamodb:Query on index gsi2',
    );
    await expect(as('oidc', () => data.doc.send(query()))).rejects.toThrow(
      'queries are granted on indexes only',
    );
  });

  it('checks KMS calls by key, whether the key is named by alias, key id or ARN', async () => {
    const mac = (keyId: string) =>
      new GenerateMacCommand({ KeyId: keyId, Message: Buffer.from('x'), MacAlgorithm: 'HMAC_SHA_256' });
    await as('wallet', () => kms.send(mac(config.webKeyId)));
    await expect(as('wallet', () => kms.send(mac(config.lookupMacKeyId)))).rejects.toThrow(
      'Function wallet is not granted kms:GenerateMac on the lookupMac key',
    );
    const roles = await serviceKeyRoles(kms, config);
    const lookupArn = [...roles].find(([id, role]) => role === 'lookupMac' && id.startsWith('arn:'))?.[0];
    expect(lookupArn).toBeDefined();
    await expect(as('wallet', () => kms.send(mac(lookupArn!)))).rejects.toThrow(LocalAccessDenied);
  });

  it('lets calls outside any function through: bootstrap, seeding and tests are the operator', async () => {
    await data.doc.send(new PutCommand({ TableName: tableName, Item: { ...licence, status: 'revoked' } }));
  });
});

describe('stringLike, as IAM matches', () => {
  it('matches * as any run, ? as one character, and everything else literally', () => {
    expect(stringLike('licence#*', 'licence#lic_1')).toBe(true);
    expect(stringLike('licence#*', 'licence#')).toBe(true);
    expect(stringLike('licence#*', 'licences#1')).toBe(false);
    expect(stringLike('trust-list', 'trust-list')).toBe(true);
    expect(stringLike('trust-list', 'trust-list#1')).toBe(false);
    expect(stringLike('a?c', 'abc')).toBe(true);
    expect(stringLike('a.c', 'abc')).toBe(false);
    expect(stringLike('oidc#AccessToken#*', 'oidc#Session#x')).toBe(false);
  });
});
