import { describe, expect, it } from 'vitest';
import type { LicenceRecord } from '../../../shared/licence/licence.js';
import { changeLicenceStatus } from '../../../shared/licence/change-status.js';
import { reconcilePendingWork } from '../../../shared/reconciler/reconcile-pending-work.js';
import { readStatus, StatusType } from '../../../packages/verifier/src/status-list.js';
import { halfWayLicence, licenceWorld } from '../../support/licence-world.js';
import { filterPatternMatches, loggedLines } from '../../support/logged-lines.js';
import { unfinishedWritesFilterPattern } from '../../../infra/constructs/service-function.js';

/** A licence changed to `status` whose status-list and audit entries are still pending, its pointer free. */
async function leftHalfWay(
  world: ReturnType<typeof licenceWorld>,
  n: number,
  status: 'revoked' | 'suspended' = 'revoked',
): Promise<LicenceRecord> {
  const at = new Date(world.clock.now() - 10_000).toISOString();
  const id = `lic-${n}`;
  const created = await world.licences.create(halfWayLicence(id, { at, status, idx: n }));
  const claim = await world.pendingWork.mark(id, new Date(at));
  await world.pendingWork.release(id, claim!);
  return created;
}

describe('the reconciler’s claims (security review R11)', () => {
  it('leases each claim from the moment it is taken: late in a long run, nobody else takes the work', async () => {
    const world = licenceWorld();
    const licences = await Promise.all([1, 2, 3].map((n) => leftHalfWay(world, n)));
    const taken: string[] = [];
    // Each completion takes 45 s (a slow status list); meanwhile another completer tries the same licence.
    const deps: typeof world.statusDeps = {
      ...world.statusDeps,
      statusLists: Object.assign(Object.create(world.statusLists) as typeof world.statusLists, {
        setStatus: async (listId: string, idx: number, value: 0 | 1 | 2) => {
          world.clock.advanceSeconds(45);
          const id = `lic-${idx}`;
          if (await world.pendingWork.claim(id, new Date(world.clock.now()))) taken.push(id);
          return world.statusLists.setStatus(listId, idx, value);
        },
      }),
    };
    expect(await reconcilePendingWork(deps, { minAgeSeconds: 0, limit: 10 })).toEqual({
      completed: 3,
      failed: 0,
      skipped: 0,
    });
    expect(taken).toEqual([]);
    for (const licence of licences) expect((await world.licences.get(licence.id))?.pending).toBeUndefined();
    expect(world.audit.entries.map((entry) => entry.licenceId).sort()).toEqual(['lic-1', 'lic-2', 'lic-3']);
  });

  it('a change landing while the reconciler holds the licence: its list at once, each entry once', async () => {
    const world = licenceWorld();
    const licence = await leftHalfWay(world, 7, 'suspended');
    const listed = () => readStatus(world.statusLists.lists.get('iss_1.0')!.bytes, 7);
    let landed = false;
    const deps: typeof world.statusDeps = {
      ...world.statusDeps,
      audit: {
        // Just before the reconciler writes the suspension's entry, the licence is reinstated.
        record: async (entry, once) => {
          if (!landed) {
            landed = true;
            await changeLicenceStatus(
              licence.id,
              { status: 'valid', reason: '恢复' },
              { issuerId: 'iss_1', clientId: 'cl' },
              deps,
            );
            // Not taken over (no second completer): the change wrote its status list itself.
            expect(listed()).toBe(StatusType.VALID);
          }
          return world.audit.record(entry, once);
        },
      },
    };
    await reconcilePendingWork(deps, { minAgeSeconds: 0, limit: 10 });
    // The holder finished the newer version's work too; the pointer, marked again, is gone a run later.
    world.clock.advanceSeconds(1);
    await reconcilePendingWork(deps, { minAgeSeconds: 0, limit: 10 });
    expect(landed).toBe(true);
    expect(world.audit.entries.map((entry) => entry.action)).toEqual([
      'licence.suspended',
      'licence.reinstated',
    ]);
    expect(listed()).toBe(StatusType.VALID);
    expect((await world.licences.get(licence.id))?.pending).toBeUndefined();
    expect(await world.pendingWork.olderThan(new Date(world.clock.now() + 1), 10)).toEqual([]);
  });
});

describe('pending work that carries its own audit entry (a withdrawal’s)', () => {
  it('is written once by the reconciler; a failed write is alarmed, released and written by the next run', async () => {
    const world = licenceWorld();
    const key = 'authorization-withdrawn#g_1#w_1';
    const entry = {
      at: new Date(world.clock.now()).toISOString(),
      actor: 'acc_me',
      action: 'authorization.withdrawn',
    };
    // As the withdrawal's transaction leaves it when its process dies right after: saved, unclaimed.
    world.pendingAudit.keep({ id: key, owner: 'acc_me', since: entry.at, audit: [{ key, entry }] });
    let down = true;
    const deps = {
      ...world.statusDeps,
      audit: {
        record: async (...args: Parameters<typeof world.audit.record>) => {
          if (down) throw new Error('audit table unreachable');
          return world.audit.record(...args);
        },
      },
    };
    world.clock.advanceSeconds(61);
    const lines = await loggedLines(async () =>
      expect(await reconcilePendingWork(deps, { minAgeSeconds: 60, limit: 10 })).toEqual({
        completed: 0,
        failed: 1,
        skipped: 0,
      }),
    );
    // The UnfinishedWrites alarm's line, naming the pending work.
    const alarmed = lines.filter((line) =>
      filterPatternMatches(unfinishedWritesFilterPattern.logPatternString, line),
    );
    expect(alarmed.map((line) => (JSON.parse(line) as { pendingWorkId?: string }).pendingWorkId)).toEqual([
      key,
    ]);
    expect(world.audit.entries).toEqual([]);
    // Released at once: the next run (the audit table back) takes it, without waiting for a lease.
    down = false;
    world.clock.advanceSeconds(1);
    expect(await reconcilePendingWork(deps, { minAgeSeconds: 60, limit: 10 })).toEqual({
      completed: 1,
      failed: 0,
      skipped: 0,
    });
    expect(world.audit.entries).toEqual([entry]);
    expect(await world.pendingAudit.olderThan(new Date(world.clock.now() + 1), 10)).toEqual([]);
  });
});
