import type { Page } from 'playwright-core';
import QRCode from 'qrcode';
import { beforeAll, describe, expect, it } from 'vitest';
import { axeViolations, browserSuite, phone } from '../support/browser.js';
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
 * A camera the test holds codes up to: `getUserMedia` answers with a canvas's stream, and the test draws
 * a QR code on the canvas (or blanks it) with `window.__holdUp`. Unlike Chromium's file-backed fake
 * camera, the code in view can change mid-test, as it does when the next person in a queue steps up.
 */
const fakeCamera = () => {
  const canvas = document.createElement('canvas');
  canvas.width = 640;
  canvas.height = 640;
  const context = canvas.getContext('2d');
  let code: { size: number; dark: number[] } | undefined;
  const draw = () => {
    if (!context) return;
    context.fillStyle = '#fff';
    context.fillRect(0, 0, canvas.width, canvas.height);
    if (!code) return;
    const cell = Math.floor(canvas.width / (code.size + 8));
    const offset = Math.floor((canvas.width - cell * code.size) / 2);
    context.fillStyle = '#000';
    for (const index of code.dark) {
      context.fillRect(
        offset + (index % code.size) * cell,
        offset + Math.floor(index / code.size) * cell,
        cell,
        cell,
      );
    }
  };
  // A canvas stream only carries frames when the canvas is painted: paint a few times a second.
  setInterval(draw, 100);
  (window as unknown as { __holdUp: (c: typeof code) => void }).__holdUp = (next) => {
    code = next;
    draw();
  };
  Object.defineProperty(navigator, 'mediaDevices', {
    configurable: true,
    value: { getUserMedia: () => Promise.resolve(canvas.captureStream(10)) },
  });
};

/** The dark modules of `text`'s QR code, as the fake camera draws them. */
function modulesOf(text: string): { size: number; dark: number[] } {
  const { modules } = QRCode.create(text, { errorCorrectionLevel: 'L' });
  const dark: number[] = [];
  modules.data.forEach((bit, index) => {
    if (bit) dark.push(index);
  });
  return { size: modules.size, dark };
}

const holdUp = (page: Page, text: string | undefined) =>
  page.evaluate(
    (code) => (window as unknown as { __holdUp: (c: unknown) => void }).__holdUp(code),
    text && modulesOf(text),
  );

const words = {
  zh: {
    path: '/verifier',
    scan: '扫描',
    again: '再扫一个',
    stop: '停止扫描',
    keep: '连续扫描',
    valid: '有效',
    revoked: '已吊销',
  },
  en: {
    path: '/verifier?lang=en',
    scan: 'Scan',
    again: 'Scan another',
    stop: 'Stop scanning',
    keep: 'Keep scanning',
    valid: 'Valid',
    revoked: 'Revoked',
  },
} as const;

/** What has focus: its id, or its tag when it has none. */
const focused = (page: Page) =>
  page.evaluate(() => document.activeElement?.id || document.activeElement?.tagName);

/**
 * The scan-again loop on a phone, as a counter clerk checking a queue uses it: a verdict, then one tap
 * on "再扫一个" back to the camera; or, with continuous scanning, each next code replacing the verdict
 * with no tap at all. Focus follows: the verdict's heading when it appears, the scanner on "scan
 * another".
 */
