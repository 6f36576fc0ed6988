import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConflictError, ServiceError } from '../../shared/errors.js';
import type { LicenceRecord } from '../../shared/licence/licence.js';
import type { LicenceQuery, LicenceStore } from '../../shared/licence/licence-store.js';
import { rejection, type Make } from './subject.js';

const now = new Date('2026-06-01T00:00:00.000Z');

/** A stored-form licence; ids and lookup keys are fresh unless given. */
export function licenceRecord(overrides: Partial<LicenceRecord> = {}): LicenceRecord {
  const issuedAt = overrides.issuedAt ?? '2026-01-01T00:00:00.000Z';
  return {
    id: `lic-${randomUUID()}`,
    type: 'driving-licence',
    issuerId: 'iss_contract',
    holder: { kind: 'person', name: '李测试', masked: '110105********1234', lookupKey: `lk-${randomUUID()}` },
    fields: { vehicleClass: 'C1', firstIssuedOn: '2015-03-01' },
    status: 'valid',
    statusList: { listId: 'iss_contract.0', idx: 7 },
    issuedAt,
    validFrom: issuedAt,
    validUntil: '2032-01-01T00:00:00.000Z',
    credential: 'eyJhbGciOiJub25lIn0.e30.',
    history: [{ at: issuedAt, action: 'issued', actor: 'cl_issuer' }],
    version: 0,
    ...overrides,
  };
}

/** Every licence a query lists, following cursors to the end; each page no longer than the limit. */
async function everyPage(store: LicenceStore, issuerId: string, query: Omit<LicenceQuery, 'now'>) {
  const ids: string[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 50; pages++) {
    const page = await store.listByIssuer(issuerId, { ...query, now, ...(cursor ? { cursor } : {}) });
    expect(page.items.length).toBeLessThanOrEqual(query.limit);
    ids.push(...page.items.map((licence) => licence.id));
    cursor = page.cursor;
    if (!cursor) return ids;
  }
  throw new Error('the cursor never ran out');
}

/**
 * The {@link LicenceStore} contract (see its TSDoc), for any implementation: conditional create, versioned
 * save, newest-first lists, status filters with the derived `expired`, and cursors bound to their query.
 */
