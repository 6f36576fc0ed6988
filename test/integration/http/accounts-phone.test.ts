import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dependencies } from '../../../functions/composition/dependencies.js';
import { registryPeople, syntheticPeople } from '../../../infra/local/demo-data.js';
import { parseIdNumber } from '../../../shared/identifiers/id-number.js';
import { personLookupKey } from '../../../shared/identifiers/lookup-key.js';
import { phoneEncryptionContext } from '../../../shared/identity/person-account.js';
import { noticePhoneContext } from '../../../shared/identity/security-notices.js';
import { expectProblem, postJson, scanItems } from '../../support/http-api.js';
import { outbox } from '../../support/in-memory-sms.js';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.js';

/** A body with the privacy notice agreed to (`consent`), unless it says otherwise or is not an object. */
const withConsent = (body: unknown) =>
  body !== null && typeof body === 'object' && !Array.isArray(body) && !('consent' in body)
    ? { ...body, consent: true }
    : body;

let runtime: TestRuntime;

beforeAll(async () => {
  runtime = await startTestRuntime();
});
afterAll(() => runtime?.close());

const register = (body: unknown) => postJson(runtime, '/accounts', undefined, withConsent(body));

async function storedAccount(idNumber: string) {
  const deps = dependencies();
  const key = await personLookupKey(deps.lookupMac, parseIdNumber(idNumber, new Date()));
  return deps.accounts.findByLookupKey(key);
}

describe('the synthetic people and credentials.json', () => {
  it('lists at least three people without an account, and the citizen with a phone the carrier confirms', async () => {
    const written = JSON.parse(await readFile(runtime.credentialsFile, 'utf8')) as {
      citizen: { idNumber: string; name: string; phone: string };
      people: Array<{ idNumber: string; name: string; phone: string }>;
    };
    expect(syntheticPeople.length).toBeGreaterThanOrEqual(21);
    expect(written.people.length).toBeGreaterThanOrEqual(3);
    for (const person of written.people) {
      expect(person.phone).toMatch(/^\+861[358]\d{9}$/);
      expect(await storedAccount(person.idNumber)).toBeUndefined();
    }
    expect(written.citizen.phone).toMatch(/^\+861[358]\d{9}$/);
    const deps = dependencies();
    const citizenKey = await personLookupKey(
      deps.lookupMac,
      parseIdNumber(written.citizen.idNumber, new Date()),
    );
    expect(
      await deps.carrier.confirms({
        lookupKey: citizenKey,
        name: written.citizen.name,
        phone: written.citizen.phone,
      }),
    ).toBe(true);
    // The citizen's account keeps that phone as confirmed.
    const citizen = await storedAccount(written.citizen.idNumber);
    expect(citizen?.phone?.masked).toBe(
      `${written.citizen.phone.slice(3, 6)}****${written.citizen.phone.slice(-4)}`,
    );
    // Every person is in both registries; no phone is in the table in clear.
    const table = JSON.stringify(await scanItems(''));
    for (const person of syntheticPeople) {
      expect(table).not.toContain(person.phone.slice(3));
      const key = await personLookupKey(deps.lookupMac, parseIdNumber(person.idNumber, new Date()));
      expect(await deps.registry.findPerson(key)).toMatchObject({ name: person.name });
      expect(await deps.carrier.confirms({ lookupKey: key, name: person.name, phone: person.phone })).toBe(
        true,
      );
    }
  });
});

describe('POST /accounts with a phone', () => {
  it('keeps a phone the carrier registry confirms for that number and name, encrypted', async () => {
    const person = registryPeople[10]!;
    const response = await register({ ...person, password: 'Sun-Qiang-2026' });
    const text = await response.text();
    expect(response.status, text).toBe(201);
    expect(JSON.parse(text)).toEqual({
      masked: `${person.idNumber.slice(0, 6)}********${person.idNumber.slice(14)}`,
      name: person.name,
      assurance: 'registry-verified',
    });
    expect(text).not.toContain(person.phone.slice(3));
    const account = await storedAccount(person.idNumber);
    expect(account?.phone).toMatchObject({ masked: expect.stringMatching(/^\d{3}\*{4}\d{4}$/) });
    expect(
      await dependencies().pii.decrypt(account!.phone!.encrypted, phoneEncryptionContext(account!.id)),
    ).toBe(person.phone);
    // And sealed for the SMS sender alone, where the account's security notices go until a phone is proven.
    expect(
      await dependencies().smsJobSealer.open(noticePhoneContext(account!.id), account!.noticePhone!),
    ).toEqual({ phone: person.phone });
  });

  it('accepts another person’s phone as unconfirmed: 201, the same answer, no phone kept', async () => {
    const person = registryPeople[11]!;
    const response = await register({
      ...person,
      phone: registryPeople[12]!.phone,
      password: 'Ma-Jun-2026!',
    });
    const text = await response.text();
    expect(response.status, text).toBe(201);
    expect(JSON.parse(text)).toEqual({
      masked: `${person.idNumber.slice(0, 6)}********${person.idNumber.slice(14)}`,
      name: person.name,
      assurance: 'registry-verified',
    });
    const unconfirmed = await storedAccount(person.idNumber);
    expect(unconfirmed?.phone).toBeUndefined();
    expect(unconfirmed?.noticePhone).toBeUndefined();
  });

  it('refuses a malformed phone with 400 naming the field, and registers nothing', async () => {
    const person = registryPeople[13]!;
    for (const phone of ['1865720413', '+86 1865720413', 12345, '+8612657204138']) {
      const problem = await expectProblem(
        await register({ ...person, phone, password: 'Hu-Bin-2026!' }),
        400,
        'invalid_request',
      );
      expect(problem.errors?.map((error) => error.path)).toEqual(['phone']);
    }
    expect(await storedAccount(person.idNumber)).toBeUndefined();
  });

  it('answers a taken number with the same 409 whether or not the phone is the owner’s', async () => {
    const person = registryPeople[14]!;
    expect((await register({ ...person, password: 'Guo-Xiaoyan-2026' })).status).toBe(201);
    const withOwnersPhone = await expectProblem(
      await register({ ...person, password: 'Another-2026!' }),
      409,
      'account_exists',
    );
    const withOtherPhone = await expectProblem(
      await register({ ...person, phone: registryPeople[15]!.phone, password: 'Another-2026!' }),
      409,
      'account_exists',
    );
    const { requestId: _a, ...first } = withOwnersPhone;
    const { requestId: _b, ...second } = withOtherPhone;
    expect(second).toEqual(first);
  });
});

