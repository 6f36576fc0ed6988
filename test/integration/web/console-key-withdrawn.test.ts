import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { licences as licenceStoreFactory } from '../../../functions/composition/factories.js';
import type { LicenceStore } from '../../../shared/licence/licence-store.js';
import { newCreditCode, onboardIssuer } from '../../support/http-api.js';
import { listAll } from '../../support/licences.js';
import {
  clientCredentialsToken,
  clientSecretConsole,
  startTestRuntime,
  type TestRuntime,
} from '../../support/runtime.js';
import { parseForm, UserAgent } from '../../support/user-agent.js';
import { issueDrivingLicence } from '../verify/helpers.js';

/**
 * What a clerk sees at the issuer console when the issuer's signing key is withdrawn while the console
 * issues or re-issues a licence (review R70 F2, F3): the API wrote the licence and answered 409
 * `issuer_key_withdrawn`, naming it. The console used to show the issue form again, every value kept and
 * a new idempotency key (submitted again: a second licence), and a generic "refresh and retry" for a
 * re-issue that had in fact finished.
 */

/** Set to withdraw the issuer's key right after the next licence is written (the race the 409 answers). */
const race: { withdrawAfterWrite?: () => Promise<void> } = {};

/** The runtime's own licence store, withdrawing the issuer's key after the next write on request. */
function racingLicences(store: LicenceStore): LicenceStore {
  return {
    create: async (licence) => {
      const written = await store.create(licence);
      const withdraw = race.withdrawAfterWrite;
      race.withdrawAfterWrite = undefined;
      await withdraw?.();
      return written;
    },
    get: (id) => store.get(id),
    save: (licence) => store.save(licence),
    clearPending: (id, version) => store.clearPending(id, version),
    listByIssuer: (issuerId, query) => store.listByIssuer(issuerId, query),
    countByIssuer: (issuerId, filter, cap) => store.countByIssuer(issuerId, filter, cap),
    listByHolder: (key) => store.listByHolder(key),
  };
}

let runtime: TestRuntime;
let admin: string;

beforeAll(async () => {
  runtime = await startTestRuntime(undefined, clientSecretConsole, {
    licences: (operator) => racingLicences(licenceStoreFactory(operator)),
  });
  admin = await clientCredentialsToken(runtime, runtime.credentials.admin, 'admin');
});
afterAll(() => runtime?.close());

/** A new agency, its API token and a console signed in as it; `withdrawKey` rotates its key away. */
async function agency() {
  const onboarded = await onboardIssuer(runtime, admin, {
    creditCode: newCreditCode('11', '110000'),
    licenceTypes: ['driving-licence'],
  });
  const token = await clientCredentialsToken(runtime, onboarded, 'licences:issue');
  const ua = new UserAgent(runtime.baseUrl);
  const login = await ua.request('/console/login', {
    form: { clientId: onboarded.clientId, clientSecret: onboarded.clientSecret },
  });
  expect(login.status).toBe(303);
  const withdrawKey = async () => {
    const rotated = await fetch(`${runtime.baseUrl}/admin/issuers/${encodeURIComponent(onboarded.id)}/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ previousKey: 'withdraw' }),
    });
    expect(rotated.status, await rotated.clone().text()).toBe(201);
  };
  return { token, ua, withdrawKey };
}

const pagePath = (id: string) => `/console/licences/${encodeURIComponent(id)}`;

describe('the console when the signing key is withdrawn under an issuance (review R70 F2)', () => {
  it('answers the written licence’s page, offering its re-issue, never the issue form to submit again', async () => {
    const { token, ua, withdrawKey } = await agency();
    const page = await ua.request('/console/licences/new?type=driving-licence');
    const hidden = parseForm(await page.text(), 'issue-form')!.fields;
    race.withdrawAfterWrite = withdrawKey;
    const answer = await ua.request('/console/licences', {
      form: {
        type: hidden.type!,
        idempotencyKey: hidden.idempotencyKey!,
        holderNumber: runtime.credentials.citizen.idNumber,
        holderName: '王小明',
        'fields.vehicleClass': 'C1',
        'fields.firstIssuedOn': '2015-03-01',
        'fields.archiveNumber': '110100777777',
        step: 'confirm',
      },
    });
    // The one licence the API wrote: the answer is its page, not the form again.
    const written = await listAll(runtime, token);
    expect(written).toHaveLength(1);
    const licenceId = written[0]!.id;
    expect(answer.status).toBe(303);
    const location = answer.headers.get('location')!;
    expect(location.split('?')[0]).toBe(pagePath(licenceId));
    const html = await (await ua.request(location)).text();
    expect(html).not.toContain('id="issue-form"');
    expect(html).toContain(licenceId);
    expect(html).toContain('证照已写入（即此证照），但签发过程中本机关的签名密钥被撤销');
    expect(html).toContain('请勿再次提交签发表单（那会签发第二份证照）');
    expect(html).not.toContain('POST /licences');
    expect(parseForm(html, 'reissue-form')?.action).toBe(`${pagePath(licenceId)}/reissue`);

    // Said in English too, with no API path for the clerk.
    const english = await (await ua.request(`${location}&lang=en`)).text();
    expect(english).toContain('Do not submit the issue form again (that would issue a second licence)');
    expect(english).not.toContain('POST /licences');

    // Once re-issued, the link says nothing of it any more.
    const reissued = await ua.request(`${pagePath(licenceId)}/reissue`, { form: { confirm: 'yes' } });
    expect(reissued.status).toBe(303);
    const after = await (await ua.request(location)).text();
    expect(after).toContain('id="licence-replaced-by"');
    expect(after).not.toContain('signing key was withdrawn while it was issued');
    expect(after).not.toContain('签名密钥被撤销');
  });
});

describe('the console when the signing key is withdrawn under a re-issue (review R70 F3)', () => {
  it('says the re-issue finished and the new licence is to be re-issued again, on the new licence’s page', async () => {
    const { token, ua, withdrawKey } = await agency();
    const old = await issueDrivingLicence(runtime, token);
    race.withdrawAfterWrite = withdrawKey;
    const answer = await ua.request(`${pagePath(old.id)}/reissue`, { form: { confirm: 'yes' } });
    const replacement = (await listAll(runtime, token)).find(
      (licence) => (licence as { replaces?: string }).replaces === old.id,
    )!;
    expect(replacement).toBeDefined();
    expect(answer.status).toBe(303);
    const location = answer.headers.get('location')!;
    expect(location.split('?')[0]).toBe(pagePath(replacement.id));
    const html = await (await ua.request(location)).text();
    expect(html).not.toContain('无法重新签发：证照的状态可能已被更改');
    expect(html).toContain('重新签发已完成，原证照已吊销；但新证照（即此证照）签发时本机关的签名密钥被撤销');
    expect(html).toContain(replacement.id);
    expect(parseForm(html, 'reissue-form')?.action).toBe(`${pagePath(replacement.id)}/reissue`);
    const english = await (await ua.request(`${location}&lang=en`)).text();
    expect(english).toContain('The re-issue finished and the old licence is revoked');
  });
});
