import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onboardIssuer } from '../../support/http-api.js';
import { businessLicenceBody, drivingLicenceBody, issued, newIdNumber } from '../../support/licences.js';
import {
  clientCredentialsToken,
  clientSecretConsole,
  startTestRuntime,
  type TestRuntime,
} from '../../support/runtime.js';
import { issuerConsole } from '../../support/clerks.js';
import type { UserAgent } from '../../support/user-agent.js';

/*
 * The console's search by holder number, when the number is both a person's ID number and an enterprise's
 * credit code and both hold this issuer's licences (the API's 400 `ambiguous_holder`): the clerk is asked
 * which, in words, with a button for each, and a 证件类型 field of the search says it beforehand; the
 * answer is that holder's licences. Before, the page said only that the search was wrong, naming no field.
 */

let runtime: TestRuntime;
let ua: UserAgent;
/** Valid as a resident ID number and as a unified social credit code alike. */
const both = '121101199001017391';
let driving: string;
let business: string;

beforeAll(async () => {
  runtime = await startTestRuntime(undefined, clientSecretConsole);
  const admin = await clientCredentialsToken(runtime, runtime.credentials.admin, 'admin');
  const issuer = await onboardIssuer(runtime, admin, {
    licenceTypes: ['driving-licence', 'business-licence'],
    region: '110000',
  });
  const token = await clientCredentialsToken(runtime, issuer, 'licences:issue');
  driving = (await issued(runtime, token, drivingLicenceBody(both, { holderName: '两可某' }))).id;
  business = (await issued(runtime, token, businessLicenceBody(both, newIdNumber()))).id;
  ua = await issuerConsole(runtime, issuer);
});
afterAll(() => runtime?.close());

/** The licence ids of a list page's rows. */
const rowIds = (html: string) =>
  [
    ...html
      .slice(html.indexOf('<tbody>'))
      .matchAll(/class="mono licence-number" href="\/console\/licences\/([^"]+)"/g),
  ].map((match) => decodeURIComponent(match[1]!));

/** The hidden fields of the form whose button has `id`. */
function formOf(html: string, id: string): Record<string, string> {
  for (const form of html.matchAll(
    /<form method="post" action="\/console" class="inline">([\s\S]*?)<\/form>/g,
  )) {
    if (!form[1]!.includes(`id="${id}"`)) continue;
    return Object.fromEntries(
      [...form[1]!.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)].map((m) => [
        m[1]!,
        m[2]!,
      ]),
    );
  }
  throw new Error(`no form with ${id}`);
}

describe('the console’s search by a number held by a person and an enterprise alike', () => {
  it('asks the clerk whose licences they mean, and each answer shows that holder’s', async () => {
    const asked = await ua.request('/console', { form: { holder: both } });
    const html = await asked.text();
    expect(asked.status).toBe(400);
    // A question, with a button for each answer; not the bare "the search is not valid".
    expect(html).toContain('id="holder-kind-question"');
    expect(html).toContain('您要查询哪一方的证照？');
    expect(html).not.toContain('查询条件有误');
    expect(html).toMatch(/id="filter-holder-kind"[^>]*aria-invalid="true"/);
    expect(rowIds(html)).toEqual([]);

    // Each button posts the search with its answer: the number in a posted field, never in a URL.
    const person = formOf(html, 'holder-kind-person');
    expect(person).toMatchObject({ holder: both, holderKind: 'person' });
    const personPage = await ua.request('/console', { form: person });
    expect(personPage.status).toBe(200);
    expect(rowIds(await personPage.text())).toEqual([driving]);
    const entity = formOf(html, 'holder-kind-entity');
    expect(entity).toMatchObject({ holder: both, holderKind: 'entity' });
    const entityPage = await ua.request('/console', { form: entity });
    const entityHtml = await entityPage.text();
    expect(rowIds(entityHtml)).toEqual([business]);
    // The field keeps the answer, for the next search.
    expect(entityHtml).toMatch(/<option\s+value="entity"\s+selected="selected"/);
  });

  it('takes the kind from the search form’s 证件类型 field, and the CSV export follows it', async () => {
    const page = await ua.request('/console', { form: { holder: both, holderKind: 'person' } });
    expect(page.status).toBe(200);
    expect(rowIds(await page.text())).toEqual([driving]);
    const file = await ua.request('/console/export', { form: { holder: both, holderKind: 'entity' } });
    expect(file.status).toBe(200);
    expect(file.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(new TextDecoder().decode(await file.arrayBuffer())).toContain(business);
    // The export of the ambiguous search asks too, rather than answer a file of either.
    const ambiguous = await ua.request('/console/export', { form: { holder: both } });
    expect(ambiguous.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await ambiguous.text()).toContain('id="holder-kind-question"');
  });

  it('asks in English on the English page', async () => {
    const asked = await ua.request('/console?lang=en', { form: { holder: both } });
    const html = await asked.text();
    expect(html).toContain('Whose licences do you mean?');
    expect(html).toContain('A person’s licences (as a resident ID number)');
  });
});
