import { afterAll, beforeAll, expect, it } from 'vitest';
import { dependencies } from '../../../functions/composition/dependencies.js';
import { registryPeople } from '../../../infra/local/demo-data.js';
import { maskIdNumber, parseIdNumber } from '../../../shared/identifiers/id-number.js';
import { personLookupKey } from '../../../shared/identifiers/lookup-key.js';
import { walletClientId } from '../../../shared/identifiers/client-ids.js';
import { recordRegisteredEntity } from '../../../shared/identity/representative-change.js';
import { provenAccount } from '../../support/clerks.js';
import { getWithToken, writtenAccessToken } from '../../support/oidc-flows.js';
import type { TestRuntime } from '../../support/runtime.js';
import { startSupervisedRuntime, supervisionGet } from '../../support/supervision.js';

/**
 * A change of an enterprise's legal representative recorded from the registry has an audit entry of its
 * own (`entity.representative_changed`), saved with the registry's write (one transaction on the table,
 * with the accounts function's pointer), one per person: the supervision view answers both whole (no
 * lookup key, masked numbers only), and each person's usage record shows theirs, at level 3.
 */
let runtime: TestRuntime;
let supervisor: string;
beforeAll(async () => {
  ({ runtime, supervisor } = await startSupervisedRuntime({}));
});
afterAll(() => runtime?.close());

type Entry = Record<string, unknown> & { action: string };

/** Today's `entity.representative_changed` entries as the supervision view answers them. */
async function changesInSupervision(): Promise<Entry[]> {
  const today = new Date().toISOString().slice(0, 10);
  const found: Entry[] = [];
  let cursor: string | undefined;
  do {
    const page = await supervisionGet<{ items: Entry[]; cursor?: string }>(
      runtime,
      `/supervision/audit?from=${today}&to=${today}&limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      supervisor,
    );
    found.push(...page.items.filter((entry) => entry.action === 'entity.representative_changed'));
    cursor = page.cursor;
  } while (cursor);
  return found;
}

async function usageOf(accountId: string): Promise<Array<Record<string, unknown>>> {
  const token = await writtenAccessToken({ accountId, clientId: walletClientId, scope: 'openid licences' });
  const response = await getWithToken(runtime, '/me/usage?action=representative_changed', token);
  expect(response.status, await response.clone().text()).toBe(200);
  return ((await response.json()) as { items: Array<Record<string, unknown>> }).items;
}

it('records a change of representative once, shown whole to supervision and to each person', async () => {
  const deps = dependencies();
  const { citizen, entity } = runtime.credentials;
  const successor = registryPeople[11]!;
  const formerAccount = await provenAccount(runtime, { ...citizen });
  const successorAccount = await provenAccount(runtime, { ...successor, password: 'Successor-2026!' });
  // The seed's runs recorded the demo enterprise with the same representative: no change, no entry.
  expect(await changesInSupervision()).toEqual([]);

  const former = (await deps.registry.findEntity(entity.creditCode))!;
  const successorId = parseIdNumber(successor.idNumber, new Date());
  const changed = {
    creditCode: former.creditCode,
    name: former.name,
    representativeLookupKey: await personLookupKey(deps.lookupMac, successorId),
    representativeMasked: maskIdNumber(successorId),
  };
  const recorded = await recordRegisteredEntity(changed, deps, 'registry-feed');
  // Recorded again (the feed's retry, the seed's next run): nothing more.
  await recordRegisteredEntity(changed, deps, 'registry-feed');

  const entries = await changesInSupervision();
  const change = {
    action: 'entity.representative_changed',
    actor: 'registry-feed',
    entityCreditCode: entity.creditCode,
    entityName: former.name,
    representativeTerm: recorded.representativeTerm,
  };
  expect(entries).toEqual([
    expect.objectContaining({
      ...change,
      representativeRole: 'former',
      holderMasked: former.representativeMasked,
    }),
    expect.objectContaining({
      ...change,
      representativeRole: 'new',
      holderMasked: maskIdNumber(successorId),
    }),
  ]);
  for (const entry of entries) {
    expect(entry).not.toHaveProperty('redacted');
    expect(entry).not.toHaveProperty('holderKey');
    expect(entry.holderCommitment).toMatch(/^[0-9a-f]{64}$/);
  }
  // No ID number, nor a lookup key, in what supervision reads.
  const text = JSON.stringify(entries);
  for (const secret of [citizen.idNumber, successor.idNumber, former.representativeLookupKey])
    expect(text).not.toContain(secret);

  // Each person's usage record shows their side of it, naming the enterprise, never the other person.
  const shown = { creditCode: entity.creditCode, name: former.name };
  expect(await usageOf(formerAccount)).toEqual([
    { at: expect.any(String), action: 'representative_changed', entity: shown, role: 'former' },
  ]);
  expect(await usageOf(successorAccount)).toEqual([
    { at: expect.any(String), action: 'representative_changed', entity: shown, role: 'new' },
  ]);
});
