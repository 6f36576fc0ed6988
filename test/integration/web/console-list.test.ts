import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onboardIssuer, type OnboardedIssuer } from '../../support/http-api.js';
import { drivingLicenceBody, issued, newIdNumber, type LicenceJson } from '../../support/licences.js';
import {
  clientCredentialsToken,
  startTestRuntime,
  type TestRuntime,
  clientSecretConsole,
} from '../../support/runtime.js';
import { issuerConsole } from '../../support/clerks.js';

let runtime: TestRuntime;
let issuer: OnboardedIssuer;
/** The issuer's licences, oldest first: 23 of 列表 holders, then two with hostile names. */
const licences: LicenceJson[] = [];
const idNumbers: string[] = [];
const hostileNames = ['=HYPERLINK("http://evil.example","点我")', '@SUM(1+1)'];

beforeAll(async () => {
  runtime = await startTestRuntime(undefined, clientSecretConsole);
  const admin = await clientCredentialsToken(runtime, runtime.credentials.admin, 'admin');
  // An issuer of its own, so that the totals are this file's licences only.
  issuer = await onboardIssuer(runtime, admin, { licenceTypes: ['driving-licence'] });
  const token = await clientCredentialsToken(runtime, issuer, 'licences:issue');
  const names = [
    ...Array.from({ length: 23 }, (_, i) => `列表${String(i).padStart(2, '0')}`),
    ...hostileNames,
  ];
  for (const holderName of names) {
    const idNumber = newIdNumber();
    idNumbers.push(idNumber);
    licences.push(await issued(runtime, token, drivingLicenceBody(idNumber, { holderName })));
  }
});
afterAll(async () => {
  await runtime?.close();
});

const signedIn = () => issuerConsole(runtime, issuer);

/** The licence ids of a list page's rows, in order. */
const rowIds = (html: string) =>
  [
    ...html
      .slice(html.indexOf('<tbody>'))
      .matchAll(/class="mono licence-number" href="\/console\/licences\/([^"]+)"/g),
  ].map((match) => decodeURIComponent(match[1]!));

/** The hidden fields of the pager form whose button reads `label`. */
function pagerForm(html: string, label: string): Record<string, string> | undefined {
  for (const form of html.matchAll(
    /<form method="post" action="\/console" class="inline">([\s\S]*?)<\/form>/g,
  )) {
    if (!form[1]!.includes(label)) continue;
    return Object.fromEntries(
      [...form[1]!.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)].map((m) => [
        m[1]!,
        m[2]!,
      ]),
    );
  }
  return undefined;
}

const ids = (from: number, to: number) => licences.slice(from, to).map((licence) => licence.id);

