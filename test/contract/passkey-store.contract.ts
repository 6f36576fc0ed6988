import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConflictError } from '../../shared/errors.js';
import type { AccountStore } from '../../shared/identity/account-store.js';
import type { PasskeyStore, StoredPasskey } from '../../shared/identity/passkeys.js';
import type { PersonAccount } from '../../shared/identity/person-account.js';
import type { Trace } from '../../shared/pending-work/pending-work.js';
import { randomId } from '../../shared/random-id.js';
import { rejection, type Make } from './subject.js';

function passkey(overrides: Partial<StoredPasskey> = {}): StoredPasskey {
  return {
    id: randomUUID().replaceAll('-', ''),
    accountId: randomId('acc'),
    publicKey: 'pQECAyYgASFYIA',
    counter: 0,
    transports: ['internal', 'hybrid'],
    deviceType: 'multiDevice',
    backedUp: true,
    name: '我的手机',
    createdAt: '2026-03-01T08:00:00.000Z',
    ...overrides,
  };
}

/** The trace of an enrolment: its `passkey.enrolled` entry, carried by a pointer of its own. */
function trace(accountId: string): Trace {
  const at = '2026-03-01T08:00:00.000Z';
  const key = `passkey-enrolled#${randomUUID()}`;
  return {
    carried: {
      id: key,
      owner: accountId,
      since: at,
      audit: [{ key, entry: { at, actor: accountId, action: 'passkey.enrolled' } }],
    },
    claim: randomUUID(),
    at: new Date(at),
  };
}

/**
 * The {@link PasskeyStore} contract: a credential id is stored once, whoever enrols it; an account lists
 * its own passkeys only and removes only its own; a use is recorded only over the counter it was checked
 * against, and never on a removed passkey; a challenge is taken once, never after it expired.
 */