describe('the /register page with a phone', () => {
  const postForm = (fields: Record<string, string>) =>
    fetch(`${runtime.baseUrl}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ consent: 'yes', ...fields }),
    });

  it('offers an optional, labelled phone input', async () => {
    const html = await (await fetch(`${runtime.baseUrl}/register`)).text();
    expect(html).toContain('<label for="phone">手机号码（选填）</label>');
    const input = html.match(/<input\s+id="phone"[^>]*>/)?.[0] ?? '';
    expect(input).toMatch(/type="tel"/);
    // An ordinary 11-digit number, as people type it (review R62-3).
    expect(input).toMatch(/autocomplete="tel-national"/);
    expect(html).toContain('11 位手机号，例如 13912345678');
    expect(input).not.toMatch(/\brequired\b/);
  });

  it('keeps a confirmed phone, and takes an empty one as none', async () => {
    const [withPhone, without] = [registryPeople[16]!, registryPeople[17]!];
    // A phone on the page needs the code sent to it (test/integration/http/register-phone-code.test.ts).
    expect((await postForm({ ...withPhone, send: '1' })).status).toBe(200);
    const code = (await outbox(runtime)).filter((m) => m.to === withPhone.phone).at(-1)?.code;
    const first = await postForm({
      ...withPhone,
      code: code ?? '',
      password: 'He-Xue-2026!',
      passwordConfirm: 'He-Xue-2026!',
    });
    expect(first.status, await first.text()).toBe(201);
    expect((await storedAccount(withPhone.idNumber))?.phone?.confirmedAt).toEqual(expect.any(String));
    const second = await postForm({
      ...without,
      phone: '',
      password: 'Gao-Feng-2026',
      passwordConfirm: 'Gao-Feng-2026',
    });
    expect(second.status, await second.text()).toBe(201);
    expect((await storedAccount(without.idNumber))?.phone).toBeUndefined();
  });

  it('names a malformed phone beside its input, in the page’s language, and keeps what was typed', async () => {
    const person = registryPeople[18]!;
    const response = await postForm({
      ...person,
      phone: '1550932871',
      password: 'Ayi-2026-ok',
      passwordConfirm: 'Ayi-2026-ok',
    });
    expect(response.status).toBe(400);
    const html = await response.text();
    expect(html).toContain('手机号码（选填）：应为 11 位手机号，例如 13912345678');
    expect(html).not.toContain('E.164');
    expect(html).toContain('href="#phone"');
    expect(html).toContain('value="1550932871"');
    expect(await storedAccount(person.idNumber)).toBeUndefined();
  });

  it('takes an ordinary 11-digit mobile number, without +86, and keeps it as +86… (review R62-3)', async () => {
    const person = registryPeople[19]!;
    const national = person.phone.replace(/^\+86/, '');
    const sent = await postForm({ ...person, phone: national, send: '1' });
    expect(sent.status, await sent.text()).toBe(200);
    const code = (await outbox(runtime)).filter((m) => m.to === person.phone).at(-1)?.code;
    expect(code).toEqual(expect.any(String));
    const registered = await postForm({
      ...person,
      phone: national,
      code: code ?? '',
      password: 'Lao-Ren-2026',
      passwordConfirm: 'Lao-Ren-2026',
    });
    expect(registered.status, await registered.text()).toBe(201);
    expect((await storedAccount(person.idNumber))?.phone?.confirmedAt).toEqual(expect.any(String));
  });
});