describe('the console’s list over HTTP', () => {
  it('searches by a part of the holder’s name, with the total, and pages forward and back', async () => {
    const ua = await signedIn();
    const first = await ua.request('/console', { form: { holderName: '列表' } });
    expect(first.status).toBe(200);
    const firstHtml = await first.text();
    expect(firstHtml).toContain('共 23 条');
    expect(firstHtml).toContain('第 1 页（第 1–20 条）');
    expect(rowIds(firstHtml)).toEqual(ids(3, 23).reverse());
    expect(pagerForm(firstHtml, '上一页')).toBeUndefined();

    const next = pagerForm(firstHtml, '下一页')!;
    expect(next.holderName).toBe('列表');
    const secondHtml = await (await ua.request('/console', { form: next })).text();
    expect(secondHtml).toContain('第 2 页（第 21–23 条）');
    expect(rowIds(secondHtml)).toEqual(ids(0, 3).reverse());
    expect(pagerForm(secondHtml, '下一页')).toBeUndefined();

    const back = pagerForm(secondHtml, '上一页')!;
    const againHtml = await (await ua.request('/console', { form: back })).text();
    expect(rowIds(againHtml)).toEqual(rowIds(firstHtml));
    expect(againHtml).toContain('第 1 页');
    // The holder's name travelled in posted fields only: no link carries it.
    expect(secondHtml.match(/href="[^"]*"/g)?.join(' ')).not.toContain(encodeURIComponent('列表'));
  });

  it('says a page turn whose issue days were changed is not a valid search (400), not a server error', async () => {
    const ua = await signedIn();
    const firstHtml = await (await ua.request('/console', { form: { holderName: '列表' } })).text();
    const next = pagerForm(firstHtml, '下一页')!;
    expect(next.cursor).toEqual(expect.any(String));
    // The pager's cursor with days it was not made for (review R22: the API answered 500).
    const changed = await ua.request('/console', { form: { ...next, issuedFrom: '2099-01-01' } });
    expect(changed.status).toBe(400);
    expect(await changed.text()).toContain('查询条件有误');
  });

  it('counts the total on a search’s first page only: a page turn carries it, and counts nothing', async () => {
    const ua = await signedIn();
    const dynamo = runtime.dynamo!;
    const queries = async (form: Record<string, string>) => {
      dynamo.resetStats();
      const html = await (await ua.request('/console', { form })).text();
      return { html, queries: dynamo.stats().Query ?? 0 };
    };
    const first = await queries({ holderName: '列表' });
    expect(first.html).toContain('共 23 条');
    const next = pagerForm(first.html, '下一页')!;
    expect(next.total).toBe('23');

    // The page turn: its rows' queries only (compared below with the same page counted again).
    const second = await queries(next);
    expect(second.html).toContain('共 23 条');
    expect(second.html).toContain('第 2 页（第 21–23 条）');
    expect(pagerForm(second.html, '上一页')!.total).toBe('23');
    // Carried, not counted: a posted total is shown as it came (display only), "+" for a capped count.
    expect((await queries({ ...next, total: '1000+' })).html).toContain('共 1,000+ 条');
    // Anything else in the field is no total: the page counts again.
    const recounted = await queries({ ...next, total: '23; drop' });
    expect(recounted.html).toContain('共 23 条');
    // The same page with and without the carried total: the difference is the count's query (or queries).
    expect(recounted.queries).toBeGreaterThan(second.queries);
  });

  it('sorts by issue date and by number from the column headers, either way', async () => {
    const ua = await signedIn();
    const oldest = await (
      await ua.request('/console', { form: { holderName: '列表', sort: 'issuedAt' } })
    ).text();
    expect(rowIds(oldest)).toEqual(ids(0, 20));
    expect(oldest).toMatch(/<th scope="col" aria-sort="ascending">\s*<button[^>]*value="-issuedAt"/);
    const byNumber = await (
      await ua.request('/console', { form: { holderName: '列表', sort: 'number' } })
    ).text();
    const serials = rowIds(byNumber).map((id) => Number(id.split('.').at(-3)));
    expect(serials).toEqual([...serials].sort((a, b) => a - b));
    const newest = await (
      await ua.request('/console', { form: { holderName: '列表', sort: '-number' } })
    ).text();
    expect(rowIds(newest)[0]).toBe(licences[22]!.id);
  });

  it('filters by number part, status, type and issue days; a reversed date range is named', async () => {
    const ua = await signedIn();
    // With the issuer's code: serial 5's last parts alone are also the end of serial 15's when their check
    // characters match (a flake of about one run in ten).
    const serial = licences[5]!.id.split('.').slice(-4).join('.');
    const one = await (await ua.request(`/console?number=${encodeURIComponent(serial)}`)).text();
    expect(rowIds(one)).toEqual([licences[5]!.id]);
    expect(one).toContain('共 1 条');
    const today = new Date(Date.now() + 8 * 3_600_000).toISOString().slice(0, 10);
    const todays = await (
      await ua.request('/console', {
        form: {
          holderName: '列表',
          type: 'driving-licence',
          status: 'valid',
          issuedFrom: today,
          issuedTo: today,
        },
      })
    ).text();
    expect(todays).toContain('共 23 条');
    const none = await (await ua.request('/console', { form: { issuedTo: '2020-01-01' } })).text();
    expect(none).toContain('没有符合条件的证照');
    const reversed = await ua.request('/console', { form: { issuedFrom: today, issuedTo: '2020-01-01' } });
    expect(reversed.status).toBe(400);
    expect(await reversed.text()).toMatch(/id="filter-issued-to"[^>]*aria-invalid="true"/);
  });

  it('exports the search to CSV: a BOM, masked numbers, formula cells guarded, every match', async () => {
    const ua = await signedIn();
    const response = await ua.request('/console/export', { form: { sort: 'issuedAt' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(response.headers.get('content-disposition')).toMatch(
      /^attachment; filename="licences-\d{8}\.csv"$/,
    );
    const bytes = new Uint8Array(await response.arrayBuffer());
    expect([...bytes.slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const text = new TextDecoder().decode(bytes.slice(3));
    const lines = text.split('\r\n').filter(Boolean);
    expect(lines[0]).toBe(
      '证照编号,证照类型,持证人,证件号码（已脱敏）,状态,状态原因,签发日期,生效日期,有效期至',
    );
    expect(lines).toHaveLength(1 + licences.length);
    expect(lines[1]!.startsWith(`${licences[0]!.id},机动车驾驶证,列表00,`)).toBe(true);
    for (const [i, idNumber] of idNumbers.entries()) {
      const masked = `${idNumber.slice(0, 4)}${'*'.repeat(10)}${idNumber.slice(14)}`;
      expect(lines[1 + i]).toContain(`,${masked},`);
      expect(text).not.toContain(idNumber);
    }
    // A spreadsheet would run these as formulas: each starts with an apostrophe (and is quoted as needed).
    expect(lines.at(-2)).toContain(`,"'=HYPERLINK(""http://evil.example"",""点我"")",`);
    expect(lines.at(-1)).toContain(`,'@SUM(1+1),`);

    // A search the API refuses is answered by the list page, naming the field, not by a file.
    const refused = await ua.request('/console/export', { form: { holder: '110105' } });
    expect(refused.status).toBe(400);
    expect(refused.headers.get('content-type')).toMatch(/^text\/html/);
    const refusedHtml = await refused.text();
    expect(refusedHtml).toMatch(/id="filter-holder"[^>]*aria-invalid="true"/);

    // The export follows the search, in the page's language.
    const english = await ua.request('/console/export?lang=en', { form: { holderName: '列表0' } });
    const englishLines = new TextDecoder()
      .decode(await english.arrayBuffer())
      .split('\r\n')
      .filter(Boolean);
    expect(englishLines).toHaveLength(1 + 10);
    expect(englishLines[0]).toContain('Licence number');
  });
});
