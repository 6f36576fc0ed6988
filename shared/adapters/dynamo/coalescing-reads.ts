import { setTimeout as sleep } from 'node:timers/promises';
import {
  BatchGetCommand,
  GetCommand,
  type DynamoDBDocumentClient,
  type GetCommandInput,
  type GetCommandOutput,
} from '@aws-sdk/lib-dynamodb';

/** DynamoDB's limit of keys per BatchGetItem. */
const BATCH_KEYS = 100;
/** Attempts at keys DynamoDB left unprocessed (throttling) before the reads fail. */
const BATCH_ATTEMPTS = 6;

interface Pending {
  input: GetCommandInput;
  resolve(output: GetCommandOutput): void;
  reject(error: unknown): void;
}

/** The identity of a key, whatever the order of its attributes. */
function keyId(key: Record<string, unknown>): string {
  return JSON.stringify(
    Object.keys(key)
      .sort()
      .map((name) => [name, key[name]]),
  );
}

/** Only plain reads by key (what the adapters' `getItem` and `getLive` send) are batched. */
function coalescible(input: GetCommandInput): boolean {
  for (const name of Object.keys(input)) {
    if (name !== 'TableName' && name !== 'Key' && name !== 'ConsistentRead') return false;
  }
  return input.TableName !== undefined && input.Key !== undefined;
}

/**
 * Makes the document client send the GetItems issued within one turn of the event loop as one
 * BatchGetItem per table and read consistency (a lone read still goes as a GetItem). Each caller gets the
 * answer a GetItem would have given it, so the stores built on the client (the token store, the licence
 * store) need not know about one another: a handler that starts both reads together pays one round trip.
 * Keys DynamoDB leaves unprocessed are asked again; a failed batch fails each read in it. Any other
 * command goes through as it is. The function's role needs `dynamodb:BatchGetItem` on the same
 * partition keys as its `GetItem` (functions/grants.ts).
 *
 * Returns the same client, changed: its middleware (the local grant guard, retries) applies to the batch.
 *
 * @example
 * ```ts
 * const table = coalesceReads(connectTable(config));
 * const [token, licence] = await Promise.all([tokens.find(hash), licences.get(id)]); // one BatchGetItem
 * ```
 */
export function coalesceReads<Client extends DynamoDBDocumentClient>(client: Client): Client {
  const send = client.send.bind(client) as (command: unknown, ...rest: unknown[]) => Promise<unknown>;
  let pending = new Map<string, Pending[]>();
  let scheduled = false;

  const flush = () => {
    scheduled = false;
    const groups = pending;
    pending = new Map();
    for (const reads of groups.values()) {
      if (reads.length === 1) {
        const [read] = reads as [Pending];
        send(new GetCommand(read.input)).then(
          (output) => read.resolve(output as GetCommandOutput),
          (error: unknown) => read.reject(error),
        );
      } else {
        void batch(reads);
      }
    }
  };

  const batch = async (reads: Pending[]) => {
    const { TableName, ConsistentRead } = reads[0]!.input;
    const table = String(TableName);
    const byKey = new Map<string, { key: Record<string, unknown>; reads: Pending[] }>();
    for (const read of reads) {
      const id = keyId(read.input.Key!);
      const same = byKey.get(id);
      // DynamoDB refuses a batch naming a key twice: one read answers both.
      if (same) same.reads.push(read);
      else byKey.set(id, { key: read.input.Key!, reads: [read] });
    }
    const keyNames = Object.keys(reads[0]!.input.Key!);
    const entries = [...byKey.values()];
    for (let start = 0; start < entries.length; start += BATCH_KEYS) {
      const chunk = entries.slice(start, start + BATCH_KEYS);
      const answered = new Set<string>();
      try {
        let keys = chunk.map((entry) => entry.key);
        for (let attempt = 0; keys.length > 0; attempt += 1) {
          if (attempt === BATCH_ATTEMPTS) throw new Error('BatchGetItem left keys unprocessed after retries');
          if (attempt > 0) await sleep(Math.min(25 * 2 ** attempt, 1_000) * Math.random());
          const output = (await send(
            new BatchGetCommand({ RequestItems: { [table]: { Keys: keys, ConsistentRead } } }),
          )) as { Responses?: Record<string, Array<Record<string, unknown>>>; UnprocessedKeys?: unknown };
          for (const item of output.Responses?.[table] ?? []) {
            const id = keyId(Object.fromEntries(keyNames.map((name) => [name, item[name]])));
            const entry = byKey.get(id);
            if (!entry || answered.has(id)) continue;
            answered.add(id);
            // Each reader its own copy, as separate GetItems would give: readers of one key may belong to
            // concurrent requests, and none may change what another reads (security review).
            entry.reads.forEach((read, i) =>
              read.resolve({ Item: i === 0 ? item : structuredClone(item), $metadata: {} }),
            );
          }
          const unprocessed = (
            output.UnprocessedKeys as Record<string, { Keys?: Array<Record<string, unknown>> }>
          )?.[table]?.Keys;
          keys = unprocessed ?? [];
        }
        // Keys that came back neither found nor unprocessed are absent: what a GetItem answers with no Item.
        for (const entry of chunk) {
          if (answered.has(keyId(entry.key))) continue;
          for (const read of entry.reads) read.resolve({ $metadata: {} });
        }
      } catch (error) {
        for (const entry of chunk) {
          if (!answered.has(keyId(entry.key))) for (const read of entry.reads) read.reject(error);
        }
      }
    }
  };

  client.send = ((command: unknown, ...rest: unknown[]) => {
    if (rest.length > 0 || !(command instanceof GetCommand) || !coalescible(command.input)) {
      return send(command, ...rest);
    }
    const input = command.input;
    return new Promise<GetCommandOutput>((resolve, reject) => {
      const group = `${input.TableName}\u0000${input.ConsistentRead === true}`;
      const reads = pending.get(group);
      if (reads) reads.push({ input, resolve, reject });
      else pending.set(group, [{ input, resolve, reject }]);
      if (!scheduled) {
        scheduled = true;
        // After every promise continuation of this turn: reads started together, however deep, go together.
        setImmediate(flush);
      }
    });
  }) as Client['send'];
  return client;
}
