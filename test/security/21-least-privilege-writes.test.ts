import { describe, expect, it } from 'vitest';
import { functionGrants, type FunctionGrants, type TableGrant } from '../../functions/grants.js';
import { functionNames, type FunctionName } from '../../functions/routes.js';
import { dynamoRefusal, stringLike } from '../../infra/local/grant-guard.js';
import { oidcItemKey } from '../../shared/adapters/dynamo/oidc-adapter.js';
import { projectionOf } from '../../shared/adapters/dynamo/projections.js';
import { DynamoAuditTrail } from '../../shared/adapters/dynamo/audit-trail.js';
import {
  AuditActionRefusedError,
  auditShards,
  auditWriters,
  misattributedEntries,
  shardOfWriter,
  writerOfShard,
  writesAction,
  type AuditWriterName,
} from '../../shared/audit/audit-writers.js';

/**
 * Review R31 (least privilege). IAM has no action of its own for a BatchWriteItem's delete requests and
 * another for its puts: a role granted BatchWriteItem on a partition may do both there. And it bounds a
 * writer by the partition key alone, never by what the item says.
 *
 * H1: `me` and `accounts` held BatchWriteItem on the access tokens' partitions to delete a grant's tokens,
 * so a foothold in either could store a forged access token (the console's client, `licences:issue`, a
 * clerk's account) that the resource servers accept. M1: `verify` and `licences` held it on the audit
 * trail's day partitions for group commits, so they could delete entries (today's chain's tail, before its
 * checkpoint); and every writer could put an entry of any action (the anonymous `verify` a
 * `licence.revoked`). L3: `supervision` and `wallet` could read every attribute of gsi1 (licences by
 * holder, passkeys) though they need counters and alerts, or a person's level.
 */

const tables = { table: 'svc', auditTable: 'audit', batchTable: 'batch' };

/** Whether `patterns` grant the partitions `pattern` names (each matched literally, as a key would be). */
const covers = (patterns: readonly string[] | undefined, pattern: string) =>
  (patterns ?? []).some((granted) => stringLike(granted, pattern));

const tablesOf = (grants: FunctionGrants): Array<[string, TableGrant | undefined]> => [
  ['table', grants.table],
  ['auditTable', grants.auditTable],
  ['batchTable', grants.batchTable],
];

describe('BatchWriteItem only where a role may both put and delete (R31 H1, M1)', () => {
  it('grants no function BatchWriteItem on a partition where it lacks PutItem or DeleteItem', () => {
    const beyond: string[] = [];
    for (const name of functionNames) {
      for (const [table, grant] of tablesOf(functionGrants[name])) {
        for (const pattern of grant?.items.BatchWriteItem ?? []) {
          if (!covers(grant!.items.PutItem, pattern) || !covers(grant!.items.DeleteItem, pattern)) {
            beyond.push(`${name} ${table} ${pattern}`);
          }
        }
      }
    }
    expect(beyond).toEqual([]);
  });

  const token = 'attacker-chosen-token-value-0123456789abcdef';
  const forged = {
    ...oidcItemKey('AccessToken', token),
    model: 'AccessToken',
    payload: {
      kind: 'AccessToken',
      clientId: 'elicence-console',
      accountId: 'acc_victim_clerk',
      scope: 'openid entity licences:issue',
      exp: 4_102_444_800,
    },
  };

  for (const name of ['me', 'accounts'] as const) {
    it(`${name} cannot store an access token, by PutItem or in a BatchWriteItem, yet deletes a grant's tokens`, () => {
      const grants = functionGrants[name];
      const batch = { RequestItems: { svc: [{ PutRequest: { Item: forged } }] } };
      expect(dynamoRefusal(grants, 'BatchWriteItem', batch, 'pk', tables)).toBeDefined();
      expect(
        dynamoRefusal(grants, 'PutItem', { TableName: 'svc', Item: forged }, 'pk', tables),
      ).toBeDefined();
      for (const model of ['Bearer', 'AccessToken', 'RefreshToken', 'AuthorizationCode']) {
        const Key = oidcItemKey(model, 'x');
        expect(
          dynamoRefusal(grants, 'DeleteItem', { TableName: 'svc', Key }, 'pk', tables),
          model,
        ).toBeUndefined();
      }
    });
  }

  for (const name of ['verify', 'licences'] as const) {
    it(`${name} cannot delete an audit entry, in a BatchWriteItem or otherwise`, () => {
      const Key = { pk: 'audit#2026-12-07#3', sk: 'chain#abcdefghijkl#0000000042' };
      const batch = { RequestItems: { audit: [{ DeleteRequest: { Key } }] } };
      expect(dynamoRefusal(functionGrants[name], 'BatchWriteItem', batch, 'pk', tables)).toBeDefined();
      expect(
        dynamoRefusal(functionGrants[name], 'DeleteItem', { TableName: 'audit', Key }, 'pk', tables),
      ).toBeDefined();
    });
  }
});

