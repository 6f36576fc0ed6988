import { personAccountView } from '../../../shared/identity/person-account.js';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Mac } from '../../../shared/crypto/mac.js';
import type { ServiceError } from '../../../shared/errors.js';
import { maskIdNumber, parseIdNumber } from '../../../shared/identifiers/id-number.js';
import { personLookupKey } from '../../../shared/identifiers/lookup-key.js';
import { sourceDigest } from '../../../shared/identity/login-throttle.js';
import { registerPerson, type RegisterPersonDependencies } from '../../../shared/identity/register-person.js';
import { findPersonById, personIdNumber, verifyPassword } from '../../../shared/identity/verify-password.js';
import { fakeMac } from '../../support/in-memory.js';
import { InMemoryCarrierRegistry } from '../../support/in-memory-carrier.js';
import {
  FakePasswordHasher,
  FakePiiCipher,
  InMemoryAccountStore,
  InMemoryAudit,
  InMemoryLoginAttemptStore,
  InMemoryRegistry,
  newIdNumber,
  TestClock,
} from '../../support/in-memory-identity.js';

/** Counts MACs: a login must cost one, whatever was typed. */
class CountingMac implements Mac {
  calls = 0;
  async mac(data: Uint8Array): Promise<Uint8Array> {
    this.calls += 1;
    return fakeMac.mac(data);
  }
}

const password = 'Correct-Horse-1';

