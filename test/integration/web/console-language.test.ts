import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalogueView } from '../../../shared/licence/catalogue.js';
import { expectProblem, onboardIssuer, type OnboardedIssuer } from '../../support/http-api.js';
import { drivingLicenceBody, issueLicence, newIdNumber } from '../../support/licences.js';
import { adminToken } from '../../support/oidc-flows.js';
import {
  clientCredentialsToken,
  startTestRuntime,
  type TestRuntime,
  clientSecretConsole,
} from '../../support/runtime.js';
import { parseForm, UserAgent } from '../../support/user-agent.js';

const han = /\p{Script=Han}/u;

/** The English hints and rule messages the catalogue and the API have in English, never on a Chinese page. */
const englishTexts = [
  'Nine characters of 0-9A-Z',
  'YYYY-MM-DD',
  'Twelve digits',
  'Sixteen digits',
  'Square metres',
  'In currency units',
  'Resident ID number; stored',
  'check character should be',
  'Too small',
  'Too big',
  'Invalid',
];

/** The texts a person reads about the inputs of a form: labels, legends, hints, options and errors. */
function formTexts(html: string): string[] {
  const texts: string[] = [];
  for (const match of html.matchAll(
    /<(label|legend|option|p class="(?:hint|field-error)"|span class="hint")[^>]*>([\s\S]*?)<\/(?:label|legend|option|p|span)>/g,
  )) {
    const text = match[2]!
      .replace(/<[^>]+>/g, ' ')
      .replace(/\s+/g, ' ')
      .trim();
    if (text) texts.push(text);
  }
  return texts;
}

/** The part of a page inside the element with `id` (the form, the review list), as far as its end tag. */
function section(html: string, tag: string, id: string): string {
  const start = html.indexOf(`id="${id}"`);
  expect(start, id).toBeGreaterThan(-1);
  return html.slice(start, html.indexOf(`</${tag}>`, start));
}

