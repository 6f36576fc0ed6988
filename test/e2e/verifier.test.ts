import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dependencies } from '../../functions/composition/dependencies.js';
import { createPresentation } from '../../shared/licence/presentation.js';
import { chromiumPath, launchBrowser, newPage, phone, screenshot } from '../support/browser.js';
import { postJson } from '../support/http-api.js';
import {
  drivingLicenceBody,
  expectJson,
  getWithToken,
  issued,
  licencePath,
  newIdNumber,
  type LicenceJson,
} from '../support/licences.js';
import { clientCredentialsToken, startTestRuntime, type TestRuntime } from '../support/runtime.js';

/**
 * Console errors and page failures, except the one 404 a full sync is designed to meet (when the page
 * opens, or on "更新数据"): the store probes `/status-lists/<issuer>.<n>` upwards until a list is missing,
 * and Chromium logs that answer. A scan fetches only the list it needs, and never meets one.
 */
function unexpectedErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    const expectedEnd =
      message.text().includes('404') && new URL(message.location().url).pathname.startsWith('/status-lists/');
    if (message.type() === 'error' && !expectedEnd) errors.push(`console: ${message.text()}`);
  });
  return errors;
}

/** What the page fetched of the trust data (`/status-lists/…`, `/trust-list`, the JWKS), and its 404s. */
function trustDataRequests(page: Page): { paths: string[]; missing: string[] } {
  const seen = { paths: [] as string[], missing: [] as string[] };
  const trustData = (path: string) =>
    path.startsWith('/status-lists/') || path === '/trust-list' || path === '/.well-known/jwks.json';
  page.on('request', (request) => {
    const { pathname } = new URL(request.url());
    if (trustData(pathname)) seen.paths.push(pathname);
  });
  page.on('response', (response) => {
    const { pathname } = new URL(response.url());
    if (trustData(pathname) && response.status() === 404) seen.missing.push(pathname);
  });
  return seen;
}

/** The path of the status list a credential points to (`status.status_list.uri`). */
function statusListPathOf(credential: string): string {
  const payload = JSON.parse(Buffer.from(credential.split('.')[1] ?? '', 'base64url').toString()) as {
    status: { status_list: { uri: string } };
  };
  return new URL(payload.status.status_list.uri).pathname;
}

/**
 * A Y4M video (what Chromium's fake camera plays) showing the PNG, centred on white: luma from the
 * pixels, neutral chroma, in 4:2:0.
 */
function y4mOf(png: Buffer, side = 480): Buffer {
  const image = PNG.sync.read(png);
  const luma = Buffer.alloc(side * side, 255);
  const left = Math.floor((side - image.width) / 2);
  const top = Math.floor((side - image.height) / 2);
  for (let y = 0; y < image.height; y++) {
    for (let x = 0; x < image.width; x++) {
      const i = (y * image.width + x) * 4;
      const grey = Math.round(
        0.299 * (image.data[i] ?? 0) + 0.587 * (image.data[i + 1] ?? 0) + 0.114 * (image.data[i + 2] ?? 0),
      );
      luma[(top + y) * side + left + x] = grey;
    }
  }
  const chroma = Buffer.alloc((side / 2) * (side / 2) * 2, 128);
  const frame = Buffer.concat([Buffer.from('FRAME\n'), luma, chroma]);
  return Buffer.concat([Buffer.from(`YUV4MPEG2 W${side} H${side} F5:1 Ip A1:1 C420jpeg\n`), frame, frame]);
}

/** Opens the verifier and waits until its script has loaded (and, online, synced) the trust data. */
async function openVerifier(page: Page, path = '/verifier'): Promise<void> {
  // A verdict that does not come fails within the test's time, with the locator named.
  page.setDefaultTimeout(10_000);
  await page.goto(path);
  await page.locator('#verifier[data-ready="true"]').waitFor();
}

async function pasteAndVerify(page: Page, text: string, label = '粘贴二维码内容', button = '核验') {
  await page.getByLabel(label).fill(text);
  await page.getByRole('button', { name: button, exact: true }).click();
}

/** The verdict card once it shows a verdict: its code and its words. */
async function verdict(page: Page): Promise<{ code: string | null; text: string }> {
  const card = page.locator('#verdict[data-verdict]');
  await card.waitFor();
  return { code: await card.getAttribute('data-verdict'), text: (await card.textContent()) ?? '' };
}

