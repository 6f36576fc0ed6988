import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError } from '../../shared/errors.js';
import type { AccountStore } from '../../shared/identity/account-store.js';
import type { PersonAccount } from '../../shared/identity/person-account.js';
import type { PendingWorkIndex } from '../../shared/pending-work/pending-work.js';
import { randomId } from '../../shared/random-id.js';
import { listedPointer, traceFor } from '../support/traces.js';
import { rejection, type Make } from './subject.js';

function account(overrides: Partial<PersonAccount> = {}): PersonAccount {
  return {
    id: randomId('acc'),
    lookupKey: `lk-${randomUUID()}`,
    masked: '310104********0248',
    idNumberEncrypted: 'sealed',
    name: '张测试',
    passwordHash: 'fake$2$secret',
    assurance: 'self-asserted',
    createdAt: '2026-03-01T08:00:00.000Z',
    version: 0,
    ...overrides,
  };
}

/**
 * The {@link AccountStore} contract: one account per lookup key (`account_exists`, also under
 * concurrency), found by id at once, saved under its version (`account_changed`); created, saved and
 * removed with its trace, both or neither (`accountAudit`, the index of the accounts function's changes,
 * holds their traces; `providerAudit`, the OpenID provider's, a phone proof's).
 */
export function accountStoreContract(
  name: string,
  make: Make<{ store: AccountStore; accountAudit: PendingWorkIndex; providerAudit: PendingWorkIndex }>,
): void {
  describe(`AccountStore contract: ${name}`, () => {
    let subject: Awaited<ReturnType<typeof make>>;
    let store: AccountStore;
    beforeEach(async () => {
      subject = await make();
      store = subject.store;
    });
    afterEach(async () => {
      await subject.cleanup();
    });

    it('creates at version 1, found by lookup key and by id; unknown ones are not found', async () => {
      const person = account();
      const created = await store.create(person);
      expect(created).toEqual({ ...person, version: 1 });
      expect(await store.findByLookupKey(person.lookupKey)).toEqual(created);
      expect(await store.findById(person.id)).toEqual(created);
      expect(await store.findById(randomId('acc'))).toBeUndefined();
      expect(await store.findByLookupKey(`lk-${randomUUID()}`)).toBeUndefined();
    });

    it('creates with the trace, both or neither', async () => {
      const now = new Date();
      const later = new Date(now.getTime() + 3_600_000);
      const person = account();
      const registered = traceFor(`account-registered#${person.id}`, 'account.registered', now, person.id);
      expect(await store.create(person, registered)).toEqual({ ...person, version: 1 });
      expect(await subject.accountAudit.olderThan(later, 10)).toEqual([listedPointer(registered)]);
      expect(await subject.accountAudit.claim(registered.carried.id, now)).toBeUndefined();
      // The number taken: account_exists, neither the account nor its trace.
      const twin = account({ lookupKey: person.lookupKey });
      const refused = traceFor(`account-registered#${twin.id}`, 'account.registered', now, twin.id);
      expect(await rejection(store.create(twin, refused))).toMatchObject({ code: 'account_exists' });
      expect(await store.findById(twin.id)).toBeUndefined();
      expect(await subject.accountAudit.olderThan(later, 10)).toEqual([listedPointer(registered)]);
    });

    it('keeps one account per lookup key: of concurrent creates one wins, the rest are account_exists', async () => {
      const lookupKey = `lk-${randomUUID()}`;
      const outcomes = await Promise.allSettled(
        Array.from({ length: 5 }, () => store.create(account({ lookupKey }))),
      );
      const won = outcomes.filter((outcome) => outcome.status === 'fulfilled');
      expect(won).toHaveLength(1);
      for (const outcome of outcomes) {
        if (outcome.status === 'rejected') {
          expect(outcome.reason).toBeInstanceOf(ConflictError);
          expect(outcome.reason).toMatchObject({ code: 'account_exists' });
        }
      }
      expect((await store.findByLookupKey(lookupKey))?.id).toBe(won[0]?.value.id);
    });

    it('saves under the version read: a stale save is account_changed and changes nothing', async () => {
      const created = await store.create(account());
      const proven = await store.save({ ...created, assurance: 'registry-verified' });
      expect(proven).toMatchObject({ assurance: 'registry-verified', version: 2 });
      expect(await store.findById(created.id)).toEqual(proven);
      const error = await rejection(store.save({ ...created, passwordHash: 'fake$2$other' }));
      expect(error).toBeInstanceOf(ConflictError);
      expect(error).toMatchObject({ code: 'account_changed' });
      expect(await store.findByLookupKey(created.lookupKey)).toEqual(proven);
    });

    it('saves with the trace, both or neither, in the index of the function whose change it is', async () => {
      const now = new Date();
      const later = new Date(now.getTime() + 3_600_000);
      const created = await store.create(account());
      const inPerson = traceFor(`in-person-proof#${created.id}#2`, 'account.proven', now, 'clerk');
      const proven = await store.save({ ...created, assurance: 'in-person-verified' }, inPerson);
      expect(proven).toMatchObject({ assurance: 'in-person-verified', version: 2 });
      expect(await subject.accountAudit.olderThan(later, 10)).toEqual([listedPointer(inPerson)]);
      // A stale save: account_changed, neither the account nor its trace.
      const stale = traceFor(`phone-proof#${created.id}#2`, 'account.taken_over', now, created.id);
      expect(await rejection(store.save({ ...created, name: '李换' }, stale))).toMatchObject({
        code: 'account_changed',
      });
      expect(await store.findById(created.id)).toEqual(proven);
      expect(await subject.providerAudit.olderThan(later, 10)).not.toContainEqual(listedPointer(stale));
      // A phone proof's, in the provider's index.
      const byPhone = traceFor(`phone-proof#${created.id}#3`, 'account.taken_over', now, created.id);
      await store.save({ ...proven, provenPhone: 'digest' }, byPhone);
      expect(await subject.providerAudit.olderThan(later, 10)).toContainEqual(listedPointer(byPhone));
      expect(await subject.accountAudit.claim(inPerson.carried.id, now)).toBeUndefined();
    });

    it('removes with the trace, both or neither: a removal asked again saves no second one', async () => {
      const now = new Date();
      const later = new Date(now.getTime() + 3_600_000);
      const created = await store.create(account());
      const closed = traceFor(`account-closed#${created.id}`, 'account.closed', now, created.id);
      await store.remove(created, closed);
      expect(await store.findById(created.id, { includeClosing: true })).toBeUndefined();
      expect(await subject.accountAudit.olderThan(later, 10)).toEqual([listedPointer(closed)]);
      const again = traceFor(`account-closed#${created.id}`, 'account.closed', later, created.id);
      expect(await rejection(store.remove(created, again))).toMatchObject({ code: 'account_not_found' });
      expect(await subject.accountAudit.olderThan(later, 10)).toEqual([listedPointer(closed)]);
    });

    it('removes the account and its claim together: gone by id and by number, which may register again', async () => {
      const created = await store.create(account());
      const other = await store.create(account());
      await store.remove(created);
      expect(await store.findById(created.id)).toBeUndefined();
      expect(await store.findByLookupKey(created.lookupKey)).toBeUndefined();
      expect(await store.findById(other.id)).toEqual(other);
      const again = await store.create(account({ lookupKey: created.lookupKey }));
      expect(await store.findByLookupKey(created.lookupKey)).toEqual(again);
      // The old account's removal, repeated, takes nothing of the new one.
      const error = await rejection(store.remove(created));
      expect(error).toBeInstanceOf(NotFoundError);
      expect(error).toMatchObject({ code: 'account_not_found' });
      expect(await store.findByLookupKey(created.lookupKey)).toEqual(again);
    });

    it('answers an account being closed only to includeClosing: it opens nothing, its number stays taken', async () => {
      const created = await store.create(account());
      const closing = await store.save({ ...created, closingSince: '2026-03-01T09:00:00.000Z' });
      expect(await store.findById(created.id)).toBeUndefined();
      expect(await store.findByLookupKey(created.lookupKey)).toBeUndefined();
      expect(await store.findById(created.id, { includeClosing: true })).toEqual(closing);
      expect(await store.findByLookupKey(created.lookupKey, { includeClosing: true })).toEqual(closing);
      // Its number is still claimed until the closure deletes it.
      const error = await rejection(store.create(account({ lookupKey: created.lookupKey })));
      expect(error).toMatchObject({ code: 'account_exists' });
      await store.remove(closing);
      expect(await store.findById(created.id, { includeClosing: true })).toBeUndefined();
    });
  });
}