describe('the console speaks one language: the catalogue’s words and the API’s errors in the page’s', () => {
  let runtime: TestRuntime;
  let issuer: OnboardedIssuer;

  beforeAll(async () => {
    runtime = await startTestRuntime(undefined, clientSecretConsole);
    // An issuer of every type (Shanghai, where the credit codes below are registered).
    issuer = await onboardIssuer(runtime, await adminToken(runtime), {
      licenceTypes: catalogueView().map((type) => type.code),
    });
  });
  afterAll(async () => {
    await runtime?.close();
  });

  async function signedIn(lang: 'zh' | 'en'): Promise<UserAgent> {
    const ua = new UserAgent(runtime.baseUrl);
    expect((await ua.request(`/console?lang=${lang}`)).status).toBe(200);
    const response = await ua.request('/console/login', {
      form: { clientId: issuer.clientId, clientSecret: issuer.clientSecret },
    });
    expect(response.status).toBe(303);
    return ua;
  }

  it('shows every type’s form in Chinese with Chinese hints, and in English with no Chinese label', async () => {
    const zh = await signedIn('zh');
    const en = await signedIn('en');
    for (const type of catalogueView()) {
      const chinese = section(
        await (await zh.request(`/console/licences/new?type=${type.code}`)).text(),
        'form',
        'issue-form',
      );
      for (const text of englishTexts) expect(chinese, `${type.code} (zh)`).not.toContain(text);
      for (const text of formTexts(chinese)) {
        // Codes and units stay as they are (C1, ISO 4217, GB/T 2260, 0-9A-Z is not among them).
        expect(text, `${type.code} (zh)`).not.toMatch(/[A-Za-z]{4,}/);
      }

      const english = section(
        await (await en.request(`/console/licences/new?type=${type.code}`)).text(),
        'form',
        'issue-form',
      );
      const texts = formTexts(english);
      expect(texts.length, type.code).toBeGreaterThan(3);
      for (const text of texts) expect(text, `${type.code} (en)`).not.toMatch(han);
    }
    const social = await (await zh.request('/console/licences/new?type=social-security-card')).text();
    expect(social).toContain('9 位，由数字和大写字母组成');
    const socialEn = await (await en.request('/console/licences/new?type=social-security-card')).text();
    expect(socialEn).toContain('Nine characters of 0-9A-Z');
    expect(socialEn).toMatch(/<label for="field-fields-cardNumber">Card number/);
    const degree = await (await zh.request('/console/licences/new?type=degree-certificate')).text();
    expect(degree).toMatch(/<option value="bachelor"\s*>\s*学士\s*<\/option>/);
    const degreeEn = await (await en.request('/console/licences/new?type=degree-certificate')).text();
    expect(degreeEn).toMatch(/<option value="bachelor"\s*>\s*Bachelor\s*<\/option>/);
  });

  it('reviews in the page’s language: labels and choices named in it', async () => {
    const form = (hidden: Record<string, string>) => ({
      ...hidden,
      holderNumber: newIdNumber(),
      holderName: '赵学士',
      validFrom: '',
      validUntil: '',
      'fields.degree': 'bachelor',
      'fields.major': '计算机科学与技术',
      'fields.university': '示范大学',
      'fields.conferredOn': '2016-06-30',
      'fields.certificateNumber': '1000120161234567',
    });
    for (const lang of ['zh', 'en'] as const) {
      const ua = await signedIn(lang);
      const page = await ua.request('/console/licences/new?type=degree-certificate');
      const hidden = parseForm(await page.text(), 'issue-form')!.fields as Record<string, string>;
      const review = await ua.request('/console/licences', { form: form(hidden) });
      expect(review.status).toBe(200);
      const list = section(await review.text(), 'dl', 'issue-review');
      const terms = [...list.matchAll(/<dt>([\s\S]*?)<\/dt>/g)].map((m) => m[1]!.trim());
      expect(terms.length).toBeGreaterThan(5);
      if (lang === 'zh') {
        expect(terms).toContain('学位');
        expect(list).toContain('学士');
        for (const term of terms) expect(term).not.toMatch(/[A-Za-z]{4,}/);
      } else {
        expect(terms).toContain('Degree');
        expect(list).toContain('Bachelor');
        for (const term of terms) expect(term).not.toMatch(han);
      }
    }
  });

  it('says the API’s refusals from their codes: Chinese on a Chinese page, English with English labels', async () => {
    const wrongSpouse = (() => {
      const id = newIdNumber();
      return `${id.slice(0, 17)}${id.endsWith('0') ? '1' : '0'}`;
    })();
    for (const lang of ['zh', 'en'] as const) {
      const ua = await signedIn(lang);
      const page = await ua.request('/console/licences/new?type=marriage-certificate');
      const hidden = parseForm(await page.text(), 'issue-form')!.fields as Record<string, string>;
      // The form cannot judge a check character: the API refuses it when the review is confirmed.
      const refused = await ua.request('/console/licences', {
        form: {
          ...hidden,
          holderNumber: newIdNumber(),
          holderName: '钱一',
          'fields.spouseName': '孙二',
          'fields.spouseIdNumber': wrongSpouse,
          'fields.registeredOn': '2020-05-20',
          'fields.registrationAuthority': '示范区民政局',
          'fields.certificateNumber': '沪示字 2020 第 001 号',
          step: 'confirm',
        },
      });
      expect(refused.status).toBe(400);
      const html = await refused.text();
      const summary = section(html, 'div', 'issue-error-summary');
      const error = section(html, 'p', 'field-fields-spouseIdNumber-error');
      // Not the API's English message (`check character should be X`), in either language.
      expect(html).not.toMatch(/(?<!The )check character should be/);
      if (lang === 'zh') {
        expect(summary).toContain('配偶身份证件号码');
        expect(error).toContain('校验码应为');
        for (const text of formTexts(section(html, 'form', 'issue-form'))) {
          if (!text.includes('钱一') && !text.includes('孙二')) expect(text).not.toMatch(/[A-Za-z]{4,}/);
        }
      } else {
        expect(summary).toContain('Spouse’s ID number');
        expect(summary).not.toMatch(han);
        expect(error).toContain('The check character should be');
      }
    }
  });

  it('answers each errors[] entry with a stable code and the parameters its message needs', async () => {
    const token = await clientCredentialsToken(runtime, issuer, 'licences:issue');
    const missing = await expectProblem(
      await issueLicence(
        runtime,
        token,
        drivingLicenceBody(newIdNumber(), {
          holderName: '李'.repeat(101),
          fields: { vehicleClass: 'Z9', firstIssuedOn: '2015-02-30' },
        }),
      ),
      400,
    );
    expect(missing.errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: 'holderName', code: 'too_long', params: { maximum: 100 } }),
      ]),
    );
    const fields = await expectProblem(
      await issueLicence(
        runtime,
        token,
        drivingLicenceBody(newIdNumber(), { fields: { vehicleClass: 'Z9', firstIssuedOn: '2015-02-30' } }),
      ),
      400,
      'invalid_fields',
    );
    expect(fields.errors?.map(({ path, code }) => ({ path, code }))).toEqual([
      { path: 'fields.vehicleClass', code: 'invalid_value' },
      { path: 'fields.firstIssuedOn', code: 'invalid_date' },
      { path: 'fields.archiveNumber', code: 'required' },
    ]);
    const entity = await expectProblem(
      await issueLicence(runtime, token, {
        // A business licence for a person.
        ...drivingLicenceBody(newIdNumber()),
        type: 'business-licence',
      }),
      400,
    );
    expect(entity.errors?.[0]).toMatchObject({ code: 'wrong_holder_kind' });
  });
});
