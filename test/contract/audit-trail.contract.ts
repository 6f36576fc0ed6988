import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuditEntry, AuditTrail, LicenceAuditPages } from '../../shared/audit/audit-trail.js';
import { checkTrail } from '../../shared/supervision/audit-chain.js';
import { licenceAuditEntries } from '../support/audit-entries.js';
import type { Make } from './subject.js';

/** An entry without the chain links and holder commitment a chained trail adds (shared/supervision/audit-chain.ts): as recorded. */
export const unlinked = (entries: readonly AuditEntry[]) =>
  entries.map(
    ({ chain: _c, seq: _s, prevHash: _p, hash: _h, holderCommitment: _hc, holderSalt: _hs, ...entry }) =>
      entry,
  );

/**
 * The {@link AuditTrail} contract: append-only (nothing overwritten), one licence's entries oldest first,
 * as read back page by page through the same store's {@link LicenceAuditPages}.
 */
export function auditTrailContract(
  name: string,
  make: Make<{ trail: AuditTrail; pages: LicenceAuditPages }>,
): void {
  describe(`AuditTrail contract: ${name}`, () => {
    let subject: Awaited<ReturnType<typeof make>>;
    beforeEach(async () => {
      subject = await make();
    });
    afterEach(async () => {
      await subject.cleanup();
    });

    it('answers a licence’s entries oldest first, whatever order they were written in', async () => {
      const licenceId = `lic-${randomUUID()}`;
      const entry = (at: string, action: string): AuditEntry => ({
        at,
        actor: 'cl_issuer',
        action,
        licenceId,
        issuerId: 'iss_contract',
        holderMasked: '110105********1234',
      });
      const issued = entry('2026-01-01T00:00:00.000Z', 'licence.issued');
      const suspended = entry('2026-01-02T00:00:00.000Z', 'licence.suspended');
      const revoked = { ...entry('2026-01-03T00:00:00.000Z', 'licence.revoked'), reason: '吊销' };
      await subject.trail.record(suspended);
      await subject.trail.record(revoked);
      await subject.trail.record(issued);
      await subject.trail.record({
        at: '2026-01-02T00:00:00.000Z',
        actor: 'anonymous',
        action: 'licence.verified',
      });
      await subject.trail.record({ ...issued, licenceId: `lic-${randomUUID()}` });
      expect(unlinked(await licenceAuditEntries(subject.pages, licenceId))).toEqual([
        issued,
        suspended,
        revoked,
      ]);
      expect(await licenceAuditEntries(subject.pages, `lic-${randomUUID()}`)).toEqual([]);
    });

    it('pages a licence’s entries: at most `limit` a page, each once, no cursor after the last', async () => {
      const licenceId = `lic-${randomUUID()}`;
      const entries = Array.from({ length: 5 }, (_, i): AuditEntry => ({
        at: `2026-01-01T00:00:0${i}.000Z`,
        actor: 'anonymous',
        action: 'licence.verified',
        licenceId,
        verdict: 'valid',
      }));
      for (const entry of entries) await subject.trail.record(entry);
      const pages: AuditEntry[][] = [];
      let cursor: string | undefined;
      do {
        const page = await subject.pages.licencePage(licenceId, { limit: 2, ...(cursor ? { cursor } : {}) });
        pages.push(page.items);
        cursor = page.cursor;
      } while (cursor && pages.length < 10);
      expect(pages.map((page) => page.length)).toEqual([2, 2, 1]);
      expect(unlinked(pages.flat())).toEqual(entries);
      await expect(
        subject.pages.licencePage(licenceId, { limit: 2, cursor: 'not-a-cursor' }),
      ).rejects.toMatchObject({ code: 'invalid_cursor' });
    });

    it('answers each entry’s place in the list, ordered as the list is, and where a page after a cursor starts', async () => {
      const licenceId = `lic-${randomUUID()}`;
      for (let i = 0; i < 5; i += 1) {
        await subject.trail.record({
          at: `2026-01-01T00:00:0${i}.000Z`,
          actor: 'anonymous',
          action: 'licence.verified',
          licenceId,
        });
      }
      const first = await subject.pages.licencePage(licenceId, { limit: 2 });
      const second = await subject.pages.licencePage(licenceId, { limit: 2, cursor: first.cursor! });
      const last = await subject.pages.licencePage(licenceId, { limit: 2, cursor: second.cursor! });
      for (const page of [first, second, last]) expect(page.positions).toHaveLength(page.items.length);
      // Compared as text, the places run as the list does (oldest first), across pages.
      const places = [first, second, last].flatMap((page) => page.positions);
      expect([...places].sort()).toEqual(places);
      expect(new Set(places).size).toBe(5);
      // A page says where it starts: just after the last place of the page before, at that entry's time,
      // and answers that entry (the cursor's anchor) while it is still on the list.
      expect(first.after).toBeUndefined();
      expect(second.after).toEqual({
        at: first.items[1]!.at,
        position: first.positions[1],
        entry: first.items[1],
      });
      expect(last.after).toEqual({
        at: second.items[1]!.at,
        position: second.positions[1],
        entry: second.items[1],
      });
    });

    it('never overwrites: the same entry twice is two entries', async () => {
      const licenceId = `lic-${randomUUID()}`;
      const verified = {
        at: '2026-01-01T00:00:00.000Z',
        actor: 'anonymous',
        action: 'licence.verified',
        licenceId,
        verdict: 'valid',
      };
      await Promise.all([subject.trail.record(verified), subject.trail.record(verified)]);
      expect(unlinked(await licenceAuditEntries(subject.pages, licenceId))).toEqual([verified, verified]);
    });

    it('writes an entry recorded under a key once: again under it is a no-op, and the chain runs on unbroken', async () => {
      const licenceId = `lic-${randomUUID()}`;
      const revoked: AuditEntry = {
        at: '2026-01-01T10:00:00.000Z',
        actor: 'cl_issuer',
        action: 'licence.revoked',
        licenceId,
      };
      const once = { key: `${licenceId}#2#0`, writtenAt: '2026-01-01T10:00:01.000Z' };
      await subject.trail.record(revoked, once);
      // A retry, the reconciler, a completer that took the first write for failed: nothing more.
      await subject.trail.record(revoked, once);
      await subject.trail.record(revoked, { ...once, writtenAt: '2026-01-01T10:05:00.000Z' });
      const after = { ...revoked, at: '2026-01-01T10:06:00.000Z', action: 'licence.verified' };
      await subject.trail.record(after);
      const entries = await licenceAuditEntries(subject.pages, licenceId);
      expect(unlinked(entries)).toEqual([revoked, after]);
      // A chained trail: the entry after the no-op links to the one entry, no gap, no fork.
      expect(checkTrail(entries).faults).toEqual([]);
    });

    it('puts an entry written once after its day ended on a chain of the day it is written', async () => {
      const licenceId = `lic-${randomUUID()}`;
      const late: AuditEntry = {
        at: '2026-01-01T23:59:50.000Z',
        actor: 'cl_issuer',
        action: 'licence.suspended',
        licenceId,
      };
      await subject.trail.record(late, { key: `${licenceId}#3#0`, writtenAt: '2026-01-02T00:20:00.000Z' });
      const [entry] = await licenceAuditEntries(subject.pages, licenceId);
      expect(entry?.at).toBe(late.at);
      // Chained trails only (the in-memory one has no chains).
      if (entry?.chain !== undefined) expect(entry.chain.slice(0, 10)).toBe('2026-01-02');
    });
  });
}
