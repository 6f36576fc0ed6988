import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { dependencies } from '../../../functions/composition/dependencies.js';
import { pointerKey } from '../../../shared/adapters/dynamo/pending-work.js';
import type { AuditTrail } from '../../../shared/audit/audit-trail.js';
import { auditEntriesOf } from '../../support/audit-entries.js';
import { issuerBody, postJson, scanItems } from '../../support/http-api.js';
import { clientCredentialsToken, startTestRuntime, type TestRuntime } from '../../support/runtime.js';

/**
 * An operator's change of an issuer and its trace are one (R20): its key rotated (the previous one kept or
 * withdrawn), one retired key withdrawn, the issuer withdrawn. An audit write that failed after the change
 * used to leave it made and answered, with nothing in the trail. Now the entry is saved by the issuer's own
 * write, as pending work (`pending-issuer-audit#`, shared/issuers/issuer-audit.ts): the change still
 * answers, and the reconciler's next run writes the entry, once, a minute later.
 */

/** Audit writes of issuer changes still to fail. */
let failures = 0;

function faultyAudit(trail: AuditTrail): AuditTrail {
  return {
    record: async (entry, once) => {
      if (entry.action.startsWith('issuer.') && failures > 0) {
        failures -= 1;
        throw new Error('injected: the audit write failed');
      }
      await trail.record(entry, once);
    },
  };
}

let runtime: TestRuntime;
let admin: string;

beforeAll(async () => {
  runtime = await startTestRuntime(undefined, {}, { audit: (operator) => faultyAudit(operator.audit) });
  admin = await clientCredentialsToken(runtime, runtime.credentials.admin, 'admin');
});
afterEach(() => {
  failures = 0;
});
afterAll(() => runtime?.close());

/** The issuer changes' entries of issuer `id`, as the operator's client wrote them. */
async function issuerEntries(id: string) {
  const entries = await auditEntriesOf(
    dependencies().doc,
    runtime.config.auditTableName,
    runtime.credentials.admin.clientId,
  );
  return entries.filter((entry) => entry.issuerId === id).map((entry) => entry.action);
}

/** The issuer changes' entries saved as pending work, not yet written. */
const savedChanges = () => scanItems('pending-issuer-audit#');

async function onboarded(): Promise<{ id: string }> {
  const created = await postJson(runtime, '/admin/issuers', admin, issuerBody());
  expect(created.status).toBe(201);
  return (await created.json()) as { id: string };
}

const post = (path: string, body: unknown) => postJson(runtime, path, admin, body);

describe('an issuer change whose audit entry fails to be written', () => {
  it('stands and is answered; the reconciler’s run writes each entry, once, a minute later', async () => {
    const issuer = await onboarded();
    // (One key withdrawn alone is saved the same way: test/unit/verify/issuer-keys.test.ts.)
    failures = 3;
    const kept = await post(`/admin/issuers/${issuer.id}/keys`, { previousKey: 'keep' });
    expect(kept.status, await kept.clone().text()).toBe(201);
    const rotated = await post(`/admin/issuers/${issuer.id}/keys`, { previousKey: 'withdraw' });
    expect(rotated.status, await rotated.clone().text()).toBe(201);
    const withdrawn = await post(`/admin/issuers/${issuer.id}/withdraw`, { reason: '机构撤并' });
    expect(withdrawn.status, await withdrawn.clone().text()).toBe(200);
    expect(failures).toBe(0);
    // Only its onboarding's, written before the failures.
    expect(await issuerEntries(issuer.id)).toEqual(['issuer.created']);
    expect(await savedChanges()).toHaveLength(3);

    // Left to the requests for a minute: not yet.
    await runtime.runSchedule('pending-work-reconciler');
    expect(await issuerEntries(issuer.id)).toEqual(['issuer.created']);
    // A minute on (the saved entries' time moved back, as the runtime's clock cannot be).
    const { doc, config } = dependencies();
    for (const saved of await savedChanges()) {
      await doc.send(
        new UpdateCommand({
          TableName: config.tableName,
          Key: pointerKey(String(saved.sk), 'operators'),
          UpdateExpression: 'SET since = :since',
          ExpressionAttributeValues: { ':since': new Date(Date.now() - 120_000).toISOString() },
        }),
      );
    }
    await runtime.runSchedule('pending-work-reconciler');
    expect((await issuerEntries(issuer.id)).sort()).toEqual([
      'issuer.created',
      'issuer.key-rotated',
      'issuer.key-rotated.previous-withdrawn',
      'issuer.withdrawn',
    ]);
    expect(await savedChanges()).toEqual([]);
    await runtime.runSchedule('pending-work-reconciler');
    expect(await issuerEntries(issuer.id)).toHaveLength(4);
  });

  it('written at once, leaves nothing saved behind', async () => {
    const issuer = await onboarded();
    expect((await post(`/admin/issuers/${issuer.id}/keys`, {})).status).toBe(201);
    expect((await post(`/admin/issuers/${issuer.id}/withdraw`, { reason: '机构撤并' })).status).toBe(200);
    expect((await issuerEntries(issuer.id)).sort()).toEqual([
      'issuer.created',
      'issuer.key-rotated',
      'issuer.withdrawn',
    ]);
    expect(await savedChanges()).toEqual([]);
  });
});
