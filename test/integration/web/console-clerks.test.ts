import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registryPeople } from '../../../infra/local/demo-data.js';
import { dependencies } from '../../../functions/composition/dependencies.js';
import { consoleClientId } from '../../../shared/identifiers/client-ids.js';
import { auditEntriesOf, licenceAuditEntries } from '../../support/audit-entries.js';
import {
  accountIdOf,
  agencyHeadToken,
  appointClerk,
  clerkConsole,
  withdrawClerk,
} from '../../support/clerks.js';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.js';
import { parseForm, type UserAgent } from '../../support/user-agent.js';

/**
 * Counter clerks (经办人) in the issuer console over HTTP (docs/console.md): each signs in with their own
 * identity through the unified identity, acting for the agency; what they do is traced to them; an
 * appointment withdrawn ends their access at the next page. The agency's shared client secret signs no
 * one in (CONSOLE_CLIENT_SECRET_SIGN_IN is off by default).
 */
describe('clerks in the issuer console', () => {
  let runtime: TestRuntime;
  let headToken: string;

  beforeAll(async () => {
    runtime = await startTestRuntime();
    headToken = await agencyHeadToken(runtime);
  });
  afterAll(() => runtime?.close());

  /** The clerk's reference, as the API computes it: their pairwise subject at the console. */
  const referenceOf = async (clerk: { idNumber: string; password: string }) =>
    dependencies().clerkReference(await accountIdOf(clerk.idNumber, clerk.password));

  /** Issues a driving licence to `holder` through the console's form, review and confirmation. */
  async function issueThroughConsole(ua: UserAgent, holder = registryPeople[2]!): Promise<string> {
    const page = await ua.request('/console/licences/new?type=driving-licence');
    expect(page.status).toBe(200);
    const hidden = parseForm(await page.text(), 'issue-form')!.fields;
    const review = await ua.request('/console/licences', {
      form: {
        type: hidden.type!,
        idempotencyKey: hidden.idempotencyKey!,
        holderNumber: holder.idNumber,
        holderName: holder.name,
        validFrom: '',
        validUntil: '',
        'fields.vehicleClass': 'C1',
        'fields.firstIssuedOn': '2015-03-01',
        'fields.archiveNumber': '110100654321',
      },
    });
    expect(review.status).toBe(200);
    const confirm = parseForm(await review.text(), 'issue-review-form')!;
    const issued = await ua.request('/console/licences', { form: { ...confirm.fields, step: 'confirm' } });
    expect(issued.status).toBe(303);
    const location = issued.headers.get('location')!;
    expect(location).toMatch(/\?done=issued$/);
    return decodeURIComponent(location.split('/')[3]!.split('?')[0]!);
  }

  it('offers clerks the unified identity and no longer signs anyone in with the agency’s client secret', async () => {
    const page = await fetch(`${runtime.baseUrl}/console`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('href="/console/login"');
    expect(html).not.toContain('id="clientSecret"');

    const { clientId, clientSecret } = runtime.credentials.issuer;
    const legacy = await fetch(`${runtime.baseUrl}/console/login`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        origin: runtime.baseUrl,
        'sec-fetch-site': 'same-origin',
      },
      body: new URLSearchParams({ clientId, clientSecret }),
      redirect: 'manual',
    });
    expect(legacy.status).toBe(404);
    expect(legacy.headers.getSetCookie()).toEqual([]);
  });

  it('signs a clerk in through the unified identity, and traces the licences they issue and the files they export to them', async () => {
    const clerk = runtime.credentials.clerk;
    const { ua, response } = await clerkConsole(runtime, clerk);
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/console');
    const reference = await referenceOf(clerk);

    const list = await ua.request('/console');
    expect(list.status).toBe(200);
    const listHtml = await list.text();
    expect(listHtml).toContain(reference.slice(0, 8));
    expect(listHtml).not.toContain(clerk.idNumber);

    const id = await issueThroughConsole(ua);
    const trail = await licenceAuditEntries(dependencies().auditPages, id);
    expect(trail).toEqual([
      expect.objectContaining({
        action: 'licence.issued',
        actor: consoleClientId,
        clerk: reference,
        issuerId: runtime.credentials.issuer.id,
      }),
    ]);
    // The licence page's history names the clerk too.
    expect(await (await ua.request(`/console/licences/${encodeURIComponent(id)}`)).text()).toContain(
      `title="${reference}"`,
    );

    const exported = await ua.request('/console/export', { form: { status: 'valid' } });
    expect(exported.status).toBe(200);
    const { doc, config } = dependencies();
    const entries = await auditEntriesOf(doc, config.auditTableName, consoleClientId);
    expect(entries.filter((entry) => entry.action === 'licences.exported')).toContainEqual(
      expect.objectContaining({ clerk: reference, issuerId: runtime.credentials.issuer.id }),
    );
  });

  it('ends a clerk’s session at their next page once the agency withdraws the appointment (403)', async () => {
    const clerk = await appointClerk(
      runtime,
      headToken,
      runtime.credentials.clerk.creditCode,
      registryPeople[10]!,
    );
    const { ua, response } = await clerkConsole(runtime, clerk);
    expect(response.status).toBe(303);
    const id = await issueThroughConsole(ua, registryPeople[11]!);

    await withdrawClerk(runtime, headToken, clerk);

    // The next action, with the session's token still unexpired: refused, the session ended.
    const refused = await ua.request(`/console/licences/${encodeURIComponent(id)}/status`, {
      form: { status: 'suspended', reasonCode: 'investigation' },
    });
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain('任命已撤回');
    expect(refused.headers.getSetCookie().some((c) => /^console=;/.test(c))).toBe(true);
    const after = await ua.request('/console');
    expect(after.status).toBe(200);
    expect(await after.text()).toContain('href="/console/login"');
  });

  it('refuses a person who may act for no agency as its clerk', async () => {
    const { idNumber, password } = runtime.credentials.citizen;
    const { response } = await clerkConsole(runtime, {
      idNumber,
      password,
      creditCode: runtime.credentials.entity.creditCode,
    });
    expect(response.status).toBe(403);
    expect(await response.text()).toContain('请以所在发证机关的经办人身份登录');
  });

  it('signs a clerk out of the console and of the single sign-on (a shared counter)', async () => {
    const { ua } = await clerkConsole(runtime, runtime.credentials.clerk);
    const out = await ua.request('/console/logout', { form: {} });
    expect(out.status).toBe(303);
    const location = new URL(out.headers.get('location')!, runtime.baseUrl);
    expect(location.pathname).toBe('/session/end');
    expect(location.searchParams.get('client_id')).toBe(consoleClientId);
    expect((await ua.request('/console')).status).toBe(200);
    expect(await (await ua.request('/console')).text()).toContain('href="/console/login"');
  });
});
