import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { startLocalDynamo } from '../../infra/local/dynamo.js';
import { createDynamoClient, documentClientFor } from '../../shared/adapters/dynamo/client.js';
import { ensureTable } from '../../shared/adapters/dynamo/create-table.js';

const TABLE = 'elicence-call-cost';
const ITEMS = 200;
const WARM_UP = 1_000;
const CALLS = 8_000;
/** As many in flight as a single sign-on round keeps (`SSO_CONCURRENCY`). */
const IN_FLIGHT = 4;

/** What one DynamoDB call costs on this machine, end to end, in microseconds per call. */
export interface CallCost {
  /** CPU time of every thread of the process (the SDK's and the embedded DynamoDB's worker's). */
  cpuMicros: number;
  /** Time the calling thread's event loop was busy: the share a service's main thread pays. */
  callingThreadMicros: number;
}

/**
 * The CPU one DynamoDB call costs the local runtime, measured apart from any flow: GetItem and PutItem
 * (consistent reads, items of ~600 bytes, like a session or a grant) through the document client the
 * functions use (`documentClientFor`: its chains resolved once, its signer built once), the in-process
 * transport and the embedded DynamoDB in its worker thread, exactly as `npm start` connects them
 * (`infra/local/runtime.ts`, `connectInProcess`). The single sign-on's figures are set against it: how much
 * of the service's CPU per flow its calls are, and so how far fewer calls could take the ratio.
 */
export async function embeddedCallCost(): Promise<CallCost> {
  const dataDir = await mkdtemp(join(tmpdir(), 'call-cost-'));
  const dynamo = await startLocalDynamo({ dataDir });
  const client = createDynamoClient({
    region: 'local',
    endpoint: dynamo.endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  try {
    await ensureTable(client, TABLE);
    const doc = documentClientFor(client);
    doc.config.requestHandler = dynamo.transport;
    const payload = 'p'.repeat(600);
    const call = (i: number) =>
      i % 2 === 0
        ? doc.send(
            new GetCommand({ TableName: TABLE, Key: { pk: `k${i % ITEMS}`, sk: 'x' }, ConsistentRead: true }),
          )
        : doc.send(new PutCommand({ TableName: TABLE, Item: { pk: `k${i % ITEMS}`, sk: 'x', payload } }));
    const run = async (total: number) => {
      let next = 0;
      const worker = async () => {
        while (next < total) await call(next++);
      };
      await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
    };
    await run(WARM_UP);
    const cpuBefore = process.cpuUsage();
    const loopBefore = performance.eventLoopUtilization();
    await run(CALLS);
    const cpu = process.cpuUsage(cpuBefore);
    const loop = performance.eventLoopUtilization(loopBefore);
    return {
      cpuMicros: (cpu.user + cpu.system) / CALLS,
      callingThreadMicros: (loop.active * 1000) / CALLS,
    };
  } finally {
    client.destroy();
    await dynamo.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}
