import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { fixedPartitions } from '../../shared/adapters/dynamo/keys.js';
import { logger } from '../../shared/logger.js';
import type { LocalDynamo } from './dynamo.js';
import { invocation } from './invocation.js';

export interface NoticeRound {
  delivered: number;
  retried: number;
  abandoned: number;
}
type NoticeHandler = () => Promise<NoticeRound>;

export interface LocalNoticeRounds {
  /** Runs a delivery round after the one under way, if any, and resolves with what it did. */
  deliverNow(): Promise<NoticeRound>;
  /** Stops the rounds; waits for the one under way. */
  stop(): Promise<void>;
}

const none: NoticeRound = { delivered: 0, retried: 0, abandoned: 0 };

/**
 * The local runtime's stand-in for the stack's notice schedule (functions/notices.ts every minute): a round
 * every `intervalSeconds` (0: none), and one as soon as a new notice is queued (a first write to the
 * `notices` partition), so that a platform on this machine hears of a withdrawal at once. Rounds run one at
 * a time, each inside the `notices` function's own invocation (its grants enforced); retries wait in the
 * queue itself, as in AWS.
 *
 * @example
 * ```ts
 * const rounds = startNoticeRounds(dynamo, { tableName, intervalSeconds: 60, load });
 * await rounds.deliverNow();
 * ```
 */
export function startNoticeRounds(
  dynamo: LocalDynamo | undefined,
  options: { tableName: string; intervalSeconds: number; load: () => Promise<NoticeHandler> },
): LocalNoticeRounds {
  let handler: Promise<NoticeHandler> | undefined;
  let chain: Promise<unknown> = Promise.resolve();
  let stopped = false;

  const round = (): Promise<NoticeRound> => {
    const next = chain.then(async () => {
      if (stopped) return none;
      handler ??= options.load();
      const deliver = await handler;
      return invocation.run({ functionName: 'notices' }, () => deliver());
    });
    chain = next.catch(() => undefined);
    return next;
  };
  const inBackground = () => {
    round().catch((error: unknown) => logger.error('notice round failed', { error: String(error) }));
  };

  const timer =
    options.intervalSeconds > 0 ? setInterval(inBackground, options.intervalSeconds * 1000) : undefined;
  timer?.unref();
  const unsubscribe = dynamo?.onWrite((write) => {
    // A notice is queued by a put of its own, or within the transaction that withdraws its grants.
    const puts =
      write.operation === 'PutItem'
        ? [write.input as { TableName?: string; Item?: Record<string, AttributeValue> }]
        : write.operation === 'TransactWriteItems'
          ? (
              (write.input.TransactItems ?? []) as Array<{
                Put?: { TableName?: string; Item?: Record<string, AttributeValue> };
              }>
            ).flatMap((member) => (member.Put ? [member.Put] : []))
          : [];
    const queued = puts.some(
      ({ TableName, Item: item }) =>
        (TableName === undefined || TableName === options.tableName) &&
        // A notice's first write (no attempt yet) is its queueing; retries wait for their time.
        item?.pk?.S === fixedPartitions.notices &&
        item.attempts?.N === '0',
    );
    if (queued) setImmediate(inBackground);
  });

  return {
    deliverNow: round,
    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      unsubscribe?.();
      await chain;
    },
  };
}
