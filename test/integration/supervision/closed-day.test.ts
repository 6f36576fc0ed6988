import { DeleteCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoAuditChainStore } from '../../../shared/adapters/dynamo/audit-chain-store.js';
import { DynamoAuditTrail, DynamoLicenceAuditPages } from '../../../shared/adapters/dynamo/audit-trail.js';
import { indexKeys, keys } from '../../../shared/adapters/dynamo/keys.js';
import type { AuditEntry } from '../../../shared/audit/audit-trail.js';
import { ConflictError } from '../../../shared/errors.js';
import { checkTrail, link } from '../../../shared/supervision/audit-chain.js';
import { checkAuditChains } from '../../../shared/supervision/audit-chain-check.js';
import { auditCheckpointLogLines, signCheckpoint } from '../../../shared/supervision/checkpoints.js';
import { rejection, useDynamo } from '../../contract/subject.js';
import { licenceAuditEntries } from '../../support/audit-entries.js';
import { LocalSigner } from '../../support/local-signer.js';
import { loggedLines } from '../../support/logged-lines.js';

const dynamo = useDynamo();

/**
 * Security review R24: a day's trail after its closing checkpoint. H1: entries appended to the end of a
 * closed day's chains (back-dated, by whoever can put audit# items and read a head) passed the daily check
 * and `audit:verify`, and a checkpoint signed later blessed them; the writer itself appended an entry
 * stamped before midnight to the ended day's chain. M1: a day covered only by the checkpoint signed 15
 * minutes into it counted as signed, so without the next day's run its later chains could be cut whole.
 */
async function world(start: string) {
  const { doc, tableName } = await dynamo.newTable();
  let now = Date.parse(start);
  const clock = { now: () => now };
  const auditChains = new DynamoAuditChainStore(doc, tableName);
  const deps = {
    auditChains,
    auditSigner: new LocalSigner(),
    auditPreviousSigners: [],
    clock,
    iss: 'https://id.example',
  };
  const config = { issuerUrl: 'https://id.example', auditHolderCommitmentsSince: undefined };
  return {
    doc,
    tableName,
    clock,
    at: (iso: string) => (now = Date.parse(iso)),
    auditChains,
    deps,
    writer: () => new DynamoAuditTrail(doc, tableName, clock),
    check: () => checkAuditChains({ ...deps, config }),
  };
}

const issued = (at: string, licenceId: string): AuditEntry => ({
  at,
  actor: 'cl_iss',
  action: 'licence.issued',
  licenceId,
  issuerId: 'iss_1',
});

/** The items of a day's chain partitions, in key order (one writer: one shard). */
async function dayItems(doc: DynamoDBDocumentClient, tableName: string, day: string) {
  const { Items: registered = [] } = await doc.send(
    new QueryCommand({
      TableName: tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': `audit-chain#${day}` },
    }),
  );
  const shard = Number(registered[0]!.shard);
  const { Items = [] } = await doc.send(
    new QueryCommand({
      TableName: tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': `audit#${day}#${shard}` },
    }),
  );
  return { chain: String(registered[0]!.chain), shard, items: Items };
}

