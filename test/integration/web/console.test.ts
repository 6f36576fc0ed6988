import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dependencies } from '../../../functions/composition/dependencies.js';
import { sealSession } from '../../../shared/web/console/console-session.js';
import {
  clientCredentialsToken,
  startTestRuntime,
  type TestRuntime,
  clientSecretConsole,
} from '../../support/runtime.js';
import { newCreditCode, onboardIssuer } from '../../support/http-api.js';
import { parseForm, UserAgent } from '../../support/user-agent.js';
import { idNumberCheckCharacter } from '../../../shared/identifiers/id-number.js';

/** A licence of the demo issuer's driving-licence type, as the generated form posts it. */
const drivingFields = {
  'fields.vehicleClass': 'C1',
  'fields.firstIssuedOn': '2015-03-01',
  'fields.archiveNumber': '110100654321',
};

describe('the issuer console over HTTP', () => {
  let runtime: TestRuntime;

  beforeAll(async () => {
    runtime = await startTestRuntime(undefined, clientSecretConsole);
  });
  afterAll(async () => {
    await runtime?.close();
  });

  /** A browser signed in to the console as the demo issuer. */
  async function signedIn(): Promise<UserAgent> {
    const ua = new UserAgent(runtime.baseUrl);
    const { clientId, clientSecret } = runtime.credentials.issuer;
    const response = await ua.request('/console/login', { form: { clientId, clientSecret } });
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/console');
    expect(ua.cookieHeader(new URL(runtime.baseUrl))).toMatch(/console=/);
    return ua;
  }

  /** The hidden inputs of a fresh issuance form of `type` (its type and idempotency key). */
  async function issueForm(ua: UserAgent, type: string): Promise<Record<string, string>> {
    const page = await ua.request(`/console/licences/new?type=${type}`);
    expect(page.status).toBe(200);
    const form = parseForm(await page.text(), 'issue-form');
    expect(form?.action).toBe('/console/licences');
    expect(form?.fields.idempotencyKey).toMatch(/^[0-9a-f-]{36}$/);
    return { type: form!.fields.type!, idempotencyKey: form!.fields.idempotencyKey! };
  }

  /**
   * The path of a driving licence the console issued to the demo citizen (its form posted and confirmed at
   * once), its archive number `archiveNumber`.
   */
  async function issuedLicence(ua: UserAgent, archiveNumber: string): Promise<string> {
    const issued = await ua.request('/console/licences', {
      form: {
        ...(await issueForm(ua, 'driving-licence')),
        holderNumber: runtime.credentials.citizen.idNumber,
        holderName: '王小明',
        ...drivingFields,
        'fields.archiveNumber': archiveNumber,
        step: 'confirm',
      },
    });
    return issued.headers.get('location')!.split('?')[0]!;
  }

  it('refuses wrong credentials with a 401 page that keeps the client id, never the secret', async () => {
    const ua = new UserAgent(runtime.baseUrl);
    const clientId = runtime.credentials.issuer.clientId;
    const response = await ua.request('/console/login', {
      form: { clientId, clientSecret: 'not-the-secret-at-all' },
    });
    expect(response.status).toBe(401);
    const html = await response.text();
    expect(html).toContain('客户端 ID 或密钥不正确');
    expect(html).toMatch(new RegExp(`id="clientId"[^>]*value="${clientId}"`));
    expect(html).not.toContain('not-the-secret-at-all');
    expect(response.headers.getSetCookie().some((c) => c.startsWith('console='))).toBe(false);

    const empty = await ua.request('/console/login', { form: { clientId: '', clientSecret: '' } });
    expect(empty.status).toBe(400);
    expect(await empty.text()).toMatch(
      /id="clientId"[^>]*aria-invalid="true"[^>]*aria-describedby="clientId-error"|id="clientId"[^>]*aria-describedby="clientId-error"/s,
    );

    // A client that is not an issuer's gets a token, but not for the issuer API.
    const verifier = await ua.request('/console/login', { form: runtime.credentials.verifier });
    expect(verifier.status).toBe(403);
    expect(await verifier.text()).toContain('licences:issue');
  });

  it('refuses posts from another site with 403, signed in or not', async () => {
    const { clientId, clientSecret } = runtime.credentials.issuer;
    const crossSite = {
      'content-type': 'application/x-www-form-urlencoded',
      origin: 'https://evil.example',
      'sec-fetch-site': 'cross-site',
    };
    const login = await fetch(`${runtime.baseUrl}/console/login`, {
      method: 'POST',
      headers: crossSite,
      body: new URLSearchParams({ clientId, clientSecret }),
      redirect: 'manual',
    });
    expect(login.status).toBe(403);
    expect(login.headers.getSetCookie()).toEqual([]);

    const ua = await signedIn();
    const fields = await issueForm(ua, 'driving-licence');
    const issue = await fetch(`${runtime.baseUrl}/console/licences`, {
      method: 'POST',
      headers: { ...crossSite, cookie: ua.cookieHeader(new URL(runtime.baseUrl)) },
      body: new URLSearchParams({
        ...fields,
        ...drivingFields,
        holderNumber: runtime.credentials.citizen.idNumber,
        holderName: '王小明',
      }),
      redirect: 'manual',
    });
    expect(issue.status).toBe(403);
  });

  it('issues a licence from the generated form after its review, once however often it is confirmed', async () => {
    const ua = await signedIn();
    const hidden = await issueForm(ua, 'driving-licence');
    const form = {
      ...hidden,
      holderNumber: runtime.credentials.citizen.idNumber,
      holderName: runtime.credentials.citizen.name,
      validFrom: '',
      validUntil: '',
      ...drivingFields,
    };
    const issuerToken = await clientCredentialsToken(runtime, runtime.credentials.issuer, 'licences:issue');
    const total = async () => {
      const response = await fetch(`${runtime.baseUrl}/licences?total=true&limit=1`, {
        headers: { authorization: `Bearer ${issuerToken}` },
      });
      return ((await response.json()) as { total: { count: number } }).total.count;
    };
    const before = await total();
    // The form's post is a review: nothing is signed yet.
    const review = await ua.request('/console/licences', { form });
    expect(review.status).toBe(200);
    const reviewHtml = await review.text();
    expect(reviewHtml).toContain('核对证照信息');
    expect(await total()).toBe(before);
    const confirm = parseForm(reviewHtml, 'issue-review-form')!;
    expect(confirm.fields.idempotencyKey).toBe(hidden.idempotencyKey);
    // The review shows the holder's number masked (the hidden field carries it on, to be signed).
    expect(reviewHtml.replace(/<input\b[^>]*>/g, '')).not.toContain(runtime.credentials.citizen.idNumber);
    const first = await ua.request('/console/licences', { form: { ...confirm.fields, step: 'confirm' } });
    expect(first.status).toBe(303);
    const location = first.headers.get('location')!;
    expect(location).toMatch(/^\/console\/licences\/1\.2\.156\.3005\.2\.003\..+\?done=issued$/);
    const again = await ua.request('/console/licences', { form: { ...confirm.fields, step: 'confirm' } });
    expect(again.status).toBe(303);
    expect(again.headers.get('location')).toBe(location);
    expect(await total()).toBe(before + 1);

    const detail = await ua.request(location);
    expect(detail.status).toBe(200);
    const html = await detail.text();
    expect(html).toContain('证照已签发');
    expect(html).toContain('110100654321');
    expect(html).toMatch(/<img\s+src="data:image\/svg\+xml;base64,[A-Za-z0-9+/=]+"/);
    // The holder's number appears masked only.
    expect(html).not.toContain(runtime.credentials.citizen.idNumber);
    expect(html).toContain('暂停');
    expect(html).not.toContain('action-form-valid');

    const id = decodeURIComponent(location.split('/')[3]!.split('?')[0]!);
    const list = await (await ua.request('/console')).text();
    // Its number and its holder both lead to it.
    expect(list.split(`href="/console/licences/${encodeURIComponent(id)}"`).length - 1).toBe(2);
    const filtered = await (await ua.request('/console?status=revoked')).text();
    expect(filtered).not.toContain(encodeURIComponent(id));
  });

  it('filters by holder only through a posted form: the number never appears in a URL', async () => {
    const ua = await signedIn();
    const { idNumber } = runtime.credentials.citizen;
    const { creditCode } = runtime.credentials.entity;
    const list = await (await ua.request('/console')).text();
    expect(list).toMatch(/<form\s+method="post"\s+action="\/console"/);

    const mine = await ua.request('/console', { form: { holder: idNumber } });
    expect(mine.status).toBe(200);
    const html = await mine.text();
    const rows = (page: string) => page.slice(page.indexOf('<tbody>'));
    expect(rows(html)).toContain('机动车驾驶证');
    expect(rows(html)).not.toContain('营业执照');
    // The number stays in the form field, and in no link.
    expect(html.match(/href="[^"]*"/g)?.join(' ') ?? '').not.toContain(idNumber.slice(0, 10));

    const entity = await (await ua.request('/console', { form: { holder: creditCode } })).text();
    expect(rows(entity)).toContain('营业执照');
    expect(rows(entity)).not.toContain('机动车驾驶证');

    // A holder put in the query is ignored, so no link or bookmark can carry one.
    const queried = await (await ua.request(`/console?holder=${creditCode}`)).text();
    expect(rows(queried)).toContain('机动车驾驶证');
    const crossSite = await fetch(`${runtime.baseUrl}/console`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'cross-site' },
      body: `holder=${idNumber}`,
    });
    expect(crossSite.status).toBe(403);
  });

  it('shows the API’s and its own validation errors next to their fields, keeping the values', async () => {
    const ua = await signedIn();
    const hidden = await issueForm(ua, 'driving-licence');
    const base = {
      ...hidden,
      holderName: '王小明',
      ...drivingFields,
    };
    // A check character the form cannot judge: the API refuses `holder.idNumber`.
    const wrongCheck = `${runtime.credentials.citizen.idNumber.slice(0, 17)}${runtime.credentials.citizen.idNumber.endsWith('0') ? '1' : '0'}`;
    // The API judges it when the reviewed form is confirmed.
    const refused = await ua.request('/console/licences', {
      form: { ...base, holderNumber: wrongCheck, step: 'confirm' },
    });
    expect(refused.status).toBe(400);
    const html = await refused.text();
    expect(html).toMatch(
      /id="field-holderNumber"[^>]*aria-describedby="[^"]*field-holderNumber-error"[^>]*aria-invalid="true"/s,
    );
    expect(html).toContain('id="field-holderNumber-error"');
    expect(html).toContain(`value="110100654321"`);
    expect(html).toContain('href="#field-holderNumber"');
    // A refused form gets a fresh key: nothing was issued under the old one.
    expect(parseForm(html, 'issue-form')?.fields.idempotencyKey).not.toBe(hidden.idempotencyKey);

    const local = await ua.request('/console/licences', {
      form: { ...base, holderNumber: runtime.credentials.citizen.idNumber, 'fields.vehicleClass': 'Z9' },
    });
    expect(local.status).toBe(400);
    expect(await local.text()).toMatch(/id="field-fields-vehicleClass-error">请从列表中选择/);

    // The demo issuer may not issue social security cards: the console does not offer the form (its
    // trust-list entry does not list the type), and a post made by hand is refused all the same.
    const notOffered = await ua.request('/console/licences/new?type=social-security-card');
    expect(notOffered.status).toBe(403);
    const notOfferedHtml = await notOffered.text();
    expect(notOfferedHtml).toContain('本机关无权签发此类证照');
    expect(parseForm(notOfferedHtml, 'issue-form')).toBeUndefined();
    const forbidden = await ua.request('/console/licences', {
      form: {
        type: 'social-security-card',
        idempotencyKey: randomUUID(),
        holderNumber: runtime.credentials.citizen.idNumber,
        holderName: '王小明',
        'fields.cardNumber': 'A12345678',
        'fields.issuingRegion': '110105',
      },
    });
    expect(forbidden.status).toBe(403);
    expect(await forbidden.text()).toContain('本机关无权签发此类证照');
  });

  it('masks a foreigner’s permanent residence number on the review without its nationality (review R64-3)', async () => {
    const ua = await signedIn();
    const hidden = await issueForm(ua, 'driving-licence');
    const first17 = '93184019900101002'; // 9, Shanghai (31), USA (840), born 1990-01-01
    const idNumber = first17 + idNumberCheckCharacter(first17);
    const review = await ua.request('/console/licences', {
      form: {
        ...hidden,
        holderNumber: idNumber,
        holderName: '史密斯',
        validFrom: '',
        validUntil: '',
        ...drivingFields,
      },
    });
    expect(review.status).toBe(200);
    const reviewHtml = await review.text();
    expect(reviewHtml).toContain('核对证照信息');
    expect(reviewHtml).toMatch(
      new RegExp(`id="review-holder-number">\\s*931\\*{11}${idNumber.slice(14)}\\s*<`),
    );
  });

  it('refuses a regional type for a holder outside the jurisdiction at the review, in the page’s language', async () => {
    const ua = await signedIn();
    const form = await ua.request('/console/licences/new?type=business-licence');
    const formHtml = await form.text();
    expect(formHtml).toContain('id="issue-jurisdiction"');
    const hidden = parseForm(formHtml, 'issue-form')!.fields;
    const shanghai = newCreditCode('91', '310000');
    const posted = {
      type: hidden.type!,
      idempotencyKey: hidden.idempotencyKey!,
      holderNumber: shanghai,
      holderName: '上海测试有限公司',
      'fields.entityType': '有限责任公司',
      'fields.legalRepresentativeName': '张测试',
      'fields.legalRepresentativeIdNumber': runtime.credentials.citizen.idNumber,
      'fields.establishedOn': '2020-06-01',
      'fields.businessScope': '软件开发',
      'fields.address': '上海市测试路1号',
    };
    for (const step of ['', 'confirm']) {
      const refused = await ua.request('/console/licences', { form: { ...posted, step } });
      expect(refused.status).toBe(400);
      const html = await refused.text();
      expect(html).toMatch(/id="field-holderNumber-error">持证人不在本机关辖区/);
      expect(html).not.toContain('核对证照信息');
    }
    const english = await ua.request('/console/licences?lang=en', { form: posted });
    expect(await english.text()).toMatch(
      /id="field-holderNumber-error">The holder is outside this issuer’s jurisdiction/,
    );
  });

  it('asks for a reason and, to revoke, a confirmation; then revokes for good', async () => {
    const ua = await signedIn();
    const path = await issuedLicence(ua, '110100777777');

    const noReason = await ua.request(`${path}/status`, {
      form: { status: 'suspended', reasonCode: '', reason: ' ' },
    });
    expect(noReason.status).toBe(400);
    expect(await noReason.text()).toMatch(/id="reason-code-suspended"[^>]*aria-invalid="true"/s);
    const otherWithoutText = await ua.request(`${path}/status`, {
      form: { status: 'suspended', reasonCode: 'other', reason: '' },
    });
    expect(otherWithoutText.status).toBe(400);
    expect(await otherWithoutText.text()).toMatch(/id="reason-suspended"[^>]*aria-invalid="true"/s);
    // A revocation's reason offered for a suspension: refused, as the API would.
    const wrongList = await ua.request(`${path}/status`, {
      form: { status: 'suspended', reasonCode: 'violation' },
    });
    expect(wrongList.status).toBe(400);

    const unconfirmed = await ua.request(`${path}/status`, {
      form: { status: 'revoked', reasonCode: 'other', reason: '以欺骗手段取得' },
    });
    expect(unconfirmed.status).toBe(400);
    const unconfirmedHtml = await unconfirmed.text();
    expect(unconfirmedHtml).toMatch(/id="confirm-revoked"[^>]*aria-invalid="true"/s);
    expect(unconfirmedHtml).toContain('以欺骗手段取得');
    expect(unconfirmedHtml).toContain('badge valid');

    const suspended = await ua.request(`${path}/status`, {
      form: { status: 'suspended', reasonCode: 'other', reason: '记满 12 分' },
    });
    expect(suspended.status).toBe(303);
    const suspendedHtml = await (await ua.request(suspended.headers.get('location')!)).text();
    expect(suspendedHtml).toContain('状态已变更为“已暂停”');
    expect(suspendedHtml).toContain('action-form-valid');
    expect(suspendedHtml).not.toContain('action-form-suspended');

    const revoked = await ua.request(`${path}/status`, {
      form: { status: 'revoked', reasonCode: 'improperly-obtained', reason: '', confirm: 'yes' },
    });
    expect(revoked.status).toBe(303);
    const revokedHtml = await (await ua.request(revoked.headers.get('location')!)).text();
    expect(revokedHtml).toContain('<span class="badge revoked">已吊销</span>');
    expect(revokedHtml).not.toContain('action-form-');
    // The history says when, what, who and why (a preset by its words, a note as written).
    const history = revokedHtml.slice(revokedHtml.indexOf('id="licence-history-table"'));
    expect(history).toContain('记满 12 分');
    expect(history).toContain('以欺骗、贿赂等不正当手段取得');
    expect(history).toContain(runtime.credentials.issuer.clientId);

    const tooLate = await ua.request(`${path}/status`, {
      form: { status: 'valid', reasonCode: 'other', reason: '误操作' },
    });
    expect(tooLate.status).toBe(409);
  });

  it('refuses a reason holding an ID number or a mobile number, saying so in the page’s language', async () => {
    const ua = await signedIn();
    const path = await issuedLicence(ua, '110100777778');

    const withIdNumber = await ua.request(`${path}/status`, {
      form: { status: 'suspended', reasonCode: 'other', reason: '持证人 440304198512310011 申请暂扣' },
    });
    expect(withIdNumber.status).toBe(400);
    const html = await withIdNumber.text();
    expect(html).toMatch(/id="reason-suspended"[^>]*aria-invalid="true"/s);
    expect(html).toContain('请勿填写身份证号码');
    expect(html).toContain('badge valid');

    const withPhone = await ua.request(`${path}/status?lang=en`, {
      form: { status: 'suspended', reasonCode: 'holder-request', reason: '联系 +86 199 5551 2340' },
    });
    expect(withPhone.status).toBe(400);
    expect(await withPhone.text()).toContain('Must not contain a mobile phone number');
    const page = await (await ua.request(path)).text();
    expect(page).toContain('badge valid');
    expect(page).not.toContain('5551');
  });

  it('names a reason that is not UTF-8 (a browser set to GBK) on the form, the rest kept, and changes nothing (session 27)', async () => {
    const ua = await signedIn();
    const path = await issuedLicence(ua, '110100777779');
    const form = 'application/x-www-form-urlencoded';
    // 记满12分 in GBK, as a browser whose page encoding was switched to GBK escapes it.
    const gbk = await ua.request(`${path}/status`, {
      headers: { 'content-type': form },
      body: 'status=suspended&reasonCode=investigation&reason=%BC%C7%C2%FA12%B7%D6',
    });
    expect(gbk.status).toBe(400);
    const html = await gbk.text();
    expect(html).toMatch(/id="reason-suspended"[^>]*aria-invalid="true"/s);
    expect(html).toMatch(/id="reason-suspended-error">[^<]*乱码/);
    expect(html).toMatch(/value="investigation"\s*selected/);
    expect(html).toContain('badge valid');
    // A stray byte, too, whatever the reason code.
    const stray = await ua.request(`${path}/status`, {
      headers: { 'content-type': form },
      body: 'status=suspended&reasonCode=other&reason=%FF%FE',
    });
    expect(stray.status).toBe(400);
    expect(await stray.text()).toMatch(/id="reason-suspended"[^>]*aria-invalid="true"/s);
    // Declared GBK (a back-office script): refused by name, on a page, as the JSON edge refuses it.
    const declared = await ua.request(`${path}/status`, {
      headers: { 'content-type': `${form}; charset=GBK` },
      body: 'status=suspended&reasonCode=investigation&reason=%BC%C7%C2%FA12%B7%D6',
    });
    expect(declared.status).toBe(415);
    expect(declared.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await declared.text()).toContain('UTF-8');
    const page = await (await ua.request(path)).text();
    expect(page).toContain('badge valid');
    expect(page).not.toContain('\uFFFD');
  });

  it('names an issue form’s field that is not UTF-8 next to the others as typed, issuing nothing (session 27)', async () => {
    const ua = await signedIn();
    const hidden = await issueForm(ua, 'driving-licence');
    const fields = {
      ...hidden,
      holderNumber: runtime.credentials.citizen.idNumber,
      ...drivingFields,
      'fields.archiveNumber': '110100777781',
      step: 'confirm',
    };
    // 李测试 in GBK, escaped as a browser switched to GBK sends it.
    const body = `${new URLSearchParams(fields).toString()}&holderName=%C0%EE%B2%E2%CA%D4`;
    const refused = await ua.request('/console/licences', {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
    });
    expect(refused.status).toBe(400);
    const html = await refused.text();
    expect(html).toMatch(/id="field-holderName-error">[^<]*乱码/);
    expect(html).toContain(`value="${runtime.credentials.citizen.idNumber}"`);
    expect(html).toContain('value="110100777781"');
    expect(html).not.toContain('核对证照信息');
  });

  it('refuses a reason holding control characters, as the API does (session 27)', async () => {
    const ua = await signedIn();
    const path = await issuedLicence(ua, '110100777780');
    const refused = await ua.request(`${path}/status`, {
      form: { status: 'suspended', reasonCode: 'other', reason: '记满\u202E分21' },
    });
    expect(refused.status).toBe(400);
    expect(await refused.text()).toMatch(/id="reason-suspended"[^>]*aria-invalid="true"/s);
    // A textarea's line break is text.
    const multiLine = await ua.request(`${path}/status`, {
      form: { status: 'suspended', reasonCode: 'other', reason: '记满 12 分\r\n待复核' },
    });
    expect(multiLine.status).toBe(303);
  });

  it('re-issues a licence whose key was withdrawn from its page, landing on the new licence', async () => {
    const admin = await clientCredentialsToken(runtime, runtime.credentials.admin, 'admin');
    const agency = await onboardIssuer(runtime, admin, {
      creditCode: newCreditCode('11', '110000'),
      licenceTypes: ['driving-licence'],
    });
    const agencyToken = await clientCredentialsToken(runtime, agency, 'licences:issue');
    const issued = await fetch(`${runtime.baseUrl}/licences`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${agencyToken}`,
        'content-type': 'application/json',
        'idempotency-key': randomUUID(),
      },
      body: JSON.stringify({
        type: 'driving-licence',
        holder: { idNumber: runtime.credentials.citizen.idNumber },
        holderName: '王小明',
        fields: { vehicleClass: 'C1', firstIssuedOn: '2015-03-01', archiveNumber: '110100888888' },
      }),
    });
    expect(issued.status, await issued.clone().text()).toBe(201);
    const old = ((await issued.json()) as { id: string }).id;
    const rotated = await fetch(`${runtime.baseUrl}/admin/issuers/${encodeURIComponent(agency.id)}/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ previousKey: 'withdraw' }),
    });
    expect(rotated.status, await rotated.clone().text()).toBe(201);

    const ua = new UserAgent(runtime.baseUrl);
    const login = await ua.request('/console/login', {
      form: { clientId: agency.clientId, clientSecret: agency.clientSecret },
    });
    expect(login.status).toBe(303);
    const oldPath = `/console/licences/${encodeURIComponent(old)}`;
    // The list finds it with its filter (a link's query: nothing personal in it), marked.
    const listed = await (await ua.request('/console?keyWithdrawn=true&status=valid')).text();
    expect(listed).toMatch(/id="filter-key-withdrawn"[^>]*checked/s);
    expect(listed).toContain(`href="${oldPath}"`);
    expect(listed).toContain('密钥已撤回');
    const before = await (await ua.request(oldPath)).text();
    expect(before).toContain('id="licence-key-withdrawn"');
    const form = parseForm(before, 'reissue-form');
    expect(form?.action).toBe(`${oldPath}/reissue`);
    expect(before).toContain('重新签发');

    // Final (it revokes this licence): asks for the confirmation first; nothing is done without it.
    const unconfirmed = await ua.request(`${oldPath}/reissue`, { form: {} });
    expect(unconfirmed.status).toBe(400);
    expect(await unconfirmed.text()).toMatch(/id="confirm-reissue"[^>]*aria-invalid="true"/s);
    expect(await (await ua.request(oldPath)).text()).toContain('<span class="badge valid">');

    // From another site: refused before anything is read, as every console form.
    const crossSite = await fetch(`${runtime.baseUrl}${oldPath}/reissue`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        origin: 'https://evil.example',
        'sec-fetch-site': 'cross-site',
        cookie: ua.cookieHeader(new URL(runtime.baseUrl)),
      },
      body: 'confirm=yes',
      redirect: 'manual',
    });
    expect(crossSite.status).toBe(403);

    const done = await ua.request(`${oldPath}/reissue`, { form: { confirm: 'yes' } });
    expect(done.status).toBe(303);
    const location = done.headers.get('location')!;
    const renewed = decodeURIComponent(location.split('/')[3]!.split('?')[0]!);
    expect(renewed).not.toBe(old);
    const after = await (await ua.request(location)).text();
    expect(after).toContain('证照已重新签发');
    expect(after).toContain('<span class="badge valid">');
    expect(after).not.toContain('id="licence-key-withdrawn"');
    expect(after).toMatch(new RegExp(`id="licence-replaces"[^>]*href="${oldPath.replace(/\./g, '\\.')}"`));

    const replaced = await (await ua.request(oldPath)).text();
    expect(replaced).toContain('<span class="badge revoked">');
    expect(replaced).toContain('id="licence-replaced-by"');
    expect(replaced).not.toContain('id="reissue-form"');
    expect(replaced.slice(replaced.indexOf('id="licence-history-table"'))).toContain('证照已换发或补发');

    const left = await (await ua.request('/console?keyWithdrawn=true&status=valid')).text();
    expect(left).not.toContain(`href="${oldPath}"`);
    expect(left).toContain('没有符合条件的证照');

    // Again from a stale page: the API refuses, and the page says so.
    const again = await ua.request(`${oldPath}/reissue`, { form: { confirm: 'yes' } });
    expect(again.status).toBe(409);
    expect(await again.text()).toContain('此证照已重新签发过');
  });

  it('treats a tampered or foreign cookie as signed out', async () => {
    const ua = await signedIn();
    const sealed = /console=([^;]+)/.exec(ua.cookieHeader(new URL(runtime.baseUrl)))![1]!;
    const flipped = `${sealed.slice(0, 20)}${sealed[20] === 'A' ? 'B' : 'A'}${sealed.slice(21)}`;
    for (const cookie of [`console=${flipped}`, 'console=garbage', `demo=${sealed}`]) {
      const page = await fetch(`${runtime.baseUrl}/console`, { headers: { cookie } });
      expect(page.status).toBe(200);
      const html = await page.text();
      expect(html).toContain('action="/console/login"');
      expect(html).not.toContain('console-bar');
      const deep = await fetch(`${runtime.baseUrl}/console/licences/new`, {
        headers: { cookie },
        redirect: 'manual',
      });
      expect(deep.status).toBe(303);
    }
  });

  it('signs out for good: a copy of the cookie taken before stops working; an expired one asks to sign in', async () => {
    const ua = await signedIn();
    const oldCookie = ua.cookieHeader(new URL(runtime.baseUrl));
    expect((await ua.request('/console')).status).toBe(200);
    const out = await ua.request('/console/logout', { form: {} });
    expect(out.status).toBe(303);
    expect(out.headers.get('location')).toBe('/console?m=signed-out');
    expect(ua.cookieHeader(new URL(runtime.baseUrl))).not.toContain('console=');
    // The session was closed server-side: the replayed cookie still opens, but its session is over.
    const replayed = await fetch(`${runtime.baseUrl}/console`, {
      headers: { cookie: oldCookie },
      redirect: 'manual',
    });
    expect(replayed.status).toBe(303);
    expect(replayed.headers.get('location')).toBe('/console?m=signed-out');
    const issue = await fetch(`${runtime.baseUrl}/console/licences`, {
      method: 'POST',
      headers: { cookie: oldCookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'type=driving-licence',
      redirect: 'manual',
    });
    expect(issue.status).toBe(303);
    expect(issue.headers.get('location')).toBe('/console?m=signed-out');

    const now = Math.floor(Date.now() / 1000);
    const lapsed = await sealSession(
      dependencies().cookieSealer,
      { sid: 'a-session-id-that-has-lapsed', accessToken: 'a-token', expiresAt: now - 1, clientId: 'cl_x' },
      now,
    );
    const afterExpiry = await fetch(`${runtime.baseUrl}/console`, {
      headers: { cookie: `console=${lapsed}` },
      redirect: 'manual',
    });
    expect(afterExpiry.status).toBe(303);
    expect(afterExpiry.headers.get('location')).toBe('/console?m=expired');
  });

  it('says so, with a 429 page, when the token endpoint throttles the client after failed sign-ins', async () => {
    // A client of its own, so that throttling it leaves the demo issuer's sign-ins to the other tests.
    const admin = await clientCredentialsToken(runtime, runtime.credentials.admin, 'admin');
    const { clientId } = await onboardIssuer(runtime, admin);
    const ua = new UserAgent(runtime.baseUrl);
    const statuses: number[] = [];
    let html = '';
    for (let attempt = 0; attempt < 8 && !statuses.includes(429); attempt++) {
      const response = await ua.request('/console/login', {
        form: { clientId, clientSecret: `wrong-${attempt}` },
      });
      statuses.push(response.status);
      html = await response.text();
    }
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses.at(-1)).toBe(429);
    expect(html).toMatch(/登录失败次数过多，请 \d+ 秒后再试/);
  });
});
