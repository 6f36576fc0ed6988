import { randomUUID } from 'node:crypto';
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  ScanCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runBackfill } from '../../../scripts/backfill-usage-index.js';
import { DynamoAuditTrail, entryOf } from '../../../shared/adapters/dynamo/audit-trail.js';
import { indexKeys, keys } from '../../../shared/adapters/dynamo/keys.js';
import { auditTable } from '../../../shared/adapters/dynamo/table.js';
import { DynamoUsageRecord } from '../../../shared/adapters/dynamo/usage-record.js';
import type { AuditEntry } from '../../../shared/audit/audit-trail.js';
import type { UsagePageRequest } from '../../../shared/licence/usage-record.js';
import { checkTrail, holderAttribution } from '../../../shared/supervision/audit-chain.js';
import { startTestDynamo, type TestDynamo } from '../../support/dynamo-table.js';

/**
 * A stack deployed before gsi3 (the usage record by kind) holds usage entries without their gsi3 key: the
 * backfill (scripts/backfill-usage-index.ts) gives them theirs and leaves the mark; until then a page of one
 * kind reads gsi2, filtered and bounded, and is still correct by its cursors. Nothing the chains hash
 * changes.
 */
describe('backfilling the usage record’s index by kind (scripts/backfill-usage-index.ts)', () => {
  let dynamo: TestDynamo;
  let doc: DynamoDBDocumentClient;
  let tableName: string;
  const [person, other] = [`hk-person-${randomUUID()}`, `hk-other-${randomUUID()}`];
  const at = (second: number) => new Date(Date.UTC(2026, 11, 5, 8, 0, second)).toISOString();
  const entry = (second: number, holderKey: string | undefined, action = 'licence.verified'): AuditEntry => ({
    at: at(second),
    actor: 'anonymous',
    action,
    licenceId: `lic-${second}`,
    licenceType: 'driving-licence',
    ...(holderKey ? { holderKey } : {}),
  });
  const share = { ...entry(1, person, 'licence.shared'), actor: 'cl_platform', purpose: '办理车辆登记' };
  /** An entry written before chains (no chain fields, its own key), still in the holder's record. */
  const oldAt = '2026-12-01T08:00:00.000Z';
  const unchained = {
    ...keys.audit(oldAt, 3, 'audit_old'),
    gsi2pk: indexKeys.auditHolder(person),
    gsi2sk: `${oldAt}#audit_old`,
    ...entry(0, person, 'licence.shared'),
    at: oldAt,
  };
  const scan = async () =>
    ((await doc.send(new ScanCommand({ TableName: tableName, ConsistentRead: true }))).Items ?? []).filter(
      (item) => String(item.pk).startsWith('audit#'),
    );
  /** Every entry of one kind, following the cursors; how many pages it took. */
  const allOf = async (usage: DynamoUsageRecord, request: Omit<UsagePageRequest, 'cursor'>) => {
    const seen: AuditEntry[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await usage.forHolders([person], { ...request, ...(cursor ? { cursor } : {}) });
      seen.push(...page.items);
      cursor = page.cursor;
      pages += 1;
    } while (cursor && pages < 50);
    return { seen, pages };
  };
  /** The backfill as the operator runs it, its printed lines kept. */
  const backfill = async () => {
    const printed: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((line: string) => void printed.push(line));
    const error = vi.spyOn(console, 'error').mockImplementation((line: string) => void printed.push(line));
    // As from an operator's shell: the SDK reads its credentials from the process environment.
    for (const [name, value] of Object.entries({
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AUDIT_TABLE_NAME: tableName,
    }))
      vi.stubEnv(name, value);
    try {
      const code = await runBackfill([], process.env);
      return { code, printed: printed.join('\n') };
    } finally {
      vi.unstubAllEnvs();
      log.mockRestore();
      error.mockRestore();
    }
  };
  let before: Array<Record<string, unknown>>;

  beforeAll(async () => {
    dynamo = await startTestDynamo();
    ({ doc, tableName } = await dynamo.newTable(auditTable));
    const trail = new DynamoAuditTrail(doc, tableName);
    await doc.send(new PutCommand({ TableName: tableName, Item: unchained }));
    await trail.record(share);
    // A flood of verifications newer than the shares, more than one bounded page reads (below: 2 × 5).
    for (let second = 2; second < 40; second++) await trail.record(entry(second, person));
    await trail.record(entry(40, person, 'licence.presented'));
    await trail.record({ ...entry(41, other, 'licence.shared'), actor: 'cl_platform' });
    await trail.record(entry(42, undefined));
    // As an older version wrote them: no gsi3 key.
    for (const item of await scan()) {
      await doc.send(
        new UpdateCommand({
          TableName: tableName,
          Key: { pk: item.pk, sk: item.sk },
          UpdateExpression: 'REMOVE gsi3pk, gsi3sk',
        }),
      );
    }
    before = await scan();
    expect(before.some((item) => 'gsi3pk' in item)).toBe(false);
  });
  afterAll(async () => {
    await dynamo?.close();
  });

  it('before it, a page of one kind reads gsi2 (bounded), and its cursors still answer every entry once', async () => {
    const usage = new DynamoUsageRecord(doc, tableName, { itemsPerRead: 5, readsPerPage: 2 });
    const first = await usage.forHolders([person], { limit: 5, action: 'licence.shared' });
    expect(first.items).toEqual([]);
    expect(first.cursor).toBeDefined();
    const { seen, pages } = await allOf(usage, { limit: 5, action: 'licence.shared' });
    expect(seen.map((one) => one.at)).toEqual([at(1), oldAt]);
    expect(pages).toBeGreaterThan(1);
  });

  it('leaves entries it cannot file alone, by their table key only, and no mark', async () => {
    const odd = {
      ...keys.audit(at(50), 5, 'audit_odd'),
      ...entry(50, person),
      gsi2pk: 'elsewhere#x',
      gsi2sk: 'x',
    };
    await doc.send(new PutCommand({ TableName: tableName, Item: odd }));
    const { code, printed } = await backfill();
    expect(code).toBe(1);
    const answer = JSON.parse(printed) as { conflicts: unknown[]; complete: boolean };
    expect(answer.conflicts).toEqual([{ pk: odd.pk, sk: odd.sk }]);
    expect(answer.complete).toBe(false);
    const mark = await doc.send(new GetCommand({ TableName: tableName, Key: keys.auditUsageIndex() }));
    expect(mark.Item).toBeUndefined();
    await doc.send(new DeleteCommand({ TableName: tableName, Key: { pk: odd.pk, sk: odd.sk } }));
    // Put back as before this run: the entries it did index lose their key again.
    for (const item of before) await doc.send(new PutCommand({ TableName: tableName, Item: item }));
  });

  it('indexes every usage entry, prints counts and no lookup key, leaves the mark, changes nothing hashed', async () => {
    const { code, printed } = await backfill();
    expect(code, printed).toBe(0);
    const usageEntries = before.filter((item) => item.gsi2pk !== undefined).length;
    expect(JSON.parse(printed)).toEqual({
      table: tableName,
      found: usageEntries,
      indexed: usageEntries,
      present: 0,
      conflicts: [],
      complete: true,
    });
    expect(printed).not.toContain('hk-');
    const mark = await doc.send(new GetCommand({ TableName: tableName, Key: keys.auditUsageIndex() }));
    expect(mark.Item).toMatchObject({ completedAt: expect.any(String) });

    const after = await scan();
    expect(after).toHaveLength(before.length);
    for (const item of after) {
      const { gsi3pk, gsi3sk, ...rest } = item;
      const old = before.find((one) => one.pk === item.pk && one.sk === item.sk)!;
      // Only the two index attributes are added, as the writer sets them now.
      expect(rest).toEqual(old);
      if (item.gsi2pk === undefined) expect(gsi3pk).toBeUndefined();
      else {
        expect(gsi3pk).toBe(indexKeys.auditHolderAction(String(item.holderKey), String(item.action)));
        expect(gsi3sk).toBe(item.gsi2sk);
      }
      // The entry as read back (and hashed) is the same, and its holder still proves itself.
      expect(entryOf(item)).toEqual(entryOf(old));
      expect(holderAttribution(entryOf(item))).not.toBe('mismatch');
    }
    // Every chain still verifies: the index keys are no part of what its hashes cover.
    const trail = checkTrail(after.map(entryOf));
    expect(trail.faults).toEqual([]);
    expect(trail.unchained).toBe(1);

    // A page of one kind is now exact: both shares on the first page, however many verifications are newer.
    const usage = new DynamoUsageRecord(doc, tableName, { itemsPerRead: 5, readsPerPage: 2 });
    const page = await usage.forHolders([person], { limit: 5, action: 'licence.shared' });
    expect(page.items.map((one) => [one.at, one.action])).toEqual([
      [at(1), 'licence.shared'],
      [oldAt, 'licence.shared'],
    ]);
    expect(page.cursor).toBeUndefined();
    expect((await allOf(usage, { limit: 7, action: 'licence.verified' })).seen).toHaveLength(38);
  });

  it('a second run finds nothing left to do and says so', async () => {
    const { code, printed } = await backfill();
    expect(code).toBe(0);
    expect(JSON.parse(printed)).toMatchObject({
      found: 0,
      indexed: 0,
      present: 0,
      conflicts: [],
      complete: true,
    });
  });

  it('an entry filed in gsi3 under another holder than it stores reads back as a mismatch', async () => {
    // A chained entry (committed to its holder), not the unchained one from before chains, whichever the
    // scan's order (random keys) puts first.
    const item = (await scan()).find(
      (one) =>
        one.action === 'licence.shared' && one.holderKey === person && one.holderCommitment !== undefined,
    )!;
    await doc.send(
      new PutCommand({
        TableName: tableName,
        Item: { ...item, gsi3pk: indexKeys.auditHolderAction(other, 'licence.shared') },
      }),
    );
    const usage = new DynamoUsageRecord(doc, tableName);
    const page = await usage.forHolders([other], { limit: 5, action: 'licence.shared' });
    const moved = page.items.find((one) => one.at === item.at)!;
    expect(moved.holderKey).toBe(other);
    expect(holderAttribution(moved)).toBe('mismatch');
    // Its own holder's record by kind no longer has it; the whole record (gsi2) still files it as stored.
    const own = await usage.forHolders([person], { limit: 5, action: 'licence.shared' });
    expect(own.items.map((one) => one.at)).not.toContain(item.at);
    await doc.send(new PutCommand({ TableName: tableName, Item: item }));
  });

  it('refuses a configuration the service would refuse, exit 2', async () => {
    const printed: string[] = [];
    const error = vi.spyOn(console, 'error').mockImplementation((line: string) => void printed.push(line));
    try {
      expect(await runBackfill(['--bogus'], {})).toBe(2);
      expect(await runBackfill([], { TABLE_NAME: 'same', AUDIT_TABLE_NAME: 'same' })).toBe(2);
    } finally {
      error.mockRestore();
    }
    expect(printed.join('\n')).toMatch(/backfill-usage-index: .*bogus/);
  });
});
