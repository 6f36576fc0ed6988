import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConflictError } from '../../shared/errors.js';
import { issuerListing, type Issuer } from '../../shared/issuers/issuer.js';
import type { IssuerStore } from '../../shared/issuers/issuer-store.js';
import type { CarriedAudit, PendingWorkIndex } from '../../shared/pending-work/pending-work.js';
import { rejection, type Make } from './subject.js';

/** An issuer being onboarded; id and credit code fresh unless given. */
function provisioning(overrides: Partial<Issuer> = {}): Issuer {
  const unique = randomUUID().replaceAll('-', '').toUpperCase();
  return {
    id: `iss_${unique.slice(0, 16)}`,
    name: '测试市公安局交通管理局',
    creditCode: `1131${unique.slice(0, 14)}`,
    region: '310000',
    licenceTypes: ['driving-licence'],
    status: 'provisioning',
    createdAt: '2026-01-01T00:00:00.000Z',
    version: 0,
    ...overrides,
  };
}

/** The audit entry of an operator's change of `issuer` (its version `version`), as pending work carries it. */
function carriedChange(issuer: Issuer, version: number, at: string): CarriedAudit {
  const key = `issuer-changed#${issuer.id}#${version}`;
  return {
    id: key,
    owner: 'demo-admin',
    since: at,
    audit: [{ key, entry: { at, actor: 'demo-admin', action: 'issuer.withdrawn', issuerId: issuer.id } }],
  };
}

/**
 * The {@link IssuerStore} contract: a credit code claimed once (`issuer_exists`), saves under the
 * version (`issuer_changed`), a save with its audit entry's pending work all or nothing (in `operatorAudit`,
 * the index of issuer changes), a release that removes only a claim still provisioning, and reads by id,
 * credit code and all.
 */
export function issuerStoreContract(
  name: string,
  make: Make<{ store: IssuerStore; operatorAudit: PendingWorkIndex }>,
): void {
  describe(`IssuerStore contract: ${name}`, () => {
    let subject: Awaited<ReturnType<typeof make>>;
    let store: IssuerStore;
    beforeEach(async () => {
      subject = await make();
      store = subject.store;
    });
    afterEach(async () => {
      await subject.cleanup();
    });

    it('claims a credit code at version 1, found by id and by credit code; unknown ones are not found', async () => {
      const issuer = provisioning();
      const claimed = await store.claim(issuer);
      expect(claimed).toEqual({ ...issuer, version: 1 });
      expect(await store.findById(issuer.id)).toEqual(claimed);
      expect(await store.findByCreditCode(issuer.creditCode)).toEqual(claimed);
      expect(await store.findById('iss_unknown')).toBeUndefined();
      expect(await store.findByCreditCode('11310000000000000X')).toBeUndefined();
    });

    it('lets exactly one of concurrent claims of a credit code win; the others are issuer_exists', async () => {
      const creditCode = provisioning().creditCode;
      const outcomes = await Promise.allSettled(
        Array.from({ length: 5 }, () => store.claim(provisioning({ creditCode }))),
      );
      const won = outcomes.filter((outcome) => outcome.status === 'fulfilled');
      expect(won).toHaveLength(1);
      for (const outcome of outcomes) {
        if (outcome.status === 'rejected') {
          expect(outcome.reason).toBeInstanceOf(ConflictError);
          expect(outcome.reason).toMatchObject({ code: 'issuer_exists' });
        }
      }
      expect((await store.findByCreditCode(creditCode))?.id).toBe(won[0]?.value.id);
    });

    it('saves under the version read: a stale save is issuer_changed and changes nothing', async () => {
      const claimed = await store.claim(provisioning());
      const active = await store.save({ ...claimed, status: 'active', keyId: 'key-1' });
      expect(active).toMatchObject({ status: 'active', keyId: 'key-1', version: 2 });
      expect(await store.findById(claimed.id)).toEqual(active);
      const error = await rejection(store.save({ ...claimed, status: 'withdrawn' }));
      expect(error).toBeInstanceOf(ConflictError);
      expect(error).toMatchObject({ code: 'issuer_changed' });
      expect(await store.findByCreditCode(claimed.creditCode)).toEqual(active);
    });

    it('saves a change with its audit entry as pending work, claimed for the caller, or neither (issuer_changed)', async () => {
      const active = await store.save({ ...(await store.claim(provisioning())), status: 'active' });
      const at = '2026-03-01T08:00:00.000Z';
      const now = new Date(at);
      const change = carriedChange(active, active.version + 1, at);
      const claim = randomUUID();
      const saved = await store.saveWithAudit(
        { ...active, status: 'withdrawn' },
        { carried: change, claim, at: now },
      );
      expect(saved).toMatchObject({ status: 'withdrawn', version: active.version + 1 });
      expect(await store.findById(active.id)).toEqual(saved);
      const later = new Date(now.getTime() + 3_600_000);
      expect(await subject.operatorAudit.olderThan(later, 10)).toEqual([
        { id: change.id, since: at, audit: change.audit },
      ]);
      // Put already claimed, its lease from `now`: nobody else takes it within it; the caller removes it.
      expect(await subject.operatorAudit.claim(change.id, new Date(now.getTime() + 59_000))).toBeUndefined();
      await subject.operatorAudit.remove(change.id, claim);
      expect(await subject.operatorAudit.olderThan(later, 10)).toEqual([]);

      // A stale copy: neither the issuer nor the pointer is written.
      const stale = carriedChange(active, active.version + 1, at);
      const error = await rejection(
        store.saveWithAudit(
          { ...active, name: 'stale' },
          { carried: { ...stale, id: `${stale.id}x` }, claim: randomUUID(), at: now },
        ),
      );
      expect(error).toBeInstanceOf(ConflictError);
      expect(error).toMatchObject({ code: 'issuer_changed' });
      expect(await store.findById(active.id)).toEqual(saved);
      expect(await subject.operatorAudit.olderThan(later, 10)).toEqual([]);
    });

    it('releases a claim still provisioning, and nothing else', async () => {
      const abandoned = await store.claim(provisioning());
      await store.release(abandoned);
      expect(await store.findByCreditCode(abandoned.creditCode)).toBeUndefined();
      expect(await store.findById(abandoned.id)).toBeUndefined();

      const active = await store.save({ ...(await store.claim(provisioning())), status: 'active' });
      await store.release(active);
      expect(await store.findById(active.id)).toEqual(active);

      // Another issuer's claim of the same credit code is not released by a stale copy of the first.
      const mine = await store.claim(provisioning());
      await store.release({ ...mine, id: 'iss_someone_else' });
      expect(await store.findById(mine.id)).toEqual(mine);
    });

    it('lists every issuer, withdrawn ones included, with the listed members only', async () => {
      const a = await store.claim(provisioning());
      const b = await store.save({ ...(await store.claim(provisioning())), status: 'withdrawn' });
      const c = await store.save({
        ...(await store.claim(provisioning())),
        status: 'withdrawn',
        clientId: 'client-c',
        withdrawalReason: 'merged',
      });
      const all = await store.listAll();
      // As listed: what the trust list and the peers' checks read, not its client or why it was withdrawn.
      expect(all).toEqual(expect.arrayContaining([a, b, c].map(issuerListing)));
      expect(all).toHaveLength(3);
      for (const listed of all) {
        expect(listed).not.toHaveProperty('clientId');
        expect(listed).not.toHaveProperty('withdrawalReason');
        expect(listed).not.toHaveProperty('version');
      }
    });
  });
}