describe('each audit writer in its own shards, held to its own actions (R31 M1)', () => {
  const put = (shard: number) => ({
    TableName: 'audit',
    Item: { pk: `audit#2026-12-09#${shard}`, sk: 'chain#aaaaaaaaaaaa#0000000001', action: 'licence.revoked' },
    ConditionExpression: 'attribute_not_exists(pk)',
  });
  const shardsPut = (name: FunctionName) =>
    Array.from({ length: auditShards }, (_, shard) => shard).filter(
      (shard) => dynamoRefusal(functionGrants[name], 'PutItem', put(shard), 'pk', tables) === undefined,
    );

  it('lets each function put chained entries in its own shards alone, and no two functions share one', () => {
    const writers = functionNames.filter((name) => shardsPut(name).length > 0);
    expect(writers.sort()).toEqual((Object.keys(auditWriters) as AuditWriterName[]).sort());
    for (const name of Object.keys(auditWriters) as AuditWriterName[]) {
      expect(shardsPut(name), name).toEqual([...auditWriters[name].shards]);
    }
    const all = Object.values(auditWriters).flatMap((writer) => [...writer.shards]);
    expect(new Set(all).size).toBe(all.length);
  });

  it('has each function’s trail write in its own shards, and refuse an action the function never writes', async () => {
    const sent: Array<{ input: Record<string, unknown> }> = [];
    const doc = { send: async (command: { input: Record<string, unknown> }) => (sent.push(command), {}) };
    const trail = new DynamoAuditTrail(
      doc as never,
      'audit',
      { now: () => Date.UTC(2026, 11, 9) },
      undefined,
      {
        name: 'verify',
        ...auditWriters.verify,
      },
    );
    const entry = { at: '2026-12-09T08:00:00.000Z', actor: 'anonymous', licenceId: 'lic_1' };
    await trail.record({ ...entry, action: 'licence.verified' });
    const entryPut = sent
      .map((c) => c.input.Item as { pk: string } | undefined)
      .find((item) => item?.pk.startsWith('audit#'));
    expect(auditWriters.verify.shards).toContain(Number(entryPut!.pk.split('#')[2]));
    await expect(trail.record({ ...entry, action: 'licence.revoked' })).rejects.toThrow(
      AuditActionRefusedError,
    );
  });

  it('has the operator’s trail (no writer) put each entry in the shards of a writer of its action', async () => {
    const sent: Array<{ input: Record<string, unknown> }> = [];
    const doc = { send: async (command: { input: Record<string, unknown> }) => (sent.push(command), {}) };
    const trail = new DynamoAuditTrail(doc as never, 'audit', { now: () => Date.UTC(2026, 11, 9) });
    const at = '2026-12-09T08:00:00.000Z';
    await trail.record({ at, actor: 'iss_1', action: 'licence.issued', licenceId: 'lic_1' });
    await trail.record({ at, actor: 'acc_1', action: 'passkey.enrolled' });
    const shards = sent
      .map((c) => c.input.Item as { pk: string; chain?: string } | undefined)
      .filter((item) => item?.pk.startsWith('audit#'))
      .map((item) => Number(item!.pk.split('#')[2]));
    expect(shards).toHaveLength(2);
    for (const [i, action] of ['licence.issued', 'passkey.enrolled'].entries()) {
      const writer = writerOfShard(shards[i]!);
      expect(writer && writesAction(auditWriters[writer], action), action).toBe(true);
    }
  });

  /** A writer id whose chains go in `shard`. */
  const writerIn = (shard: number) => {
    for (let i = 0; ; i += 1) {
      const writer = `aaaa${i.toString(32).padStart(8, 'a')}`.replace(/[01]/g, 'b').slice(-12);
      if (/^[a-z2-7]{12}$/.test(writer) && shardOfWriter(writer) === shard) return writer;
    }
  };

  it('flags an entry whose action its chain’s writer never writes: verify’s licence.revoked', () => {
    const verifyChain = `2026-12-09.${writerIn(auditWriters.verify.shards[0])}`;
    const licencesChain = `2026-12-09.${writerIn(auditWriters.licences.shards[0])}`;
    const entries = [
      { chain: verifyChain, seq: 1, action: 'licence.verified' },
      { chain: verifyChain, seq: 2, action: 'licence.revoked' },
      { chain: licencesChain, seq: 1, action: 'licence.revoked' },
    ];
    expect(misattributedEntries(entries, { since: '2026-12-08' })).toEqual([
      expect.objectContaining({
        chain: verifyChain,
        seq: 2,
        problem: expect.stringContaining('licence.revoked'),
      }),
    ]);
    // Chains of days before attribution began are not held to it (their shard was any writer's).
    expect(misattributedEntries(entries, { since: '2026-12-10' })).toEqual([]);
  });

  it('flags an entry read from a partition other than its chain’s shard, whatever its day', () => {
    const chain = `2026-11-01.${writerIn(auditWriters.admin.shards[0])}`;
    const entry = { chain, seq: 1, action: 'issuer.created' };
    expect(misattributedEntries([entry], { shards: [auditWriters.admin.shards[0]] })).toEqual([]);
    expect(misattributedEntries([entry], { shards: [auditWriters.verify.shards[0]] })).toEqual([
      expect.objectContaining({ chain, seq: 1 }),
    ]);
  });
});

