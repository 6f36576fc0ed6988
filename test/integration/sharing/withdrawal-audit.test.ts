import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AuditTrail } from '../../../shared/audit/audit-trail.js';
import { dependencies } from '../../../functions/composition/dependencies.js';
import { pointerKey } from '../../../shared/adapters/dynamo/pending-work.js';
import { withdrawalAuditGroup } from '../../../shared/sharing/authorizations.js';
import { auditEntriesOf } from '../../support/audit-entries.js';
import { scanItems } from '../../support/http-api.js';
import {
  adminToken,
  citizenAnswers,
  getWithToken,
  registerPlatform,
  signIn,
  walletPlatform,
  type RelyingParty,
} from '../../support/oidc-flows.js';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.js';
import { licenceAccess } from '../../support/sharing-flows.js';
import { UserAgent } from '../../support/user-agent.js';
import { startFakeHttpServer, type FakeHttpServer } from '../../support/fake-http-server.js';

/**
 * A withdrawal (`DELETE /me/authorizations/{id}`) and its trace are one: the grants' deletion, the
 * platform's notice and the `authorization.withdrawn` audit entry. An audit write that fails after the
 * grants are gone used to leave the withdrawal done, its notice queued, and nothing in the trail; asking
 * again answered 404 (no such grant), so nothing ever wrote it. Now the entry is saved by the withdrawal's
 * own write, as pending work (shared/pending-work/pending-work.ts): asking again writes it, once, and answers
 * 204; left alone, the reconciler's next run writes it a minute later.
 */

/** Failures injected into the audit trail every function uses, for `authorization.withdrawn` entries. */
const faults = { fail: 0, landedButLost: 0 };
/** The actor of the last `authorization.withdrawn` entry asked for: the person's account id. */
let actor: string | undefined;

function faultyAudit(trail: AuditTrail): AuditTrail {
  return {
    record: async (entry, once) => {
      const withdrawal = entry.action === 'authorization.withdrawn';
      if (withdrawal) actor = entry.actor;
      if (withdrawal && faults.fail > 0) {
        faults.fail -= 1;
        throw new Error('injected: the audit write failed');
      }
      await trail.record(entry, once);
      if (withdrawal && faults.landedButLost > 0) {
        faults.landedButLost -= 1;
        throw new Error('injected: the audit write landed, but its answer was lost');
      }
    },
  };
}

let runtime: TestRuntime;
let receiver: FakeHttpServer;
let platform: RelyingParty;
const browser = () => new UserAgent(runtime.baseUrl, [`${runtime.baseUrl}/wallet/callback`]);

beforeAll(async () => {
  runtime = await startTestRuntime(
    undefined,
    { NOTICE_INTERVAL_SECONDS: '0' },
    { audit: (operator) => faultyAudit(operator.audit) },
  );
  receiver = await startFakeHttpServer();
  receiver.answer((_, res) => {
    res.writeHead(202).end();
  });
  platform = await registerPlatform(runtime, await adminToken(runtime), {
    name: '撤回留痕测试平台',
    redirectUris: ['https://withdrawal-audit.example/callback'],
    scopes: ['openid', 'profile'],
    authorizationDetailsTypes: ['licence_access'],
    eventsUri: receiver.url('/events'),
  });
});
afterEach(() => {
  faults.fail = 0;
  faults.landedButLost = 0;
});
afterAll(async () => {
  await runtime?.close();
  await receiver?.close();
});

/** The citizen shares their driving licence with the platform, then withdraws from the wallet's token. */
async function sharedAndListed(): Promise<{ token: string; id: string }> {
  await signIn(platform, browser(), citizenAnswers(runtime), {
    scope: 'openid profile',
    authorization_details: JSON.stringify([licenceAccess(['driving-licence'], '办理留痕测试业务')]),
  });
  const wallet = await walletPlatform(runtime);
  const token = (await signIn(wallet, browser(), citizenAnswers(runtime), { scope: 'openid licences' }))
    .tokens.access_token;
  const listed = await getWithToken(runtime, '/me/authorizations', token);
  const { items } = (await listed.json()) as { items: Array<{ id: string; client: { id: string } }> };
  const mine = items.filter((item) => item.client.id === platform.clientId);
  expect(mine).toHaveLength(1);
  return { token, id: mine[0]!.id };
}

