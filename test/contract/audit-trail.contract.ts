import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuditEntry, AuditTrail } from '../../shared/audit/audit-trail.js';
import type { Make } from './subject.js';

/** An entry without the chain links and holder commitment a chained trail adds (shared/supervision/audit-chain.ts): as recorded. */
export const unlinked = (entries: readonly AuditEntry[]) =>
  entries.map(
    ({ chain: _c, seq: _s, prevHash: _p, hash: _h, holderCommitment: _hc, holderSalt: _hs, ...entry }) =>
      entry,
  );

/** The {@link AuditTrail} contract: append-only (nothing overwritten), one licence's entries oldest first. */
export function auditTrailContract(name: string, make: Make<{ trail: AuditTrail }>): void {
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
      expect(unlinked(await subject.trail.forLicence(licenceId))).toEqual([issued, suspended, revoked]);
      expect(await subject.trail.forLicence(`lic-${randomUUID()}`)).toEqual([]);
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
      expect(unlinked(await subject.trail.forLicence(licenceId))).toEqual([verified, verified]);
    });
  });
}
