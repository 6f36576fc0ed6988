import { GetCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorizationRequest, runFlow } from '../../support/oidc-flows.js';
import { resetMarkRuntime } from '../../support/reset-mark.js';
import type { TestRuntime } from '../../support/runtime.js';

/**
 * Review R66-1: the reconciler ending the sign-ins of a reset whose clean-up was owed deleted the
 * intruder's session (of the mark's own second); a request in flight that had loaded it saved it back
 * after the delete, later passes skipped its key (already deleted), the mark came off, and the intruder
 * kept signing in silently. Now a session read from the store is saved only while it is there, and a key
 * deleted by an earlier pass that is live again is deleted again.
 */
const marks = resetMarkRuntime();
const { withDeps, intruderThenOwedReset, reconcileWhile, offlinePlatform } = marks;
let runtime: TestRuntime;

beforeAll(async () => {
  ({ runtime } = await marks.start());
});
afterAll(() => runtime?.close());

const tableName = () => runtime.config.tableName;

/** The item stored under the key (`pk`, `sk`) of `item`, read consistently; undefined once deleted. */
const storedItem = async (doc: DynamoDBDocumentClient, item: Record<string, unknown>) =>
  (
    await doc.send(
      new GetCommand({ TableName: tableName(), Key: { pk: item.pk, sk: item.sk }, ConsistentRead: true }),
    )
  ).Item;

describe('R66-1: a session written back by a request in flight after the reconciler deleted it', () => {
  it('is deleted again: the mark comes off with no session left, and the intruder must sign in again', async () => {
    const { intruder, accountId, at } = await intruderThenOwedReset('r66a');
    const rp = await offlinePlatform('r66a');
    // What the intruder's request in flight loaded (the provider's Session.get) before the delete.
    const sessions = await withDeps(async (deps) => {
      const listed = await deps.doc.send(
        new QueryCommand({
          TableName: tableName(),
          IndexName: 'gsi2',
          KeyConditionExpression: 'gsi2pk = :pk',
          ExpressionAttributeValues: { ':pk': `oidc-account#${accountId}` },
        }),
      );
      const keys = (listed.Items ?? []).filter((item) => String(item.pk).startsWith('oidc#Session#'));
      return Promise.all(keys.map(async (key) => (await storedItem(deps.doc, key))!));
    });
    expect(sessions).toHaveLength(1);
    let resaved = 0;
    const outcome = await reconcileWhile(
      accountId,
      at,
      (command) =>
        (command as object).constructor.name === 'DeleteCommand' &&
        String((command as { input?: { Key?: { pk?: string } } }).input?.Key?.pk).startsWith(
          'oidc#Session#',
        ) &&
        resaved++ === 0,
      // session.js: the request in flight ends and saves its session (not new) as it loaded it.
      () =>
        withDeps(async (deps) => {
          for (const Item of sessions) await deps.doc.send(new PutCommand({ TableName: tableName(), Item }));
        }),
    );
    expect(resaved).toBeGreaterThan(0);
    expect(outcome).toBe('finished');
    const still = await withDeps((deps) => Promise.all(sessions.map((item) => storedItem(deps.doc, item))));
    expect(still.filter(Boolean)).toHaveLength(0);
    // The intruder's browser no longer signs in silently: the provider asks for the password again.
    const silent = await authorizationRequest(rp, {
      scope: 'openid profile offline_access',
      prompt: 'consent',
    });
    const flow = await runFlow(intruder, silent.url, { consent: true });
    expect(flow.callback?.searchParams.get('code') ?? undefined).toBeUndefined();
  });
});
