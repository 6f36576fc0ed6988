import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DpopProofLedger } from '../../shared/http/dpop.js';
import type { Make } from './subject.js';

const now = 1_700_000_000;

/**
 * The {@link DpopProofLedger} contract: a proof is marked once until its mark expires; marks of other
 * proofs are independent; of concurrent marks of one proof, exactly one succeeds.
 */
export function dpopProofLedgerContract(name: string, make: Make<{ ledger: DpopProofLedger }>): void {
  describe(`DpopProofLedger contract: ${name}`, () => {
    let subject: Awaited<ReturnType<typeof make>>;
    let ledger: DpopProofLedger;
    beforeEach(async () => {
      subject = await make();
      ledger = subject.ledger;
    });
    afterEach(async () => {
      await subject.cleanup();
    });

    it('marks a proof once: the second mark is refused while the first is live', async () => {
      const id = `proof-${randomUUID()}`;
      expect(await ledger.markUsed(id, now + 61, now)).toBe(true);
      expect(await ledger.markUsed(id, now + 61, now)).toBe(false);
      expect(await ledger.markUsed(id, now + 121, now + 60)).toBe(false);
    });

    it('keeps marks of different proofs apart', async () => {
      expect(await ledger.markUsed(`proof-${randomUUID()}`, now + 61, now)).toBe(true);
      expect(await ledger.markUsed(`proof-${randomUUID()}`, now + 61, now)).toBe(true);
    });

    it('lets a mark go once it has expired (storage deletes expired items late, or never)', async () => {
      const id = `proof-${randomUUID()}`;
      expect(await ledger.markUsed(id, now + 61, now)).toBe(true);
      expect(await ledger.markUsed(id, now + 200, now + 61)).toBe(true);
      expect(await ledger.markUsed(id, now + 200, now + 62)).toBe(false);
    });

    it('of concurrent marks of one proof, exactly one succeeds', async () => {
      const id = `proof-${randomUUID()}`;
      const marks = await Promise.all(Array.from({ length: 8 }, () => ledger.markUsed(id, now + 61, now)));
      expect(marks.filter(Boolean)).toHaveLength(1);
    });
  });
}