export function licenceStoreContract(name: string, make: Make<{ store: LicenceStore }>): void {
  describe(`LicenceStore contract: ${name}`, () => {
    let subject: Awaited<ReturnType<typeof make>>;
    let store: LicenceStore;
    beforeEach(async () => {
      subject = await make();
      store = subject.store;
    });
    afterEach(async () => {
      await subject.cleanup();
    });

    it('creates at version 1 and reads back what it stored; an unknown id is not found', async () => {
      const licence = licenceRecord();
      const created = await store.create(licence);
      expect(created).toEqual({ ...licence, version: 1 });
      expect(await store.get(licence.id)).toEqual(created);
      expect(await store.get(`lic-${randomUUID()}`)).toBeUndefined();
    });

    it('refuses a second create of the same id with ConflictError licence_exists, keeping the first', async () => {
      const first = await store.create(licenceRecord());
      const error = await rejection(store.create(licenceRecord({ id: first.id, type: 'other' })));
      expect(error).toBeInstanceOf(ConflictError);
      expect(error).toMatchObject({ code: 'licence_exists' });
      expect(await store.get(first.id)).toEqual(first);
    });

    it('saves under its version: each save moves the version on, a stale one is licence_changed', async () => {
      const created = await store.create(licenceRecord());
      const suspended = await store.save({ ...created, status: 'suspended', statusReason: '记满12分' });
      expect(suspended).toMatchObject({ status: 'suspended', version: 2 });
      expect(await store.get(created.id)).toEqual(suspended);

      const stale = await rejection(store.save({ ...created, status: 'revoked' }));
      expect(stale).toBeInstanceOf(ConflictError);
      expect(stale).toMatchObject({ code: 'licence_changed' });
      expect(await store.get(created.id)).toEqual(suspended);
    });

    it('clears pending work at its version without a new one; a moved version or unknown id clears nothing', async () => {
      const pending = {
        since: '2026-03-01T08:00:00.000Z',
        audit: [{ at: '2026-03-01T08:00:00.000Z', actor: 'cl', action: 'licence.issued' }],
      };
      const created = await store.create(licenceRecord({ pending }));
      expect(created.pending).toEqual(pending);
      const saved = await store.save({ ...created, status: 'suspended' });
      expect(await store.clearPending(created.id, created.version)).toBeUndefined();
      expect((await store.get(created.id))?.pending).toEqual(pending);

      const cleared = await store.clearPending(created.id, saved.version);
      const { pending: _pending, ...withoutPending } = saved;
      expect(cleared).toEqual(withoutPending);
      expect(await store.get(created.id)).toEqual(withoutPending);
      // Bookkeeping, not a change: a save of the version read before the clear still goes through.
      expect(await store.save({ ...saved, status: 'valid' })).toMatchObject({ version: saved.version + 1 });
      expect(await store.clearPending(`lic-${randomUUID()}`, 1)).toBeUndefined();
    });

    it('lets exactly one of concurrent saves of one version win', async () => {
      const created = await store.create(licenceRecord());
      const outcomes = await Promise.allSettled(
        (['suspended', 'revoked', 'suspended', 'revoked'] as const).map((status) =>
          store.save({ ...created, status }),
        ),
      );
      expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
      for (const outcome of outcomes) {
        if (outcome.status === 'rejected') expect(outcome.reason).toBeInstanceOf(ConflictError);
      }
      expect((await store.get(created.id))?.version).toBe(2);
    });

    it('lists an issuer’s licences newest first across pages, each once, and no other issuer’s', async () => {
      const issuerId = `iss_${randomUUID().slice(0, 8)}`;
      const written: LicenceRecord[] = [];
      for (let day = 1; day <= 7; day++) {
        const issuedAt = `2026-01-0${day}T00:00:00.000Z`;
        written.push(await store.create(licenceRecord({ issuerId, issuedAt })));
      }
      await store.create(licenceRecord({ issuerId: 'iss_someone_else' }));
      const newestFirst = written.map((licence) => licence.id).reverse();
      expect(await everyPage(store, issuerId, { limit: 3 })).toEqual(newestFirst);
      expect(await everyPage(store, issuerId, { limit: 7 })).toEqual(newestFirst);
      expect(await everyPage(store, issuerId, { limit: 100 })).toEqual(newestFirst);
      const first = await store.listByIssuer(issuerId, { limit: 100, now });
      expect(first.items).toEqual([...written].reverse());
      expect(first.cursor).toBeUndefined();
    });

    it('filters by the kid of the credential’s header (signedBy), across pages and in the count', async () => {
      const issuerId = `iss_${randomUUID().slice(0, 8)}`;
      const signedBy = (kid: string) =>
        `${Buffer.from(JSON.stringify({ alg: 'ES256', typ: 'vc+jwt', kid })).toString('base64url')}.e30.sig`;
      const withdrawn: string[] = [];
      for (let day = 1; day <= 9; day++) {
        const kid = day % 3 === 0 ? 'kid-current' : day % 3 === 1 ? 'kid-withdrawn' : 'kid-batch';
        const licence = await store.create(
          licenceRecord({ issuerId, issuedAt: `2026-02-0${day}T00:00:00.000Z`, credential: signedBy(kid) }),
        );
        if (kid !== 'kid-current') withdrawn.unshift(licence.id);
      }
      const kids = ['kid-withdrawn', 'kid-batch'];
      expect(await everyPage(store, issuerId, { limit: 2, signedBy: kids })).toEqual(withdrawn);
      expect(await everyPage(store, issuerId, { limit: 100, signedBy: kids })).toEqual(withdrawn);
      expect(await everyPage(store, issuerId, { limit: 5, signedBy: [] })).toEqual([]);
      expect(await store.countByIssuer(issuerId, { now, signedBy: kids }, 100)).toEqual({
        count: 6,
        capped: false,
      });
      expect(await store.countByIssuer(issuerId, { now, signedBy: kids }, 4)).toEqual({
        count: 4,
        capped: true,
      });
    });

    it('lists by holder within an issuer, and filters by status with `expired` derived from validUntil', async () => {
      const issuerId = `iss_${randomUUID().slice(0, 8)}`;
      const lookupKey = `lk-${randomUUID()}`;
      const holder = { kind: 'person' as const, name: '王测试', masked: '310104********0012', lookupKey };
      const valid = await store.create(
        licenceRecord({ issuerId, holder, issuedAt: '2026-01-03T00:00:00.000Z' }),
      );
      const expired = await store.create(
        licenceRecord({
          issuerId,
          holder,
          issuedAt: '2026-01-02T00:00:00.000Z',
          validUntil: '2026-05-01T00:00:00.000Z',
        }),
      );
      const suspended = await store.create(licenceRecord({ issuerId, status: 'suspended' }));
      await store.create(licenceRecord({ issuerId: 'iss_other', holder }));

      expect(await everyPage(store, issuerId, { holderLookupKey: lookupKey, limit: 1 })).toEqual([
        valid.id,
        expired.id,
      ]);
      expect(await everyPage(store, issuerId, { status: 'valid', limit: 1 })).toEqual([valid.id]);
      expect(await everyPage(store, issuerId, { status: 'expired', limit: 10 })).toEqual([expired.id]);
      expect(await everyPage(store, issuerId, { status: 'suspended', limit: 10 })).toEqual([suspended.id]);
      expect(await everyPage(store, issuerId, { status: 'revoked', limit: 10 })).toEqual([]);
    });

    it('searches by type, holder name, number part and issue-date range, oldest first on request, and counts to a cap', async () => {
      const issuerId = `iss_${randomUUID().slice(0, 8)}`;
      const person = (name: string) => ({
        kind: 'person' as const,
        name,
        masked: '110105********1234',
        lookupKey: `lk-${randomUUID()}`,
      });
      const a = await store.create(
        licenceRecord({
          issuerId,
          id: `N-${randomUUID()}-0101`,
          holder: person('张三丰'),
          issuedAt: '2026-03-01T01:00:00.000Z',
        }),
      );
      const b = await store.create(
        licenceRecord({
          issuerId,
          holder: person('李四'),
          type: 'business-licence',
          issuedAt: '2026-03-02T01:00:00.000Z',
        }),
      );
      const c = await store.create(
        licenceRecord({ issuerId, holder: person('张小三'), issuedAt: '2026-03-03T01:00:00.000Z' }),
      );
      // Exactly at the upper bound: excluded (the bound is "before").
      const d = await store.create(
        licenceRecord({ issuerId, holder: person('王五'), issuedAt: '2026-03-04T00:00:00.000Z' }),
      );
      await store.create(licenceRecord({ issuerId: 'iss_other', holder: person('张三丰') }));

      expect(await everyPage(store, issuerId, { holderName: '三', limit: 1 })).toEqual([c.id, a.id]);
      expect(await everyPage(store, issuerId, { type: 'business-licence', limit: 5 })).toEqual([b.id]);
      expect(await everyPage(store, issuerId, { number: '-0101', limit: 5 })).toEqual([a.id]);
      const march2to3 = { issuedFrom: '2026-03-02T00:00:00.000Z', issuedBefore: '2026-03-04T00:00:00.000Z' };
      expect(await everyPage(store, issuerId, { ...march2to3, limit: 1 })).toEqual([c.id, b.id]);
      expect(await everyPage(store, issuerId, { issuedFrom: '2026-03-03T00:00:00.000Z', limit: 1 })).toEqual([
        d.id,
        c.id,
      ]);
      expect(await everyPage(store, issuerId, { order: 'oldest', limit: 1 })).toEqual([
        a.id,
        b.id,
        c.id,
        d.id,
      ]);
      expect(
        await everyPage(store, issuerId, {
          order: 'oldest',
          holderName: '三',
          type: 'driving-licence',
          limit: 1,
        }),
      ).toEqual([a.id, c.id]);

      expect(await store.countByIssuer(issuerId, { now }, 100)).toEqual({ count: 4, capped: false });
      expect(await store.countByIssuer(issuerId, { now, holderName: '三' }, 100)).toEqual({
        count: 2,
        capped: false,
      });
      expect(await store.countByIssuer(issuerId, { now, ...march2to3 }, 100)).toEqual({
        count: 2,
        capped: false,
      });
      expect(await store.countByIssuer(issuerId, { now }, 3)).toEqual({ count: 3, capped: true });
      expect(await store.countByIssuer(issuerId, { now, holderName: '无此人' }, 3)).toEqual({
        count: 0,
        capped: false,
      });
    });

    it('refuses a cursor of another query, or none at all, with invalid_cursor', async () => {
      const issuerId = `iss_${randomUUID().slice(0, 8)}`;
      const holder = {
        kind: 'person' as const,
        name: '王测试',
        masked: 'x',
        lookupKey: `lk-${randomUUID()}`,
      };
      for (let day = 1; day <= 3; day++) {
        await store.create(licenceRecord({ issuerId, holder, issuedAt: `2026-02-0${day}T00:00:00.000Z` }));
      }
      const { cursor } = await store.listByIssuer(issuerId, { limit: 1, now });
      expect(cursor).toEqual(expect.any(String));
      const ranged = await store.listByIssuer(issuerId, {
        limit: 1,
        now,
        issuedFrom: '2026-02-01T00:00:00.000Z',
      });
      expect(ranged.cursor).toEqual(expect.any(String));
      for (const [otherIssuer, query] of [
        ['iss_other', { limit: 1, now, cursor }],
        [issuerId, { limit: 1, now, cursor, holderLookupKey: holder.lookupKey }],
        [issuerId, { limit: 1, now, cursor: 'not-a-cursor' }],
        [issuerId, { limit: 1, now, cursor: Buffer.from('{"pk":1}').toString('base64url') }],
        // Another issue-date range, or none, or the other direction (review R22: DynamoDB refuses a
        // start key outside the key condition, which was a 500).
        [issuerId, { limit: 1, now, cursor, issuedFrom: '2099-01-01T00:00:00.000Z' }],
        [issuerId, { limit: 1, now, cursor, issuedBefore: '2000-01-02T00:00:00.000Z' }],
        [issuerId, { limit: 1, now, cursor: ranged.cursor, issuedFrom: '2026-02-02T00:00:00.000Z' }],
        [issuerId, { limit: 1, now, cursor: ranged.cursor }],
        [issuerId, { limit: 1, now, cursor, order: 'oldest' }],
      ] as const) {
        const error = await rejection(store.listByIssuer(otherIssuer, query));
        expect(error).toBeInstanceOf(ServiceError);
        expect(error).toMatchObject({ code: 'invalid_cursor', errors: [{ path: 'cursor' }] });
      }
    });

    it('pages through an issue-date range with its cursors, either way, to the range’s end', async () => {
      const issuerId = `iss_${randomUUID().slice(0, 8)}`;
      const ids: string[] = [];
      for (let day = 1; day <= 6; day++) {
        const created = await store.create(
          licenceRecord({ issuerId, issuedAt: `2026-04-0${day}T00:00:00.000Z` }),
        );
        ids.push(created.id);
      }
      const range = { issuedFrom: '2026-04-02T00:00:00.000Z', issuedBefore: '2026-04-06T00:00:00.000Z' };
      expect(await everyPage(store, issuerId, { limit: 1, ...range })).toEqual(ids.slice(1, 5).reverse());
      expect(await everyPage(store, issuerId, { limit: 3, ...range, order: 'oldest' })).toEqual(
        ids.slice(1, 5),
      );
    });

    it('lists a holder’s licences from every issuer, newest first', async () => {
      const lookupKey = `lk-${randomUUID()}`;
      const holder = { kind: 'entity' as const, name: '北京测试科技有限公司', masked: 'code', lookupKey };
      const older = await store.create(
        licenceRecord({ holder, issuerId: 'iss_a', issuedAt: '2026-03-01T00:00:00.000Z' }),
      );
      const newer = await store.create(
        licenceRecord({ holder, issuerId: 'iss_b', issuedAt: '2026-03-02T00:00:00.000Z' }),
      );
      await store.create(licenceRecord());
      expect(await store.listByHolder(lookupKey)).toEqual([newer, older]);
      expect(await store.listByHolder(`lk-${randomUUID()}`)).toEqual([]);
    });
  });
}
