import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DecryptCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GenerateMacCommand,
  GetPublicKeyCommand,
  type KMSClient,
} from '@aws-sdk/client-kms';
import {
  BatchGetCommand,
  BatchWriteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  TransactWriteCommand,
  UpdateCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { functionGrants, type KeyRole } from '../../functions/grants.js';
import type { FunctionName } from '../../functions/routes.js';
import { ensurePlatformKeys, serviceKeyRoles } from '../../infra/local/bootstrap-keys.js';
import { guardGrants, LocalAccessDenied, stringLike } from '../../infra/local/grant-guard.js';
import { startKmsEmulator, type KmsEmulator } from '../../infra/local/kms-emulator.js';
import { loadConfig } from '../../shared/config.js';
import { createKmsClient } from '../../shared/adapters/kms/client.js';
import { createDynamoClient, documentClientFor } from '../../shared/adapters/dynamo/client.js';
import { table } from '../../shared/adapters/dynamo/table.js';
import { DynamoIssuerStore } from '../../shared/adapters/dynamo/issuer-store.js';
import { DynamoPendingWork, pointerKey } from '../../shared/adapters/dynamo/pending-work.js';
import { DynamoAuditTrail } from '../../shared/adapters/dynamo/audit-trail.js';
import { carriedEntryKey } from '../../shared/pending-work/pending-work.js';
import { keys } from '../../shared/adapters/dynamo/keys.js';
import { DynamoSmsCodeStore } from '../../shared/adapters/dynamo/sms-code-store.js';
import { projectionOf } from '../../shared/adapters/dynamo/projections.js';
import { ensureTable } from '../../shared/adapters/dynamo/create-table.js';
import { OutboxSmsSender } from '../../shared/adapters/outbox/sms-outbox.js';
import { idNumberEncryptionContext, phoneEncryptionContext } from '../../shared/identity/person-account.js';
import type { SmsSender } from '../../shared/identity/sms-sender.js';
import { batchItemsContext } from '../../shared/licence/batch-store.js';
import { smsJobContext } from '../../shared/identity/sms-jobs.js';
import { auditWriters } from '../../shared/audit/audit-writers.js';
import { startTestTable, type TestTable } from '../support/dynamo-table.js';
import { signDigest } from '../support/kms-commands.js';

const tableName = 'guarded';
/** The audit table beside it (the audit trail alone; its stream is supervision's). */
const auditTableName = 'guarded-audit';
/** The batch table beside them (bulk issuance jobs alone; its stream is the batch pipe's). */
const batchTableName = 'guarded-batches';
const tables = { table: tableName, auditTable: auditTableName, batchTable: batchTableName };
const config = loadConfig({});

/** An ES256 signature of a digest with the key `KeyId`. */
const sign = signDigest;

describe('a function’s clients refuse what IAM would refuse its role (local grant guard)', () => {
  let data: TestTable;
  let emulator: KmsEmulator;
  let operatorKms: KMSClient;
  let dataDir: string;
  let keyRoles: Map<string, KeyRole>;
  const made: Array<{ destroy(): void }> = [];

  /** The clients of `functionName`'s container, guarded by its grants. */
  function clientsOf(functionName: FunctionName) {
    const local = { region: config.region, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
    const doc = documentClientFor(createDynamoClient({ ...local, endpoint: data.endpoint }));
    const kms = createKmsClient({ ...local, endpoint: emulator.endpoint });
    made.push(doc, kms);
    guardGrants(
      { doc, kms },
      {
        functionName,
        grants: functionGrants[functionName],
        keyRoles,
        partitionKey: table.partitionKey,
        tables,
      },
    );
    return { doc, kms };
  }
  beforeAll(async () => {
    data = await startTestTable(tableName);
    const admin = createDynamoClient({
      region: config.region,
      endpoint: data.endpoint,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    await ensureTable(admin, auditTableName);
    await ensureTable(admin, batchTableName);
    admin.destroy();
    dataDir = await mkdtemp(join(tmpdir(), 'elicence-guard-'));
    emulator = await startKmsEmulator({ dataDir });
    operatorKms = createKmsClient({
      region: config.region,
      endpoint: emulator.endpoint,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    await ensurePlatformKeys(operatorKms, config);
    keyRoles = await serviceKeyRoles(operatorKms, config);
  });
  afterAll(async () => {
    for (const client of [...made, operatorKms]) client?.destroy();
    await emulator?.close();
    await data?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  const licence = { pk: 'licence#lic_1', sk: 'licence' };
  const audit = { pk: 'audit#2026-11-22#3', sk: '2026-11-22T00:00:00Z#a' };

  it('lets a function do what it is granted: verify reads a licence and writes an audit entry', async () => {
    const verify = clientsOf('verify');
    await data.doc.send(new PutCommand({ TableName: tableName, Item: { ...licence, status: 'valid' } }));
    const read = await verify.doc.send(new GetCommand({ TableName: tableName, Key: licence }));
    expect(read.Item?.status).toBe('valid');
    await verify.doc.send(new PutCommand({ TableName: auditTableName, Item: audit }));
  });

  it('checks each table against its own grant: audit entries only in the audit table, nothing else there', async () => {
    const verify = clientsOf('verify');
    // An audit entry in the service table would reach no stream supervision reads.
    await expect(
      clientsOf('accounts').doc.send(new PutCommand({ TableName: tableName, Item: audit })),
    ).rejects.toThrow(
      'Function accounts is not granted dynamodb:PutItem on partition key audit#2026-11-22#3',
    );
    // Nothing but the audit trail lands in the audit table, whose stream supervision-events reads.
    await expect(
      verify.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName: auditTableName, Item: { ...audit, sk: 'b' } } },
            { Put: { TableName: auditTableName, Item: { pk: 'oidc#Session#s', sk: 'oidc' } } },
          ],
        }),
      ),
    ).rejects.toThrow(
      'Function verify is not granted dynamodb:PutItem on partition key oidc#Session#s in the audit table (in a TransactWriteItems)',
    );
    // Nor any BatchWriteItem: its deletes would be allowed with its puts (R31 M1).
    await expect(
      verify.doc.send(
        new BatchWriteCommand({
          RequestItems: { [auditTableName]: [{ DeleteRequest: { Key: { ...audit, sk: 'b' } } }] },
        }),
      ),
    ).rejects.toThrow('Function verify is not granted dynamodb:BatchWriteItem in the audit table');
    // The stream consumer has no item access to the audit table at all, and no function any other table.
    await expect(
      clientsOf('supervision-events').doc.send(new GetCommand({ TableName: auditTableName, Key: audit })),
    ).rejects.toThrow(
      'Function supervision-events is not granted dynamodb:GetItem: no table access in the audit table',
    );
    await expect(verify.doc.send(new GetCommand({ TableName: 'elsewhere', Key: licence }))).rejects.toThrow(
      'Function verify is not granted dynamodb:GetItem on table elsewhere',
    );
  });

  it('keeps bulk issuance jobs in the batch table, and nothing else there (its stream is the batch pipe’s)', async () => {
    const job = { pk: 'batch#bat_1', sk: 'batch' };
    const chunk = { pk: 'batch-items#bat_1', sk: 'h4sh#0001' };
    // The job's writer and its runner read and write jobs and their chunks in the batch table…
    const licences = clientsOf('licences');
    await licences.doc.send(new PutCommand({ TableName: batchTableName, Item: chunk }));
    await licences.doc.send(new PutCommand({ TableName: batchTableName, Item: { ...job, version: 1 } }));
    const batches = clientsOf('batches');
    expect(
      (await batches.doc.send(new GetCommand({ TableName: batchTableName, Key: job }))).Item,
    ).toMatchObject(job);
    await batches.doc.send(new PutCommand({ TableName: batchTableName, Item: { ...chunk, done: true } }));
    // …and no longer in the service table, whose stream is gone: a job there would never run.
    for (const name of ['licences', 'batches'] as const) {
      await expect(
        clientsOf(name).doc.send(new PutCommand({ TableName: tableName, Item: job })),
      ).rejects.toThrow(`Function ${name} is not granted dynamodb:PutItem on partition key batch#bat_1`);
    }
    // Nothing but jobs lands in the batch table: not a licence issued by a job, not an audit entry.
    await expect(
      batches.doc.send(new PutCommand({ TableName: batchTableName, Item: licence })),
    ).rejects.toThrow(
      'Function batches is not granted dynamodb:PutItem on partition key licence#lic_1 in the batch table',
    );
    await expect(
      batches.doc.send(new PutCommand({ TableName: batchTableName, Item: audit })),
    ).rejects.toThrow('in the batch table');
    // No other function touches the batch table at all.
    await expect(
      clientsOf('verify').doc.send(new GetCommand({ TableName: batchTableName, Key: job })),
    ).rejects.toThrow('Function verify is not granted dynamodb:GetItem: no table access in the batch table');
  });

  it('refuses an action outside the grant, naming the function, action and key, and writes nothing', async () => {
    const attempt = clientsOf('accounts').doc.send(
      new PutCommand({ TableName: tableName, Item: { ...licence, status: 'revoked' } }),
    );
    await expect(attempt).rejects.toThrow(LocalAccessDenied);
    await expect(attempt).rejects.toThrow(
      'Function accounts is not granted dynamodb:PutItem on partition key licence#lic_1',
    );
    // verify writes nothing in the service table but a DPoP proof's mark (its audit entries go to the
    // audit table).
    await expect(
      clientsOf('verify').doc.send(new PutCommand({ TableName: tableName, Item: licence })),
    ).rejects.toThrow('Function verify is not granted dynamodb:PutItem on partition key licence#lic_1');
    const after = await data.doc.send(new GetCommand({ TableName: tableName, Key: licence }));
    expect(after.Item?.status).toBe('valid');
  });

  it('lets the functions that authenticate access tokens mark a DPoP proof, and no other (review R25)', async () => {
    const mark = (name: FunctionName) =>
      clientsOf(name).doc.send(
        new PutCommand({
          TableName: tableName,
          Item: { ...keys.dpopProof(`proof-${name}`), expiresAt: 1 },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    for (const name of ['verify', 'me', 'licences', 'admin', 'accounts', 'audit', 'supervision'] as const) {
      await mark(name);
    }
    // The wallet reads its own session's token for scan-to-login, but authenticates no API request.
    await expect(mark('wallet')).rejects.toThrow('Function wallet is not granted dynamodb:PutItem');
    await expect(mark('oidc')).rejects.toThrow(
      'Function oidc is not granted dynamodb:PutItem on partition key dpop-proof#proof-oidc',
    );
    // A mark is only ever put: nobody reads one.
    await expect(
      clientsOf('verify').doc.send(
        new GetCommand({ TableName: tableName, Key: keys.dpopProof('proof-verify') }),
      ),
    ).rejects.toThrow(
      'Function verify is not granted dynamodb:GetItem on partition key dpop-proof#proof-verify',
    );
  });

  it('refuses a read of a partition the function was not granted (the console reads only its sessions)', async () => {
    await expect(
      clientsOf('console').doc.send(new GetCommand({ TableName: tableName, Key: licence })),
    ).rejects.toThrow('Function console is not granted dynamodb:GetItem on partition key licence#lic_1');
  });

  it('refuses a batch when any one of its keys is outside the grant, as ForAllValues does', async () => {
    const oidc = clientsOf('oidc');
    const batch = (pk: string) =>
      new BatchWriteCommand({
        RequestItems: {
          [tableName]: [
            { DeleteRequest: { Key: { pk: 'oidc#AccessToken#a', sk: 'oidc' } } },
            { DeleteRequest: { Key: { pk, sk: 'oidc' } } },
          ],
        },
      });
    await oidc.doc.send(batch('oidc#RefreshToken#b'));
    await expect(oidc.doc.send(batch('licence#lic_1'))).rejects.toThrow(
      'dynamodb:BatchWriteItem on partition key licence#lic_1',
    );
  });

  it('checks each operation of a TransactWriteItems as its own action on its own key, as IAM does', async () => {
    const oidc = clientsOf('oidc');
    const counter = (name: string) => ({ pk: `login-attempts#pair#${name}`, sk: 'login-attempts' });
    const transaction = (last: Record<string, unknown>) =>
      new TransactWriteCommand({
        TransactItems: [
          { Put: { TableName: tableName, Item: { ...counter('a'), failures: 1 } } },
          { Delete: { TableName: tableName, Key: counter('b') } },
          last,
        ],
      });
    await oidc.doc.send(
      transaction({
        Update: {
          TableName: tableName,
          Key: counter('c'),
          UpdateExpression: 'SET failures = :one',
          ExpressionAttributeValues: { ':one': 1 },
        },
      }),
    );
    // One operation outside the grant refuses the whole transaction, naming that operation's action.
    await expect(
      oidc.doc.send(transaction({ Put: { TableName: tableName, Item: { ...licence, status: 'revoked' } } })),
    ).rejects.toThrow(
      'Function oidc is not granted dynamodb:PutItem on partition key licence#lic_1 (in a TransactWriteItems)',
    );
    // A condition check is its own action (dynamodb:ConditionCheckItem), which no function is granted.
    await expect(
      oidc.doc.send(
        transaction({
          ConditionCheck: {
            TableName: tableName,
            Key: counter('d'),
            ConditionExpression: 'attribute_exists(pk)',
          },
        }),
      ),
    ).rejects.toThrow('Function oidc is not granted dynamodb:ConditionCheckItem (in a TransactWriteItems)');
    // verify may not touch a counter, in a transaction or not.
    await expect(
      clientsOf('verify').doc.send(transaction({ Delete: { TableName: tableName, Key: counter('e') } })),
    ).rejects.toThrow(
      'Function verify is not granted dynamodb:PutItem on partition key login-attempts#pair#a (in a TransactWriteItems)',
    );
    const after = await data.doc.send(new GetCommand({ TableName: tableName, Key: licence }));
    expect(after.Item?.status).not.toBe('revoked');
  });

  it('checks every key of a BatchGetItem: /verify batches its token and licence reads, nothing else', async () => {
    const verify = clientsOf('verify');
    const batch = (pk: string) =>
      new BatchGetCommand({
        RequestItems: {
          [tableName]: {
            Keys: [
              { pk: 'licence#lic_1', sk: 'licence' },
              { pk, sk: pk },
            ],
            ConsistentRead: true,
          },
        },
      });
    await verify.doc.send(batch('oidc#AccessToken#a'));
    await expect(verify.doc.send(batch('account#acc_1'))).rejects.toThrow(
      'Function verify is not granted dynamodb:BatchGetItem on partition key account#acc_1',
    );
    // A function granted GetItem but not BatchGetItem is refused the batch.
    await expect(clientsOf('me').doc.send(batch('oidc#AccessToken#a'))).rejects.toThrow(
      'not granted dynamodb:BatchGetItem',
    );
  });

  it('keeps `me` off a licence’s pending work: withdrawals’ own partition only (review M1)', async () => {
    const me = clientsOf('me').doc;
    // A licence's pointer, as issuance leaves it: `me` can neither claim it far ahead, nor plant entries
    // on it, nor read or remove it.
    const reconciler = new DynamoPendingWork(clientsOf('pending-work-reconciler').doc, tableName);
    const now = new Date();
    const claim = await reconciler.mark('lic_m1', now);
    await reconciler.release('lic_m1', claim!);
    const licences = new DynamoPendingWork(me, tableName);
    await expect(licences.claim('lic_m1', now)).rejects.toThrow(
      /Function me is not granted dynamodb:UpdateItem on partition key pending-work#\d/,
    );
    await expect(
      me.send(
        new PutCommand({
          TableName: tableName,
          Item: { ...pointerKey('lic_m1'), since: now.toISOString(), audit: [] },
        }),
      ),
    ).rejects.toThrow(LocalAccessDenied);
    await expect(
      me.send(new GetCommand({ TableName: tableName, Key: pointerKey('lic_m1') })),
    ).rejects.toThrow(LocalAccessDenied);
    await expect(licences.olderThan(new Date(now.getTime() + 1), 10)).rejects.toThrow(
      /not granted dynamodb:Query on the base table, partition key pending-work#0/,
    );
    // Its withdrawals' pointers it claims, finds and removes.
    const withdrawals = new DynamoPendingWork(me, tableName, 'withdrawals');
    const id = 'authorization-withdrawn#g_m1#w_1';
    await data.doc.send(
      new PutCommand({
        TableName: tableName,
        Item: {
          ...pointerKey(id, 'withdrawals'),
          since: now.toISOString(),
          marked: 'm',
          ownedBy: 'acc_me',
          audit: [{ key: id, entry: { action: 'authorization.withdrawn' } }],
        },
      }),
    );
    const taken = await withdrawals.claim(id, now);
    expect(taken).toBeDefined();
    expect((await withdrawals.carried('authorization-withdrawn#g_m1#')).map((found) => found.id)).toEqual([
      id,
    ]);
    await withdrawals.remove(id, taken!);
    expect(await reconciler.claim('lic_m1', now)).toBeDefined();
  });

  it('keeps an issuer change’s pending work to admin and the reconciler, and admin off the others (R20)', async () => {
    const id = 'issuer-changed#iss_r20#2';
    const pointer = {
      ...pointerKey(id, 'operators'),
      since: new Date().toISOString(),
      marked: 'm',
      ownedBy: 'demo-admin',
      audit: [{ key: id, entry: { action: 'issuer.key-withdrawn' } }],
    };
    // `me` (or any other function) cannot plant an operator's entry for the reconciler to write.
    for (const name of ['me', 'licences', 'accounts', 'oidc'] as const) {
      await expect(
        clientsOf(name).doc.send(new PutCommand({ TableName: tableName, Item: pointer })),
      ).rejects.toThrow(LocalAccessDenied);
    }
    // Admin puts it (with the issuer, in one transaction: IAM checks each put), claims and removes it…
    await clientsOf('admin').doc.send(new PutCommand({ TableName: tableName, Item: pointer }));
    const admin = new DynamoPendingWork(clientsOf('admin').doc, tableName, 'operators');
    const now = new Date();
    await admin.remove(id, (await admin.claim(id, now))!);
    // …and touches no other pending work.
    await expect(
      new DynamoPendingWork(clientsOf('admin').doc, tableName).claim('lic_r20', now),
    ).rejects.toThrow(/Function admin is not granted dynamodb:UpdateItem on partition key pending-work#\d/);
    await expect(
      new DynamoPendingWork(clientsOf('admin').doc, tableName, 'withdrawals').claim(
        'authorization-withdrawn#g#w',
        now,
      ),
    ).rejects.toThrow(/Function admin is not granted dynamodb:UpdateItem on partition key pending-audit#\d/);
    // The reconciler finds them.
    await clientsOf('admin').doc.send(new PutCommand({ TableName: tableName, Item: pointer }));
    const reconciler = new DynamoPendingWork(
      clientsOf('pending-work-reconciler').doc,
      tableName,
      'operators',
    );
    expect(
      (await reconciler.olderThan(new Date(now.getTime() + 60_000), 10)).map((found) => found.id),
    ).toEqual([id]);
    const taken = await reconciler.claim(id, now);
    await reconciler.remove(id, taken!);
  });

  it('keeps an account’s or an agent’s pending work to accounts and the reconciler, and accounts off the others', async () => {
    const id = 'agent-changed#agt_trace#1';
    const pointer = {
      ...pointerKey(id, 'accounts'),
      since: new Date().toISOString(),
      marked: 'm',
      ownedBy: 'acc_rep',
      audit: [{ key: id, entry: { action: 'agent.appointed' } }],
    };
    expect(pointer.pk).toBe('pending-account-audit#0');
    // No other function can plant an appointment's entry for the reconciler to write.
    for (const name of ['me', 'admin', 'licences', 'oidc'] as const) {
      await expect(
        clientsOf(name).doc.send(new PutCommand({ TableName: tableName, Item: pointer })),
      ).rejects.toThrow(LocalAccessDenied);
    }
    // Accounts puts it (with the appointment or the account's claim, in one transaction), claims and
    // removes it…
    await clientsOf('accounts').doc.send(new PutCommand({ TableName: tableName, Item: pointer }));
    const accounts = new DynamoPendingWork(clientsOf('accounts').doc, tableName, 'accounts');
    const now = new Date();
    await accounts.remove(id, (await accounts.claim(id, now))!);
    // …and touches no other pending work.
    for (const [kind, partition] of [
      ['licences', 'pending-work'],
      ['withdrawals', 'pending-audit'],
      ['operators', 'pending-issuer-audit'],
      ['provider', 'pending-provider-audit'],
    ] as const) {
      await expect(
        new DynamoPendingWork(clientsOf('accounts').doc, tableName, kind).claim(`${kind}#x#1`, now),
      ).rejects.toThrow(
        new RegExp(`Function accounts is not granted dynamodb:UpdateItem on partition key ${partition}#\\d`),
      );
    }
    // The reconciler finds them: one query, its partition has one shard.
    await clientsOf('accounts').doc.send(new PutCommand({ TableName: tableName, Item: pointer }));
    const reconciler = new DynamoPendingWork(clientsOf('pending-work-reconciler').doc, tableName, 'accounts');
    expect(
      (await reconciler.olderThan(new Date(now.getTime() + 60_000), 10)).map((found) => found.id),
    ).toEqual([id]);
    await reconciler.remove(id, (await reconciler.claim(id, now))!);
  });

  it('keeps a phone proof’s pending work to oidc and the reconciler, and oidc off the others', async () => {
    const id = 'phone-proof#acc_trace#2';
    const pointer = {
      ...pointerKey(id, 'provider'),
      since: new Date().toISOString(),
      marked: 'm',
      ownedBy: 'acc_trace',
      audit: [{ key: id, entry: { action: 'account.taken_over' } }],
    };
    expect(pointer.pk).toBe('pending-provider-audit#0');
    // No other function can plant a takeover's entry for the reconciler to write.
    for (const name of ['me', 'admin', 'licences', 'accounts'] as const) {
      await expect(
        clientsOf(name).doc.send(new PutCommand({ TableName: tableName, Item: pointer })),
      ).rejects.toThrow(LocalAccessDenied);
    }
    // The provider puts it (with the account, in one transaction), claims and removes it…
    await clientsOf('oidc').doc.send(new PutCommand({ TableName: tableName, Item: pointer }));
    const provider = new DynamoPendingWork(clientsOf('oidc').doc, tableName, 'provider');
    const now = new Date();
    await provider.remove(id, (await provider.claim(id, now))!);
    // …and touches no other pending work.
    for (const [kind, partition] of [
      ['licences', 'pending-work'],
      ['withdrawals', 'pending-audit'],
      ['operators', 'pending-issuer-audit'],
      ['accounts', 'pending-account-audit'],
    ] as const) {
      await expect(
        new DynamoPendingWork(clientsOf('oidc').doc, tableName, kind).claim(`${kind}#x#1`, now),
      ).rejects.toThrow(
        new RegExp(`Function oidc is not granted dynamodb:UpdateItem on partition key ${partition}#\\d`),
      );
    }
    // The reconciler finds them: one query, its partition has one shard.
    await clientsOf('oidc').doc.send(new PutCommand({ TableName: tableName, Item: pointer }));
    const reconciler = new DynamoPendingWork(clientsOf('pending-work-reconciler').doc, tableName, 'provider');
    expect(
      (await reconciler.olderThan(new Date(now.getTime() + 60_000), 10)).map((found) => found.id),
    ).toEqual([id]);
    await reconciler.remove(id, (await reconciler.claim(id, now))!);
  });

  it('lets each writer mark its own entries written once, and never plant another function’s mark (reviews R26, R52)', async () => {
    // Its own: a takeover's two entries, each written once under its key (the mark `audit-once#phone-proof#…`).
    // oidc's own trail: its chains in its own shards (R31 M1), the only day partitions it may put in.
    const trail = new DynamoAuditTrail(clientsOf('oidc').doc, auditTableName, undefined, undefined, {
      name: 'oidc',
      ...auditWriters.oidc,
    });
    const id = 'phone-proof#acc_once#3';
    const at = new Date().toISOString();
    for (let run = 0; run < 2; run += 1) {
      await trail.record({ at, actor: 'acc_once', action: 'account.taken_over' }, { key: id, writtenAt: at });
      await trail.record(
        { at, actor: 'acc_once', action: 'account.password_reset' },
        { key: carriedEntryKey(id, 1), writtenAt: at },
      );
    }
    // Read as the operator (no function reads marks): both marks there, and each entry written once.
    const reader = documentClientFor(
      createDynamoClient({
        region: config.region,
        endpoint: data.endpoint,
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      }),
    );
    made.push(reader);
    for (const key of [id, `${id}#2`]) {
      const mark = await reader.send(new GetCommand({ TableName: auditTableName, Key: keys.auditOnce(key) }));
      expect(mark.Item, key).toBeDefined();
    }
    const written = await reader.send(
      new ScanCommand({
        TableName: auditTableName,
        FilterExpression: 'actor = :actor AND begins_with(pk, :audit)',
        ExpressionAttributeValues: { ':actor': 'acc_once', ':audit': 'audit#' },
      }),
    );
    expect((written.Items ?? []).map((item) => item.action).sort()).toEqual([
      'account.password_reset',
      'account.taken_over',
    ]);
    // Another function's change (a closure, an operator's, a licence's): a mark planted first would have
    // its entry taken as written and never written, so oidc may not put one, alone or in a transaction.
    for (const key of ['account-closed#acc_victim', 'issuer-changed#iss_x#2', 'lic_x#2#0', 'phone-proof']) {
      const item = { ...keys.auditOnce(key), writtenAt: at };
      await expect(
        clientsOf('oidc').doc.send(new PutCommand({ TableName: auditTableName, Item: item })),
        key,
      ).rejects.toThrow(`Function oidc is not granted dynamodb:PutItem on partition key audit-once#${key}`);
      await expect(
        clientsOf('oidc').doc.send(
          new TransactWriteCommand({ TransactItems: [{ Put: { TableName: auditTableName, Item: item } }] }),
        ),
        key,
      ).rejects.toThrow(LocalAccessDenied);
    }
    // The functions that write those changes' entries still may.
    const licenceMark = '1.2.156.3005.2.001.91330100716105852F.42.001.D#2#0';
    for (const [name, key] of [
      ['accounts', 'account-closed#acc_victim'],
      ['pending-work-reconciler', 'account-closed#acc_victim'],
      ['admin', 'issuer-changed#iss_x#2'],
      ['licences', licenceMark],
      ['me', 'authorization-withdrawn#g_x#p#0'],
    ] as const) {
      await clientsOf(name).doc.send(
        new PutCommand({ TableName: auditTableName, Item: { ...keys.auditOnce(key), writtenAt: at } }),
      );
    }
    // And no other function's (review R52: `me` and `accounts` face the internet too): a licence's next
    // change, an issuer's, a closure, a withdrawal, each refused to every writer but its own and the
    // reconciler, alone or in a transaction.
    for (const [name, key] of [
      ['me', licenceMark],
      ['me', 'issuer-changed#iss_x#3'],
      ['me', 'account-closed#acc_victim'],
      ['accounts', licenceMark],
      ['accounts', 'authorization-withdrawn#g_x#p#0'],
      ['admin', licenceMark],
      ['licences', 'issuer-changed#iss_x#3'],
      ['batches', 'account-closed#acc_victim'],
    ] as const) {
      const item = { ...keys.auditOnce(key), writtenAt: at };
      await expect(
        clientsOf(name).doc.send(new PutCommand({ TableName: auditTableName, Item: item })),
        `${name} ${key}`,
      ).rejects.toThrow(
        `Function ${name} is not granted dynamodb:PutItem on partition key audit-once#${key}`,
      );
      await expect(
        clientsOf(name).doc.send(
          new TransactWriteCommand({ TransactItems: [{ Put: { TableName: auditTableName, Item: item } }] }),
        ),
        `${name} ${key}`,
      ).rejects.toThrow(LocalAccessDenied);
    }
  });

  it('allows queries on granted indexes, and on the base table only on the partitions granted', async () => {
    const query = (index?: string, pk = 'issuer-id#x', TableName = tableName) =>
      new QueryCommand({
        TableName,
        ...(index && { IndexName: index }),
        KeyConditionExpression: index ? `${index}pk = :pk` : 'pk = :pk',
        ExpressionAttributeValues: { ':pk': pk },
      });
    const wallet = clientsOf('wallet');
    // A person of the first layout by id: its lookup key, all the wallet may ask gsi1 for (R31 L3).
    await wallet.doc.send(
      new QueryCommand({ ...query('gsi1', 'account-id#x').input, ...projectionOf('accountById') }),
    );
    await expect(wallet.doc.send(query('gsi1'))).rejects.toThrow(
      'dynamodb:Query on index gsi1 without Select',
    );
    await expect(wallet.doc.send(query('gsi2'))).rejects.toThrow('dynamodb:Query on index gsi2');
    await expect(clientsOf('oidc').doc.send(query())).rejects.toThrow(
      'not granted dynamodb:Query on the base table, partition key issuer-id#x',
    );
    // The audit function reads the audit chains' day partitions (in the audit table), and nothing else
    // of a base table.
    const audit = clientsOf('audit');
    await audit.doc.send(query(undefined, 'audit#2026-12-05#3', auditTableName));
    await expect(audit.doc.send(query(undefined, 'audit#2026-12-05#3'))).rejects.toThrow(
      'not granted dynamodb:Query on the base table, partition key audit#2026-12-05#3',
    );
    await expect(audit.doc.send(query(undefined, 'licence#x', auditTableName))).rejects.toThrow(
      'not granted dynamodb:Query on the base table, partition key licence#x in the audit table',
    );
  });

  it('lets the public functions ask an index for their attributes only: no licence holder or session through trust-list', async () => {
    // A licence of a public issuer, in its index partition (gsi2 `issuer-licences#<id>`, ids are public).
    await data.doc.send(
      new PutCommand({
        TableName: tableName,
        Item: {
          pk: 'licence#lic_guard',
          sk: 'licence',
          gsi2pk: 'issuer-licences#iss_public',
          gsi2sk: '2026-12-05T00:00:00Z#lic_guard',
          id: 'lic_guard',
          status: 'valid',
          holder: { kind: 'person', name: '张三', masked: '1101**********1234', lookupKey: 'lk' },
          fields: { name: '张三' },
          credential: 'eyJ.secret.jws',
        },
      }),
    );
    const partition = {
      TableName: tableName,
      IndexName: 'gsi2',
      KeyConditionExpression: 'gsi2pk = :pk',
      ExpressionAttributeValues: { ':pk': 'issuer-licences#iss_public' },
    };
    const trustList = clientsOf('trust-list');
    // What a compromised trust-list function would send: the whole partition, every attribute.
    const refusedQueries: QueryCommandInput[] = [
      partition,
      { ...partition, Select: 'ALL_PROJECTED_ATTRIBUTES' },
      { ...partition, ProjectionExpression: 'id, credential' },
      {
        ...partition,
        Select: 'SPECIFIC_ATTRIBUTES',
        ProjectionExpression: 'id, #h',
        ExpressionAttributeNames: { '#h': 'holder' },
      },
      {
        ...partition,
        Select: 'SPECIFIC_ATTRIBUTES',
        ProjectionExpression: 'holder.#n',
        ExpressionAttributeNames: { '#n': 'name' },
      },
      {
        ...partition,
        ...projectionOf('issuerListing'),
        FilterExpression: 'begins_with(credential, :c)',
        ExpressionAttributeValues: { ':pk': 'issuer-licences#iss_public', ':c': 'eyJ' },
      },
    ];
    for (const refused of refusedQueries) {
      await expect(trustList.doc.send(new QueryCommand(refused))).rejects.toThrow(
        /Function trust-list is not granted dynamodb:Query on index gsi2 (without Select|naming attribute)/,
      );
    }
    // The legacy parameters name attributes too (review of session 24, finding 4): a filter on the
    // credential beside an allowed projection, and the legacy key condition and projection.
    const legacyQueries: QueryCommandInput[] = [
      {
        ...partition,
        ...projectionOf('issuerListing'),
        QueryFilter: { credential: { ComparisonOperator: 'BEGINS_WITH', AttributeValueList: ['eyJ'] } },
      },
      {
        TableName: tableName,
        IndexName: 'gsi2',
        KeyConditions: {
          gsi2pk: { ComparisonOperator: 'EQ', AttributeValueList: ['issuer-licences#iss_public'] },
        },
        Select: 'SPECIFIC_ATTRIBUTES',
        AttributesToGet: ['id', 'status'],
        ProjectionExpression: 'id, #s',
        ExpressionAttributeNames: { '#s': 'status' },
      },
      {
        ...partition,
        ...projectionOf('issuerListing'),
        // Not a Query parameter: whatever an attacker adds is refused, not passed to the table.
        ...({ ScanFilter: { holder: { ComparisonOperator: 'NOT_NULL' } } } as object),
        ConditionalOperator: 'AND',
      },
    ];
    for (const refused of legacyQueries) {
      await expect(trustList.doc.send(new QueryCommand(refused))).rejects.toThrow(
        /Function trust-list is not granted dynamodb:Query on index gsi2 with legacy parameter/,
      );
    }
    // What it may ask for: nothing of the licence beyond its keys, id and status.
    const { Items } = await trustList.doc.send(
      new QueryCommand({ ...partition, ...projectionOf('issuerListing') }),
    );
    expect(Items).toEqual([{ id: 'lic_guard', status: 'valid' }]);
    // Its own reads go through: the issuers as listed, an issuer by id (the credit code alone).
    const issuers = new DynamoIssuerStore(trustList.doc, tableName);
    await issuers.listAll();
    await issuers.findById('iss_public');
    // The same restriction for the other public readers and the stream consumer, each to its own list.
    await expect(
      clientsOf('status-lists').doc.send(
        new QueryCommand({
          ...partition,
          IndexName: 'gsi1',
          KeyConditionExpression: 'gsi1pk = :pk',
          ...projectionOf('issuerListing'),
        }),
      ),
    ).rejects.toThrow(
      'Function status-lists is not granted dynamodb:Query on index gsi1 naming attribute id, name',
    );
    await expect(clientsOf('peers').doc.send(new QueryCommand(partition))).rejects.toThrow(
      'Function peers is not granted dynamodb:Query on index gsi2 without Select',
    );
    const events = clientsOf('supervision-events');
    await events.doc.send(
      new QueryCommand({
        TableName: tableName,
        IndexName: 'gsi1',
        KeyConditionExpression: 'gsi1pk = :pk',
        ExpressionAttributeValues: { ':pk': 'holder#lk' },
        ...projectionOf('issuedCounters'),
      }),
    );
    await expect(
      events.doc.send(
        new QueryCommand({
          TableName: tableName,
          IndexName: 'gsi1',
          KeyConditionExpression: 'gsi1pk = :pk',
          ExpressionAttributeValues: { ':pk': 'holder#lk' },
          ...projectionOf('issuerListing'),
        }),
      ),
    ).rejects.toThrow('naming attribute id, name, creditCode');
    await expect(
      clientsOf('verify').doc.send(
        new QueryCommand({ ...partition, IndexName: 'gsi1', KeyConditionExpression: 'gsi1pk = :pk' }),
      ),
    ).rejects.toThrow('Function verify is not granted dynamodb:Query on index gsi1 without Select');
    // A function whose grant names the index alone still reads every attribute (docs/security.md).
    await clientsOf('licences').doc.send(new QueryCommand(partition));
  });

  it('checks KMS calls by key, whether the key is named by alias, key id or ARN', async () => {
    const wallet = clientsOf('wallet');
    const mac = (keyId: string) =>
      new GenerateMacCommand({ KeyId: keyId, Message: Buffer.from('x'), MacAlgorithm: 'HMAC_SHA_256' });
    await wallet.kms.send(mac(config.webKeyId));
    await expect(wallet.kms.send(mac(config.lookupMacKeyId))).rejects.toThrow(
      'Function wallet is not granted kms:GenerateMac on the lookupMac key',
    );
    const lookupArn = [...keyRoles].find(([id, role]) => role === 'lookupMac' && id.startsWith('arn:'))?.[0];
    expect(lookupArn).toBeDefined();
    await expect(wallet.kms.send(mac(lookupArn!))).rejects.toThrow(LocalAccessDenied);
    // The provider's interaction key is the provider's alone: a function holding the lookup key (and so
    // every secret derived from it) still cannot derive the key that seals a sign-in's result.
    await clientsOf('oidc').kms.send(mac(config.interactionKeyId));
    for (const name of ['me', 'admin', 'accounts', 'licences', 'batches'] as const) {
      await expect(clientsOf(name).kms.send(mac(config.interactionKeyId))).rejects.toThrow(
        `Function ${name} is not granted kms:GenerateMac on the interaction key`,
      );
    }
    // Client secrets derive from a key of their own, which only the provider (authenticating clients) and
    // the operators' API (showing a secret once) hold: a holder of the lookup key computes no client's
    // secret (review 24), and the operators' API no longer holds the lookup key at all.
    await clientsOf('oidc').kms.send(mac(config.clientSecretKeyId));
    await clientsOf('admin').kms.send(mac(config.clientSecretKeyId));
    for (const name of ['me', 'accounts', 'licences', 'batches', 'wallet', 'console'] as const) {
      await expect(clientsOf(name).kms.send(mac(config.clientSecretKeyId))).rejects.toThrow(
        `Function ${name} is not granted kms:GenerateMac on the clientSecret key`,
      );
    }
    await expect(clientsOf('admin').kms.send(mac(config.lookupMacKeyId))).rejects.toThrow(
      'Function admin is not granted kms:GenerateMac on the lookupMac key',
    );
    // An issuer key is any key but the service's own: signing with one is the licence functions' alone.
    await expect(wallet.kms.send(mac('0f0e0d0c-0000-4000-8000-000000000000'))).rejects.toThrow(
      'kms:GenerateMac on the issuer key',
    );
  });

  it('holds the grants fixed: a grant changed at run time throws, rather than go unseen by the guard’s per-function cache', () => {
    // The guard derives each function's KMS actions once per grants object (kmsRefusal): a later change
    // to the declarations would be a grant it never checked, so the declarations cannot change.
    const wallet = functionGrants.wallet as { kms?: Record<string, unknown> };
    expect(() => {
      wallet.kms = {};
    }).toThrow(TypeError);
    const granted = Object.values(functionGrants.verify.table?.items ?? {}).find(Array.isArray);
    expect(granted).toBeDefined();
    expect(() => (granted as unknown[]).push('anything#*')).toThrow(TypeError);
  });

  it('lets the audit function alone sign with the audit key, and it no longer signs with the platform key', async () => {
    const audit = clientsOf('audit');
    await audit.kms.send(sign(config.auditKeyId));
    await expect(audit.kms.send(sign(config.platformKeyId))).rejects.toThrow(
      'Function audit is not granted kms:Sign on the platform key',
    );
    for (const name of ['oidc', 'trust-list', 'me', 'licences'] as const) {
      await expect(clientsOf(name).kms.send(sign(config.auditKeyId))).rejects.toThrow(
        `Function ${name} is not granted kms:Sign on the audit key`,
      );
    }
    // Not even the public key: what verifies a checkpoint is the published key set, not a function's role.
    await expect(
      clientsOf('verify').kms.send(new GetPublicKeyCommand({ KeyId: config.auditKeyId })),
    ).rejects.toThrow('Function verify is not granted kms:GetPublicKey on the audit key');
  });

  it('lets me alone sign with the presentation key, and me no longer signs with the platform key (review R7 M1)', async () => {
    const me = clientsOf('me');
    await me.kms.send(sign(config.presentationKeyId));
    await expect(me.kms.send(sign(config.platformKeyId))).rejects.toThrow(
      'Function me is not granted kms:Sign on the platform key',
    );
    await expect(me.kms.send(new GetPublicKeyCommand({ KeyId: config.platformKeyId }))).rejects.toThrow(
      'Function me is not granted kms:GetPublicKey on the platform key',
    );
    for (const name of ['oidc', 'trust-list', 'verify', 'licences', 'audit'] as const) {
      await expect(clientsOf(name).kms.send(sign(config.presentationKeyId))).rejects.toThrow(
        `Function ${name} is not granted kms:Sign on the presentation key`,
      );
    }
    // Those that publish or verify presentations read its public key; the OpenID provider does not.
    for (const name of ['trust-list', 'verify'] as const) {
      await clientsOf(name).kms.send(new GetPublicKeyCommand({ KeyId: config.presentationKeyId }));
    }
    await expect(
      clientsOf('oidc').kms.send(new GetPublicKeyCommand({ KeyId: config.presentationKeyId })),
    ).rejects.toThrow('Function oidc is not granted kms:GetPublicKey on the presentation key');
  });

  it('lets notices alone sign with the notice key, and notices no longer signs with the platform key (review R31 L1)', async () => {
    const notices = clientsOf('notices');
    await notices.kms.send(sign(config.noticeKeyId));
    await expect(notices.kms.send(sign(config.platformKeyId))).rejects.toThrow(
      'Function notices is not granted kms:Sign on the platform key',
    );
    await expect(notices.kms.send(new GetPublicKeyCommand({ KeyId: config.platformKeyId }))).rejects.toThrow(
      'Function notices is not granted kms:GetPublicKey on the platform key',
    );
    for (const name of ['oidc', 'trust-list', 'list-signer', 'me', 'accounts', 'verify'] as const) {
      await expect(clientsOf(name).kms.send(sign(config.noticeKeyId))).rejects.toThrow(
        `Function ${name} is not granted kms:Sign on the notice key`,
      );
    }
    // The notices JWKS's publisher reads its public key; the OpenID provider does not (never in jwks_uri).
    await clientsOf('trust-list').kms.send(new GetPublicKeyCommand({ KeyId: config.noticeKeyId }));
    await expect(
      clientsOf('oidc').kms.send(new GetPublicKeyCommand({ KeyId: config.noticeKeyId })),
    ).rejects.toThrow('Function oidc is not granted kms:GetPublicKey on the notice key');
  });

  it('tells the PII key’s two uses apart by context: batch items and ID numbers, never each other’s', async () => {
    const licences = clientsOf('licences');
    const batches = clientsOf('batches');
    const oidc = clientsOf('oidc');
    const chunk = batchItemsContext({ batchId: 'bat_1', requestHash: 'h', n: 0 });
    const idNumber = idNumberEncryptionContext('acc_1');
    const { CiphertextBlob } = await licences.kms.send(
      new GenerateDataKeyCommand({ KeyId: config.piiKeyId, KeySpec: 'AES_256', EncryptionContext: chunk }),
    );
    const decrypt = (context: Record<string, string>) =>
      new DecryptCommand({ KeyId: config.piiKeyId, CiphertextBlob, EncryptionContext: context });
    await batches.kms.send(decrypt(chunk));
    // The reader of ID numbers cannot open a batch, nor the batch job an ID number, nor the submitter
    // what it sealed.
    await expect(oidc.kms.send(decrypt(chunk))).rejects.toThrow(
      'Function oidc is not granted kms:Decrypt on the batchItems key',
    );
    await expect(batches.kms.send(decrypt(idNumber))).rejects.toThrow(
      'Function batches is not granted kms:Decrypt on the pii key',
    );
    await expect(licences.kms.send(decrypt(chunk))).rejects.toThrow(LocalAccessDenied);
    await expect(
      licences.kms.send(
        new GenerateDataKeyCommand({
          KeyId: config.piiKeyId,
          KeySpec: 'AES_256',
          EncryptionContext: idNumber,
        }),
      ),
    ).rejects.toThrow('Function licences is not granted kms:GenerateDataKey on the pii key');
  });

  it('refuses an SMS job or batch items data key whose context lacks the job or chunk, as the key policy does', async () => {
    const generate = (context: Record<string, string>) =>
      new GenerateDataKeyCommand({ KeyId: config.piiKeyId, KeySpec: 'AES_256', EncryptionContext: context });
    await clientsOf('oidc').kms.send(generate(smsJobContext('smsj_1')));
    await expect(clientsOf('oidc').kms.send(generate({ purpose: 'sms-job' }))).rejects.toThrow(
      'Function oidc is not granted kms:GenerateDataKey on the smsJobs key without job in its encryption context',
    );
    const { batch: _batch, ...noBatch } = batchItemsContext({ batchId: 'bat_1', requestHash: 'h', n: 0 });
    await expect(clientsOf('licences').kms.send(generate(noBatch))).rejects.toThrow(LocalAccessDenied);
  });

  it('lets only sms-codes write an SMS code: the request functions read, count tries apart and delete', async () => {
    const now = Math.floor(Date.now() / 1000);
    const key = 'digest-of-purpose-person-phone';
    const sender = new DynamoSmsCodeStore(clientsOf('sms-codes').doc, tableName);
    await sender.put(key, { codeMac: 'mac-1', expiresAt: now + 300, requestedAt: now });
    for (const name of ['oidc', 'accounts'] as const) {
      const { doc } = clientsOf(name);
      // A stolen request role cannot plant a hash of its own on a person's code, nor make one.
      await expect(
        doc.send(
          new UpdateCommand({
            TableName: tableName,
            Key: keys.smsCode(key),
            UpdateExpression: 'SET codeMac = :mine',
            ExpressionAttributeValues: { ':mine': 'attacker-mac' },
          }),
        ),
      ).rejects.toThrow(
        `Function ${name} is not granted dynamodb:UpdateItem on partition key sms-code#${key}`,
      );
      await expect(
        doc.send(
          new PutCommand({
            TableName: tableName,
            Item: { ...keys.smsCode(key), codeMac: 'attacker-mac', expiresAt: now + 300 },
          }),
        ),
      ).rejects.toThrow(`Function ${name} is not granted dynamodb:PutItem on partition key sms-code#${key}`);
      await expect(
        new DynamoSmsCodeStore(doc, tableName).put(key, {
          codeMac: 'attacker-mac',
          expiresAt: now + 300,
          requestedAt: now + 60,
        }),
      ).rejects.toThrow(LocalAccessDenied);
    }
    const stored = await data.doc.send(new GetCommand({ TableName: tableName, Key: keys.smsCode(key) }));
    expect(stored.Item?.codeMac).toBe('mac-1');
    // What they are granted is enough to check codes: 5 tries of a code, then it is dead.
    const oidc = new DynamoSmsCodeStore(clientsOf('oidc').doc, tableName);
    for (let tries = 1; tries <= 5; tries++) {
      expect(await oidc.countTry(key, 5, now)).toMatchObject({ codeMac: 'mac-1', tries });
    }
    expect(await oidc.countTry(key, 5, now)).toBeUndefined();
    // A newer code has tries of its own, and is used up once.
    await sender.put(key, { codeMac: 'mac-2', expiresAt: now + 300, requestedAt: now + 60 });
    const accounts = new DynamoSmsCodeStore(clientsOf('accounts').doc, tableName);
    const counted = await accounts.countTry(key, 5, now);
    expect(counted).toMatchObject({ codeMac: 'mac-2', tries: 1 });
    expect(await accounts.consume(key, counted!, now)).toBe(true);
    expect(await oidc.countTry(key, 5, now)).toBeUndefined();
    // Used, its request time kept (`sms-used#`, written by the code check): a job of an earlier request,
    // run late, stores no code.
    expect(await sender.put(key, { codeMac: 'mac-late', expiresAt: now + 300, requestedAt: now })).toBe(
      false,
    );
    expect(await oidc.countTry(key, 5, now)).toBeUndefined();
  });

  it('refuses the PII key for any purpose but an ID number or a phone, or without an account, as its key policy does', async () => {
    const accounts = clientsOf('accounts');
    const oidc = clientsOf('oidc');
    const encrypt = (context: Record<string, string>) =>
      new EncryptCommand({
        KeyId: config.piiKeyId,
        Plaintext: Buffer.from('110101…'),
        EncryptionContext: context,
      });
    // The granted uses pass: an ID number and a phone, each bound to its account.
    const { CiphertextBlob } = await accounts.kms.send(encrypt(idNumberEncryptionContext('acc_1')));
    await accounts.kms.send(encrypt(phoneEncryptionContext('acc_1')));
    const decrypt = (context: Record<string, string>) =>
      new DecryptCommand({ KeyId: config.piiKeyId, CiphertextBlob, EncryptionContext: context });
    await oidc.kms.send(decrypt(idNumberEncryptionContext('acc_1')));
    // Another purpose, no purpose, or no account: AWS refuses each (the statement's conditions fail).
    await expect(accounts.kms.send(encrypt({ purpose: 'x', account: 'acc_1' }))).rejects.toThrow(
      "Function accounts is not granted kms:Encrypt on the pii key with purpose 'x' in its encryption context",
    );
    await expect(accounts.kms.send(encrypt({ account: 'acc_1' }))).rejects.toThrow(
      'Function accounts is not granted kms:Encrypt on the pii key with purpose (none)',
    );
    await expect(accounts.kms.send(encrypt({ purpose: 'id-number' }))).rejects.toThrow(
      'Function accounts is not granted kms:Encrypt on the pii key without account in its encryption context',
    );
    await expect(accounts.kms.send(encrypt({}))).rejects.toThrow(LocalAccessDenied);
    await expect(oidc.kms.send(decrypt({ purpose: 'x', account: 'acc_1' }))).rejects.toThrow(
      "Function oidc is not granted kms:Decrypt on the pii key with purpose 'x'",
    );
    await expect(oidc.kms.send(decrypt({ purpose: 'phone' }))).rejects.toThrow(
      'Function oidc is not granted kms:Decrypt on the pii key without account',
    );
    await expect(
      accounts.kms.send(
        new GenerateDataKeyCommand({
          KeyId: config.piiKeyId,
          KeySpec: 'AES_256',
          EncryptionContext: { purpose: 'x' },
        }),
      ),
    ).rejects.toThrow(LocalAccessDenied);
  });

  it('leaves the operator’s clients alone: bootstrap, seeding and tests arranging data', async () => {
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

describe('text messages under the local grant guard', () => {
  it('refuses a text message from a function without the sms grant, and lets the senders send', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'elicence-sms-guard-'));
    const outbox = join(dataDir, 'outbox', 'sms.jsonl');
    const keyRoles = new Map<string, KeyRole>();
    const message = {
      to: '+8613912345678',
      text: '【电子证照】验证码 123456，5 分钟内有效。',
      code: '123456',
    };
    const containerOf = (functionName: FunctionName) => {
      const container = { sms: new OutboxSmsSender(outbox, { now: () => Date.now() }) as SmsSender };
      guardGrants(container, {
        functionName,
        grants: functionGrants[functionName],
        keyRoles,
        partitionKey: table.partitionKey,
        tables,
      });
      return container;
    };
    // The request functions (oidc, accounts) leave jobs; only sms-codes texts, after the answer.
    for (const refused of ['verify', 'me', 'wallet', 'admin', 'oidc', 'accounts'] as const) {
      const attempt = containerOf(refused).sms.send(message);
      await expect(attempt).rejects.toThrow(LocalAccessDenied);
      await expect(attempt).rejects.toThrow(`Function ${refused} is not granted sns:Publish`);
    }
    await expect(readFile(outbox, 'utf8')).rejects.toThrow(/ENOENT/);
    await containerOf('sms-codes').sms.send(message);
    expect((await readFile(outbox, 'utf8')).trim().split('\n')).toHaveLength(1);
  });
});
