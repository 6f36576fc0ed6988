import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import * as z from 'zod';
import {
  connectTable,
  dynamoAuditChainStore,
  dynamoStatisticsStore,
} from '../shared/adapters/dynamo/index.js';
import { replayFailedBatch, streamFailureRecord } from '../shared/supervision/replay.js';
import { ranAsScript, readCommandLine, sayer } from './cli.js';

/** What `aws sqs receive-message --output json` prints (it prints nothing at all when the queue is empty). */
const receiveMessageAnswer = z.object({
  Messages: z.array(z.object({ Body: z.string(), ReceiptHandle: z.string() })),
});

/**
 * The on-failure records a file holds, as read but not yet checked: the whole answer of
 * `aws sqs receive-message --output json` (the `Body` of each of its `Messages`), a JSON array of records
 * or of message bodies (records as JSON strings: `--query 'Messages[].Body'`), or one of these per line.
 * Throws on text that is not JSON (the script's exit 2).
 */
export function failureRecordsOf(text: string): unknown[] {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  let values: unknown[];
  try {
    // One JSON value, maybe printed over many lines (the AWS CLI's `--output json`).
    values = [JSON.parse(trimmed) as unknown];
  } catch {
    values = trimmed.split('\n').flatMap((line) => (line.trim() ? [JSON.parse(line) as unknown] : []));
  }
  const records = (value: unknown): unknown[] => {
    if (Array.isArray(value)) return value.flatMap(records);
    // A message body as the queue holds it: the record, as a JSON string.
    if (typeof value === 'string') return [JSON.parse(value) as unknown];
    const messages = receiveMessageAnswer.safeParse(value);
    if (messages.success) return messages.data.Messages.map((message) => JSON.parse(message.Body) as unknown);
    return [value];
  };
  return values.flatMap(records);
}

/**
 * `npm run supervision:replay -- <file>…`: counts into the statistics, once, the audit entries of stream
 * batches the supervision consumer gave up (docs/operating.md "Replaying supervision batches"). Each file
 * holds on-failure records of the consumer's dead-letter queue (`failureRecordsOf`): the whole answer of
 * `aws sqs receive-message --output json` (its messages' bodies), a JSON array of records or of their
 * bodies as strings, or one record per line. For each, the entries of its time window are read
 * again from the audit table (`replayFailedBatch`) and counted unless already counted (the entries' marks):
 * running it twice, or over a batch that was counted after all, changes nothing. Copies of history are
 * skipped as the consumer skips them (`SUPERVISION_HISTORY_BEFORE`, as of the batch's arrival). Tables from
 * the configuration (`TABLE_NAME`, `AUDIT_TABLE_NAME`), AWS credentials from the environment, the region from `AWS_REGION` (required against AWS:
 * `readCommandLine`).
 * Prints per record `{ batch, read, counted }` as JSON; exits 0 when every record was replayed (then delete
 * the messages), 1 when one was not a failure record, 2 on a usage, configuration or connection error.
 */
export async function runReplay(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const say = sayer('supervision:replay');
  const start = readCommandLine(say, env, () => {
    const { positionals } = parseArgs({ args: argv, allowPositionals: true, options: {} });
    if (positionals.length === 0)
      throw new Error('usage: npm run supervision:replay -- <failure records file>…');
    return positionals;
  });
  if (!start) return 2;
  const { args: files, config } = start;
  const table = connectTable(config);
  const deps = {
    auditChains: dynamoAuditChainStore(table),
    statistics: dynamoStatisticsStore(table),
    // The consumer's own cut-over: set it as the deployment had it when the batch failed.
    historyBefore: config.supervisionHistoryBefore,
  };
  let refused = 0;
  try {
    for (const file of files) {
      const records = failureRecordsOf(await readFile(file, 'utf8'));
      for (const record of records) {
        const parsed = streamFailureRecord.safeParse(record);
        if (!parsed.success) {
          say(`${file}: not an on-failure record of a stream batch (no DDBStreamBatchInfo)`);
          refused += 1;
          continue;
        }
        const batch = parsed.data.DDBStreamBatchInfo;
        const run = await replayFailedBatch(batch, deps);
        console.log(
          JSON.stringify({ batch: `${batch.startSequenceNumber}..${batch.endSequenceNumber}`, ...run }),
        );
      }
    }
    return refused > 0 ? 1 : 0;
  } catch (error) {
    say((error as Error).message);
    return 2;
  } finally {
    table.destroy();
  }
}

if (ranAsScript(import.meta.url)) {
  process.exitCode = await runReplay(process.argv.slice(2), process.env);
}
