import { describe, expect, it } from 'vitest';
import { unfinishedWritesFilterPattern } from '../../../infra/constructs/service-function.js';
import { completePendingWork } from '../../../shared/licence/pending-work.js';
import { reconcilePendingWork } from '../../../shared/reconciler/reconcile-pending-work.js';
import { logger } from '../../../shared/logger.js';
import type { LicenceRecord } from '../../../shared/licence/licence.js';
import { halfWayLicence, licenceWorld } from '../../support/licence-world.js';
import { filterPatternMatches as matches, loggedLines } from '../../support/logged-lines.js';

/**
 * The `UnfinishedWrites` metric filter (infra/constructs/service-function.ts) counts the lines the code
 * logs when a write after a licence change fails: evaluated here against what the pending-work completion
 * really logs, so that a reworded message cannot silence the alarm.
 */
describe('the unfinished-writes metric filter counts what a failed completion logs', () => {
  const pattern = unfinishedWritesFilterPattern.logPatternString;

  /** A licence whose pending work is an audit entry and its status list, and stores that fail as asked. */
  async function pendingLicence(fail: { audit?: boolean; list?: boolean }) {
    const world = licenceWorld();
    const at = '2026-03-01T08:00:00.000Z';
    const changed = halfWayLicence('lic-1', { at, status: 'revoked', idx: 3 });
    // Its entry as a record saved before entries had keys holds it (bare): completed all the same.
    const licence: LicenceRecord = {
      ...changed,
      pending: {
        ...changed.pending!,
        audit: [{ at, actor: 'cl', action: 'licence.revoked', licenceId: 'lic-1' }],
      },
    };
    const created = await world.licences.create(licence);
    const claim = (await world.pendingWork.mark(licence.id, new Date(world.clock.now())))!;
    const deps = {
      ...world.statusDeps,
      audit: {
        record: fail.audit
          ? () => Promise.reject(new Error('audit down'))
          : world.audit.record.bind(world.audit),
      },
      statusLists: Object.assign(Object.create(world.statusLists) as typeof world.statusLists, {
        ...(fail.list && { setStatus: () => Promise.reject(new Error('list down')) }),
      }),
    };
    return { world, created, claim, deps };
  }

  it('matches the audit entry and status list lines of a completion, and the work stays pending', async () => {
    const { world, created, claim, deps } = await pendingLicence({ audit: true, list: true });
    const lines = await loggedLines(() => completePendingWork(created, claim, deps).catch(() => undefined));
    const failures = lines.filter((line) => /not written|not updated/.test(line));
    expect(failures.map((line) => (JSON.parse(line) as { message: string }).message).sort()).toEqual([
      'audit entry not written',
      'status list not updated',
    ]);
    for (const line of failures) expect(matches(pattern, line), line).toBe(true);
    // Released and still there: the reconciler finishes it once the stores answer again.
    expect((await world.licences.get(created.id))?.pending).toBeDefined();
    world.clock.advanceSeconds(1);
    expect(await reconcilePendingWork(world.statusDeps, { minAgeSeconds: 0, limit: 10 })).toEqual({
      completed: 1,
      failed: 0,
      skipped: 0,
    });
    expect((await world.licences.get(created.id))?.pending).toBeUndefined();
    expect(world.audit.entries.map((entry) => entry.action)).toEqual(['licence.revoked']);
  });

  it('matches the other use cases’ lost entries, and nothing else', async () => {
    const lines = await loggedLines(async () => {
      logger.error('audit entry not written: no verdict is given', { error: 'x' });
      logger.error('pending work not completed', { licenceId: 'l', error: 'x' });
      logger.warn('list signer unavailable: serving the stored token', { error: 'x' });
      logger.info('status list not updated yet', {});
    });
    expect(lines.map((line) => matches(pattern, line))).toEqual([true, true, false, false]);
  });
});
