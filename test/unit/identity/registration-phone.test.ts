import { beforeEach, describe, expect, it } from 'vitest';
import { invalidRequest, type ServiceError } from '../../../shared/errors.js';
import { maskIdNumber, parseIdNumber } from '../../../shared/identifiers/id-number.js';
import { personLookupKey, phoneLookupKey } from '../../../shared/identifiers/lookup-key.js';
import { phoneNumber } from '../../../shared/identifiers/phone.js';
import { personAccountView, phoneEncryptionContext } from '../../../shared/identity/person-account.js';
import { registerPerson, type RegisterPersonDependencies } from '../../../shared/identity/register-person.js';
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

const password = 'Correct-Horse-1';
const phone = '+8613912345678';

describe('registration with a phone (三要素 at registration)', () => {
  let deps: RegisterPersonDependencies & {
    accounts: InMemoryAccountStore;
    registry: InMemoryRegistry;
    carrier: InMemoryCarrierRegistry;
    pii: FakePiiCipher;
  };
  let person: { idNumber: string; name: string; lookupKey: string };

  beforeEach(async () => {
    const accounts = new InMemoryAccountStore();
    deps = {
      accounts,
      accountAudit: accounts.pendingAudit,
      passwords: new FakePasswordHasher(),
      pii: new FakePiiCipher(),
      lookupMac: fakeMac,
      registry: new InMemoryRegistry(),
      carrier: new InMemoryCarrierRegistry(),
      audit: new InMemoryAudit(),
      loginAttempts: new InMemoryLoginAttemptStore(),
      clock: new TestClock(),
    };
    const idNumber = newIdNumber();
    const id = parseIdNumber(idNumber, new Date());
    const lookupKey = await personLookupKey(fakeMac, id);
    person = { idNumber, name: '阿依古丽·买买提', lookupKey };
    await deps.registry.putPerson({ lookupKey, name: person.name, masked: maskIdNumber(id) });
    await deps.carrier.putSubscriber({ lookupKey, name: person.name, phone });
  });

  it('checks the phone code before the name: without the code nobody learns that a name is wrong (R9 M6)', async () => {
    const wrongCode = () =>
      Promise.reject(
        invalidRequest([{ path: 'code', message: 'is not the code sent', code: 'code_wrong_or_expired' }]),
      );
    const wrong = { consent: true, idNumber: person.idNumber, name: '张冒名', password, phone };
    await expect(registerPerson(wrong, deps, {}, wrongCode)).rejects.toMatchObject({
      code: 'invalid_request',
      errors: [expect.objectContaining({ path: 'code', code: 'code_wrong_or_expired' })],
    });
    expect(deps.accounts.byLookupKey.size).toBe(0);
    // The phone's holder, with the right code, is told the name is wrong rather than given level 1.
    const rightCode = async () => 'digest-of-the-phone';
    await expect(registerPerson(wrong, deps, {}, rightCode)).rejects.toMatchObject({
      code: 'registry_mismatch',
    });
    expect(deps.accounts.byLookupKey.size).toBe(0);
  });

  it('keeps a phone the carrier confirms, encrypted to the account and as a keyed digest', async () => {
    const account = await registerPerson(
      {
        consent: true,
        idNumber: person.idNumber,
        name: '阿依古丽・买买提',
        password,
        phone: '+86 139 1234 5678',
      },
      deps,
    );
    expect(account.phone).toEqual({
      encrypted: expect.any(String),
      lookupKey: await phoneLookupKey(fakeMac, phoneNumber.parse(phone)),
      masked: '139****5678',
      confirmedAt: new Date(deps.clock.now()).toISOString(),
    });
    expect(await deps.pii.decrypt(account.phone!.encrypted, phoneEncryptionContext(account.id))).toBe(phone);
    await expect(
      deps.pii.decrypt(account.phone!.encrypted, phoneEncryptionContext('acc_other')),
    ).rejects.toThrow();
    // Asked with the number (as the real carriers are) and the registry's spelling of the name.
    expect(deps.carrier.queries).toEqual([
      { lookupKey: person.lookupKey, name: person.name, phone, idNumber: person.idNumber },
    ]);
    expect(JSON.stringify([...deps.accounts.byLookupKey.values()])).not.toContain('13912345678');
    // A confirmed phone alone does not raise the level.
    expect(account.assurance).toBe('registry-verified');
  });

  it('accepts a phone the carrier does not confirm as unconfirmed: the account, and no phone kept', async () => {
    const other = '+8615800001111';
    const confirmed = await registerPerson(
      { consent: true, idNumber: person.idNumber, name: person.name, password, phone },
      { ...deps, accounts: new InMemoryAccountStore() },
    );
    const account = await registerPerson(
      { consent: true, idNumber: person.idNumber, name: person.name, password, phone: other },
      deps,
    );
    expect(account.phone).toBeUndefined();
    expect(account.assurance).toBe('registry-verified');
    expect(JSON.stringify([...deps.accounts.byLookupKey.values()])).not.toMatch(/15800001111|phone/);
    // The answer is the same whether or not the phone was confirmed.
    expect(personAccountView(account)).toEqual(personAccountView(confirmed));
  });

  it('does not confirm a phone for a self-asserted number the carrier does not know', async () => {
    const account = await registerPerson(
      { consent: true, idNumber: newIdNumber(), name: '赵六', password, phone },
      deps,
    );
    expect(account).toMatchObject({ assurance: 'self-asserted' });
    expect(account.phone).toBeUndefined();
  });

  it('does not ask the carrier when no phone is given', async () => {
    const account = await registerPerson(
      { consent: true, idNumber: person.idNumber, name: person.name, password },
      deps,
    );
    expect(account.phone).toBeUndefined();
    expect(deps.carrier.queries).toEqual([]);
  });

  it('names a malformed phone with the other broken rules, before anything is stored', async () => {
    for (const bad of ['1391234567', '+8612912345678', '+861391234567', '+85291234567', 'phone']) {
      const error = (await registerPerson(
        { consent: true, idNumber: person.idNumber, name: '', password, phone: bad },
        deps,
      ).catch((e: unknown) => e)) as ServiceError;
      expect(error).toMatchObject({ kind: 'invalid_input', code: 'invalid_request' });
      expect(error.errors).toEqual([
        { path: 'name', message: 'must be 1 to 50 characters', code: 'required' },
        {
          path: 'phone',
          message: 'must be an 11-digit mainland mobile number, such as 13912345678',
          code: 'invalid_phone',
          params: { example: '13912345678' },
        },
      ]);
    }
    expect(deps.accounts.byLookupKey.size).toBe(0);
    expect(deps.carrier.queries).toEqual([]);
  });
});
