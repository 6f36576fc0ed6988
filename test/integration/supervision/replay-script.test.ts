import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { failureRecordsOf, runReplay } from '../../../scripts/replay-supervision-failures.js';
import { auditTable } from '../../../shared/adapters/dynamo/table.js';
import { startTestDynamo, type TestDynamo } from '../../support/dynamo-table.js';

/**
 * The replay as docs/operating.md "Replaying supervision batches" runs it, on what the AWS CLI prints
 * (R49 F2): an on-failure record sits in an SQS message's `Body` as a JSON string, so the answer of
 * `aws sqs receive-message --output json` holds each record as a string inside `Messages[]`, and
 * `--query 'Messages[].Body'` gives an array of strings. Both must replay, not be refused.
 */
const record = {
  requestContext: {
    requestId: '316aa6d0-8154-xmpl-9af7-85d5f4a6bc81',
    functionArn: 'arn:aws-cn:lambda:cn-north-1:123456789012:function:supervision-events:live',
    condition: 'RetryAttemptsExhausted',
    approximateInvokeCount: 6,
  },
  responseContext: { statusCode: 200, executedVersion: '7', functionError: 'Unhandled' },
  version: '1.0',
  timestamp: '2026-12-07T10:00:00.000Z',
  DDBStreamBatchInfo: {
    shardId: 'shardId-00000001234567890123-abcdef12',
    startSequenceNumber: '800000000003126276362',
    endSequenceNumber: '800000000003126276362',
    approximateArrivalOfFirstRecord: '2026-12-07T09:59:58Z',
    approximateArrivalOfLastRecord: '2026-12-07T09:59:58Z',
    batchSize: 1,
    streamArn: 'arn:aws-cn:dynamodb:cn-north-1:123456789012:table/x/stream/2026-12-01T00:00:00.000',
  },
};
/** `aws sqs receive-message … --output json`, as the CLI prints it (four spaces, over many lines). */
const receiveMessageAnswer = JSON.stringify(
  { Messages: [{ MessageId: 'm1', ReceiptHandle: 'r1', MD5OfBody: 'x', Body: JSON.stringify(record) }] },
  null,
  4,
);
/** The same with `--query 'Messages[].Body'`: an array of strings. */
const bodiesOnly = JSON.stringify([JSON.stringify(record)], null, 4);
const batch = '800000000003126276362..800000000003126276362';

describe('reading the dead-letter queue’s records (failureRecordsOf)', () => {
  it('takes the records out of the whole receive-message answer and out of message bodies', () => {
    expect(failureRecordsOf(receiveMessageAnswer)).toEqual([record]);
    expect(failureRecordsOf(bodiesOnly)).toEqual([record]);
    expect(
      failureRecordsOf(`${JSON.stringify(record)}\n${JSON.stringify(JSON.stringify(record))}\n`),
    ).toEqual([record, record]);
    expect(failureRecordsOf(JSON.stringify([record]))).toEqual([record]);
    expect(failureRecordsOf('')).toEqual([]);
  });
});

describe('npm run supervision:replay on what the AWS CLI printed', () => {
  let dynamo: TestDynamo;
  let dir: string;
  let tables: Record<string, string>;

  beforeAll(async () => {
    dynamo = await startTestDynamo();
    const service = await dynamo.newTable();
    const audit = await dynamo.newTable(auditTable);
    tables = { TABLE_NAME: service.tableName, AUDIT_TABLE_NAME: audit.tableName };
    dir = await mkdtemp(join(tmpdir(), 'replay-script-'));
  });
  afterAll(async () => {
    await dynamo?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const replay = async (text: string) => {
    const file = join(dir, `received-${Math.random().toString(36).slice(2)}.json`);
    await writeFile(file, text);
    const printed: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((line: string) => void printed.push(line));
    const error = vi.spyOn(console, 'error').mockImplementation((line: string) => void printed.push(line));
    for (const [name, value] of Object.entries({
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      ...tables,
    }))
      vi.stubEnv(name, value);
    try {
      const code = await runReplay([file], process.env);
      return { code, printed };
    } finally {
      vi.unstubAllEnvs();
      log.mockRestore();
      error.mockRestore();
    }
  };

  it('replays every record of the whole receive-message answer (the runbook’s received.json)', async () => {
    const { code, printed } = await replay(receiveMessageAnswer);
    expect(printed.map((line) => (JSON.parse(line) as { batch: string }).batch)).toEqual([batch]);
    expect(code).toBe(0);
  });

  it('replays message bodies saved as strings (--query Messages[].Body)', async () => {
    const { code, printed } = await replay(bodiesOnly);
    expect(printed.map((line) => (JSON.parse(line) as { batch: string }).batch)).toEqual([batch]);
    expect(code).toBe(0);
  });

  it('still refuses what is no on-failure record, exit 1', async () => {
    const { code, printed } = await replay(
      JSON.stringify({ Messages: [{ ReceiptHandle: 'r', Body: '{"x":1}' }] }),
    );
    expect(printed.join('\n')).toMatch(/not an on-failure record/);
    expect(code).toBe(1);
  });

  it('against AWS, refuses to start without AWS_REGION rather than reach cn-north-1 (R49 F3)', async () => {
    const file = join(dir, 'received-region.json');
    await writeFile(file, receiveMessageAnswer);
    const said: string[] = [];
    const error = vi.spyOn(console, 'error').mockImplementation((line: string) => void said.push(line));
    try {
      // An operator whose AWS CLI is set up for another region its own way: not read by the scripts.
      const code = await runReplay([file], {
        AWS_DEFAULT_REGION: 'cn-northwest-1',
        AWS_PROFILE: 'elicence-prod',
        ...tables,
      });
      expect(code).toBe(2);
      expect(said.join('\n')).toMatch(/AWS_REGION: set it to the stack’s region/);
    } finally {
      error.mockRestore();
    }
  });
});
