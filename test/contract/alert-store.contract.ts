import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { alertPosition, type AlertStore, type StoredAlert } from '../../shared/supervision/alert-rules.js';
import type { Make } from './subject.js';

/**
 * The {@link AlertStore} contract: counters add atomically and answer the new total; an alert is created
 * once per id however many callers race; alerts are listed by time, `to` excluded.
 */
export function alertStoreContract(name: string, make: Make<{ store: AlertStore }>): void {
  describe(`AlertStore contract: ${name}`, () => {
    let subject: Awaited<ReturnType<typeof make>>;
    beforeEach(async () => {
      subject = await make();
    });
    afterEach(async () => {
      await subject.cleanup();
    });

    const alert = (at: string, id = `bulk-status-change#iss_${randomUUID()}#${at}`): StoredAlert => ({
      id,
      at,
      rule: 'bulk-status-change',
      severity: 'high',
      subject: 'iss_1',
      detail: '20 licences revoked or suspended by this issuer within 60 min (threshold 20)',
    });

    it('adds to a counter atomically, 40 concurrent adds included, and answers each new total', async () => {
      const key = `scan-failures-licence#${randomUUID()}#2026-03-01T00:00:00.000Z`;
      const totals = await Promise.all(
        Array.from({ length: 40 }, () => subject.store.count(key, 1, 2_000_000_000)),
      );
      expect([...totals].sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
      expect(await subject.store.count(key, 5, 2_000_000_000)).toBe(45);
      expect(await subject.store.count(`${key}-other`, 2, 2_000_000_000)).toBe(2);
    });

    it('creates an alert once, however many race to create it', async () => {
      const one = alert('2026-03-01T09:00:00.000Z');
      const created = await Promise.all(Array.from({ length: 10 }, () => subject.store.create(one)));
      expect(created.filter(Boolean)).toHaveLength(1);
      expect(await subject.store.create({ ...one, detail: 'again' })).toBe(false);
      const { id: _id, ...answered } = one;
      expect(
        await subject.store.list({
          from: '2026-03-01T00:00:00.000Z',
          to: '2026-03-02T00:00:00.000Z',
          limit: 10,
        }),
      ).toEqual({ items: [{ ...answered, position: alertPosition(one) }], more: false });
    });

    it('keeps an alert pending until settled, published or suppressed', async () => {
      const one = alert('2026-03-02T09:00:00.000Z');
      const two = alert('2026-03-02T10:00:00.000Z');
      expect(await subject.store.pending(one.id)).toBe(false);
      await subject.store.create(one);
      await subject.store.create(two);
      expect(await subject.store.pending(one.id)).toBe(true);
      await subject.store.settle(one.id, 'published');
      await subject.store.settle(two.id, 'suppressed');
      expect(await subject.store.pending(one.id)).toBe(false);
      expect(await subject.store.pending(two.id)).toBe(false);
      // Creating it again leaves it settled.
      expect(await subject.store.create(one)).toBe(false);
      expect(await subject.store.pending(one.id)).toBe(false);
      await expect(subject.store.settle(`${one.id}-none`, 'published')).rejects.toThrow();
    });

    it('lists alerts from `from` to `to` (excluded) in time order, across months', async () => {
      const times = [
        '2026-02-28T23:59:59.999Z',
        '2026-03-01T00:00:00.000Z',
        '2026-03-31T12:00:00.000Z',
        '2026-04-01T00:00:00.000Z',
      ];
      for (const at of [...times].reverse()) await subject.store.create(alert(at));
      const listed = await subject.store.list({
        from: '2026-03-01T00:00:00.000Z',
        to: '2026-04-01T00:00:00.000Z',
        limit: 10,
      });
      expect(listed.items.map((a) => a.at)).toEqual(times.slice(1, 3));
      const all = await subject.store.list({
        from: '2026-02-01T00:00:00.000Z',
        to: '2026-05-01T00:00:00.000Z',
        limit: 10,
      });
      expect(all.items.map((a) => a.at)).toEqual(times);
      expect(all.more).toBe(false);
    });

    it('pages: at most `limit` alerts, resuming after a position, across months', async () => {
      const times = [
        '2026-06-30T23:00:00.000Z',
        '2026-07-01T01:00:00.000Z',
        '2026-07-01T02:00:00.000Z',
        '2026-07-02T00:00:00.000Z',
        '2026-08-01T00:00:00.000Z',
      ];
      for (const at of times) await subject.store.create(alert(at));
      const range = { from: '2026-06-01T00:00:00.000Z', to: '2026-09-01T00:00:00.000Z', limit: 2 };
      const seen: string[] = [];
      let after: string | undefined;
      for (let i = 0; i < 10; i += 1) {
        const page = await subject.store.list({ ...range, ...(after ? { after } : {}) });
        expect(page.items.length).toBeLessThanOrEqual(2);
        seen.push(...page.items.map((a) => a.at));
        if (!page.more) break;
        after = page.items.at(-1)!.position;
      }
      expect(seen).toEqual(times);
    });

    it('lists newest first, of one rule if asked, a page at a time across months (R24 M2)', async () => {
      const times = ['2026-10-31T23:00:00.000Z', '2026-11-01T01:00:00.000Z', '2026-11-02T00:00:00.000Z'];
      for (const at of times) await subject.store.create(alert(at));
      // A flood of another rule, newer and older than those: never in the way of a rule's listing.
      for (const at of ['2026-10-15T00:00:00.000Z', '2026-11-01T00:30:00.000Z', '2026-11-03T00:00:00.000Z']) {
        for (let i = 0; i < 3; i += 1) {
          await subject.store.create({
            ...alert(at, `scan-failures-licence#lic_${randomUUID()}#${at}`),
            rule: 'scan-failures-licence',
          });
        }
      }
      const range = { from: '2026-10-01T00:00:00.000Z', to: '2026-12-01T00:00:00.000Z', limit: 2 };
      const seen: string[] = [];
      let after: string | undefined;
      for (let i = 0; i < 10; i += 1) {
        const page = await subject.store.list({
          ...range,
          newestFirst: true,
          rule: 'bulk-status-change',
          ...(after ? { after } : {}),
        });
        expect(page.items.length).toBeLessThanOrEqual(2);
        expect(page.items.every((a) => a.rule === 'bulk-status-change')).toBe(true);
        seen.push(...page.items.map((a) => a.at));
        if (!page.more) break;
        after = page.items.at(-1)!.position;
      }
      expect(seen).toEqual(times.toReversed());
      const newest = await subject.store.list({ ...range, newestFirst: true, limit: 4 });
      expect(newest.items.map((a) => a.at)).toEqual([
        ...Array<string>(3).fill('2026-11-03T00:00:00.000Z'),
        '2026-11-02T00:00:00.000Z',
      ]);
      expect(newest.more).toBe(true);
    });
  });
}
