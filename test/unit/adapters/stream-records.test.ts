import type { DynamoDBRecord } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { auditEntriesOf } from '../../../shared/adapters/dynamo/stream-records.js';
import { logger } from '../../../shared/logger.js';

const at = '2026-12-05T08:00:00.000Z';
const seconds = (iso: string) => Math.floor(Date.parse(iso) / 1000);

/** An INSERT record of an audit entry stamped `at`, written at `writtenAt`. */
function insert(
  writtenAt: string | undefined,
  pk = 'audit#2026-12-05#3',
  entry: { at?: string; chain?: string | null } = {},
): DynamoDBRecord {
  return {
    eventName: 'INSERT',
    dynamodb: {
      ...(writtenAt && { ApproximateCreationDateTime: seconds(writtenAt) }),
      Keys: { pk: { S: pk }, sk: { S: 'chain#w#0000000001' } },
      NewImage: {
        pk: { S: pk },
        sk: { S: 'chain#w#0000000001' },
        at: { S: entry.at ?? at },
        action: { S: 'licence.verified' },
        actor: { S: 'anonymous' },
        holderKey: { S: 'secret-lookup-key' },
        ...(entry.chain !== null && { chain: { S: entry.chain ?? '2026-12-05.w' } }),
      },
      StreamViewType: 'NEW_IMAGE',
    },
  };
}

describe('the audit entries of a stream batch (supervision-events)', () => {
  it('keeps the entries written as they happened, without keys, chain fields or the holder', () => {
    expect(auditEntriesOf([insert('2026-12-05T08:00:01Z'), insert(undefined)])).toEqual([
      { at, action: 'licence.verified', actor: 'anonymous' },
      { at, action: 'licence.verified', actor: 'anonymous' },
    ]);
  });

  it('skips nothing by the lateness of an insert: a back-dated entry is counted (security review L1)', () => {
    // A writer that stamps its entry 61 minutes back (or any time back) must not hide it from the
    // statistics and the alerts.
    const late = new Date(Date.parse(at) + 61 * 60_000).toISOString();
    const days = new Date(Date.parse(at) + 3 * 86_400_000).toISOString();
    expect(auditEntriesOf([insert(late), insert(days)])).toHaveLength(2);
  });

  describe('while the operator moves the audit trail (SUPERVISION_HISTORY_BEFORE)', () => {
    const historyBefore = '2026-12-06T09:30:00.000Z';
    const warn = vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
    afterEach(() => warn.mockClear());
    const oldChain = '2026-12-05.abcdefghijkl';
    // The move under way: an hour after the cut-over.
    const now = Date.parse(historyBefore) + 3_600_000;

    it('skips entries dated and chained before the cut-over, and logs how many, nothing personal', () => {
      const copies = [
        insert(undefined, 'audit#2026-12-05#3', { chain: oldChain }),
        // Written before chains: no chain of its own, its `at` alone places it.
        insert(undefined, 'audit#2026-12-05#3', { chain: null }),
      ];
      const live = insert(undefined, 'audit#2026-12-06#3', {
        at: '2026-12-06T09:30:00.000Z',
        chain: '2026-12-06.abcdefghijkl',
      });
      expect(auditEntriesOf([...copies, live], { historyBefore, now })).toEqual([
        { at: '2026-12-06T09:30:00.000Z', action: 'licence.verified', actor: 'anonymous' },
      ]);
      expect(warn).toHaveBeenCalledTimes(1);
      expect(warn.mock.calls[0]![1]).toEqual({ skipped: 2, historyBefore });
      expect(JSON.stringify(warn.mock.calls)).not.toContain('secret-lookup-key');
    });

    it('counts an entry back-dated onto a chain of the cut-over day or later, or on no recognisable chain', () => {
      const backDated = insert(undefined, 'audit#2026-12-06#3', {
        at: '2026-12-05T08:00:00.000Z',
        chain: '2026-12-07.abcdefghijkl',
      });
      const odd = insert(undefined, 'audit#2026-12-05#3', { chain: 'not-a-chain' });
      expect(auditEntriesOf([backDated, odd], { historyBefore, now })).toHaveLength(2);
      expect(warn).not.toHaveBeenCalled();
    });

    it('ignores the cut-over once it is more than 7 days old, or not yet reached, and warns per batch (security review L6)', () => {
      const copy = insert(undefined, 'audit#2026-12-05#3', { chain: oldChain });
      const lastDay = Date.parse(historyBefore) + 7 * 86_400_000;
      expect(auditEntriesOf([copy], { historyBefore, now: lastDay })).toEqual([]);
      warn.mockClear();
      for (const now of [lastDay + 1, Date.parse(historyBefore) - 1]) {
        expect(auditEntriesOf([copy], { historyBefore, now }), new Date(now).toISOString()).toEqual([
          { at, action: 'licence.verified', actor: 'anonymous' },
        ]);
        expect(auditEntriesOf([], { historyBefore, now })).toEqual([]);
      }
      expect(warn).toHaveBeenCalledTimes(4);
      expect(warn.mock.calls.map((call) => call[0])).toEqual(
        Array(4).fill('supervision: SUPERVISION_HISTORY_BEFORE ignored: remove it from the deployment'),
      );
      expect(warn.mock.calls.map((call) => (call[1] as { reason: string }).reason)).toEqual([
        'older than 7 days',
        'older than 7 days',
        'in the future',
        'in the future',
      ]);
    });
  });

  it('skips what is not an audit entry insert', () => {
    expect(auditEntriesOf([insert('2026-12-05T08:00:01Z', 'audit-chain#2026-12-05')])).toEqual([]);
    expect(auditEntriesOf([{ ...insert('2026-12-05T08:00:01Z'), eventName: 'MODIFY' }])).toEqual([]);
  });
});
