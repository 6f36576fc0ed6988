import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { claimSeconds, DynamoPendingWork } from '../../shared/adapters/dynamo/pending-work.js';
import type { PendingWorkIndex } from '../../shared/licence/pending-work.js';
import { InMemoryPendingWork } from '../support/in-memory-licence.js';
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
