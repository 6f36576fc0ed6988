import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import {
  claimSeconds,
  DynamoPendingWork,
  pointerKey,
  type PointerKind,
} from '../../shared/adapters/dynamo/pending-work.js';
import { pendingWorkLogLines, type PendingWorkIndex } from '../../shared/pending-work/pending-work.js';
import { reconcilePendingWork } from '../../shared/reconciler/reconcile-pending-work.js';
import { InMemoryAudit, TestClock } from '../support/in-memory-identity.js';
import {
  InMemoryLicenceStore,
  InMemoryPendingWork,
  InMemoryStatusListStore,
} from '../support/in-memory-licence.js';
import { halfWayLicence } from '../support/licence-world.js';
import { loggedLines } from '../support/logged-lines.js';
import { RecordedSecurityNotices } from '../support/in-memory-sms.js';
import { useDynamo, type Make } from './subject.js';

const dynamo = useDynamo();
const t0 = Date.parse('2026-03-01T08:00:00Z');
const at = (seconds: number) => new Date(t0 + seconds * 1000);

/**
 * The {@link PendingWorkIndex} contract (security review R11): a claim's lease runs from its own taking,
 * `mark` never takes over a live claim, and a holder's `remove` leaves a pointer marked since its claim.
 */
function pendingWorkContract(name: string, make: Make<{ index: PendingWorkIndex }>): void {
  describe(`PendingWorkIndex contract: ${name}`, () => {
    it('marks a new pointer claimed by the caller, whom nobody else can claim it from while it holds', async () => {
      const { index } = await make();
      const licenceId = `lic-${randomUUID()}`;
      const claim = await index.mark(licenceId, at(0));
      expect(claim).toEqual(expect.any(String));
      expect(await index.claim(licenceId, at(claimSeconds - 1))).toBeUndefined();
      await index.remove(licenceId, claim!);
      expect(await index.olderThan(at(3600), 10)).toEqual([]);
    });

    it('never takes over a live claim when a change marks the pointer again', async () => {
      const { index } = await make();
      const licenceId = `lic-${randomUUID()}`;
      await index.mark(licenceId, at(0));
      const held = await index.claim(licenceId, at(claimSeconds + 1));
      expect(held).toEqual(expect.any(String));
      // A status change lands while the holder completes: it marks, but gets no claim.
      expect(await index.mark(licenceId, at(claimSeconds + 2))).toBeUndefined();
      expect(await index.claim(licenceId, at(claimSeconds + 3))).toBeUndefined();
      // The holder's `remove` keeps the pointer (the change's work may not be saved yet) and frees it.
      await index.remove(licenceId, held!);
      expect((await index.olderThan(at(3600), 10)).map((p) => p.id)).toEqual([licenceId]);
      const next = await index.claim(licenceId, at(claimSeconds + 4));
      expect(next).toEqual(expect.any(String));
      await index.remove(licenceId, next!);
      expect(await index.olderThan(at(3600), 10)).toEqual([]);
    });

    it('runs each claim’s lease from the time it was taken', async () => {
      const { index } = await make();
      const licenceId = `lic-${randomUUID()}`;
      const first = await index.mark(licenceId, at(0));
      await index.release(licenceId, first!);
      // Taken late (as late in a long reconciler run): held for claimSeconds from then, not from 0.
      expect(await index.claim(licenceId, at(100))).toEqual(expect.any(String));
      expect(await index.claim(licenceId, at(100 + claimSeconds - 1))).toBeUndefined();
      expect(await index.claim(licenceId, at(100 + claimSeconds + 1))).toEqual(expect.any(String));
    });
  });
}

pendingWorkContract('InMemoryPendingWork', async () => ({
  index: new InMemoryPendingWork(),
  cleanup: async () => undefined,
}));

pendingWorkContract('DynamoPendingWork on dynalite', async () => {
  const { doc, tableName } = await dynamo.newTable();
  return { index: new DynamoPendingWork(doc, tableName), cleanup: async () => undefined };
});

/**
 * What a function granted a pointer's item could plant on it (review M1), and what the reconciler makes of
 * it: a claim held further ahead than any holder can hold is lapsed, a licence's pointer is the licence's
 * work whatever `audit` it holds, and a withdrawal's entries are written only if they are its own.
 */
