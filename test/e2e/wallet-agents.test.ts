import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { agencyHead, registryPeople } from '../../infra/local/demo-data.js';
import { calendarDate } from '../../shared/web/kit/china-time.js';
import { axeViolations, browserSuite, screenshot, signInClerk, signInToWallet } from '../support/browser.js';
import { provenAccount } from '../support/clerks.js';
import { dependencies } from '../../functions/composition/dependencies.js';
import { parseIdNumber } from '../../shared/identifiers/id-number.js';
import { personLookupKey } from '../../shared/identifiers/lookup-key.js';

/**
 * The wallet's agents page (经办人, docs/accounts.md) in Chromium: the demo agency's head (its
 * legal representative per the business registry, level 3) appoints a counter clerk (办理发证, and
 * 代表企业登录其他平台) with the form, errors named by field; the clerk signs in to the issuer console through the unified identity and
 * issues a licence; the head withdraws the appointment after a confirmation; the clerk is refused at
 * their next page. The clerk's own wallet shows the appointment, never the form.
 */
describe('an enterprise head appoints and withdraws a counter clerk in the wallet', () => {
  const suite = browserSuite();
  const head = { ...agencyHead, password: 'Head-2026!' };
  const person = registryPeople[12]!;
  const clerk = { ...person, password: 'Clerk-e2e-2026!', creditCode: '' };

  beforeAll(async () => {
    clerk.creditCode = suite.runtime.credentials.clerk.creditCode;
    // Both proven in person at a counter (level 3): the head to manage agents, the clerk to issue.
    await provenAccount(suite.runtime, head);
    await provenAccount(suite.runtime, clerk);
  });

  /** A browser of its own, signed in to the wallet for the agency, on the agents page. */
  async function walletForAgency(who: { idNumber: string; password: string }): Promise<Page> {
    const { page } = await suite.newPage();
    page.setDefaultTimeout(10_000);
    await signInToWallet(page, who, { actFor: clerk.creditCode, returnTo: '/wallet/agents' });
    return page;
  }

  const summary = (page: Page) => page.locator('#error-summary').textContent();

  /** Does `act` (a form's submission) and waits for the page the post answers with to load. */
  async function posting(page: Page, act: () => Promise<void>): Promise<void> {
    const loaded = page.waitForEvent('load');
    await act();
    await loaded;
  }

  it('appoints, lets the clerk issue, withdraws, and the clerk is refused at the next page', async () => {
    const headPage = await walletForAgency(head);
    await expect(headPage.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('经办人');
    // The seed's clerk is listed already, by masked number only.
    const seeded = suite.runtime.credentials.clerk.idNumber;
    await expect(headPage.locator('article.agent').textContent()).resolves.toContain(seeded.slice(-4));
    await expect(headPage.content()).resolves.not.toContain(seeded);
    await expect(axeViolations(headPage)).resolves.toEqual([]);

    // The end day is typed as text in the page's format (type="date" showed the browser's locale); a day
    // that is none is refused with the rest, named by its label, and kept as typed.
    const until = headPage.locator('#expiresAt');
    await expect(until.evaluate((input: HTMLInputElement) => input.type)).resolves.toBe('text');
    await expect(until.getAttribute('placeholder')).resolves.toBe('年-月-日');
    await expect(until.getAttribute('inputmode')).resolves.toBe('numeric');
    const [year, month, day] = calendarDate(new Date(Date.now() + 200 * 86_400_000).toISOString()).split('-');
    await until.fill(`${year}0230`);

    // Keyboard only: an empty form says, for each field, what is missing, and names it.
    await headPage.locator('#idNumber').focus();
    await headPage.keyboard.press('Tab'); // 姓名
    await headPage.keyboard.press('Tab'); // 使用企业证照
    await headPage.keyboard.press('Tab'); // 办理发证, ticked by default: untick it
    await headPage.keyboard.press('Space');
    await headPage.locator('#appoint-submit').focus();
    await posting(headPage, () => headPage.keyboard.press('Enter'));
    await expect(headPage.title()).resolves.toMatch(/^错误：/);
    const empty = await summary(headPage);
    expect(empty).toContain('身份证号码：请填写此项。');
    expect(empty).toContain('姓名：请填写此项。');
    expect(empty).toContain('委托事项：请至少选择一项。');
    expect(empty).toContain('委托有效期至：请按“年-月-日”填写有效日期，如 2026-03-05。');
    await expect(headPage.locator('#expiresAt-error').textContent()).resolves.toContain('委托有效期至：请按');
    await expect(until.getAttribute('aria-invalid')).resolves.toBe('true');
    await expect(until.inputValue()).resolves.toBe(`${year}0230`);
    await expect(headPage.locator('#idNumber').getAttribute('aria-invalid')).resolves.toBe('true');
    // The summary's link takes the focus to the field.
    await headPage.locator('#error-summary a', { hasText: '姓名' }).click();
    await expect(headPage.evaluate(() => document.activeElement?.id)).resolves.toBe('name');

    // A name other than the registry's for that number: refused, naming the name; the number not echoed.
    await headPage.locator('#idNumber').fill(person.idNumber);
    await headPage.locator('#name').fill(`${person.name}甲`);
    await headPage.getByLabel(/办理发证/).check();
    // Typed with 年月日 (one-digit parts too): read as the day, shown back as YYYY-MM-DD.
    await until.fill(`${year}年${Number(month)}月${Number(day)}日`);
    await posting(headPage, () => headPage.getByRole('button', { name: '委托', exact: true }).click());
    await expect(summary(headPage)).resolves.toContain('姓名：与人口信息登记不符。');
    await expect(summary(headPage)).resolves.not.toContain('委托有效期至');
    await expect(until.inputValue()).resolves.toBe(`${year}-${month}-${day}`);
    await expect(headPage.content()).resolves.not.toContain(person.idNumber);
    await expect(headPage.locator('#name').inputValue()).resolves.toBe(`${person.name}甲`);
    await expect(headPage.getByLabel(/办理发证/).isChecked()).resolves.toBe(true);

    // Right this time, and to sign in for the agency at other platforms too (unticked by default):
    // appointed, listed by masked number with both.
    await headPage.locator('#idNumber').fill(person.idNumber);
    await headPage.locator('#name').fill(person.name);
    await expect(headPage.getByLabel(/代表企业登录其他平台/).isChecked()).resolves.toBe(false);
    await headPage.getByLabel(/代表企业登录其他平台/).check();
    await headPage.getByRole('button', { name: '委托', exact: true }).click();
    await headPage.waitForURL('**/wallet/agents?appointed=1');
    await expect(headPage.locator('#agent-appointed').textContent()).resolves.toContain('已委托经办人');
    const masked = `${person.idNumber.slice(0, 6)}********${person.idNumber.slice(-4)}`;
    const card = headPage.locator('article.agent', { hasText: masked });
    await expect(card.getAttribute('data-status')).resolves.toBe('active');
    await expect(card.textContent()).resolves.toContain(masked);
    await expect(card.textContent()).resolves.toContain('办理发证、代表企业登录其他平台');
    // Until the day typed, as the API stored it (the end of that day, China time).
    await expect(card.textContent()).resolves.toContain(`${year}-${month}-${day}`);
    await expect(headPage.content()).resolves.not.toContain(person.idNumber);
    await expect(axeViolations(headPage)).resolves.toEqual([]);
    await screenshot(headPage, 'wallet-agents');

    // The same person again, while appointed: 409, said against the number.
    await headPage.locator('#idNumber').fill(person.idNumber);
    await headPage.locator('#name').fill(person.name);
    await posting(headPage, () => headPage.getByRole('button', { name: '委托', exact: true }).click());
    await expect(summary(headPage)).resolves.toContain('身份证号码：此人已是本企业的经办人');

    // The clerk signs in to the console through the unified identity, acting for the agency, and issues.
    const desk = await suite.newPage();
    desk.page.setDefaultTimeout(10_000);
    await signInClerk(desk.page, clerk);
    await expect(desk.page.locator('.console-who').textContent()).resolves.toContain('经办人编号');
    await desk.page.goto('/console/licences/new');
    await desk.page.getByLabel(/机动车驾驶证/).check();
    await desk.page.getByRole('button', { name: '下一步' }).click();
    await desk.page.getByLabel(/持证人公民身份号码/).fill(registryPeople[13]!.idNumber);
    await desk.page.getByLabel(/持证人姓名/).fill(registryPeople[13]!.name);
    await desk.page.getByLabel(/准驾车型/).selectOption('C1');
    await desk.page.getByLabel(/初次领证日期/).fill('2015-03-01');
    await desk.page.getByLabel(/档案编号/).fill('110100135791');
    await desk.page.getByRole('button', { name: '下一步：核对' }).click();
    await desk.page.getByRole('button', { name: '确认签发' }).click();
    await expect.poll(() => desk.page.getByRole('status').first().textContent()).toContain('证照已签发');

    // The clerk's own wallet, for the agency: the appointment, not the form.
    const clerkWallet = await walletForAgency(clerk);
    await expect(clerkWallet.locator('#agents-not-representative').isVisible()).resolves.toBe(true);
    await expect(clerkWallet.locator('article.appointment').textContent()).resolves.toContain('办理发证');
    await expect(clerkWallet.locator('#appoint-form').count()).resolves.toBe(0);

    // A post from another site is refused before anything is read, whoever's cookies it carries.
    const crossSite = await headPage.context().request.post('/wallet/agents', {
      headers: { 'sec-fetch-site': 'cross-site', origin: 'https://attacker.example' },
      form: { idNumber: registryPeople[14]!.idNumber, name: registryPeople[14]!.name, 'scope[]': 'licences' },
    });
    expect(crossSite.status()).toBe(403);

    // The head withdraws: a confirmation first, whose box must be ticked.
    await headPage.goto('/wallet/agents');
    await card.getByRole('link', { name: '撤销委托…' }).click();
    await expect(headPage.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('撤销委托');
    await expect(headPage.locator('dl').textContent()).resolves.toContain(masked);
    // The browser asks for the box first; without its check (no validation), the server asks again.
    await headPage.getByRole('button', { name: '撤销委托' }).click();
    await expect(
      headPage.locator('#withdraw-confirm').evaluate((box) => (box as HTMLInputElement).validity.valid),
    ).resolves.toBe(false);
    await headPage
      .locator('#withdraw-form')
      .evaluate((form) => ((form as HTMLFormElement).noValidate = true));
    await posting(headPage, () => headPage.getByRole('button', { name: '撤销委托' }).click());
    await expect(summary(headPage)).resolves.toContain('确认撤销：请勾选后再撤销。');
    await expect(headPage.locator('#withdraw-confirm').getAttribute('aria-invalid')).resolves.toBe('true');
    await headPage.getByLabel('我确认撤销此经办人的委托。').check();
    await headPage.getByRole('button', { name: '撤销委托' }).click();
    await headPage.waitForURL('**/wallet/agents?withdrawn=1');
    await expect(card.locator('.agent-status').textContent()).resolves.toContain('已撤销');
    // The seed's clerk and ours: the cross-site post appointed no one.
    await expect(headPage.locator('article.agent').count()).resolves.toBe(2);

    // The clerk's next page, with the console's token still unexpired: refused.
    const refused = await desk.page.goto('/console');
    expect(refused?.status()).toBe(403);
    await expect(desk.page.content()).resolves.toContain('任命已撤回');
  }, 120_000);

  // Review R42: a former representative's appointments are `superseded`; the new representative withdraws
  // them on the page as an active one (listed withdrawn, whatever grants of theirs remain withdrawn).
  it('lets a new legal representative withdraw the former one’s appointment', async () => {
    const deps = dependencies();
    const successor = { ...registryPeople[13]!, password: 'Successor-2026!' };
    await provenAccount(suite.runtime, successor);
    const former = (await deps.registry.findEntity(clerk.creditCode))!;
    await deps.registry.putEntity({
      ...former,
      representativeLookupKey: await personLookupKey(
        deps.lookupMac,
        parseIdNumber(successor.idNumber, new Date()),
      ),
      representativeMasked: `${successor.idNumber.slice(0, 6)}********${successor.idNumber.slice(-4)}`,
    });
    try {
      const page = await walletForAgency(successor);
      // The seed's clerk, appointed by the head: no longer in force, and offered for withdrawal.
      const seeded = suite.runtime.credentials.clerk.idNumber.slice(-4);
      const card = page.locator('article.agent', { hasText: seeded });
      await expect(card.getAttribute('data-status')).resolves.toBe('superseded');
      await expect(card.locator('.agent-status').textContent()).resolves.toContain(
        '由前任法定代表人或在此前任期内委托',
      );
      await expect(axeViolations(page)).resolves.toEqual([]);
      await card.getByRole('link', { name: '撤销委托…' }).click();
      await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('撤销委托');
      await expect(page.locator('main').textContent()).resolves.toContain(
        '即使其再次登记为法定代表人也不会重新生效',
      );
      await expect(axeViolations(page)).resolves.toEqual([]);
      await page.getByLabel('我确认撤销此经办人的委托。').check();
      await page.getByRole('button', { name: '撤销委托' }).click();
      await page.waitForURL('**/wallet/agents?withdrawn=1');
      await expect(card.getAttribute('data-status')).resolves.toBe('withdrawn');
      await expect(card.getByRole('link', { name: '撤销委托…' }).count()).resolves.toBe(0);
    } finally {
      await deps.registry.putEntity(former);
    }
  }, 120_000);
});