const withdraw = (token: string, id: string) =>
  fetch(`${runtime.baseUrl}/me/authorizations/${id}`, {
    method: 'DELETE',
    headers: { authorization: `Bearer ${token}` },
  });

/** The `authorization.withdrawn` entries of the person naming grant `id`. */
async function withdrawnEntries(id: string) {
  const entries = await auditEntriesOf(dependencies().doc, runtime.config.auditTableName, actor!);
  return entries.filter(
    (entry) => entry.action === 'authorization.withdrawn' && String(entry.reason).includes(id),
  );
}

/** The withdrawals' audit entries saved as pending work, not yet written. */
async function savedWithdrawals() {
  return scanItems('pending-audit#');
}

/** Whether the platform was told of the withdrawal of share `id` (a notice delivered to its receiver). */
async function platformTold(id: string): Promise<boolean> {
  for (let i = 0; i < 5; i++) await runtime.deliverNotices();
  return receiver.received.some((request) => {
    const claims = Buffer.from(request.body.split('.')[1] ?? '', 'base64url').toString();
    return claims.includes(`"share_id":"${id}"`);
  });
}

describe('a withdrawal whose audit entry fails to be written', () => {
  it('is finished by asking again: 204, the entry written once, never 404 with nothing traced', async () => {
    const { token, id } = await sharedAndListed();
    faults.fail = 1;
    const failed = await withdraw(token, id);
    expect(failed.status, await failed.clone().text()).toBeGreaterThanOrEqual(500);
    // The withdrawal itself stands, told to the platform, but it is not traced yet.
    expect(await platformTold(id)).toBe(true);
    expect(await withdrawnEntries(id)).toEqual([]);

    const again = await withdraw(token, id);
    expect(again.status, await again.clone().text()).toBe(204);
    expect(await withdrawnEntries(id)).toEqual([
      expect.objectContaining({ reason: `client ${platform.clientId}, grant ${id}, types driving-licence` }),
    ]);
    // Done and traced: a third time finds nothing, as for any unknown id.
    expect((await withdraw(token, id)).status).toBe(404);
    expect(await withdrawnEntries(id)).toHaveLength(1);
  });

  it('whose write landed but answered an error: asking again writes no second entry', async () => {
    const { token, id } = await sharedAndListed();
    faults.landedButLost = 1;
    expect((await withdraw(token, id)).status).toBeGreaterThanOrEqual(500);
    expect((await withdraw(token, id)).status).toBe(204);
    expect(await withdrawnEntries(id)).toHaveLength(1);
  });

  it('nobody asking again: the reconciler’s run writes it, once, a minute later', async () => {
    const { token, id } = await sharedAndListed();
    faults.fail = 1;
    expect((await withdraw(token, id)).status).toBeGreaterThanOrEqual(500);
    // Left to the request for a minute: not yet.
    await runtime.runSchedule('pending-work-reconciler');
    expect(await withdrawnEntries(id)).toEqual([]);
    // A minute on (the saved entry's time moved back, as the runtime's clock cannot be).
    const { doc, config } = dependencies();
    const [saved] = (await savedWithdrawals()).filter((item) =>
      String(item.sk).startsWith(withdrawalAuditGroup(id)),
    );
    await doc.send(
      new UpdateCommand({
        TableName: config.tableName,
        Key: pointerKey(String(saved!.sk), 'withdrawals'),
        UpdateExpression: 'SET since = :since',
        ExpressionAttributeValues: { ':since': new Date(Date.now() - 120_000).toISOString() },
      }),
    );
    await runtime.runSchedule('pending-work-reconciler');
    expect(await withdrawnEntries(id)).toHaveLength(1);
    expect(await savedWithdrawals()).toEqual([]);
    expect((await withdraw(token, id)).status).toBe(404);
  });

  it('a withdrawal that succeeds leaves nothing saved behind', async () => {
    const { token, id } = await sharedAndListed();
    expect((await withdraw(token, id)).status).toBe(204);
    expect(await withdrawnEntries(id)).toHaveLength(1);
    expect(await savedWithdrawals()).toEqual([]);
  });
});
