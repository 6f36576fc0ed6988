import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  addCounts,
  emptyCounts,
  readStatistics,
  type Counts,
  type StatisticsStore,
} from '../../shared/supervision/statistics.js';
import type { Make } from './subject.js';

const counts = (partial: Partial<Counts>): Counts => ({ ...emptyCounts(), ...partial });

/**
 * The {@link StatisticsStore} contract, as `readStatistics` uses it: increments add up (concurrent ones
 * too), whatever rows the store keeps per counter (shards) sum to the counts added, and reads select by
 * days, issuer and type.
 */
export function statisticsStoreContract(name: string, make: Make<{ store: StatisticsStore }>): void {
  describe(`StatisticsStore contract: ${name}`, () => {
    let subject: Awaited<ReturnType<typeof make>>;
    beforeEach(async () => {
      subject = await make();
    });
    afterEach(async () => {
      await subject.cleanup();
    });

    const sum = async (query: { from: string; to: string; issuerId?: string; licenceType?: string }) =>
      (await subject.store.read(query)).reduce((total, row) => addCounts(total, row.counts), emptyCounts());

    it('counts each event once however often it is given, in batches of any size (addOnce)', async () => {
      const issuerId = `iss_${randomUUID()}`;
      const at = '2026-03-01T02:00:00.000Z';
      const event = (n: number, licenceType = 'driving-licence') =>
        n % 3 === 0
          ? {
              id: `c.${issuerId}#${n}`,
              event: { at, action: 'issued' as const, actor: 'cl_1', issuerId, licenceType },
            }
          : {
              id: `c.${issuerId}#${n}`,
              event: {
                at,
                action: 'verified' as const,
                actor: 'cl_1',
                issuerId,
                licenceType,
                verdict: 'valid',
              },
            };
      // 150 entries over 60 types: more marks and counters than one transaction holds.
      const first = Array.from({ length: 150 }, (_, n) => event(n, `type-${n % 60}`));
      expect(await subject.store.addOnce(first)).toBe(150);
      // Retried whole, then with new entries among the counted ones, then twice in one call.
      expect(await subject.store.addOnce(first)).toBe(0);
      const more = Array.from({ length: 30 }, (_, n) => event(150 + n, `type-${n % 60}`));
      expect(await subject.store.addOnce([...first.slice(0, 40), ...more, ...first.slice(100)])).toBe(30);
      const last = event(999);
      expect(await subject.store.addOnce([last, last])).toBe(1);
      // An export counts nothing, and is not marked.
      const exported = {
        id: `c.${issuerId}#export`,
        event: { at, action: 'exported' as const, actor: 'cl_1', issuerId, licenceType: '-', rows: 5 },
      };
      expect(await subject.store.addOnce([exported])).toBe(0);
      const total = await sum({ from: '2026-03-01', to: '2026-03-01', issuerId });
      // 180 entries numbered 0..179, every third issued, and entry 999 (issued too).
      expect(total).toEqual(counts({ issued: 61, verified: { valid: 120 } }));
    });

    it('adds increments up, 50 concurrent batches included, and reads them back summed', async () => {
      const issuerId = `iss_${randomUUID()}`;
      const one = { day: '2026-03-01', issuerId, licenceType: 'driving-licence' };
      await Promise.all(
        Array.from({ length: 50 }, () =>
          subject.store.add([{ ...one, counts: counts({ issued: 1, verified: { valid: 2 } }) }]),
        ),
      );
      await subject.store.add([
        { ...one, counts: counts({ revoked: 3, verified: { invalid_signature: 1 } }) },
      ]);
      expect(await sum({ from: '2026-03-01', to: '2026-03-01', issuerId })).toEqual(
        counts({ issued: 50, revoked: 3, verified: { valid: 100, invalid_signature: 1 } }),
      );
    });

    it('reads the issued count alone when asked (issuedOnly), every other count as 0', async () => {
      const issuerId = `iss_${randomUUID()}`;
      const one = { day: '2026-03-02', issuerId, licenceType: 'driving-licence' };
      await subject.store.add([
        { ...one, counts: counts({ issued: 3, revoked: 2, verified: { valid: 5 } }) },
      ]);
      const rows = await subject.store.read({
        from: '2026-03-02',
        to: '2026-03-02',
        issuerId,
        issuedOnly: true,
      });
      expect(rows.reduce((total, row) => addCounts(total, row.counts), emptyCounts())).toEqual(
        counts({ issued: 3 }),
      );
      expect(rows.every((row) => row.day === one.day && row.issuerId === issuerId)).toBe(true);
      expect(rows.every((row) => row.licenceType === one.licenceType)).toBe(true);
    });

    it('selects by days (both ends included), issuer and type', async () => {
      const issuerId = `iss_${randomUUID()}`;
      const other = `iss_${randomUUID()}`;
      await subject.store.add([
        { day: '2026-02-28', issuerId, licenceType: 'driving-licence', counts: counts({ issued: 1 }) },
        { day: '2026-03-01', issuerId, licenceType: 'driving-licence', counts: counts({ issued: 2 }) },
        { day: '2026-03-01', issuerId, licenceType: 'business-licence', counts: counts({ shared: 4 }) },
        { day: '2026-03-31', issuerId, licenceType: 'driving-licence', counts: counts({ suspended: 8 }) },
        { day: '2026-04-01', issuerId, licenceType: 'driving-licence', counts: counts({ reinstated: 16 }) },
        {
          day: '2026-03-01',
          issuerId: other,
          licenceType: 'driving-licence',
          counts: counts({ issued: 32 }),
        },
      ]);
      expect(await sum({ from: '2026-03-01', to: '2026-03-31', issuerId })).toEqual(
        counts({ issued: 2, shared: 4, suspended: 8 }),
      );
      expect(
        await sum({ from: '2026-03-01', to: '2026-03-01', issuerId, licenceType: 'business-licence' }),
      ).toEqual(counts({ shared: 4 }));
      expect(await sum({ from: '2026-02-01', to: '2026-04-30', issuerId: other })).toEqual(
        counts({ issued: 32 }),
      );
      const { days } = await readStatistics(
        { from: '2026-02-28', to: '2026-03-02', issuer: issuerId, type: 'driving-licence' },
        { statistics: subject.store },
      );
      expect(days).toEqual([
        { date: '2026-02-28', ...counts({ issued: 1 }) },
        { date: '2026-03-01', ...counts({ issued: 2 }) },
        { date: '2026-03-02', ...counts({}) },
      ]);
    });
  });
}
