import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { dependencies } from '../../functions/composition/dependencies.js';
import { audit } from '../../functions/composition/factories.js';
import { trailPageSize } from '../../shared/web/supervision/supervision-api.js';
import { licenceAuditItems } from '../support/audit-entries.js';
import { clientCredentialsToken } from '../support/runtime.js';
import { axeViolations, browserSuite, phone, screenshot } from '../support/browser.js';
import { changeStatus, demoTokens, issueDrivingLicence, verified } from '../integration/verify/helpers.js';

/**
 * The supervision console (电子监察) in Chromium: a supervisor signs in with its client, sees today's
 * figures of events it did not make itself (issued, verified, revoked over the API), the 30-day chart, the
 * alert a revoked licence's verification raised, and a licence's chained trail checked against a signed
 * checkpoint; in both languages, on a phone, axe-clean.
 */
describe('the supervision console in a browser', () => {
  const suite = browserSuite();
  let revokedId: string;
  let keptId: string;

  beforeAll(async () => {
    const { runtime } = suite;
    const tokens = await demoTokens(runtime);
    const kept = await issueDrivingLicence(runtime, tokens.issuer);
    keptId = kept.id;
    await verified(runtime, kept.credential, tokens.verifier);
    const revoked = await issueDrivingLicence(runtime, tokens.issuer);
    revokedId = revoked.id;
    await verified(runtime, revoked.credential, tokens.verifier);
    await changeStatus(runtime, tokens.issuer, revoked.id, 'revoked');
    // A revoked licence shown for verification: the `revoked-verified` alert.
    await verified(runtime, revoked.credential, tokens.verifier);
    await runtime.drainStreams();
  });

  async function signIn(page: Page, path = '/supervision'): Promise<void> {
    const { supervisor } = suite.runtime.credentials;
    await page.goto(path);
    const english = path.includes('lang=en');
    await page.getByLabel(english ? 'Client id' : '客户端 ID').fill(supervisor.clientId);
    await page.getByLabel(english ? 'Client secret' : '客户端密钥').fill(supervisor.clientSecret);
    await page.getByRole('button', { name: english ? 'Sign in' : '登录', exact: true }).click();
    await expect
      .poll(() => page.getByRole('heading', { level: 1 }).textContent())
      .toBe(english ? 'Supervision' : '电子监察');
  }

  const figure = (page: Page, label: string) =>
    page
      .locator('.figure')
      .filter({ has: page.getByText(label, { exact: true }) })
      .locator('dd');

  it('shows today’s figures, the 30-day chart and the alerts, and checks a licence’s trail', async () => {
    const { page, errors, context } = await suite.newPage();
    await signIn(page);
    // The seed issued licences too: at least what this test made, and the verifications exactly so.
    expect(Number(await figure(page, '签发').textContent())).toBeGreaterThanOrEqual(2);
    expect(Number(await figure(page, '核验').textContent())).toBe(3);
    expect(Number(await figure(page, '吊销').textContent())).toBe(1);
    await expect(page.getByText('核验结论：有效 2，已吊销 1').count()).resolves.toBe(1);

    const chart = page.getByRole('img', { name: /每日签发、核验与状态变更/ });
    await expect(chart.count()).resolves.toBe(1);
    await expect(chart.locator('polyline').count()).resolves.toBe(3);
    await screenshot(page, 'supervision-overview');
    await page.getByText('查看数据表').click();
    await expect(page.getByRole('table').getByRole('row').count()).resolves.toBe(31);

    const alert = page.locator('.alert').filter({ hasText: '已吊销证照被核验' });
    await expect(alert.count()).resolves.toBe(1);
    await expect(alert.textContent()).resolves.toContain(revokedId);
    expect(await axeViolations(page)).toEqual([]);

    await page.getByLabel('证照标识').fill(revokedId);
    await page.getByRole('button', { name: '查看并验证' }).click();
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('证照审计链');
    await expect(page.getByRole('status').first().textContent()).resolves.toContain('审计链完整');
    const rows = page.locator('.trail-table tbody tr');
    // Issued, verified, revoked, verified again.
    await expect(rows.count()).resolves.toBe(4);
    await expect(rows.nth(2).textContent()).resolves.toContain('吊销');
    await expect(page.getByRole('status').first().textContent()).resolves.toContain('还没有签名的检查点');

    // Signed on demand: the page then verifies the checkpoint's signature and that the chains reach it.
    const supervisor = await clientCredentialsToken(
      suite.runtime,
      suite.runtime.credentials.supervisor,
      'supervision',
    );
    const signed = await fetch(`${suite.runtime.baseUrl}/supervision/audit/checkpoints`, {
      method: 'POST',
      headers: { authorization: `Bearer ${supervisor}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(signed.status).toBe(201);
    await page.reload();
    await expect(page.getByRole('status').first().textContent()).resolves.toContain('签名的检查点一致');
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, 'supervision-trail');

    // Another licence's entry removed from the table: this licence's own entries are untouched, but the
    // chain they share has a gap, and the page names where.
    const { doc, config } = dependencies();
    const Items = await licenceAuditItems(doc, config.auditTableName, keptId);
    const issuedEntry = Items.find((item) => item.action === 'licence.issued')!;
    await doc.send(
      new DeleteCommand({
        TableName: config.auditTableName,
        Key: { pk: issuedEntry.pk, sk: issuedEntry.sk },
      }),
    );
    try {
      await page.reload();
      const broken = page.getByRole('alert');
      await expect(broken.textContent()).resolves.toContain('审计链被破坏');
      await expect(broken.textContent()).resolves.toContain(
        `${String(issuedEntry.chain)} #${String(issuedEntry.seq)}`,
      );
    } finally {
      await doc.send(new PutCommand({ TableName: config.auditTableName, Item: issuedEntry }));
    }

    // This licence's revocation taken off its list (the index, which no hash covers): the chain is intact,
    // but the entry about this licence on it is missing from the licence's list, and the page says so.
    const revokedItems = await licenceAuditItems(doc, config.auditTableName, revokedId);
    const revocation = revokedItems.find((item) => item.action === 'licence.revoked')!;
    const { gsi1pk: _pk, gsi1sk: _sk, ...unindexed } = revocation;
    await doc.send(new PutCommand({ TableName: config.auditTableName, Item: unindexed }));
    try {
      await page.reload();
      await expect(page.locator('.trail-table tbody tr').count()).resolves.toBe(3);
      const broken = page.getByRole('alert');
      await expect(broken.textContent()).resolves.toContain('审计链被破坏');
      await expect(broken.textContent()).resolves.toContain(
        `${String(revocation.chain)} #${String(revocation.seq)}`,
      );
      await expect(broken.textContent()).resolves.toContain('missing from the licence’s list');
    } finally {
      await doc.send(new PutCommand({ TableName: config.auditTableName, Item: revocation }));
    }
    expect(errors).toEqual([]);
    await context.close();
  });

  it('pages a licence’s trail longer than a page with 下一页, to entry 501 and on', async () => {
    // A printed QR code scanned over and over: more entries than one page holds.
    const licenceId = `lic-long-${Date.now()}`;
    const trail = audit(dependencies());
    const base = Date.now() - 60_000;
    const written = Array.from({ length: trailPageSize + 3 }, (_, i) =>
      new Date(base + i * 10).toISOString(),
    );
    await Promise.all(
      written.map((at) =>
        trail.record({ at, actor: 'anonymous', action: 'licence.verified', licenceId, verdict: 'valid' }),
      ),
    );
    const { page, errors, context } = await suite.newPage();
    await signIn(page);
    await page.getByLabel('证照标识').fill(licenceId);
    await page.getByRole('button', { name: '查看并验证' }).click();
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('证照审计链');
    const rows = page.locator('.trail-table tbody tr');
    await expect(rows.count()).resolves.toBe(trailPageSize);
    await expect(page.getByRole('status').first().textContent()).resolves.toContain('审计链完整');
    await page.getByRole('link', { name: '下一页' }).click();
    await expect.poll(() => rows.count()).toBe(3);
    await expect(rows.first().locator('time').getAttribute('datetime')).resolves.toBe(written[trailPageSize]);
    await expect(page.getByRole('status').first().textContent()).resolves.toContain('审计链完整');
    await expect(page.getByRole('link', { name: '下一页' }).count()).resolves.toBe(0);
    expect(await axeViolations(page)).toEqual([]);
    await page.getByRole('link', { name: '第一页' }).click();
    await expect.poll(() => rows.count()).toBe(trailPageSize);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('shows a crafted page link (its cursor on an entry taken off the list) as refused, with the way to the first page', async () => {
    // The link a supervisor could be handed: a cursor as the API used to take any, sitting exactly on an
    // entry hidden from the licence's list (R14 L2). The page says the link is not valid rather than list
    // and check only what follows it, and offers the first page.
    const { doc, config } = dependencies();
    const [first, hidden] = await licenceAuditItems(doc, config.auditTableName, keptId);
    expect(first && hidden).toBeTruthy();
    const { gsi1pk: _pk, gsi1sk: _sk, ...unindexed } = hidden!;
    await doc.send(new PutCommand({ TableName: config.auditTableName, Item: unindexed }));
    const { page, errors, context } = await suite.newPage();
    try {
      await signIn(page);
      const crafted = Buffer.from(String(hidden!.gsi1sk)).toString('base64url');
      await page.goto(`/supervision/trail?licence=${encodeURIComponent(keptId)}&cursor=${crafted}`);
      await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('证照审计链');
      await expect(page.getByRole('alert').textContent()).resolves.toContain('翻页链接无效');
      await expect(page.getByText('审计链完整').count()).resolves.toBe(0);
      await expect(page.locator('.trail-table tbody tr').count()).resolves.toBe(0);
      expect(await axeViolations(page)).toEqual([]);
      // The first page, which 下一页 starts from, names the hidden entry.
      await page.getByRole('link', { name: '从第一页查看' }).click();
      await expect.poll(() => page.locator('.trail-table tbody tr').count()).toBeGreaterThan(0);
      await expect(page.getByText('审计链被破坏').count()).resolves.toBeGreaterThan(0);
      // The refusal's own status, and nothing else.
      expect(errors).toEqual([
        'console: Failed to load resource: the server responded with a status of 400 (Bad Request)',
      ]);
    } finally {
      await doc.send(new PutCommand({ TableName: config.auditTableName, Item: hidden! }));
      await context.close();
    }
  });

  it('filters by issuer and type, in English, on a phone without sideways scrolling', async () => {
    const { page, errors, context } = await suite.newPage({ viewport: phone, mobile: true });
    await signIn(page, '/supervision?lang=en');
    await page.getByLabel('Licence type', { exact: true }).selectOption('business-licence');
    await page.getByRole('button', { name: 'Show', exact: true }).click();
    await expect.poll(() => page.url()).toContain('type=business-licence');
    // No business licence was verified today: the filter reaches the figures.
    await expect(figure(page, 'Verified').textContent()).resolves.toBe('0');
    await expect(
      page.getByRole('img', { name: /Issued, verified and status changes per day/ }).count(),
    ).resolves.toBe(1);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, 'supervision-phone-en');
    expect(errors).toEqual([]);
    await context.close();
  });

  it('refuses a client without the supervision scope, and signs out', async () => {
    const { page, errors, context } = await suite.newPage();
    const { issuer } = suite.runtime.credentials;
    await page.goto('/supervision');
    await page.getByLabel('客户端 ID').fill(issuer.clientId);
    await page.getByLabel('客户端密钥').fill(issuer.clientSecret);
    await page.getByRole('button', { name: '登录', exact: true }).click();
    await expect.poll(() => page.getByRole('alert').first().textContent()).toContain('不是监察机关的客户端');
    expect(errors.splice(0)).toEqual([
      'console: Failed to load resource: the server responded with a status of 403 (Forbidden)',
    ]);

    await signIn(page);
    // The issuer console is a session of its own: signed in here is not signed in there.
    await page.goto('/console');
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('发证机关控制台');
    await page.goto('/supervision');
    await page.getByRole('button', { name: '退出登录' }).click();
    await expect.poll(() => page.getByRole('status').first().textContent()).toContain('已退出登录');
    expect(errors).toEqual([]);
    await context.close();
  });
});