export function passkeyStoreContract(
  name: string,
  make: Make<{ store: PasskeyStore; accounts: AccountStore }>,
): void {
  describe(`PasskeyStore contract: ${name}`, () => {
    let subject: Awaited<ReturnType<typeof make>>;
    let store: PasskeyStore;
    beforeEach(async () => {
      subject = await make();
      store = subject.store;
    });
    afterEach(async () => {
      await subject.cleanup();
    });

    it('stores a passkey, finds it by credential id and lists it under its account only', async () => {
      const first = passkey({ createdAt: '2026-03-01T08:00:00.000Z' });
      const second = passkey({ accountId: first.accountId, createdAt: '2026-03-02T08:00:00.000Z' });
      const other = passkey();
      await store.add(second);
      await store.add(first);
      await store.add(other);
      expect(await store.find(first.id)).toEqual(first);
      expect(await store.find('unknown')).toBeUndefined();
      expect((await store.listFor(first.accountId)).map((p) => p.id)).toEqual([first.id, second.id]);
      expect(await store.listFor(randomId('acc'))).toEqual([]);
      // As a clean-up removes them (review R54-3): each one's id and time, nothing more.
      expect(await store.enrolmentsOf(first.accountId)).toEqual([
        { id: first.id, createdAt: first.createdAt },
        { id: second.id, createdAt: second.createdAt },
      ]);
      expect(await store.enrolmentsOf(randomId('acc'))).toEqual([]);
    });

    it('refuses a credential id already stored, also for another account', async () => {
      const first = passkey();
      await store.add(first);
      const error = await rejection(store.add({ ...first, accountId: randomId('acc') }));
      expect(error).toBeInstanceOf(ConflictError);
      expect((error as ConflictError).code).toBe('passkey_exists');
      expect((await store.find(first.id))?.accountId).toBe(first.accountId);
    });

    it('stores a passkey guarded by its account only over that account unchanged, owing no clean-up (review R44 F2)', async () => {
      const accountId = randomId('acc');
      const account: PersonAccount = {
        id: accountId,
        lookupKey: `lk_${accountId}`,
        masked: '1101**********1239',
        idNumberEncrypted: 'enc',
        name: '王小明',
        passwordHash: 'hash',
        assurance: 'possession-verified',
        createdAt: '2026-01-01T00:00:00.000Z',
        version: 0,
      };
      const created = await subject.accounts.create(account);
      const first = passkey({ accountId });
      await store.add(first, trace(accountId), { version: created.version });
      expect(await store.find(first.id)).toEqual(first);
      // A reset saved meanwhile (a new version, its clean-up owed): refused, nothing written.
      const reset = await subject.accounts.save({ ...created, proofCleanup: {} });
      const late = passkey({ accountId });
      const changed = await rejection(store.add(late, trace(accountId), { version: created.version }));
      expect((changed as ConflictError).code).toBe('account_changed');
      // At the version read, but its clean-up still owed: refused too.
      const owed = await rejection(store.add(late, trace(accountId), { version: reset.version }));
      expect((owed as ConflictError).code).toBe('account_changed');
      expect(await store.find(late.id)).toBeUndefined();
      // Without a trace, the same.
      const untraced = await rejection(store.add(late, undefined, { version: created.version }));
      expect((untraced as ConflictError).code).toBe('account_changed');
      // A credential id taken is still told as such.
      const taken = await rejection(store.add(first, trace(accountId), { version: reset.version }));
      expect((taken as ConflictError).code).toBe('passkey_exists');
    });

    it('removes only the owner’s passkey', async () => {
      const first = passkey();
      await store.add(first);
      expect(await store.remove(randomId('acc'), first.id)).toBe(false);
      expect(await store.find(first.id)).toBeDefined();
      expect(await store.remove(first.accountId, first.id)).toBe(true);
      expect(await store.find(first.id)).toBeUndefined();
      expect(await store.remove(first.accountId, first.id)).toBe(false);
      expect(await store.listFor(first.accountId)).toEqual([]);
    });

    it('records a use over the counter it was checked against, once', async () => {
      const first = passkey({ counter: 3 });
      await store.add(first);
      const at = '2026-03-05T08:00:00.000Z';
      expect(await store.recordUse(first.id, { previousCounter: 3, counter: 4, at })).toBe(true);
      // A second use checked against the same old counter (a concurrent sign-in) loses.
      expect(await store.recordUse(first.id, { previousCounter: 3, counter: 5, at })).toBe(false);
      expect(await store.find(first.id)).toMatchObject({ counter: 4, lastUsedAt: at });
    });

    it('records no use of a removed passkey, nor creates one', async () => {
      const first = passkey();
      await store.add(first);
      await store.remove(first.accountId, first.id);
      const use = { previousCounter: 0, counter: 1, at: '2026-03-05T08:00:00.000Z' };
      expect(await store.recordUse(first.id, use)).toBe(false);
      expect(await store.find(first.id)).toBeUndefined();
    });

    it('hands a challenge out once', async () => {
      const challenge = {
        challenge: randomUUID(),
        purpose: 'sign-in',
        boundTo: 'uid-1',
        expiresAt: 2000,
      } as const;
      await store.saveChallenge(challenge);
      const [a, b] = await Promise.all([
        store.takeChallenge(challenge.challenge, 1000),
        store.takeChallenge(challenge.challenge, 1000),
      ]);
      expect([a, b].filter(Boolean)).toEqual([challenge]);
      expect(await store.takeChallenge(challenge.challenge, 1000)).toBeUndefined();
      expect(await store.takeChallenge('never-issued', 1000)).toBeUndefined();
    });

    it('never hands out an expired challenge', async () => {
      const challenge = {
        challenge: randomUUID(),
        purpose: 'enrol',
        boundTo: 'acc_1',
        expiresAt: 2000,
      } as const;
      await store.saveChallenge(challenge);
      expect(await store.takeChallenge(challenge.challenge, 2000)).toBeUndefined();
      expect(await store.takeChallenge(challenge.challenge, 1000)).toBeUndefined();
    });
  });
}
