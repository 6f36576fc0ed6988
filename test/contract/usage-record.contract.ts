import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuditEntry, AuditTrail } from '../../shared/audit/audit-trail.js';
import { InvalidInputError } from '../../shared/errors.js';
import type { UsageRecord } from '../../shared/licence/usage-record.js';
import { holderAttribution } from '../../shared/supervision/audit-chain.js';
import { rejection, type Make } from './subject.js';
import { unlinked } from './audit-trail.contract.js';

/**
 * The {@link UsageRecord} contract: it reads what the {@link AuditTrail} wrote, the entries carrying one
 * of the holders' keys, newest first, page by page, each entry once.
 */
export function usageRecordContract(
  name: string,
  make: Make<{ trail: AuditTrail; usage: UsageRecord }>,
  options: {
    /**
     * Whether a page of one action is exact: the newest `limit` entries of that action, however many of
     * another are newer (an index by holder and action). False for a store that may bound what it reads.
     */
    exactByAction?: boolean;
  } = { exactByAction: true },
): void {
  describe(`UsageRecord contract: ${name}`, () => {
    let subject: Awaited<ReturnType<typeof make>>;
    beforeEach(async () => {
      subject = await make();
    });
    afterEach(async () => {
      await subject.cleanup();
    });

    const entry = (at: string, holderKey: string | undefined, action = 'licence.verified'): AuditEntry => ({
      at,
      actor: 'anonymous',
      action,
      licenceId: `lic-${randomUUID()}`,
      licenceType: 'driving-licence',
      verdict: 'valid',
      ...(holderKey ? { holderKey } : {}),
    });

    it('answers a holder’s entries newest first, and no one else’s', async () => {
      const [mine, theirs] = [`hk-${randomUUID()}`, `hk-${randomUUID()}`];
      const first = entry('2026-12-01T08:00:00.000Z', mine, 'licence.presented');
      const second = entry('2026-12-02T08:00:00.000Z', mine);
      const third = { ...entry('2026-12-03T08:00:00.000Z', mine, 'licence.shared'), purpose: '办理车辆登记' };
      for (const written of [second, third, first]) await subject.trail.record(written);
      await subject.trail.record(entry('2026-12-02T09:00:00.000Z', theirs));
      await subject.trail.record(entry('2026-12-02T10:00:00.000Z', undefined));

      const page = await subject.usage.forHolders([mine], { limit: 10 });
      expect({ items: unlinked(page.items) }).toEqual({ items: [third, second, first] });
      // Each read back as written: a trail that commits to the holder (security review L2) proves it.
      for (const one of page.items) expect(holderAttribution(one)).not.toBe('mismatch');
      expect(await subject.usage.forHolders([`hk-${randomUUID()}`], { limit: 10 })).toEqual({ items: [] });
      expect(await subject.usage.forHolders([], { limit: 10 })).toEqual({ items: [] });
    });

    it('merges several holders (a person and the entity they act for) and pages through them once', async () => {
      const [person, entity] = [`hk-${randomUUID()}`, `hk-${randomUUID()}`];
      const written: AuditEntry[] = [];
      for (let i = 0; i < 7; i++) {
        const at = `2026-12-05T0${i}:00:00.000Z`;
        written.push(entry(at, i % 2 === 0 ? person : entity));
      }
      // Two entries of one instant, one per holder: each comes once, in a stable order.
      written.push(entry('2026-12-05T03:00:00.000Z', person));
      for (const one of [...written].reverse()) await subject.trail.record(one);

      const seen: AuditEntry[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await subject.usage.forHolders([person, entity], {
          limit: 3,
          ...(cursor ? { cursor } : {}),
        });
        expect(page.items.length).toBeLessThanOrEqual(3);
        seen.push(...page.items);
        cursor = page.cursor;
        pages += 1;
      } while (cursor && pages < 10);
      expect(pages).toBe(3);
      expect(seen).toHaveLength(written.length);
      expect(seen.map((one) => one.at)).toEqual(
        written
          .map((one) => one.at)
          .sort()
          .reverse(),
      );
      expect(new Set(seen.map((one) => one.licenceId)).size).toBe(written.length);
      // A page that ends exactly at the last entry says so: no cursor to an empty page.
      const exact = await subject.usage.forHolders([person], { limit: 5 });
      expect(exact.items).toHaveLength(5);
      expect(exact.cursor).toBeUndefined();
    });

    it('answers one action only, and pages through a record a flood of another buries, each once', async () => {
      const [person, entity] = [`hk-${randomUUID()}`, `hk-${randomUUID()}`];
      const at = (minute: number) => new Date(Date.UTC(2026, 11, 5, 8, 0, 0) + minute * 60_000).toISOString();
      // Shares among a flood of anonymous verifications, most of them newer than every share.
      const shares = [3, 9, 10].map((minute, i) => ({
        ...entry(at(minute), i === 1 ? entity : person, 'licence.shared'),
        actor: 'cl_platform',
        purpose: '办理车辆登记',
      }));
      const flood = Array.from({ length: 30 }, (_, i) => entry(at(i < 4 ? i * 2 : 11 + i), person));
      for (const one of [...flood, ...shares]) await subject.trail.record(one);

      const unfiltered = await subject.usage.forHolders([person, entity], { limit: 10 });
      expect(unfiltered.items.map((one) => one.action)).toEqual(Array(10).fill('licence.verified'));

      const seen: AuditEntry[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await subject.usage.forHolders([person, entity], {
          limit: 2,
          action: 'licence.shared',
          ...(cursor ? { cursor } : {}),
        });
        expect(page.items.length).toBeLessThanOrEqual(2);
        seen.push(...page.items);
        cursor = page.cursor;
        pages += 1;
      } while (cursor && pages < 40);
      expect(cursor).toBeUndefined();
      expect(unlinked(seen)).toEqual([shares[2], shares[1], shares[0]]);
      const presented = await subject.usage.forHolders([person], { limit: 5, action: 'licence.presented' });
      expect(presented.items).toEqual([]);
    });

    it('answers any of several actions (a kind gathering several), merged newest first, each once', async () => {
      const person = `hk-${randomUUID()}`;
      const at = (minute: number) => new Date(Date.UTC(2026, 11, 6, 8, 0, 0) + minute * 60_000).toISOString();
      const counter = (minute: number, action: string): AuditEntry => ({
        at: at(minute),
        actor: 'elicence-console',
        action,
        issuerId: 'iss_1',
        holderKey: person,
      });
      const wanted = [
        counter(1, 'account.proven'),
        counter(4, 'account.proof_refused'),
        counter(6, 'account.taken_over'),
      ];
      const flood = Array.from({ length: 8 }, (_, i) => entry(at(i), person));
      for (const one of [...flood, ...wanted, counter(5, 'account.looked_up')])
        await subject.trail.record(one);

      const actions = ['account.proven', 'account.taken_over', 'account.proof_refused'];
      const seen: AuditEntry[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await subject.usage.forHolders([person], {
          limit: 2,
          action: actions,
          ...(cursor ? { cursor } : {}),
        });
        seen.push(...page.items);
        cursor = page.cursor;
        pages += 1;
      } while (cursor && pages < 40);
      expect(unlinked(seen)).toEqual([wanted[2], wanted[1], wanted[0]]);
    });

    it.runIf(options.exactByAction)(
      'answers the newest entries of one action on the first page, however many of another are newer',
      async () => {
        const person = `hk-${randomUUID()}`;
        const at = (second: number) => new Date(Date.UTC(2026, 11, 5, 8, 0, second)).toISOString();
        const shares = [0, 1].map((second) => ({
          ...entry(at(second), person, 'licence.shared'),
          actor: 'cl_platform',
          purpose: '办理车辆登记',
        }));
        // A flood newer than both shares: more than any bounded read of a filtered page would get past.
        const flood = Array.from({ length: 40 }, (_, i) => entry(at(2 + i), person));
        for (const one of [...shares, ...flood]) await subject.trail.record(one);

        const first = await subject.usage.forHolders([person], { limit: 2, action: 'licence.shared' });
        expect(unlinked(first.items)).toEqual([shares[1], shares[0]]);
        expect(first.cursor).toBeUndefined();
        const one = await subject.usage.forHolders([person], { limit: 1, action: 'licence.shared' });
        expect(unlinked(one.items)).toEqual([shares[1]]);
        const next = await subject.usage.forHolders([person], {
          limit: 1,
          action: 'licence.shared',
          cursor: one.cursor!,
        });
        expect(unlinked(next.items)).toEqual([shares[0]]);
        expect(next.cursor).toBeUndefined();
        // The cursor of an unfiltered page goes on in a filtered one too (positions are shared).
        const unfiltered = await subject.usage.forHolders([person], { limit: 3 });
        const after = await subject.usage.forHolders([person], {
          limit: 5,
          action: 'licence.shared',
          cursor: unfiltered.cursor!,
        });
        expect(unlinked(after.items)).toEqual([shares[1], shares[0]]);
      },
    );

    it('refuses a cursor it did not make, naming it', async () => {
      for (const cursor of ['nonsense', 'bm90IGEgY3Vyc29y', '', `${'A'.repeat(300)}`, "' OR 1=1"]) {
        const error = await rejection(subject.usage.forHolders([`hk-${randomUUID()}`], { limit: 5, cursor }));
        expect(error, cursor).toBeInstanceOf(InvalidInputError);
        expect((error as InvalidInputError).code).toBe('invalid_cursor');
        expect((error as InvalidInputError).errors.map((e) => e.path)).toEqual(['cursor']);
      }
    });
  });
}