describe('forged pointers on dynalite (review M1)', () => {
  async function world() {
    const { doc, tableName } = await dynamo.newTable();
    const clock = new TestClock(t0);
    const deps = {
      licences: new InMemoryLicenceStore(),
      statusLists: new InMemoryStatusListStore(),
      audit: new InMemoryAudit(),
      pendingWork: new DynamoPendingWork(doc, tableName),
      pendingAudit: new DynamoPendingWork(doc, tableName, 'withdrawals'),
      operatorAudit: new DynamoPendingWork(doc, tableName, 'operators'),
      accountAudit: new DynamoPendingWork(doc, tableName, 'accounts'),
      providerAudit: new DynamoPendingWork(doc, tableName, 'provider'),
      // The security notices a takeover or a reset owes (shared/identity/security-notices.ts).
      securityNotices: new RecordedSecurityNotices(),
      clock,
    };
    /** Sets attributes of a pointer's item directly, as a function with the item's grant could. */
    const plant = (id: string, kind: PointerKind, values: Record<string, unknown>) =>
      doc.send(
        new UpdateCommand({
          TableName: tableName,
          Key: pointerKey(id, kind),
          UpdateExpression: `SET ${Object.keys(values)
            .map((name) => `#${name} = :${name}`)
            .join(', ')}`,
          ExpressionAttributeNames: Object.fromEntries(Object.keys(values).map((name) => [`#${name}`, name])),
          ExpressionAttributeValues: Object.fromEntries(
            Object.entries(values).map(([name, value]) => [`:${name}`, value]),
          ),
        }),
      );
    /** A licence changed an hour ago whose status list and audit entry are still to do, its pointer free. */
    const halfWay = async (id: string) => {
      const since = new Date(t0 - 3_600_000);
      await deps.licences.create(halfWayLicence(id, { at: since.toISOString(), status: 'revoked', idx: 1 }));
      await deps.pendingWork.release(id, (await deps.pendingWork.mark(id, since))!);
    };
    return { deps, plant, halfWay, clock };
  }

  it('takes a claim held further ahead than any holder could as lapsed: the reconciler completes the work', async () => {
    const { deps, plant, halfWay } = await world();
    await halfWay('lic-held');
    await plant('lic-held', 'licences', { claim: 'forged', claimedUntil: t0 + 365 * 86_400_000 });
    expect(await reconcilePendingWork(deps, { minAgeSeconds: 60, limit: 10 })).toEqual({
      completed: 1,
      failed: 0,
      skipped: 0,
    });
    expect(deps.audit.entries.map((entry) => entry.action)).toEqual(['licence.revoked']);
    expect((await deps.licences.get('lic-held'))?.pending).toBeUndefined();
    // A live claim of a real holder (no further ahead than one taken now) is still respected.
    await halfWay('lic-live');
    expect(await deps.pendingWork.claim('lic-live', at(-30))).toEqual(expect.any(String));
    expect(await reconcilePendingWork(deps, { minAgeSeconds: 60, limit: 10 })).toMatchObject({ skipped: 1 });
  });

  it('completes a licence’s pointer as the licence’s work, whatever entries were planted on it', async () => {
    const { deps, plant, halfWay } = await world();
    await halfWay('lic-planted');
    await plant('lic-planted', 'licences', { audit: [], ownedBy: 'acc_x' });
    await reconcilePendingWork(deps, { minAgeSeconds: 60, limit: 10 });
    // The licence's own entry written and its status list updated, not dropped with the pointer.
    expect(deps.audit.entries.map((entry) => entry.action)).toEqual(['licence.revoked']);
    expect((await deps.licences.get('lic-planted'))?.pending).toBeUndefined();
    expect(deps.statusLists.lists.get('iss_1.0')).toBeDefined();
  });

  it('writes a withdrawal’s pointer’s entries only if they are its own; another is alarmed and left', async () => {
    const { deps, plant } = await world();
    const since = new Date(t0 - 3_600_000).toISOString();
    const entry = { at: since, actor: 'acc_me', action: 'authorization.withdrawn' };
    const own = 'authorization-withdrawn#g_1#w_1';
    const stray = 'authorization-withdrawn#g_2#w_1';
    await plant(own, 'withdrawals', { since, marked: 'm', ownedBy: 'acc_me', audit: [{ key: own, entry }] });
    // Keyed as another's entry (it would be written in that one's place, and that one's never).
    await plant(stray, 'withdrawals', {
      since,
      marked: 'm',
      ownedBy: 'acc_me',
      audit: [{ key: own, entry }],
    });
    const lines = await loggedLines(async () =>
      expect(await reconcilePendingWork(deps, { minAgeSeconds: 60, limit: 10 })).toEqual({
        completed: 1,
        failed: 1,
        skipped: 0,
      }),
    );
    expect(deps.audit.entries).toEqual([entry]);
    expect(lines.some((line) => line.includes(pendingWorkLogLines.incomplete) && line.includes(stray))).toBe(
      true,
    );
    expect((await deps.pendingAudit.olderThan(at(1), 10)).map((pointer) => pointer.id)).toEqual([stray]);
  });

  it('writes each of a change’s entries under its own key, and only under the keys its write gives them', async () => {
    const { deps, plant } = await world();
    const since = new Date(t0 - 3_600_000).toISOString();
    const takenOver = { at: since, actor: 'acc_p', action: 'account.taken_over', reason: 'reset' };
    const reset = { at: since, actor: 'acc_p', action: 'account.password_reset', reason: 'reset' };
    const own = 'phone-proof#acc_p#4';
    const stray = 'phone-proof#acc_q#2';
    // A takeover by a reset: two entries, the first under the pointer's id, the second after it.
    await plant(own, 'provider', {
      since,
      marked: 'm',
      ownedBy: 'acc_p',
      audit: [
        { key: own, entry: takenOver },
        { key: `${own}#2`, entry: reset },
      ],
    });
    // Its second entry keyed as its first (it would be written nowhere, or in another's place): left.
    await plant(stray, 'provider', {
      since,
      marked: 'm',
      ownedBy: 'acc_q',
      audit: [
        { key: stray, entry: { ...takenOver, actor: 'acc_q' } },
        { key: stray, entry: { ...reset, actor: 'acc_q' } },
      ],
    });
    const lines = await loggedLines(async () =>
      expect(await reconcilePendingWork(deps, { minAgeSeconds: 60, limit: 10 })).toEqual({
        completed: 1,
        failed: 1,
        skipped: 0,
      }),
    );
    expect(deps.audit.entries).toEqual([takenOver, reset]);
    expect(lines.some((line) => line.includes(pendingWorkLogLines.incomplete) && line.includes(stray))).toBe(
      true,
    );
    expect((await deps.providerAudit.olderThan(at(1), 10)).map((pointer) => pointer.id)).toEqual([stray]);
    // Run again: the one completed is gone, nothing is written twice.
    await reconcilePendingWork(deps, { minAgeSeconds: 60, limit: 10 });
    expect(deps.audit.entries).toEqual([takenOver, reset]);
    // The one notice the completed change owes its holder (its most telling action); none for the stray.
    expect(deps.securityNotices.owed).toEqual([
      { pointerId: own, accountId: 'acc_p', action: 'account.taken_over', at: since },
    ]);
  });

  it('writes a phone proof’s pointer’s entries only if each is a takeover’s or a reset’s (review R26)', async () => {
    const { deps, plant } = await world();
    const since = new Date(t0 - 3_600_000).toISOString();
    const forged = 'phone-proof#acc_r#2';
    // Keyed as the provider's own, but another function's action: the provider writes none of these.
    await plant(forged, 'provider', {
      since,
      marked: 'm',
      ownedBy: 'acc_r',
      audit: [
        { key: forged, entry: { at: since, actor: 'acc_r', action: 'account.taken_over' } },
        { key: `${forged}#2`, entry: { at: since, actor: 'adm_1', action: 'licence.revoked' } },
      ],
    });
    const lines = await loggedLines(async () =>
      expect(await reconcilePendingWork(deps, { minAgeSeconds: 60, limit: 10 })).toEqual({
        completed: 0,
        failed: 1,
        skipped: 0,
      }),
    );
    expect(deps.audit.entries).toEqual([]);
    expect(lines.some((line) => line.includes(pendingWorkLogLines.incomplete) && line.includes(forged))).toBe(
      true,
    );
  });
});