describe('the verifier page in a browser', () => {
  let runtime: TestRuntime;
  let browser: Browser;
  let issuerToken: string;
  let licence: LicenceJson;
  let other: LicenceJson;

  beforeAll(async () => {
    [runtime, browser] = await Promise.all([startTestRuntime(), launchBrowser()]);
    issuerToken = await clientCredentialsToken(runtime, runtime.credentials.issuer, 'licences:issue');
    [licence, other] = await Promise.all([
      issued(runtime, issuerToken, drivingLicenceBody(newIdNumber())),
      issued(runtime, issuerToken, drivingLicenceBody(newIdNumber(), { holderName: '赵离线' })),
    ]);
  });
  afterAll(async () => {
    await browser?.close();
    await runtime?.close();
  });

  it('verifies pasted QR text in the browser itself: valid, with type, holder, issuer and fields', async () => {
    const { page, context } = await newPage(browser, runtime.baseUrl);
    const errors = unexpectedErrors(page);
    const serverVerifications: string[] = [];
    page.on('request', (request) => {
      if (new URL(request.url()).pathname === '/verify') serverVerifications.push(request.url());
    });
    await openVerifier(page);
    await pasteAndVerify(page, licence.credential);
    const { code, text } = await verdict(page);
    expect(code).toBe('valid');
    for (const words of ['有效', '机动车驾驶证', '李测试', licence.holder.masked, licence.issuer.name]) {
      expect(text).toContain(words);
    }
    expect(text).toContain('准驾车型');
    expect(text).toContain('C1');
    // Focus moves to the verdict's heading, so a screen reader reads the verdict first (once: the card
    // is not also a live region, which would read it twice).
    await expect(page.evaluate(() => document.activeElement?.id)).resolves.toBe('verdict-title');
    await expect(page.locator('#verdict').getAttribute('aria-live')).resolves.toBe(null);
    await expect(page.locator('#data-freshness').textContent()).resolves.toContain('信任列表更新于');
    expect(serverVerifications).toEqual([]);
    await screenshot(page, 'verifier-valid');
    expect(errors).toEqual([]);
    await context.close();
  });

  it('reads the QR code of the PNG the API renders', async () => {
    const png = await getWithToken(runtime, `${licencePath(licence.id)}/qr.png`, issuerToken);
    expect(png.status).toBe(200);
    const { page, context } = await newPage(browser, runtime.baseUrl);
    const errors = unexpectedErrors(page);
    await openVerifier(page);
    await page.getByLabel('上传二维码图片').setInputFiles({
      name: 'licence.png',
      mimeType: 'image/png',
      buffer: Buffer.from(await png.arrayBuffer()),
    });
    const { code, text } = await verdict(page);
    expect(code).toBe('valid');
    expect(text).toContain(licence.id);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('verifies a presentation (亮证) against the trust list’s presentation keys, showing only the disclosed fields', async () => {
    const deps = dependencies();
    const record = await deps.licences.get(other.id);
    if (!record) throw new Error('the licence was not stored');
    const present = (presentationSigner = deps.presentationSigner) =>
      createPresentation(
        other.id,
        { disclose: ['vehicleClass'], ttlSeconds: 120 },
        { holderLookupKeys: [record.holder.lookupKey], level: 3, actor: 'test-holder' },
        { ...deps, presentationSigner },
      );
    const { token } = await present();
    const { page, context } = await newPage(browser, runtime.baseUrl);
    const errors = unexpectedErrors(page);
    await openVerifier(page);
    await pasteAndVerify(page, token);
    const { code, text } = await verdict(page);
    expect(code).toBe('valid');
    expect(text).toContain('出示时间');
    expect(text).toContain('准驾车型');
    expect(text).not.toContain('档案编号');

    // Signed by the platform key (the ID-token key of /.well-known/jwks.json, which the page also holds):
    // refused, since the trust list names the keys presentations are signed with (review R7 M1).
    const forged = await present(deps.platformSigner);
    await pasteAndVerify(page, forged.token);
    expect((await verdict(page)).code).toBe('unknown_issuer');
    expect(errors).toEqual([]);
    await context.close();
  });

  it('scans with the camera (a fake one playing the QR code) and releases it after reading', async () => {
    const png = Buffer.from(
      await (await getWithToken(runtime, `${licencePath(other.id)}/qr.png`, issuerToken)).arrayBuffer(),
    );
    const video = join(await mkdtemp(join(tmpdir(), 'elicence-camera-')), 'qr.y4m');
    await writeFile(video, y4mOf(png));
    const cameraBrowser = await chromium.launch({
      executablePath: chromiumPath,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--use-fake-device-for-media-stream',
        '--use-fake-ui-for-media-stream',
        `--use-file-for-fake-video-capture=${video}`,
      ],
    });
    try {
      const { page } = await newPage(cameraBrowser, runtime.baseUrl);
      await openVerifier(page);
      await page.getByRole('button', { name: '扫描', exact: true }).click();
      const { code, text } = await verdict(page);
      expect(code).toBe('valid');
      expect(text).toContain('赵离线');
      await expect(page.locator('#camera').isHidden()).resolves.toBe(true);
      await expect(
        page.locator('#camera-video').evaluate((v: HTMLVideoElement) => v.srcObject),
      ).resolves.toBe(null);
    } finally {
      await cameraBrowser.close();
    }
  });

  it('says when a photo holds no QR code', async () => {
    const { page, context } = await newPage(browser, runtime.baseUrl);
    await openVerifier(page);
    const icon = await fetch(`${runtime.baseUrl}/assets/icon.svg`);
    await page.getByLabel('上传二维码图片').setInputFiles({
      name: 'icon.svg',
      mimeType: 'image/svg+xml',
      buffer: Buffer.from(await icon.arrayBuffer()),
    });
    await expect
      .poll(() => page.locator('#verifier-progress').textContent())
      .toMatch(/没有找到二维码|无法打开/);
    await expect(page.locator('#verdict[data-verdict]').count()).resolves.toBe(0);
    await context.close();
  });

  it('shows a licence revoked a moment ago as revoked, though the page synced before', async () => {
    const { page, context } = await newPage(browser, runtime.baseUrl);
    await openVerifier(page);
    await pasteAndVerify(page, licence.credential);
    expect((await verdict(page)).code).toBe('valid');

    await expectJson(
      await postJson(runtime, `${licencePath(licence.id)}/status`, issuerToken, {
        status: 'revoked',
        reason: '测试吊销',
      }),
      200,
    );
    await pasteAndVerify(page, licence.credential);
    await page.locator('#verdict[data-verdict="revoked"]').waitFor();
    const { text } = await verdict(page);
    expect(text).toContain('已吊销');
    expect(text).not.toContain('离线');
    await context.close();
  });

  it('fetches per scan only the status list the verdict rests on, and never probes for a 404', async () => {
    const { page, context } = await newPage(browser, runtime.baseUrl);
    const errors = unexpectedErrors(page);
    const seen = trustDataRequests(page);
    await openVerifier(page);
    // Opening the page syncs everything: the trust list, then exactly the status lists it counts.
    expect(seen.paths).toContain('/trust-list');
    expect(seen.paths.filter((path) => path.startsWith('/status-lists/')).length).toBeGreaterThan(0);
    expect(seen.missing).toEqual([]);
    seen.paths.length = 0;

    // A credential: its one list, fetched again so a revocation of a moment ago shows.
    for (const credential of [other.credential, licence.credential, other.credential]) {
      await pasteAndVerify(page, credential);
      await verdict(page);
      expect(seen.paths.splice(0)).toEqual([statusListPathOf(credential)]);
    }

    // A presentation: its licence's list (the same path, as its entry names it); the trust list is fresh
    // and the presentation key named in it, so nothing else.
    const deps = dependencies();
    const record = await deps.licences.get(other.id);
    if (!record) throw new Error('the licence was not stored');
    const { token } = await createPresentation(
      other.id,
      { disclose: [], ttlSeconds: 120 },
      { holderLookupKeys: [record.holder.lookupKey], level: 3, actor: 'test-holder' },
      deps,
    );
    await pasteAndVerify(page, token);
    expect((await verdict(page)).code).toBe('valid');
    expect(seen.paths.splice(0)).toEqual([statusListPathOf(other.credential)]);

    // Text that is no licence fetches nothing.
    await pasteAndVerify(page, 'https://example.com/not-a-licence');
    expect((await verdict(page)).code).toBe('malformed');
    expect(seen.paths).toEqual([]);
    expect(seen.missing).toEqual([]);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('calls text that is no licence malformed', async () => {
    const { page, context } = await newPage(browser, runtime.baseUrl);
    await openVerifier(page);
    await pasteAndVerify(page, 'https://example.com/not-a-licence#hello');
    const { code, text } = await verdict(page);
    expect(code).toBe('malformed');
    expect(text).toContain('不是电子证照');

    // Empty input is refused at the field, not sent for a verdict.
    await pasteAndVerify(page, '   ');
    await expect(page.getByLabel('粘贴二维码内容').getAttribute('aria-invalid')).resolves.toBe('true');
    await context.close();
  });

  it('verifies offline after one visit, from the service worker and the saved trust data', async () => {
    const { page, context } = await newPage(browser, runtime.baseUrl);
    await openVerifier(page);
    const kept = await page.evaluate(async () => {
      await navigator.serviceWorker.ready;
      const cache = await caches.open('elicence-verifier-v1');
      return (await cache.keys()).map((request) => new URL(request.url).pathname).sort();
    });
    expect(kept).toEqual(['/assets/app.css', '/assets/icon.svg', '/assets/verifier.js', '/verifier']);

    await context.setOffline(true);
    await page.reload();
    await page.locator('#verifier[data-ready="true"]').waitFor();
    await expect(page.locator('#network-state').textContent()).resolves.toContain('离线');
    await expect(page.locator('#data-freshness').textContent()).resolves.toMatch(
      /信任列表更新于 .+（刚刚）；状态列表（\d+ 个）更新于/,
    );

    await pasteAndVerify(page, other.credential);
    const { code, text } = await verdict(page);
    expect(code).toBe('valid');
    expect(text).toContain('赵离线');
    expect(text).toContain('离线核验');

    // The revocation seen online was saved with the status lists: offline it still reads revoked.
    await pasteAndVerify(page, licence.credential);
    await page.locator('#verdict[data-verdict="revoked"]').waitFor();
    await context.setOffline(false);
    await context.close();
  });

  it('fits a phone and speaks English', async () => {
    const { page, context } = await newPage(browser, runtime.baseUrl, { viewport: phone, mobile: true });
    const errors = unexpectedErrors(page);
    await openVerifier(page, '/verifier?lang=en');
    await expect(page.getByLabel('Upload a photo of a QR code').count()).resolves.toBe(1);
    await expect(page.getByRole('button', { name: 'Scan', exact: true }).isVisible()).resolves.toBe(true);
    await pasteAndVerify(page, other.credential, 'Paste the QR text', 'Verify');
    const { code, text } = await verdict(page);
    expect(code).toBe('valid');
    expect(text).toContain('Valid');
    expect(text).toContain('Driving licence');
    expect(text).toContain('Permitted vehicle class');
    // Nothing wider than the phone: no sideways scrolling to read the verdict.
    await expect(page.evaluate(() => document.documentElement.scrollWidth)).resolves.toBeLessThanOrEqual(
      phone.width,
    );
    await screenshot(page, 'verifier-phone');
    expect(errors).toEqual([]);
    await context.close();
  });

  it('is usable from the keyboard alone', async () => {
    const { page, context } = await newPage(browser, runtime.baseUrl);
    await openVerifier(page);
    await page.getByLabel('粘贴二维码内容').focus();
    await page.keyboard.insertText(other.credential);
    await page.keyboard.press('Tab');
    await expect(page.evaluate(() => document.activeElement?.textContent?.trim())).resolves.toBe('核验');
    await page.keyboard.press('Enter');
    expect((await verdict(page)).code).toBe('valid');
    await context.close();
  });

  it('verifies what a scanner gun types followed by Enter; Shift+Enter is a new line (review R62-5)', async () => {
    const { page, context, errors } = await newPage(browser, runtime.baseUrl);
    await openVerifier(page);
    const box = page.getByLabel('粘贴二维码内容');
    await box.focus();
    // Shift+Enter: a new line in the box, nothing verified.
    await page.keyboard.insertText('first line');
    await page.keyboard.press('Shift+Enter');
    await expect(box.inputValue()).resolves.toBe('first line\n');
    await expect(page.locator('#verdict[data-verdict]').count()).resolves.toBe(0);
    // The gun: the code's text, then Enter, and the verdict with no click.
    await box.fill('');
    await page.keyboard.insertText(other.credential);
    await page.keyboard.press('Enter');
    expect((await verdict(page)).code).toBe('valid');
    await expect(box.inputValue()).resolves.toBe(other.credential);
    expect(errors).toEqual([]);
    await context.close();
  });
});
