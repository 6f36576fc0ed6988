import { describe, expect, it } from 'vitest';
import { DynamoAuditChainStore } from '../../../shared/adapters/dynamo/audit-chain-store.js';
import { DynamoAuditTrail, DynamoLicenceAuditPages } from '../../../shared/adapters/dynamo/audit-trail.js';
import { reconcilePendingWork } from '../../../shared/reconciler/reconcile-pending-work.js';
import { checkTrail } from '../../../shared/supervision/audit-chain.js';
import { signCheckpoint } from '../../../shared/supervision/checkpoints.js';
import { useDynamo } from '../../contract/subject.js';
import { licenceAuditEntries } from '../../support/audit-entries.js';
import {
  InMemoryLicenceStore,
  InMemoryPendingWork,
  InMemoryStatusListStore,
} from '../../support/in-memory-licence.js';
import { halfWayLicence } from '../../support/licence-world.js';
import { LocalSigner } from '../../support/local-signer.js';

const dynamo = useDynamo();

/**
 * Security review R11, Low 4: a licence change made just before midnight whose audit entry is finished
 * after the day's closing checkpoint (signed at 00:15 UTC, or on demand). Chained on the day it happened,
 * the entry would open a chain that checkpoint does not name, which `npm run audit:verify` reports as added
 * afterwards. It goes on a chain of the day it is written: the trail still verifies, closing checkpoint
 * included, and the entry keeps its time.
 */
describe('a pending audit entry finished after its day was checkpointed', () => {
  it('goes on a chain of the day it is written, and the days still verify with their closing checkpoint', async () => {
    const { doc, tableName } = await dynamo.newTable();
    let now = Date.parse('2026-03-01T23:59:50Z');
    const clock = { now: () => now };
    const auditChains = new DynamoAuditChainStore(doc, tableName);
    const checkpointDeps = { auditChains, auditSigner: new LocalSigner(), clock, iss: 'https://id.example' };
    // The day's ordinary entries, by a writer of the day.
    const day = new DynamoAuditTrail(doc, tableName, clock);
    await day.record({
      at: '2026-03-01T10:00:00.000Z',
      actor: 'cl',
      action: 'licence.issued',
      licenceId: 'a',
    });

    // 23:59:50: a suspension whose entry and list write fail after its record is saved (left pending).
    const licences = new InMemoryLicenceStore();
    const pendingWork = new InMemoryPendingWork();
    const at = new Date(clock.now()).toISOString();
    const licence = halfWayLicence('lic-late', { at, status: 'suspended', idx: 1 });
    await licences.create(licence);
    await pendingWork.release('lic-late', (await pendingWork.mark('lic-late', new Date(at)))!);

    // 00:15: the daily checkpoint closes 2026-03-01. 00:20: the reconciler finishes the entry.
    now = Date.parse('2026-03-02T00:15:00Z');
    const closing = await signCheckpoint({}, checkpointDeps);
    now = Date.parse('2026-03-02T00:20:00Z');
    const reconciler = new DynamoAuditTrail(doc, tableName, clock);
    const deps = {
      licences,
      pendingWork,
      pendingAudit: new InMemoryPendingWork(),
      operatorAudit: new InMemoryPendingWork(),
      accountAudit: new InMemoryPendingWork(),
      providerAudit: new InMemoryPendingWork(),
      statusLists: new InMemoryStatusListStore(),
      audit: reconciler,
      clock,
    };
    expect(await reconcilePendingWork(deps, { minAgeSeconds: 60, limit: 10 })).toMatchObject({
      completed: 1,
    });

    const [late] = await licenceAuditEntries(new DynamoLicenceAuditPages(doc, tableName), 'lic-late');
    expect(late?.at).toBe(at);
    expect(late?.chain?.slice(0, 10)).toBe('2026-03-02');
    // What audit:verify checks: every chain of both days, under the checkpoints signed so far (the next
    // daily one, at 00:15 the day after, signs 03-02 and 03-03: never 03-01 again).
    now = Date.parse('2026-03-03T00:15:00Z');
    const next = await signCheckpoint({}, checkpointDeps);
    const { items } = await auditChains.entries({ from: '2026-03-01', to: '2026-03-02', limit: 100 });
    const signed = [closing, next].map((checkpoint) => ({
      iat: Date.parse(checkpoint.at) / 1000,
      days: checkpoint === closing ? ['2026-03-01', '2026-03-02'] : ['2026-03-02', '2026-03-03'],
      chains: checkpoint.chains,
    }));
    const check = checkTrail(
      items,
      signed.flatMap((checkpoint) => checkpoint.chains),
      { from: '2026-03-01', to: '2026-03-02' },
      { closing: signed },
    );
    expect(check.faults).toEqual([]);
    expect(items.map((entry) => entry.licenceId).sort()).toEqual(['a', 'lic-late']);
  });
});