describe('people: registration and password check', () => {
  let deps: RegisterPersonDependencies & {
    accounts: InMemoryAccountStore;
    passwords: FakePasswordHasher;
    registry: InMemoryRegistry;
    carrier: InMemoryCarrierRegistry;
    audit: InMemoryAudit;
    lookupMac: CountingMac;
    loginAttempts: InMemoryLoginAttemptStore;
    clock: TestClock;
  };
  let registered: { idNumber: string; name: string };

  beforeEach(async () => {
    const accounts = new InMemoryAccountStore();
    deps = {
      accounts,
      accountAudit: accounts.pendingAudit,
      passwords: new FakePasswordHasher(),
      pii: new FakePiiCipher(),
      lookupMac: new CountingMac(),
      registry: new InMemoryRegistry(),
      carrier: new InMemoryCarrierRegistry(),
      audit: new InMemoryAudit(),
      loginAttempts: new InMemoryLoginAttemptStore(),
      clock: new TestClock(),
    };
    registered = { idNumber: newIdNumber(), name: '李娜' };
    const id = parseIdNumber(registered.idNumber, new Date());
    const lookupKey = await personLookupKey(fakeMac, id);
    deps.registry.people.set(lookupKey, { lookupKey, name: registered.name, masked: maskIdNumber(id) });
  });

  describe('registerPerson', () => {
    it('makes a registry-verified account when the registry knows the number under that name', async () => {
      const account = await registerPerson({ consent: true, ...registered, name: ' 李 娜 ', password }, deps);
      expect(account).toMatchObject({
        id: expect.stringMatching(/^acc_[A-Za-z0-9_-]{16}$/),
        name: '李娜',
        assurance: 'registry-verified',
        masked: maskIdNumber(registered.idNumber as never),
        version: 1,
      });
      expect(deps.audit.entries).toEqual([
        expect.objectContaining({
          action: 'account.registered',
          actor: account.id,
          holderMasked: account.masked,
        }),
      ]);
    });

    it('makes a self-asserted account when the registry does not know the number', async () => {
      const account = await registerPerson(
        { consent: true, idNumber: newIdNumber(), name: '赵六', password },
        deps,
      );
      expect(account.assurance).toBe('self-asserted');
    });

    it('answers a name the registry does not have for the number as an unknown number: self-asserted (R9 M6)', async () => {
      const account = await registerPerson({ consent: true, ...registered, name: '张三', password }, deps);
      // No oracle: the answer is the one an unknown number gets, the name as given, the level 1.
      expect(personAccountView(account)).toEqual({
        masked: maskIdNumber(registered.idNumber as never),
        name: '张三',
        assurance: 'self-asserted',
      });
    });

    it('refuses a second account for the same number (409 account_exists)', async () => {
      await registerPerson({ consent: true, ...registered, password }, deps);
      await expect(
        registerPerson({ consent: true, ...registered, password: 'Another-pass-2' }, deps),
      ).rejects.toMatchObject({
        kind: 'conflict',
        code: 'account_exists',
      });
    });

    it('names every broken rule at once', async () => {
      const error = (await registerPerson(
        { consent: true, idNumber: '110105199003071230', name: '', password: 'short' },
        deps,
      ).catch((e) => e)) as ServiceError;
      expect(error).toMatchObject({ kind: 'invalid_input', code: 'invalid_request' });
      expect(error.errors).toEqual([
        {
          path: 'idNumber',
          message: 'check character should be 9',
          code: 'invalid_check_character',
          params: { expected: '9' },
        },
        { path: 'name', message: 'must be 1 to 50 characters', code: 'required' },
        {
          path: 'password',
          message: 'must be 8 to 128 characters',
          code: 'too_short',
          params: { minimum: 8, maximum: 128 },
        },
      ]);
    });

    it('stores the number only as lookup key, masked form and a ciphertext bound to the account', async () => {
      const account = await registerPerson({ consent: true, ...registered, password }, deps);
      const stored = JSON.stringify([...deps.accounts.byLookupKey.values()]);
      expect(stored).not.toContain(registered.idNumber);
      expect(await personIdNumber(account, deps)).toBe(registered.idNumber);
      await expect(personIdNumber({ ...account, id: 'acc_other' }, deps)).rejects.toThrow();
    });
  });

  describe('verifyPassword', () => {
    const source = '198.51.100.20';
    beforeEach(async () => {
      await registerPerson({ consent: true, ...registered, password }, deps);
      deps.passwords.verifications = [];
      deps.lookupMac.calls = 0;
      deps.accounts.lookups = 0;
    });

    it('signs in with the right password, the number typed in lower case and with spaces', async () => {
      const result = await verifyPassword(
        { idNumber: ` ${registered.idNumber.toLowerCase()} `, password, source },
        deps,
      );
      expect(result).toMatchObject({ ok: true, account: { name: '李娜' } });
    });

    it('answers a wrong password, an unknown number and a malformed one alike, after the same work', async () => {
      const attempts = [
        { idNumber: registered.idNumber, password: 'wrong-password' },
        { idNumber: newIdNumber(), password },
        { idNumber: '12345', password },
        { idNumber: registered.idNumber, password: 'x'.repeat(5000) },
      ];
      // The key that digests source addresses is derived once per container, on its first attempt.
      await sourceDigest(deps.lookupMac, source);
      for (const attempt of attempts) {
        const before = {
          macs: deps.lookupMac.calls,
          lookups: deps.accounts.lookups,
          checks: deps.passwords.verifications.length,
        };
        expect(await verifyPassword({ ...attempt, source }, deps)).toEqual({
          ok: false,
          reason: 'invalid_credentials',
        });
        expect({
          macs: deps.lookupMac.calls - before.macs,
          lookups: deps.accounts.lookups - before.lookups,
          checks: deps.passwords.verifications.length - before.checks,
        }).toEqual({ macs: 1, lookups: 1, checks: 1 });
      }
      // Without an account the check ran against the dummy hash, with the same parameters.
      expect(deps.passwords.verifications[1]).toBe(deps.passwords.dummyHash());
    });

    it('throttles a number that has no account exactly as one that has', async () => {
      const unknown = newIdNumber();
      const outcomes = async (idNumber: string) => {
        const results = [];
        for (let i = 0; i < 6; i++) {
          results.push(
            await verifyPassword({ idNumber, password: 'wrong-password', source: '10.0.0.1' }, deps),
          );
        }
        return results;
      };
      const known = await outcomes(registered.idNumber);
      const missing = await outcomes(unknown);
      expect(missing).toEqual(known);
      expect(known.at(-1)).toEqual({ ok: false, reason: 'throttled', retryAfterSeconds: 1 });
    });

    it('refuses even the right password while throttled, and accepts it after the wait', async () => {
      for (let i = 0; i < 5; i++)
        await verifyPassword({ idNumber: registered.idNumber, password: 'nope-nope', source }, deps);
      expect(await verifyPassword({ idNumber: registered.idNumber, password, source }, deps)).toMatchObject({
        ok: false,
        reason: 'throttled',
      });
      deps.clock.advanceSeconds(1);
      expect(await verifyPassword({ idNumber: registered.idNumber, password, source }, deps)).toMatchObject({
        ok: true,
      });
    });

    it('rehashes a password hash with weaker parameters after a good login', async () => {
      const login = await verifyPassword({ idNumber: registered.idNumber, password, source }, deps);
      const account = login.ok ? login.account : undefined;
      deps.accounts.byLookupKey.set(account!.lookupKey, { ...account!, passwordHash: `fake$1$${password}` });
      const result = await verifyPassword({ idNumber: registered.idNumber, password, source }, deps);
      expect(result.ok && result.account.passwordHash).toBe(`fake$2$${password}`);
      expect((await findPersonById(account!.id, deps))?.passwordHash).toBe(`fake$2$${password}`);
    });
  });
});
