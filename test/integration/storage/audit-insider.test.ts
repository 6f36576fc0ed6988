import { DeleteCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { functionGrants } from '../../../functions/grants.js';
import type { FunctionName } from '../../../functions/routes.js';
import { dynamoRefusal } from '../../../infra/local/grant-guard.js';
import { DynamoAuditChainStore } from '../../../shared/adapters/dynamo/audit-chain-store.js';
import { DynamoAuditTrail, newWriterId, shardOfWriter } from '../../../shared/adapters/dynamo/audit-trail.js';
import { keys } from '../../../shared/adapters/dynamo/keys.js';
import { auditTable } from '../../../shared/adapters/dynamo/table.js';
import { DynamoUsageRecord } from '../../../shared/adapters/dynamo/usage-record.js';
import { auditWriters } from '../../../shared/audit/audit-writers.js';
import { pendingAudit } from '../../../shared/licence/pending-work.js';
import { checkAuditChains } from '../../../shared/supervision/audit-chain-check.js';
import { signCheckpoint } from '../../../shared/supervision/checkpoints.js';
import { useDynamo } from '../../contract/subject.js';
import { LocalSigner } from '../../support/local-signer.js';

const dynamo = useDynamo();

/** A licence id as the service makes them (shared/identifiers/licence-id.ts). */
const licenceId = '1.2.156.3005.2.001.91330100716105852F.42.001.D';
const config = { issuerUrl: 'https://id.example', auditHolderCommitmentsSince: undefined };

/**
 * A fresh audit table (of `declaration`, else the default), as an insider finds it: its clock at `start`
 * (moved by `setNow`), the tables the grant guard names, the `licences` function's trail, the chains'
 * store, and what the day's checkpoint and check are signed and run with.
 */
async function auditTableAt(start: string, declaration?: Parameters<typeof dynamo.newTable>[0]) {
  const { doc, tableName } = await dynamo.newTable(declaration);
  let now = Date.parse(start);
  const clock = { now: () => now };
  const auditChains = new DynamoAuditChainStore(doc, tableName);
  const licences = new DynamoAuditTrail(doc, tableName, clock, newWriterId, {
    name: 'licences',
    ...auditWriters.licences,
  });
  return {
    doc,
    tableName,
    clock,
    setNow: (at: string) => {
      now = Date.parse(at);
    },
    tables: { table: 'service', auditTable: tableName, batchTable: 'batches' },
    licences,
    auditChains,
    deps: {
      auditChains,
      auditSigner: new LocalSigner(),
      auditPreviousSigners: [],
      clock,
      iss: 'https://id.example',
    },
    /** The licence's change `version` recorded by the `licences` trail, with its once-mark. */
    recordChange: async (version: number, entry: typeof issued) => {
      const [pending] = pendingAudit(licenceId, version, [entry]);
      await licences.record(pending!.entry, { key: pending!.key, writtenAt: entry.at });
    },
    /** The items stored under the partition key `pk`. */
    itemsOf: async (pk: string) =>
      (
        await doc.send(
          new QueryCommand({
            TableName: tableName,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': pk },
          }),
        )
      ).Items ?? [],
  };
}

/** A licence's issuance at 09:00, as its first change records it. */
const issued = {
  at: '2026-03-01T09:00:00.000Z',
  actor: 'cl_iss',
  action: 'licence.issued',
  licenceId,
  issuerId: 'iss_1',
};

/** A licence's revocation at 10:00, recorded without a once-mark. */
const revokedAtTen = {
  at: '2026-03-01T10:00:00.000Z',
  actor: 'cl_iss',
  action: 'licence.revoked',
  licenceId,
  issuerId: 'iss_1',
};

/**
 * Review R52 (session 26): the audit trail against an insider holding one function's AWS role. Each
 * `it` is an attack the review reproduced, against the same grants the stack deploys (functions/grants.ts,
 * through the local grant guard) and the trail's own DynamoDB adapters.
 */
describe('review R52: the audit trail against an insider', () => {
  it('R52-1: no writer may plant the once-mark of another function’s change (a revocation, an issuer’s key change)', () => {
    const tables = { table: 'service', auditTable: 'audit', batchTable: 'batches' };
    const mayPlant = (name: FunctionName, key: string) =>
      dynamoRefusal(
        functionGrants[name],
        'PutItem',
        { TableName: 'audit', Item: { ...keys.auditOnce(key), expiresAt: 4102444800 } },
        'pk',
        tables,
      ) === undefined;
    // The next revocation of a licence, an issuer's next key change, a closure, a withdrawal of a share.
    const revocation = `${licenceId}#2#0`;
    const issuerChange = 'issuer-changed#iss_1#8';
    const closure = 'account-closed#acc_victim';
    const withdrawal = 'authorization-withdrawn#g_1#p#0';
    const owners: Record<string, FunctionName[]> = {
      // `batches` issues and changes no licence: an issuance's mark alone (review R57 F1, below).
      [revocation]: ['licences', 'pending-work-reconciler'],
      [issuerChange]: ['admin', 'pending-work-reconciler'],
      [closure]: ['accounts', 'pending-work-reconciler'],
      [withdrawal]: ['me', 'pending-work-reconciler'],
    };
    const writers: FunctionName[] = [
      'me',
      'accounts',
      'oidc',
      'admin',
      'licences',
      'batches',
      'verify',
      'console',
      'sms-codes',
      'pending-work-reconciler',
    ];
    for (const [key, own] of Object.entries(owners)) {
      for (const name of writers) expect(mayPlant(name, key), `${name} ${key}`).toBe(own.includes(name));
    }
    // A licence mark is one under the licence id's root: a key of any other shape is no function's but
    // the reconciler's own groups.
    expect(mayPlant('licences', 'lic-a#2#0')).toBe(false);
  });

  it('R52-1: a revocation whose mark `me` tried to plant first still reaches the trail', async () => {
    const { tableName, tables, setNow, recordChange, auditChains } =
      await auditTableAt('2026-03-01T09:00:00Z');
    await recordChange(1, issued);
    // The holder API's role plants the marks of the licence's next changes: refused, as IAM refuses it.
    for (const key of [`${licenceId}#2#0`, `${licenceId}#3#0`, 'issuer-changed#iss_1#8']) {
      const put = { TableName: tableName, Item: { ...keys.auditOnce(key), expiresAt: 4102444800 } };
      for (const name of ['me', 'accounts'] as const) {
        expect(dynamoRefusal(functionGrants[name], 'PutItem', put, 'pk', tables), `${name} ${key}`).toMatch(
          /audit-once#/,
        );
      }
    }
    setNow('2026-03-01T14:00:00Z');
    await recordChange(2, { ...issued, at: '2026-03-01T14:00:00.000Z', action: 'licence.revoked' });
    const page = await auditChains.entries({ from: '2026-03-01', to: '2026-03-01', limit: 100 });
    expect(page.items.map((entry) => entry.action)).toEqual(['licence.issued', 'licence.revoked']);
  });

  it('R52-2: a chain’s registration overwritten by another writer still has the chain signed by the closing checkpoint', async () => {
    const { doc, tableName, tables, setNow, licences, auditChains, deps, itemsOf } =
      await auditTableAt('2026-03-01T10:00:00Z');
    await licences.record(revokedAtTen);
    const registered = await itemsOf('audit-chain#2026-03-01');
    const chain = String(registered[0]!.sk);
    const head = await auditChains.headOf({ chain, shard: Number(registered[0]!.shard) });
    expect(head?.seq).toBe(1);
    // 23:00: the anonymous `verify` function's role overwrites that registration (a plain put, which IAM
    // allows on the registry), naming one of its own shards and another chain.
    const overwrite = {
      TableName: tableName,
      Item: {
        ...keys.auditChainRegistry('2026-03-01', chain),
        chain: '2026-03-01.aaaaaaaaaaaa',
        shard: 0,
        startedAt: '2026-03-01T10:00:00.000Z',
      },
    };
    expect(dynamoRefusal(functionGrants.verify, 'PutItem', overwrite, 'pk', tables)).toBeUndefined();
    setNow('2026-03-01T23:00:00Z');
    await doc.send(new PutCommand(overwrite));
    // The registry answers the chain its key names, in the shard its writer's id names.
    expect(await auditChains.chainsOf('2026-03-01')).toEqual([
      { chain, shard: Number(registered[0]!.shard) },
    ]);
    // 00:15: the day's closing checkpoint signs the licences function's chain, and the day checks intact.
    setNow('2026-03-02T00:15:00Z');
    const closing = await signCheckpoint({}, deps);
    expect(closing.chains).toContainEqual(head);
    setNow('2026-03-02T00:45:00Z');
    const check = await checkAuditChains({ ...deps, config });
    expect(check.faults).toEqual([]);
  });

  it('R52-2: a chain whose last entry holds no valid seq has no head read from it (signed as corrupt since R57 F2)', async () => {
    const { doc, tableName, setNow, licences, auditChains, deps, itemsOf } =
      await auditTableAt('2026-03-01T10:00:00Z');
    await licences.record(revokedAtTen);
    const [{ chain, shard }] = (await auditChains.chainsOf('2026-03-01')) as [
      { chain: string; shard: number },
    ];
    const [entry] = await itemsOf(`audit#2026-03-01#${shard}`);
    const { seq: _seq, ...rewritten } = entry!;
    await doc.send(new PutCommand({ TableName: tableName, Item: rewritten }));
    setNow('2026-03-02T00:15:00Z');
    const signed = await signCheckpoint({}, deps);
    expect(signed.chains).toEqual([{ chain, seq: 0, hash: '0'.repeat(64) }]);
    await expect(auditChains.headOf({ chain, shard })).rejects.toThrow(chain);
  });

  it('R52-3: an entry stripped of its index by kind is a fault of the daily check', async () => {
    const { doc, tableName, clock, tables, setNow, deps, itemsOf } = await auditTableAt(
      '2026-03-01T10:00:00Z',
      auditTable,
    );
    await doc.send(new PutCommand({ TableName: tableName, Item: { ...keys.auditUsageIndex() } }));
    const me = new DynamoAuditTrail(doc, tableName, clock, newWriterId, { name: 'me', ...auditWriters.me });
    await me.record({
      at: '2026-03-01T10:00:00.000Z',
      actor: 'cl_bank',
      action: 'licence.shared',
      licenceId,
      issuerId: 'iss_1',
      holderKey: 'hk-1',
    } as never);
    const usage = new DynamoUsageRecord(doc, tableName);
    const shares = () => usage.forHolders(['hk-1'], { limit: 20, action: 'licence.shared' });
    expect((await shares()).items).toHaveLength(1);
    setNow('2026-03-02T00:15:00Z');
    await signCheckpoint({}, deps);
    setNow('2026-03-02T00:45:00Z');
    expect((await checkAuditChains({ ...deps, config })).faults).toEqual([]);

    // The insider with `me`'s role puts the entry back without its keys of the index by kind (a put in
    // its own shard, which IAM allows): the share is gone from the holder's 授权 tab.
    const [registration] = await itemsOf('audit-chain#2026-03-01');
    const [item] = await itemsOf(`audit#2026-03-01#${Number(registration!.shard)}`);
    const { gsi3pk: _pk, gsi3sk: _sk, ...stripped } = item!;
    const put = { TableName: tableName, Item: stripped };
    expect(dynamoRefusal(functionGrants.me, 'PutItem', put, 'pk', tables)).toBeUndefined();
    await doc.send(new PutCommand(put));
    expect((await shares()).items).toHaveLength(0);

    // The daily check says so: the entry, and which index it is missing from.
    const check = await checkAuditChains({ ...deps, config });
    expect(check.ok).toBe(false);
    expect(check.faults).toEqual([
      {
        chain: String(item!.chain),
        seq: 1,
        problem: expect.stringContaining('not in its holder’s usage record by kind') as unknown as string,
      },
    ]);
  });
});

/**
 * Review R57 (session 26): the once-marks and the chains' registry once more, against the same grants
 * (functions/grants.ts through the local grant guard) and the trail's own DynamoDB adapters.
 */
describe('review R57: the once-marks once more', () => {
  it('F1: `batches` may plant no mark of a licence’s later change, and the revocation reaches the trail', async () => {
    const { tableName, tables, setNow, recordChange, auditChains } =
      await auditTableAt('2026-03-01T09:00:00Z');
    const markOf = (key: string) => ({
      TableName: tableName,
      Item: { ...keys.auditOnce(key), expiresAt: 4102444800 },
    });
    // `batches` issues: the mark of a licence's issuance is its own.
    expect(dynamoRefusal(functionGrants.batches, 'PutItem', markOf(`${licenceId}#1#0`), 'pk', tables)).toBe(
      undefined,
    );
    await recordChange(1, issued);
    // Its role reads the licence's version and plants the mark of the next change: refused, alone and in
    // a transaction.
    for (const key of [`${licenceId}#2#0`, `${licenceId}#3#0`, `${licenceId}#2#1`]) {
      expect(dynamoRefusal(functionGrants.batches, 'PutItem', markOf(key), 'pk', tables), key).toMatch(
        /audit-once#/,
      );
      expect(
        dynamoRefusal(
          functionGrants.batches,
          'TransactWriteItems',
          { TransactItems: [{ Put: markOf(key) }] },
          'pk',
          tables,
        ),
        key,
      ).toMatch(/audit-once#/);
    }
    setNow('2026-03-01T14:00:00Z');
    await recordChange(2, { ...issued, at: '2026-03-01T14:00:00.000Z', action: 'licence.revoked' });
    const page = await auditChains.entries({ from: '2026-03-01', to: '2026-03-01', limit: 100 });
    expect(page.items.map((entry) => entry.action)).toEqual(['licence.issued', 'licence.revoked']);
  });

  it('F2: a writer’s fabricated chain with a corrupt head no longer keeps the day’s other chains unsigned', async () => {
    const { doc, tableName, tables, setNow, licences, auditChains, deps } =
      await auditTableAt('2026-03-01T10:00:00Z');
    await licences.record(revokedAtTen);
    const [real] = (await auditChains.chainsOf('2026-03-01')) as [{ chain: string; shard: number }];
    const realHead = await auditChains.headOf(real);
    // The anonymous `verify` function's role: a writer id of its own shards, registered, one item with no
    // seq or hash; IAM allows both puts.
    let writer = newWriterId();
    const verifyShards: readonly number[] = auditWriters.verify.shards;
    while (!verifyShards.includes(shardOfWriter(writer))) writer = newWriterId();
    const bogus = `2026-03-01.${writer}`;
    const junk = {
      TableName: tableName,
      Item: { ...keys.auditChained('2026-03-01', shardOfWriter(writer), writer, 1), chain: bogus },
    };
    for (const put of [
      { TableName: tableName, Item: { ...keys.auditChainRegistry('2026-03-01', bogus) } },
      junk,
    ]) {
      expect(dynamoRefusal(functionGrants.verify, 'PutItem', put, 'pk', tables)).toBeUndefined();
      await doc.send(new PutCommand(put));
    }
    // 00:15: the closing checkpoint signs the licences function's chain, and the bogus one as corrupt.
    setNow('2026-03-02T00:15:00Z');
    const closing = await signCheckpoint({}, deps);
    expect(closing.chains).toContainEqual(realHead);
    expect(closing.chains).toContainEqual({ chain: bogus, seq: 0, hash: '0'.repeat(64) });
    // The daily check reports it (the rest is intact).
    setNow('2026-03-02T00:45:00Z');
    const check = await checkAuditChains({ ...deps, config });
    expect(check.faults.map((fault) => fault.chain)).toEqual([bogus]);
    // Deleting the junk afterwards does not drop the chain silently: the day was closed with it.
    await doc.send(new DeleteCommand({ TableName: tableName, Key: { pk: junk.Item.pk, sk: junk.Item.sk } }));
    await expect(signCheckpoint({ from: '2026-03-01', to: '2026-03-01' }, deps)).rejects.toMatchObject({
      code: 'audit_day_closed',
    });
    expect((await checkAuditChains({ ...deps, config })).faults).toContainEqual(
      expect.objectContaining({ chain: bogus, problem: expect.stringContaining('signed it as corrupt') }),
    );
  });
});
