import type { DynamoDBRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { auditEntriesOf, copiedAfterMs } from '../../../shared/adapters/dynamo/stream-records.js';

const at = '2026-12-05T08:00:00.000Z';
const seconds = (iso: string) => Math.floor(Date.parse(iso) / 1000);

/** An INSERT record of an audit entry stamped `at`, written at `writtenAt`. */
function insert(writtenAt: string | undefined, pk = 'audit#2026-12-05#3'): DynamoDBRecord {
  return {
    eventName: 'INSERT',
    dynamodb: {
      ...(writtenAt && { ApproximateCreationDateTime: seconds(writtenAt) }),
      Keys: { pk: { S: pk }, sk: { S: 'chain#w#0000000001' } },
      NewImage: {
        pk: { S: pk },
        sk: { S: 'chain#w#0000000001' },
        at: { S: at },
        action: { S: 'licence.verified' },
        actor: { S: 'anonymous' },
        holderKey: { S: 'secret-lookup-key' },
        chain: { S: '2026-12-05.w' },
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

  it('skips copies of history (the move into the audit table): counted once, when first written', () => {
    const late = new Date(Date.parse(at) + copiedAfterMs + 1_000).toISOString();
    const inTime = new Date(Date.parse(at) + copiedAfterMs - 1_000).toISOString();
    expect(auditEntriesOf([insert(late)])).toEqual([]);
    expect(auditEntriesOf([insert(inTime)])).toHaveLength(1);
  });

  it('skips what is not an audit entry insert', () => {
    expect(auditEntriesOf([insert('2026-12-05T08:00:01Z', 'audit-chain#2026-12-05')])).toEqual([]);
    expect(auditEntriesOf([{ ...insert('2026-12-05T08:00:01Z'), eventName: 'MODIFY' }])).toEqual([]);
  });
});
