import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { dependencies } from '../../functions/composition/dependencies.js';
import { pointerKey, type PointerKind } from '../../shared/adapters/dynamo/pending-work.js';
import type { TestRuntime } from './runtime.js';

/**
 * The reconciler's run a minute on: the pending-work pointers `ids` (of `kind`) moved back two minutes and
 * any claim on them lapsed, as the runtime's clock cannot be moved, then `pending-work-reconciler` run.
 *
 * @example
 * ```ts
 * await reconcileLater(runtime, 'provider', [`${grantEndAuditPrefix}${grantId}`]);
 * ```
 */
export async function reconcileLater(
  runtime: Pick<TestRuntime, 'runSchedule'>,
  kind: PointerKind,
  ids: readonly string[],
): Promise<void> {
  const { doc, config } = dependencies();
  for (const id of ids) {
    await doc.send(
      new UpdateCommand({
        TableName: config.tableName,
        Key: pointerKey(id, kind),
        UpdateExpression: 'SET since = :since, claimedUntil = :lapsed',
        ExpressionAttributeValues: {
          ':since': new Date(Date.now() - 120_000).toISOString(),
          ':lapsed': Date.now() - 60_000,
        },
      }),
    );
  }
  await runtime.runSchedule('pending-work-reconciler');
}