describe('the verifier’s scan-again loop on a phone', () => {
  const suite = browserSuite();
  let valid: LicenceJson;
  let revoked: LicenceJson;
  /** Revoked while its code is held up (R32 L1). */
  let revokedInView: LicenceJson;
  let token: string;

  beforeAll(async () => {
    const { runtime } = suite;
    token = await clientCredentialsToken(runtime, runtime.credentials.issuer, 'licences:issue');
    [valid, revoked, revokedInView] = await Promise.all([
      issued(runtime, token, drivingLicenceBody(newIdNumber(), { holderName: '李排队' })),
      issued(runtime, token, drivingLicenceBody(newIdNumber(), { holderName: '周吊销' })),
      issued(runtime, token, drivingLicenceBody(newIdNumber(), { holderName: '吴在看' })),
    ]);
    await expectJson(
      await postJson(runtime, `${licencePath(revoked.id)}/status`, token, {
        status: 'revoked',
        reason: '测试',
      }),
      200,
    );
  });

  async function open(lang: 'zh' | 'en'): Promise<Page> {
    const { page } = await suite.newPage({ viewport: phone, mobile: true });
    page.setDefaultTimeout(10_000);
    await page.addInitScript(fakeCamera);
    await page.goto(words[lang].path);
    await page.locator('#verifier[data-ready="true"]').waitFor();
    return page;
  }

  const verdictOf = async (page: Page, code: string) => {
    const card = page.locator(`#verdict[data-verdict="${code}"]`);
    await card.waitFor();
    return card;
  };

  for (const lang of ['zh', 'en'] as const) {
    const w = words[lang];

    it(`${lang}: a verdict, then "${w.again}" straight back to the camera, focus following`, async () => {
      const page = await open(lang);
      await holdUp(page, valid.credential);
      await page.getByRole('button', { name: w.scan, exact: true }).click();
      const card = await verdictOf(page, 'valid');
      await expect(card.locator('#verdict-title').textContent()).resolves.toContain(w.valid);
      await expect(focused(page)).resolves.toBe('verdict-title');
      // The camera is released once a code is read (the default: one person at a time).
      await expect(page.locator('#camera').isHidden()).resolves.toBe(true);

      const again = page.getByRole('button', { name: w.again, exact: true });
      const box = await again.boundingBox();
      const cardBox = await card.boundingBox();
      // Full width of the verdict card (less its padding), and a large target.
      expect(box!.width).toBeGreaterThanOrEqual(cardBox!.width - 40);
      expect(box!.height).toBeGreaterThanOrEqual(44);
      await expect(axeViolations(page)).resolves.toEqual([]);

      // Nothing in view yet: the scanner is open and has focus, the old verdict is gone.
      await holdUp(page, undefined);
      await again.click();
      await page.locator('#camera').waitFor({ state: 'visible' });
      await expect(focused(page)).resolves.toBe('scan-stop');
      await expect(page.locator('#verdict[data-verdict]').count()).resolves.toBe(0);
      // On a phone the other ways step aside while the camera is on, so the verdict lands under it.
      await expect(page.getByLabel(/粘贴二维码内容|Paste the QR text/).isVisible()).resolves.toBe(false);

      await holdUp(page, revoked.credential);
      const next = await verdictOf(page, 'revoked');
      await expect(next.locator('#verdict-title').textContent()).resolves.toContain(w.revoked);
      await expect(next.getAttribute('class')).resolves.toContain('verdict-bad');
      await expect(focused(page)).resolves.toBe('verdict-title');
      await expect(page.evaluate(() => document.documentElement.scrollWidth)).resolves.toBeLessThanOrEqual(
        phone.width,
      );
      await expect(axeViolations(page)).resolves.toEqual([]);
      await page.context().close();
    });

    it(`${lang}: continuous scanning replaces the verdict with the next code, not the same one again at once`, async () => {
      const page = await open(lang);
      await page.getByLabel(w.keep, { exact: true }).check();
      await holdUp(page, valid.credential);
      await page.getByRole('button', { name: w.scan, exact: true }).click();
      const first = await verdictOf(page, 'valid');
      // The camera stays on, and there is no button to tap between people.
      await expect(page.locator('#camera').isVisible()).resolves.toBe(true);
      await expect(page.getByRole('button', { name: w.again }).count()).resolves.toBe(0);
      await expect(focused(page)).resolves.toBe('verdict-title');
      // The same code still in view is not checked again: the heading stays the one first rendered.
      await first.locator('#verdict-title').evaluate((heading) => heading.setAttribute('data-first', ''));
      await page.waitForTimeout(2500);
      await expect(page.locator('#verdict-title[data-first]').count()).resolves.toBe(1);
      await expect(axeViolations(page)).resolves.toEqual([]);

      // The next person: their code replaces the verdict, without a tap.
      await holdUp(page, revoked.credential);
      await verdictOf(page, 'revoked');
      await expect(focused(page)).resolves.toBe('verdict-title');
      await expect(page.locator('#camera').isVisible()).resolves.toBe(true);

      // Stopping keeps the last verdict and offers the way back.
      await page.getByRole('button', { name: w.stop, exact: true }).click();
      await page.locator('#camera').waitFor({ state: 'hidden' });
      await expect(page.locator('#verdict').getAttribute('data-verdict')).resolves.toBe('revoked');
      await expect(page.getByRole('button', { name: w.again, exact: true }).isVisible()).resolves.toBe(true);
      await expect(
        page.locator('#camera-video').evaluate((video: HTMLVideoElement) => video.srcObject),
      ).resolves.toBe(null);

      // The choice is kept on this device.
      await page.reload();
      await page.locator('#verifier[data-ready="true"]').waitFor();
      await expect(page.getByLabel(w.keep, { exact: true }).isChecked()).resolves.toBe(true);
      await page.context().close();
    });
  }

  it('continuous scanning checks the code still in view again after a few seconds: a revocation shows (R32 L1)', async () => {
    const page = await open('zh');
    await page.getByLabel(words.zh.keep, { exact: true }).check();
    await holdUp(page, revokedInView.credential);
    await page.getByRole('button', { name: words.zh.scan, exact: true }).click();
    await verdictOf(page, 'valid');
    // Revoked while the holder still holds the code up: it must not stay green.
    await expectJson(
      await postJson(suite.runtime, `${licencePath(revokedInView.id)}/status`, token, {
        status: 'revoked',
        reason: '测试',
      }),
      200,
    );
    await page.locator('#verdict[data-verdict="revoked"]').waitFor({ timeout: 20_000 });
    await expect(page.locator('#camera').isVisible()).resolves.toBe(true);
    await page.context().close();
  });

  it('after a pasted code, "核验下一个" empties the box and puts the cursor in it', async () => {
    const page = await open('zh');
    await page.getByLabel('粘贴二维码内容').fill(valid.credential);
    await page.getByRole('button', { name: '核验', exact: true }).click();
    await verdictOf(page, 'valid');
    await expect(focused(page)).resolves.toBe('verdict-title');
    await page.getByRole('button', { name: '核验下一个', exact: true }).click();
    await expect(focused(page)).resolves.toBe('qr-text');
    await expect(page.getByLabel('粘贴二维码内容').inputValue()).resolves.toBe('');
    await expect(page.locator('#verdict[data-verdict]').count()).resolves.toBe(0);
    await page.context().close();
  });
});
