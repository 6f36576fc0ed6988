import { GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDependencies } from '../../../functions/composition/dependencies.js';
import { finishOwedCleanup } from '../../../shared/identity/owed-cleanup.js';
import { parseIdNumber } from '../../../shared/identifiers/id-number.js';
import { personLookupKey } from '../../../shared/identifiers/lookup-key.js';
import { newIdNumber } from '../../support/in-memory-identity.js';
import { CarrierOfNumbers } from '../../support/in-memory-sms.js';
import {
  adminToken,
  authorizationRequest,
  callbackOf,
  demoPlatform,
  registerPlatform,
  runFlow,
  sessionOf,
  type RelyingParty,
} from '../../support/oidc-flows.js';
import type { TestRuntime } from '../../support/runtime.js';
import { openAccount, putInRegistry, startRuntimeWithCarrier } from '../../support/sharing-flows.js';
import { UserAgent } from '../../support/user-agent.js';

/**
 * Review R66-1: the reconciler ending the sign-ins of a reset whose clean-up was owed deleted the
 * intruder's session (of the mark's own second); a request in flight that had loaded it saved it back
 * after the delete, later passes skipped its key (already deleted), the mark came off, and the intruder
 * kept signing in silently. Now a session read from the store is saved only while it is there, and a key
 * deleted by an earlier pass that is live again is deleted again.
 */
let runtime: TestRuntime;
let platform: RelyingParty;
const carrier = new CarrierOfNumbers();
const browser = () => new UserAgent(runtime.baseUrl, [`${runtime.baseUrl}/demo/callback`]);

beforeAll(async () => {
  runtime = await startRuntimeWithCarrier(carrier);
  platform = await demoPlatform(runtime);
});
afterAll(() => runtime?.close());

async function withDeps<T>(work: (deps: ReturnType<typeof buildDependencies>) => Promise<T>): Promise<T> {
  const deps = buildDependencies(runtime.config);
  try {
    return await work(deps);
  } finally {
    deps.doc.destroy();
    deps.kms.destroy();
  }
}

/**
 * An intruder who knows the password signs in at the demo platform in some second; the owner's reset
 * marks the account at the end of that second, and its clean-up fails after the save (owed). Answers the
 * intruder's browser, the account and the mark.
 */
async function intruderThenOwedReset(tag: string) {
  const person = { idNumber: newIdNumber(), name: '测试' + tag, password: 'old-pass-' + tag };
  await putInRegistry(runtime, person.idNumber, person.name);
  await openAccount(runtime, person);
  const intruder = browser();
  const first = await authorizationRequest(platform, { scope: 'openid profile' });
  await callbackOf(intruder, first.url, { username: person.idNumber, password: person.password });
  const loginTs = (await sessionOf(runtime, intruder)).payload.loginTs as number;
  const at = new Date(loginTs * 1000 + 999);
  const accountId = await withDeps(async (deps) => {
    const key = await personLookupKey(deps.lookupMac, parseIdNumber(person.idNumber, new Date()));
    const account = (await deps.accounts.findByLookupKey(key))!;
    await deps.accounts.save({
      ...account,
      proofCleanup: {},
      signInsEnded: { at: at.toISOString(), version: account.version + 1 },
    });
    return account.id;
  });
  // The intruder comes back after the mark, before the reconciler runs.
  await sleep(1100);
  return { intruder, accountId, at };
}

type Command = {
  input?: { ExpressionAttributeValues?: Record<string, unknown>; ProjectionExpression?: string };
};

/**
 * The reconciler finishing the owed clean-up, as its run does (functions/pending-work-reconciler.ts), with
 * the intruder acting (`during`) right after each of its DynamoDB calls `at` picks has answered.
 */
function reconcileWhile(
  accountId: string,
  mark: Date,
  at: (command: Command) => boolean,
  during: () => Promise<void>,
) {
  return withDeps((deps) => {
    const send = deps.doc.send.bind(deps.doc) as (command: unknown) => Promise<unknown>;
    (deps.doc as unknown as { send: typeof send }).send = async (command) => {
      const answer = await send(command);
      if (at(command as Command)) await during();
      return answer;
    };
    return finishOwedCleanup(accountId, mark.toISOString(), {
      accounts: deps.accounts,
      passkeys: deps.passkeys,
      signIns: deps.signIns,
      platformConsents: deps.platformConsents,
    });
  });
}

async function offlinePlatform(name: string) {
  return registerPlatform(runtime, await adminToken(runtime), {
    name,
    redirectUris: [`${runtime.baseUrl}/demo/callback`],
    scopes: ['openid', 'profile', 'offline_access'],
  });
}

const tableName = () => runtime.config.tableName;

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
      return Promise.all(
        keys.map(
          async (key) =>
            (
              await deps.doc.send(
                new GetCommand({
                  TableName: tableName(),
                  Key: { pk: key.pk, sk: key.sk },
                  ConsistentRead: true,
                }),
              )
            ).Item!,
        ),
      );
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
    const still = await withDeps((deps) =>
      Promise.all(
        sessions.map(
          async (item) =>
            (
              await deps.doc.send(
                new GetCommand({
                  TableName: tableName(),
                  Key: { pk: item.pk, sk: item.sk },
                  ConsistentRead: true,
                }),
              )
            ).Item,
        ),
      ),
    );
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
