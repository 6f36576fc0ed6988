import { createHash, randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuditEntry, AuditTrail } from '../../shared/audit/audit-trail.js';
import type { Clock } from '../../shared/clock.js';
import { InvalidInputError } from '../../shared/errors.js';
import { randomId } from '../../shared/random-id.js';
import type { AuditChainStore } from '../../shared/supervision/audit-chain-store.js';
import { checkTrail } from '../../shared/supervision/audit-chain.js';
import { rejection, type Make } from './subject.js';

/**
 * The {@link AuditChainStore} contract, over the chains that `writer()` trails write (each trail its own
 * writer): the chains registered per day with their heads, a day range's entries paged each once in chain
 * order, optionally one issuer's, and checkpoints newest first.
 */
export function auditChainStoreContract(
  name: string,
  make: Make<{ store: AuditChainStore; writer(clock: Clock): AuditTrail }>,
): void {
  describe(`AuditChainStore contract: ${name}`, () => {
    let subject: Awaited<ReturnType<typeof make>>;
    beforeEach(async () => {
      subject = await make();
    });
    afterEach(async () => {
      await subject.cleanup();
    });
    // The writers' clock: each entry written at its own time, unless a test moves it.
    let now = 0;
    const clock: Clock = { now: () => now };
    const writer = () => {
      const trail = subject.writer(clock);
      return {
        record: (one: AuditEntry) => {
          now = Math.max(now, Date.parse(one.at));
          return trail.record(one);
        },
      };
    };
    beforeEach(() => {
      now = 0;
    });
    const entry = (at: string, issuerId: string): AuditEntry => ({
      at,
      actor: 'cl_x',
      action: 'licence.verified',
      licenceId: `lic-${randomUUID()}`,
      issuerId,
      verdict: 'valid',
    });

    it('lists the chains of a day with their heads, and each day range’s entries once, chain by chain in seq order', async () => {
      const [a, b] = [writer(), writer()];
      for (let i = 0; i < 4; i += 1) await a.record(entry(`2026-12-05T01:00:0${i}.000Z`, 'iss_a'));
      for (let i = 0; i < 3; i += 1) await b.record(entry(`2026-12-05T02:00:0${i}.000Z`, 'iss_b'));
      await a.record(entry('2026-12-06T00:00:00.000Z', 'iss_a'));

      const chains = await subject.store.chainsOf('2026-12-05');
      expect(chains).toHaveLength(2);
      const heads = await Promise.all(chains.map((chain) => subject.store.headOf(chain)));
      expect(heads.map((head) => head?.seq).sort()).toEqual([3, 4]);
      expect(await subject.store.chainsOf('2026-12-04')).toEqual([]);

      const seen: Array<Record<string, unknown>> = [];
      let cursor: string | undefined;
      do {
        const page = await subject.store.entries({
          from: '2026-12-05',
          to: '2026-12-06',
          limit: 2,
          ...(cursor ? { cursor } : {}),
        });
        expect(page.items.length).toBeLessThanOrEqual(2);
        // Each entry (all about a licence here) with its place in its licence's list.
        expect(page.positions).toHaveLength(page.items.length);
        expect(page.positions.every((position) => typeof position === 'string')).toBe(true);
        // Each on its licence's list, as written.
        expect(page.listed).toEqual(page.items.map(() => true));
        seen.push(...page.items);
        cursor = page.cursor;
      } while (cursor);
      expect(seen).toHaveLength(8);
      const check = checkTrail(
        seen,
        heads.flatMap((head) => (head ? [head] : [])),
      );
      expect(check.faults).toEqual([]);
      expect(check.chains).toHaveLength(3);
      // Chain by chain: a chain's entries are consecutive, in seq order.
      const order = seen.map((item) => `${String(item.chain)}#${String(item.seq)}`);
      const chainsInOrder = [...new Set(seen.map((item) => String(item.chain)))];
      expect(order).toEqual(
        chainsInOrder.flatMap((chain) =>
          seen.filter((item) => item.chain === chain).map((item) => `${chain}#${String(item.seq)}`),
        ),
      );

      const one = await subject.store.entries({
        from: '2026-12-05',
        to: '2026-12-05',
        limit: 100,
        issuerId: 'iss_b',
      });
      expect(one.items.map((item) => item.issuerId)).toEqual(['iss_b', 'iss_b', 'iss_b']);
      expect(one.cursor).toBeUndefined();
    });

    it('puts an entry written after its day ended on a chain of the day it is written, never on the ended day’s (R24 H1)', async () => {
      const trail = writer();
      await trail.record(entry('2026-12-05T23:59:00.000Z', 'iss_a'));
      // Stamped before midnight, written after it (a request in flight, a retry).
      now = Date.parse('2026-12-06T00:00:00.200Z');
      await trail.record(entry('2026-12-05T23:59:59.990Z', 'iss_a'));
      const [closedDay] = await subject.store.chainsOf('2026-12-05');
      expect(await subject.store.headOf(closedDay!)).toMatchObject({ seq: 1 });
      const [written] = await subject.store.chainsOf('2026-12-06');
      expect(written?.chain.slice(0, 10)).toBe('2026-12-06');
      const { items } = await subject.store.entries({ from: '2026-12-06', to: '2026-12-06', limit: 10 });
      expect(items.map(({ at, seq }) => ({ at, seq }))).toEqual([{ at: '2026-12-05T23:59:59.990Z', seq: 1 }]);
    });

    it('refuses a cursor it did not make, naming it', async () => {
      const error = await rejection(
        subject.store.entries({ from: '2026-12-05', to: '2026-12-05', limit: 2, cursor: 'bm90LWEtY3Vyc29y' }),
      );
      expect(error).toBeInstanceOf(InvalidInputError);
      expect((error as InvalidInputError).errors.map((e) => e.path)).toEqual(['cursor']);
    });

    it('refuses a cursor whose day lies outside the range asked for', async () => {
      const entry = (i: number): AuditEntry => ({
        at: `2026-12-05T08:00:0${i}.000Z`,
        actor: 'cl',
        action: 'licence.issued',
        issuerId: 'iss_a',
      });
      const trail = writer();
      for (let i = 0; i < 3; i += 1) await trail.record(entry(i));
      const first = await subject.store.entries({ from: '2026-12-05', to: '2026-12-05', limit: 1 });
      expect(first.cursor).toBeDefined();
      for (const range of [
        { from: '2026-11-01', to: '2026-11-02' },
        { from: '2026-12-06', to: '2026-12-07' },
      ]) {
        const error = await rejection(subject.store.entries({ ...range, limit: 1, cursor: first.cursor! }));
        expect(error).toBeInstanceOf(InvalidInputError);
        expect((error as InvalidInputError).code).toBe('invalid_cursor');
      }
    });

    it('keeps checkpoints, newest first', async () => {
      for (const at of ['2026-12-05T00:15:00.000Z', '2026-12-07T00:15:00.000Z', '2026-12-06T00:15:00.000Z']) {
        await subject.store.saveCheckpoint({ id: randomId('cp'), at, jws: `jws-${at}` }, []);
      }
      const first = await subject.store.checkpoints(2);
      expect(first.items.map((c) => c.at)).toEqual(['2026-12-07T00:15:00.000Z', '2026-12-06T00:15:00.000Z']);
      expect(first.cursor).toBeDefined();
      const next = await subject.store.checkpoints(2, first.cursor);
      expect(next.items).toEqual([{ at: '2026-12-05T00:15:00.000Z', jws: 'jws-2026-12-05T00:15:00.000Z' }]);
      expect(next.cursor).toBeUndefined();
      const error = await rejection(subject.store.checkpoints(2, 'bm9wZQ'));
      expect((error as InvalidInputError).errors.map((e) => e.path)).toEqual(['cursor']);
    });

    it('keeps a checkpoint’s heads apart, answered page by page in the order given', async () => {
      const heads = Array.from({ length: 3_000 }, (_, i) => ({
        chain: `2026-12-05.${String(i).padStart(12, 'a')}`,
        seq: i + 1,
        hash: createHash('sha256').update(String(i)).digest('hex'),
      }));
      const id = randomId('cp');
      await subject.store.saveCheckpoint({ id, at: '2026-12-05T00:15:00.000Z', jws: 'jws' }, heads);
      const read: typeof heads = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await subject.store.checkpointHeads(id, cursor);
        read.push(...page.items);
        cursor = page.cursor;
        pages += 1;
      } while (cursor && pages < 100);
      expect(pages).toBeGreaterThan(1);
      expect(read).toEqual(heads);
      // No heads: one empty page; an unknown checkpoint likewise; a made-up cursor is refused.
      const none = randomId('cp');
      await subject.store.saveCheckpoint({ id: none, at: '2026-12-05T00:16:00.000Z', jws: 'jws' }, []);
      expect(await subject.store.checkpointHeads(none)).toEqual({ items: [] });
      expect(await subject.store.checkpointHeads(randomId('cp'))).toEqual({ items: [] });
      const error = await rejection(subject.store.checkpointHeads(id, 'nope'));
      expect((error as InvalidInputError).code).toBe('invalid_cursor');
    });

    it('claims the on-demand checkpoint slot once per interval, atomically, and names when it frees', async () => {
      const t = Date.parse('2026-12-05T00:00:00.000Z');
      expect(await subject.store.claimOnDemand(t, t + 60_000)).toEqual({ claimed: true });
      expect(await subject.store.claimOnDemand(t + 59_999, t + 119_999)).toEqual({
        claimed: false,
        until: t + 60_000,
      });
      // Racing claims while it is held: none succeeds, the held one stays.
      const raced = await Promise.all(
        Array.from({ length: 5 }, () => subject.store.claimOnDemand(t + 1_000, t + 61_000)),
      );
      expect(raced.every((claim) => !claim.claimed)).toBe(true);
      // Free at its end: of racing claims exactly one wins, and the others see its end.
      const next = await Promise.all(
        Array.from({ length: 5 }, () => subject.store.claimOnDemand(t + 60_000, t + 120_000)),
      );
      expect(next.filter((claim) => claim.claimed)).toHaveLength(1);
      expect(next.filter((claim) => !claim.claimed)).toEqual(
        Array.from({ length: 4 }, () => ({ claimed: false, until: t + 120_000 })),
      );
      // An interval of 0 (the limit lifted): each claim ends as it starts, so the next one at once wins.
      expect(await subject.store.claimOnDemand(t + 120_000, t + 120_000)).toEqual({ claimed: true });
      expect(await subject.store.claimOnDemand(t + 120_000, t + 120_000)).toEqual({ claimed: true });
    });
  });
}
