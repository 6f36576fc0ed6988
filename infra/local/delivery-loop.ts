import { logger } from '../../shared/logger.js';
import type { FunctionName } from '../../functions/routes.js';
import { invocation } from './invocation.js';

/** What the local queue and stream drivers share: a consumer fed one batch at a time, off the request path. */
export interface DeliveryLoop<Item> {
  /** Queues `items` and starts delivering if nothing is under way. */
  push(items: readonly Item[]): void;
  /** Resolves once every item pushed so far has been delivered (or given up on). */
  drain(): Promise<void>;
  /** Stops delivering (items still queued and pushed later are dropped); waits for the batch under way. */
  stop(): Promise<void>;
  /** Delivers nothing until the returned function is called; items pushed meanwhile wait. */
  hold(): () => void;
}

/**
 * The bookkeeping of an event source mapping in front of a Lambda consumer, as the local runtime plays it:
 * items are taken in order, `batchSize` at a time, and handed to the consumer inside its own invocation
 * (its grants enforced), one batch at a time; a batch that `attempt` reports failed or that throws is tried
 * again, up to `attempts` times, then handed to `failed` (locally in place of the dead-letter queue) and
 * logged. `tapBatchQueue` (`./queues.ts`) and `tapStream` (`./streams.ts`) are built on it.
 *
 * @example
 * ```ts
 * const loop = deliveryLoop({
 *   functionName: 'batches', load, batchSize: 1, attempts: 3, logMessage: 'queue message failed every delivery',
 *   attempt: async (handler, [record], n) => !(await handler({ Records: [record] }))?.batchItemFailures.length,
 *   failed: ([record], error) => failures.push({ body: record.body, error }),
 * });
 * loop.push([record]);
 * await loop.drain();
 * ```
 */
export function deliveryLoop<Item, Handler>(options: {
  functionName: FunctionName;
  /** Loads the consumer's handler, once, at the first delivery. */
  load: () => Promise<Handler>;
  batchSize: number;
  attempts: number;
  /** Lets the writes of the current turn join a batch before it is taken, as a batching window does. */
  batchingWindow?: boolean;
  /** One delivery of `batch` (`attempt` counts from 1): true when the consumer took all of it. */
  attempt: (handler: Handler, batch: Item[], attempt: number) => Promise<boolean>;
  failed: (batch: Item[], error: string) => void;
  logMessage: string;
}): DeliveryLoop<Item> {
  const queue: Item[] = [];
  let running: Promise<void> | undefined;
  let stopped = false;
  let held = 0;
  let handler: Promise<Handler> | undefined;

  const deliver = async (batch: Item[]) => {
    handler ??= options.load();
    let lastError = 'reported failed';
    for (let attempt = 1; attempt <= options.attempts; attempt += 1) {
      try {
        const took = await invocation.run({ functionName: options.functionName }, async () =>
          options.attempt(await handler!, batch, attempt),
        );
        if (took) return;
        lastError = 'reported failed';
      } catch (error) {
        lastError = String(error);
      }
    }
    options.failed(batch, lastError);
    logger.error(options.logMessage, {
      function: options.functionName,
      items: batch.length,
      error: lastError,
    });
  };

  const pump = async () => {
    // One turn first, so that `running` is this run's promise when the run ends and clears it. A run that
    // ended before its caller's assignment (a held loop: nothing to deliver) would leave a settled promise
    // in `running` for good: `drain()` would spin on it without end and a release would start nothing.
    await Promise.resolve();
    while (queue.length > 0 && !stopped && held === 0) {
      if (options.batchingWindow) await new Promise((resolve) => setImmediate(resolve));
      await deliver(queue.splice(0, options.batchSize));
    }
    running = undefined;
  };
  /** Starts delivering, unless a run is under way, the loop is held or stopped, or nothing waits. */
  const start = () => {
    if (!running && !stopped && held === 0 && queue.length > 0) running = pump();
  };

  return {
    push(items) {
      if (stopped || items.length === 0) return;
      queue.push(...items);
      start();
    },
    async drain() {
      while (running) await running;
    },
    hold() {
      held += 1;
      let released = false;
      return () => {
        if (released) return;
        released = true;
        held -= 1;
        start();
      };
    },
    async stop() {
      stopped = true;
      await running;
    },
  };
}