describe('a closed day: entries appended to its chains after the closing checkpoint (R24 H1)', () => {
  it('are named by the daily check, and a checkpoint of the day signed later refuses them', async () => {
    const w = await world('2026-03-01T10:00:00Z');
    const writer = w.writer();
    await writer.record(issued('2026-03-01T10:00:00.000Z', 'lic-a'));
    await writer.record(issued('2026-03-01T11:00:00.000Z', 'lic-b'));
    // 00:15: the daily checkpoint closes 03-01 (and covers 03-02). 00:45: the daily check.
    w.at('2026-03-02T00:15:00Z');
    const closing = await signCheckpoint({}, w.deps);
    w.at('2026-03-02T00:45:00Z');
    expect(await w.check()).toMatchObject({ ok: true, entries: 2, faults: [] });

    // 00:50: a back-dated revocation appended to the closed day's chain, linked to its head.
    const { chain, shard } = await dayItems(w.doc, w.tableName, '2026-03-01');
    const head = (await w.auditChains.headOf({ chain, shard }))!;
    expect(head.seq).toBe(2);
    const forged = link(
      { ...issued('2026-03-01T12:00:00.000Z', 'lic-a'), action: 'licence.revoked' },
      chain,
      head,
    );
    await w.doc.send(
      new PutCommand({
        TableName: w.tableName,
        Item: {
          ...keys.auditChained('2026-03-01', shard, chain.slice(11), forged.seq),
          // Filed on the licence's list at its own place, as the writer files one (else the daily check
          // also names it off its list).
          gsi1pk: indexKeys.auditLicence('lic-a'),
          gsi1sk: indexKeys.auditChainedPosition(forged.at, chain.slice(11), forged.seq),
          ...forged,
        },
      }),
    );
    const after = await w.check();
    expect(after.ok).toBe(false);
    expect(after.entries).toBe(3);
    expect(after.faults).toEqual([
      { chain, seq: 3, problem: expect.stringContaining("appended after the day's closing checkpoint") },
    ]);
    expect(closing.chains).toEqual([head]);

    // A supervisor's `audit:verify --checkpoint --from 03-01 --to 03-01`, days later: not signed again
    // (which would sign the forged head), 409 naming the chain, logged; nothing stored.
    w.at('2026-03-04T09:00:00Z');
    let refused: unknown;
    const lines = await loggedLines(async () => {
      refused = await rejection(signCheckpoint({ from: '2026-03-01', to: '2026-03-01' }, w.deps));
    });
    expect(lines.map((line) => JSON.parse(line) as Record<string, unknown>)).toEqual([
      expect.objectContaining({ message: auditCheckpointLogLines.refused, day: '2026-03-01', chain }),
    ]);
    expect(refused).toBeInstanceOf(ConflictError);
    expect(refused).toMatchObject({ code: 'audit_day_closed', message: expect.stringContaining(chain) });
    expect((await w.auditChains.checkpoints(10)).items).toHaveLength(1);
    // …and the check of the day still names the entry.
    expect(
      (
        await checkAuditChains(
          { ...w.deps, config: { issuerUrl: 'https://id.example', auditHolderCommitmentsSince: undefined } },
          { from: '2026-03-01', to: '2026-03-01' },
        )
      ).faults,
    ).toEqual([
      expect.objectContaining({ chain, seq: 3, problem: expect.stringContaining('appended after') }),
    ]);
  });

  it('never come from the writer: an entry stamped before midnight and written after goes on a chain of the day written', async () => {
    const w = await world('2026-03-01T23:59:00Z');
    const writer = w.writer();
    await writer.record({
      at: '2026-03-01T23:59:00.000Z',
      actor: 'cl',
      action: 'licence.verified',
      licenceId: 'lic-a',
      verdict: 'valid',
    });
    // An on-demand checkpoint at 00:06, closing 03-01; then an entry whose `at` was taken before midnight.
    w.at('2026-03-02T00:06:00Z');
    const closing = await signCheckpoint({}, w.deps);
    const late = {
      at: '2026-03-01T23:59:59.990Z',
      actor: 'cl',
      action: 'licence.verified',
      licenceId: 'lic-a',
      verdict: 'valid',
    } as const;
    await writer.record(late);

    const { items } = await w.auditChains.entries({ from: '2026-03-01', to: '2026-03-02', limit: 100 });
    expect(items.map(({ chain, seq, at }) => ({ day: chain!.slice(0, 10), seq, at }))).toEqual([
      { day: '2026-03-01', seq: 1, at: '2026-03-01T23:59:00.000Z' },
      { day: '2026-03-02', seq: 1, at: late.at },
    ]);
    expect(closing.chains).toEqual([expect.objectContaining({ chain: items[0]!.chain, seq: 1 })]);
    // The licence's story still lists it, by its time; and the days verify against the closing checkpoint.
    const story = await licenceAuditEntries(new DynamoLicenceAuditPages(w.doc, w.tableName), 'lic-a');
    expect(story.map((entry) => entry.at)).toEqual(['2026-03-01T23:59:00.000Z', late.at]);
    const signed = [
      { iat: Date.parse(closing.at) / 1000, days: ['2026-03-01', '2026-03-02'], chains: closing.chains },
    ];
    expect(checkTrail(items, closing.chains, undefined, { closing: signed }).faults).toEqual([]);
  });
});

describe('a day whose closing checkpoint was never signed (R24 M1)', () => {
  it('is a fault of the daily check, even when only its unsigned tail was cut', async () => {
    // 03-01 00:15: the daily checkpoint signs 02-28 and 03-01 (nothing of 03-01 yet).
    const w = await world('2026-03-01T00:15:00Z');
    await signCheckpoint({}, w.deps);
    const writer = w.writer();
    w.at('2026-03-01T10:00:00Z');
    await writer.record(issued('2026-03-01T10:00:00.000Z', 'lic-a'));
    w.at('2026-03-01T11:00:00Z');
    await writer.record({ ...issued('2026-03-01T11:00:00.000Z', 'lic-a'), action: 'licence.revoked' });
    // 03-02 00:15: the scheduled checkpoint does not run. 00:40: the revocation (the chain's tail) deleted.
    const { items } = await dayItems(w.doc, w.tableName, '2026-03-01');
    await w.doc.send(
      new DeleteCommand({ TableName: w.tableName, Key: { pk: items.at(-1)!.pk, sk: items.at(-1)!.sk } }),
    );
    w.at('2026-03-02T00:45:00Z');
    const result = await w.check();
    expect(result.ok).toBe(false);
    expect(result.faults).toEqual([
      expect.objectContaining({
        chain: '-',
        problem: expect.stringContaining('no closing checkpoint for 2026-03-01'),
      }),
    ]);
    // Signed late, the day is closed: the check passes (the cut tail was never signed; the alarm on the
    // missing checkpoint is what caught the gap, docs/operating.md).
    await signCheckpoint({}, w.deps);
    w.at('2026-03-02T00:50:00Z');
    expect(await w.check()).toMatchObject({ ok: true, faults: [] });
  });
});