describe('supervision and the wallet read gsi1 for what they need alone (R31 L3)', () => {
  const query = (attributes: string[]) => ({
    TableName: 'svc',
    IndexName: 'gsi1',
    KeyConditionExpression: 'gsi1pk = :pk',
    ExpressionAttributeValues: { ':pk': 'x' },
    Select: 'SPECIFIC_ATTRIBUTES',
    ProjectionExpression: attributes.join(', '),
  });
  for (const name of ['supervision', 'wallet'] as const) {
    it(`${name} cannot read a licence’s holder or a passkey through gsi1`, () => {
      for (const attribute of ['holder', 'credential', 'payload', 'publicKey']) {
        expect(
          dynamoRefusal(functionGrants[name], 'Query', query(['pk', attribute]), 'pk', tables),
          attribute,
        ).toBeDefined();
      }
      // Nor every attribute, by naming none.
      const all = { ...query([]), Select: undefined, ProjectionExpression: undefined };
      expect(dynamoRefusal(functionGrants[name], 'Query', all, 'pk', tables)).toBeDefined();
    });
  }
  it('leaves them what they read: the counters and alerts as listed, a person by id', () => {
    const asked = (projection: Parameters<typeof projectionOf>[0], names: Record<string, string> = {}) => ({
      ...query([]),
      ...projectionOf(projection, names),
    });
    for (const projection of ['statisticsCounters', 'alerts'] as const) {
      expect(
        dynamoRefusal(functionGrants.supervision, 'Query', asked(projection), 'pk', tables),
      ).toBeUndefined();
    }
    const byRule = { ...asked('alerts', { '#rule': 'rule' }), FilterExpression: '#rule = :rule' };
    expect(dynamoRefusal(functionGrants.supervision, 'Query', byRule, 'pk', tables)).toBeUndefined();
    expect(dynamoRefusal(functionGrants.wallet, 'Query', asked('accountById'), 'pk', tables)).toBeUndefined();
  });
});
