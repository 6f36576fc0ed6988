import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dependencies } from '../../../functions/composition/dependencies.js';
import { postJson } from '../../support/http-api.js';
import { newIdNumber } from '../../support/in-memory-identity.js';
import { runFlow } from '../../support/oidc-flows.js';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.js';
import { UserAgent } from '../../support/user-agent.js';

/*
 * Privacy review R9, H2: the wallet's account page (我的账号) and closing the account from it (注销账号):
 * a sign-in made now (the provider asks for the password again within a live session), a confirmation
 * that says what goes and what stays, a box to tick, and the account gone.
 */

let runtime: TestRuntime;

beforeAll(async () => {
  runtime = await startTestRuntime();
});
afterAll(() => runtime?.close());

describe('the wallet’s account page', () => {
  it('shows what the account holds and closes it after a fresh sign-in and a confirmation', async () => {
    const person = { idNumber: newIdNumber(), name: '冯注销', password: 'Feng-Close-2026' };
    const registered = await postJson(runtime, '/accounts', undefined, { ...person, consent: true });
    expect(registered.status, await registered.clone().text()).toBe(201);
    const answers = { username: person.idNumber, password: person.password };
    const ua = new UserAgent(runtime.baseUrl);
    expect((await runFlow(ua, '/wallet/login', answers)).page?.url.pathname).toBe('/wallet');

    const account = await ua.navigate('/wallet/account');
    const html = account.page?.html ?? '';
    expect(account.page?.status).toBe(200);
    expect(html).toContain(`${person.idNumber.slice(0, 6)}********${person.idNumber.slice(14)}`);
    expect(html).toContain(person.name);
    expect(html).not.toContain(person.idNumber);
    // The level in words, not the platforms' `urn:elicence:loa:1`.
    expect(/id="account-level">([^<]+)</.exec(html)?.[1]).toBe('一级（本人声明）');
    expect(html).not.toContain('urn:elicence:loa');
    const closeHref = /id="account-close-link" href="([^"]+)"/.exec(html)?.[1]?.replaceAll('&amp;', '&');
    expect(closeHref).toBe('/wallet/login?acr=1&fresh=1&returnTo=%2Fwallet%2Faccount%2Fclose');

    // Within the live single sign-on session, the provider asks for the password again (max_age=0).
    const fresh = await runFlow(ua, closeHref!, answers);
    expect(fresh.steps).toContain('login');
    expect(fresh.page?.url.pathname).toBe('/wallet/account/close');
    const confirmation = fresh.page?.html ?? '';
    expect(confirmation).toContain('id="account-close-goes"');
    expect(confirmation).toContain('发证机关'); // licences stay with the issuing agencies
    expect(confirmation).toContain('id="account-close-confirm"');
    // The password is typed again on the form (review R10: the session's token alone closes nothing).
    expect(confirmation).toContain('id="account-close-password"');

    // Not ticked: asked again, nothing closed.
    const unticked = await ua.navigate(new URL('/wallet/account/close', runtime.baseUrl), { form: {} });
    expect(unticked.page?.status).toBe(400);
    // The kit's summary (focused when the page loads), its item a link to the box to tick.
    expect(/<div[^>]*id="account-close-error-summary"[^>]*>/.exec(unticked.page?.html ?? '')?.[0]).toContain(
      'autofocus',
    );
    expect(unticked.page?.html).toContain('<a href="#account-close-confirm">请勾选确认后再注销。</a>');
    const signIn = () => dependencies().directory.checkPassword({ ...person, source: '192.0.2.84' });
    expect((await signIn()).ok).toBe(true);

    // Ticked, without the password or with a wrong one: refused, nothing closed.
    const refusedForms: Array<Record<string, string>> = [
      { confirm: 'yes' },
      { confirm: 'yes', password: 'Not-Feng-2026' },
    ];
    for (const form of refusedForms) {
      const refused = await ua.navigate(new URL('/wallet/account/close', runtime.baseUrl), { form });
      expect(refused.page?.status).toBe(403);
      expect(/<div[^>]*id="account-close-error-summary"[^>]*>/.exec(refused.page?.html ?? '')?.[0]).toContain(
        'autofocus',
      );
      expect(refused.page?.html).toContain('<a href="#account-close-password">密码不正确，账号未注销。</a>');
      expect((await signIn()).ok).toBe(true);
    }

    const closed = await ua.navigate(new URL('/wallet/account/close', runtime.baseUrl), {
      form: { confirm: 'yes', password: person.password },
    });
    expect(closed.page?.status).toBe(200);
    expect(closed.page?.html).toContain('id="account-closed"');
    expect((await signIn()).ok).toBe(false);
    // The wallet's session is gone with it.
    const after = await ua.request('/wallet');
    expect(await after.text()).not.toContain(person.name);
  });

  it('exports the data after a fresh sign-in, and refuses another site’s post, exporting nothing', async () => {
    const person = { idNumber: newIdNumber(), name: '冯导出', password: 'Feng-Export-2026' };
    const registered = await postJson(runtime, '/accounts', undefined, { ...person, consent: true });
    expect(registered.status, await registered.clone().text()).toBe(201);
    const answers = { username: person.idNumber, password: person.password };
    const ua = new UserAgent(runtime.baseUrl);
    expect((await runFlow(ua, '/wallet/login', answers)).page?.url.pathname).toBe('/wallet');

    const html = (await ua.navigate('/wallet/account')).page?.html ?? '';
    const exportHref = /id="account-export-link" href="([^"]+)"/.exec(html)?.[1]?.replaceAll('&amp;', '&');
    expect(exportHref).toBe('/wallet/login?acr=1&fresh=1&returnTo=%2Fwallet%2Faccount%2Fexport');
    const fresh = await runFlow(ua, exportHref!, answers);
    expect(fresh.steps).toContain('login');
    expect(fresh.page?.url.pathname).toBe('/wallet/account/export');
    expect(fresh.page?.html).toContain('id="account-export-form"');

    // Another site's form posting to the page: refused before the API is asked, nothing recorded.
    const crossSite = await ua.request('/wallet/account/export', {
      method: 'POST',
      headers: { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
    });
    expect(crossSite.status).toBe(403);
    expect(crossSite.headers.get('content-disposition')).toBeNull();
    const exportsRecorded = async () => {
      const usage = await ua.navigate('/wallet/usage');
      return (usage.page?.html.match(/usage-entry usage-exported/g) ?? []).length;
    };
    expect(await exportsRecorded()).toBe(0);

    // The page's own form: the file, as an attachment, and the export in the usage record.
    const own = await ua.request('/wallet/account/export', {
      method: 'POST',
      headers: { origin: runtime.baseUrl, 'sec-fetch-site': 'same-origin' },
    });
    expect(own.status).toBe(200);
    expect(own.headers.get('content-disposition')).toMatch(/^attachment; filename="elicence-data-export-/);
    expect(own.headers.get('cache-control')).toContain('no-store');
    const document = (await own.json()) as { format: string; account: { name: string } };
    expect(document).toMatchObject({ format: 'elicence-data-export/1', account: { name: person.name } });
    expect(await exportsRecorded()).toBe(1);
  });
});
