import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { dependencies } from '../../functions/composition/dependencies.js';
import { createPresentation } from '../../shared/licence/presentation.js';
import { axeViolations, browserSuite, phone, screenshot } from '../support/browser.js';
import { postJson } from '../support/http-api.js';
import {
  drivingLicenceBody,
  expectJson,
  issued,
  licencePath,
  newIdNumber,
  type LicenceJson,
} from '../support/licences.js';
import { clientCredentialsToken } from '../support/runtime.js';

/**
 * The verdicts as a counter clerk reads them: one colour and icon per verdict over the whole card, an
 * expired QR code told from an expired licence, a printed (static) code told from a live one, and a
 * revoked verdict saying what it knows of when.
 */
describe('verifier verdicts for a clerk', () => {
  const suite = browserSuite();
  let token: string;
  let valid: LicenceJson;
  let revoked: LicenceJson;
  let expired: LicenceJson;

  beforeAll(async () => {
    const { runtime } = suite;
    token = await clientCredentialsToken(runtime, runtime.credentials.issuer, 'licences:issue');
    [valid, revoked, expired] = await Promise.all([
      issued(runtime, token, drivingLicenceBody(newIdNumber())),
      issued(runtime, token, drivingLicenceBody(newIdNumber(), { holderName: '钱吊销' })),
      issued(
        runtime,
        token,
        drivingLicenceBody(newIdNumber(), {
          holderName: '孙过期',
          validFrom: '2019-01-01T00:00:00+08:00',
          validUntil: '2021-01-01T00:00:00+08:00',
        }),
      ),
    ]);
    await expectJson(
      await postJson(runtime, `${licencePath(revoked.id)}/status`, token, {
        status: 'revoked',
        reason: '测试',
      }),
      200,
    );
  });

  /** A live presentation (亮证码) of `licence`, valid for two minutes from now. */
  async function presentationOf(licence: LicenceJson): Promise<string> {
    const deps = dependencies();
    const record = await deps.licences.get(licence.id);
    if (!record) throw new Error('the licence was not stored');
    const { token: presented } = await createPresentation(
      licence.id,
      { disclose: [], ttlSeconds: 120 },
      { holderLookupKeys: [record.holder.lookupKey], level: 3, actor: 'test-holder' },
      deps,
    );
    return presented;
  }

  async function open(page: Page, path = '/verifier'): Promise<void> {
    page.setDefaultTimeout(10_000);
    await page.goto(path);
    await page.locator('#verifier[data-ready="true"]').waitFor();
  }

  async function verify(page: Page, text: string, label = '粘贴二维码内容', button = '核验') {
    await page.getByLabel(label).fill(text);
    await page.getByRole('button', { name: button, exact: true }).click();
    const card = page.locator('#verdict[data-verdict]');
    await card.waitFor();
    return {
      code: await card.getAttribute('data-verdict'),
      tone: await card.getAttribute('class'),
      title: (await card.locator('.verdict-title').textContent()) ?? '',
      text: (await card.textContent()) ?? '',
      kind: await card.locator('.verdict-kind').getAttribute('data-kind'),
    };
  }

  it('tells a printed static code from a live presentation, which shows 出示时间', async () => {
    const { page, context } = await suite.newPage();
    await open(page);
    const printed = await verify(page, valid.credential);
    expect(printed).toMatchObject({ code: 'valid', kind: 'static', title: '有效' });
    expect(printed.tone).toContain('verdict-ok');
    expect(printed.text).toContain('静态证照码（打印件或复制件）');
    expect(printed.text).toContain('请核对出示人的身份证件');
    expect(printed.text).not.toContain('出示时间');
    await screenshot(page, 'verifier-static');

    const live = await verify(page, await presentationOf(valid));
    expect(live).toMatchObject({ code: 'valid', kind: 'live' });
    expect(live.text).toContain('实时亮证码');
    expect(live.text).toContain('出示时间');
    await expect(axeViolations(page)).resolves.toEqual([]);
    await screenshot(page, 'verifier-live');
    await context.close();
  });

  it('says a timed-out QR code is to be shown again, in amber, and an expired licence is refused, in red', async () => {
    const { page, context } = await suite.newPage();
    await open(page);
    const presented = await presentationOf(valid);
    // Ten minutes on, at the counter: the code has run out, the licence has not.
    await page.clock.setFixedTime(Date.now() + 10 * 60_000);
    const timedOut = await verify(page, presented);
    expect(timedOut.code).toBe('expired');
    expect(timedOut.title).toBe('二维码已超时');
    expect(timedOut.text).toContain('请持证人在手机上刷新');
    expect(timedOut.tone).toContain('verdict-warn');
    await screenshot(page, 'verifier-qr-timed-out');

    const lapsed = await verify(page, expired.credential);
    expect(lapsed.code).toBe('expired');
    expect(lapsed.title).toBe('证照已过期');
    expect(lapsed.text).toContain('不能作为有效证照接受');
    expect(lapsed.tone).toContain('verdict-bad');
    await expect(axeViolations(page)).resolves.toEqual([]);
    await context.close();
  });

  it('shows a revoked verdict in red, with what it can say of when it was revoked', async () => {
    const { page, context } = await suite.newPage();
    await open(page);
    const result = await verify(page, revoked.credential);
    expect(result.code).toBe('revoked');
    expect(result.tone).toContain('verdict-bad');
    expect(result.text).toContain('吊销时间');
    expect(result.text).toContain('核验数据不含吊销时间');
    // One colour over the whole card, and the site's brand is not the revoked red.
    const colours = await page.evaluate(() => {
      const card = document.querySelector('#verdict .verdict-body');
      const head = document.querySelector('#verdict .verdict-head');
      const header = document.querySelector('header.site');
      return {
        body: card ? getComputedStyle(card).backgroundColor : '',
        head: head ? getComputedStyle(head).backgroundColor : '',
        brand: header ? getComputedStyle(header).backgroundColor : '',
      };
    });
    expect(colours.body).not.toBe('rgb(255, 255, 255)');
    expect(colours.brand).not.toBe(colours.head);
    await expect(axeViolations(page)).resolves.toEqual([]);
    await screenshot(page, 'verifier-revoked');
    await context.close();
  });

  it('offline, once the saved lists have expired, cannot confirm: grey, neither green nor red', async () => {
    const { page, context } = await suite.newPage();
    await open(page); // online: the page syncs and saves the trust list and status lists
    await context.setOffline(true);
    const colourOf = () =>
      page.evaluate(() => {
        const head = document.querySelector('#verdict .verdict-head');
        return head ? getComputedStyle(head).backgroundColor : '';
      });
    const green = await (async () => {
      const fresh = await verify(page, valid.credential);
      expect(fresh).toMatchObject({ code: 'valid', title: '有效' });
      return colourOf();
    })();
    const red = await (async () => {
      expect((await verify(page, revoked.credential)).code).toBe('revoked');
      return colourOf();
    })();

    // Two days and an hour on: the status lists (exp two days) have expired, the trust list (a week) not.
    await page.clock.setFixedTime(Date.now() + 49 * 3600_000);
    const lapsed = await verify(page, valid.credential);
    expect(lapsed).toMatchObject({ code: 'unknown', title: '无法确认：请联网更新' });
    expect(lapsed.tone).toContain('verdict-unknown');
    expect(lapsed.text).toContain('请联网后重新扫描');
    expect(lapsed.text).toContain('离线核验'); // the freshness note stays
    const grey = await colourOf();
    expect(grey).not.toBe(green);
    expect(grey).not.toBe(red);
    await expect(axeViolations(page)).resolves.toEqual([]);
    await screenshot(page, 'verifier-cannot-confirm');
    // Nor is a revoked licence turned valid, or unknown, by its list's expiry: revocation is final.
    const stillRevoked = await verify(page, revoked.credential);
    expect(stillRevoked.code).toBe('revoked');
    expect(stillRevoked.text).toContain('离线核验');
    expect(await colourOf()).toBe(red);

    // Eight days on, the trust list too: it vouches for no issuer any more.
    await page.clock.setFixedTime(Date.now() + 8 * 86_400_000);
    const untrusted = await verify(page, valid.credential);
    expect(untrusted).toMatchObject({ code: 'unknown', title: '无法确认：请联网更新' });
    expect(untrusted.text).toContain('信任列表');

    // Back online, and in the present: the verdict rests on current lists again.
    await page.clock.setFixedTime(Date.now());
    await context.setOffline(false);
    expect((await verify(page, valid.credential)).code).toBe('valid');
    await context.close();
  });

  it('says the same in English on a phone, without sideways scrolling', async () => {
    const { page, context } = await suite.newPage({ viewport: phone, mobile: true });
    await open(page, '/verifier?lang=en');
    const presented = await presentationOf(valid);
    const live = await verify(page, presented, 'Paste the QR text', 'Verify');
    expect(live.text).toContain('Live code shown from the wallet');
    expect(live.text).toContain('Shown at');
    const printed = await verify(page, revoked.credential, 'Paste the QR text', 'Verify');
    expect(printed.text).toContain('Static licence code (printout or copy)');
    expect(printed.text).toContain('Revoked on');
    await page.clock.setFixedTime(Date.now() + 10 * 60_000);
    const timedOut = await verify(page, presented, 'Paste the QR text', 'Verify');
    expect(timedOut.title).toBe('QR code timed out');
    const lapsed = await verify(page, expired.credential, 'Paste the QR text', 'Verify');
    expect(lapsed.title).toBe('Licence expired');
    await expect(page.evaluate(() => document.documentElement.scrollWidth)).resolves.toBeLessThanOrEqual(
      phone.width,
    );
    await expect(axeViolations(page)).resolves.toEqual([]);
    await screenshot(page, 'verifier-phone-en-expired');
    await context.close();
  });
});
