import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { dependencies } from '../functions/composition/dependencies.js';
import { createPresentation } from '../shared/licence/presentation.js';
import { agencyHead, registryPeople } from '../infra/local/demo-data.js';
import { proveAccountInPerson } from '../test/support/assurance.js';
import {
  desktop,
  launchBrowser,
  newPage,
  phone,
  signInClerk,
  signInOnLoginPage,
  signInToWallet,
} from '../test/support/browser.js';
import { postJson } from '../test/support/http-api.js';
import { newIdNumber } from '../test/support/in-memory-identity.js';
import { CarrierOfNumbers, outbox } from '../test/support/in-memory-sms.js';
import { drivingLicenceBody, issued, licencePath, type LicenceJson } from '../test/support/licences.js';
import { authorizationRequest, demoPlatform } from '../test/support/oidc-flows.js';
import { registerPerson, type TestPerson } from '../test/support/sharing-flows.js';
import { clientCredentialsToken, startTestRuntime, type TestRuntime } from '../test/support/runtime.js';

/**
 * `npx tsx scripts/screenshots.ts [--out docs/screenshots] [--only <name,name>]`: the pictures of the
 * pages in docs/screenshots/ (listed, with what each shows, in docs/screenshots/README.md). Starts the
 * local runtime on a new temporary data folder, seeds what the pages need through the real APIs (the
 * issuer API for licences and their status, `POST /accounts` for a person at level 2), drives Debian's
 * Chromium (`/usr/bin/chromium`, or CHROMIUM_PATH) with playwright-core, and overwrites the PNGs of the
 * same names. Chinese needs a CJK font installed for Chromium (Debian: fonts-noto-cjk or
 * fonts-wqy-zenhei), else its glyphs come out as boxes. Exits 1 naming the shot that failed.
 */

interface Seeded {
  runtime: TestRuntime;
  carrier: CarrierOfNumbers;
  valid: LicenceJson;
  revoked: LicenceJson;
  suspended: LicenceJson;
  /** A person at level 2 with a phone the fake carrier knows: the step-up page asks them for a code. */
  stepUpPerson: TestPerson;
}

type Shot = (
  browser: Browser,
  seeded: Seeded,
  save: (page: Page, name: string, full?: boolean) => Promise<void>,
) => Promise<void>;

async function seed(): Promise<Seeded> {
  const carrier = new CarrierOfNumbers();
  const runtime = await startTestRuntime(
    undefined,
    {},
    { carrier: (operator) => carrier.using(operator.lookupMac) },
  );
  const token = await clientCredentialsToken(runtime, runtime.credentials.issuer, 'licences:issue');
  const { citizen } = runtime.credentials;
  const issue = (holderName: string, idNumber: string, archiveNumber: string, vehicleClass = 'C1') =>
    issued(
      runtime,
      token,
      drivingLicenceBody(idNumber, {
        holderName,
        fields: { vehicleClass, firstIssuedOn: '2012-05-01', archiveNumber },
      }),
    );
  const setStatus = async (licence: LicenceJson, status: 'revoked' | 'suspended', reason: string) => {
    const answer = await postJson(runtime, `${licencePath(licence.id)}/status`, token, { status, reason });
    if (answer.status !== 200) throw new Error(`status ${status}: ${answer.status} ${await answer.text()}`);
  };
  // The citizen's own: the seeded valid one, plus one revoked and one suspended, issued later so that
  // newest-first alone would put them on top (the wallet puts valid first).
  const citizenRevoked = await issue(citizen.name, citizen.idNumber, '110100777001', 'B2');
  const citizenSuspended = await issue(citizen.name, citizen.idNumber, '110100777002', 'A1');
  await setStatus(citizenRevoked, 'revoked', '以欺骗手段取得驾驶证');
  await setStatus(citizenSuspended, 'suspended', '记满12分，暂扣驾驶证');
  // For the verifier: three people at a counter.
  const valid = await issue('李有效', newIdNumber(), '110100555001');
  const revoked = await issue('钱吊销', newIdNumber(), '110100555002');
  const suspended = await issue('孙暂扣', newIdNumber(), '110100555003');
  await setStatus(revoked, 'revoked', '以欺骗手段取得驾驶证');
  await setStatus(suspended, 'suspended', '记满12分，暂扣驾驶证');

  const stepUpPerson: TestPerson = {
    idNumber: newIdNumber(),
    name: '张升级',
    phone: '+8613912340001',
    password: 'screens-pass-1',
  };
  await registerPerson(runtime, carrier, stepUpPerson);
  return { runtime, carrier, valid, revoked, suspended, stepUpPerson };
}

/** A live presentation (亮证码) of `licence`, as the wallet makes one, valid for two minutes. */
async function presentationOf(licence: LicenceJson): Promise<string> {
  const deps = dependencies();
  const record = await deps.licences.get(licence.id);
  if (!record) throw new Error('the licence was not stored');
  const { token } = await createPresentation(
    licence.id,
    { disclose: [], ttlSeconds: 120 },
    { holderLookupKeys: [record.holder.lookupKey], level: 3, actor: 'screenshots' },
    deps,
  );
  return token;
}

const signedInWallet = (page: Page, runtime: TestRuntime, actFor: 'self' | 'entity' = 'self') =>
  signInToWallet(page, runtime.credentials.citizen, {
    actFor: actFor === 'entity' ? runtime.credentials.entity.creditCode : 'self',
  });

const openVerifier = async (page: Page, path: string) => {
  // No smooth scrolling to the verdict: the picture is taken once it is in place.
  await page.emulateMedia({ reducedMotion: 'reduce' });
  await page.goto(path);
  await page.locator('#verifier[data-ready="true"]').waitFor();
};

/** Pastes `text` into the verifier and waits for the verdict, scrolled to the top of the screen. */
const pasteVerdict = async (page: Page, text: string, lang: 'zh' | 'en') => {
  await page.getByLabel(lang === 'zh' ? '粘贴二维码内容' : 'Paste the QR text').fill(text);
  await page.getByRole('button', { name: lang === 'zh' ? '核验' : 'Verify', exact: true }).click();
  await page.locator('#verdict[data-verdict]').waitFor();
  await page.locator('#verdict').evaluate((card) => card.scrollIntoView({ block: 'start' }));
};

/** The demo agency's counter clerk signs in to the console through the unified identity, in `lang`. */
const consoleSignIn = async (page: Page, runtime: TestRuntime, lang: 'zh' | 'en') => {
  await page.goto(lang === 'zh' ? '/console' : '/console?lang=en');
  await signInClerk(page, runtime.credentials.clerk);
  await page.locator('table, .console-list, #licence-list').first().waitFor();
};

/**
 * The demo agency's head (its legal representative per the business registry) with an account proven in
 * person (level 3), signed in to the wallet for the agency, on the agents page (经办人).
 */
const headOnAgentsPage = async (page: Page, runtime: TestRuntime) => {
  const head = { ...agencyHead, password: 'Head-2026!' };
  const registered = await postJson(runtime, '/accounts', undefined, { consent: true, ...head });
  if (![201, 409].includes(registered.status)) throw new Error(`head: ${registered.status}`);
  await proveAccountInPerson(runtime, head.idNumber);
  await signInToWallet(page, head, {
    actFor: runtime.credentials.clerk.creditCode,
    returnTo: '/wallet/agents',
  });
};

const langs = ['zh', 'en'] as const;
const suffix = (lang: 'zh' | 'en') => (lang === 'zh' ? '' : '-en');
const withLang = (path: string, lang: 'zh' | 'en') =>
  lang === 'zh' ? path : `${path}${path.includes('?') ? '&' : '?'}lang=en`;

/** Shoots the page as `name` (in Chinese, as it stands), then goes to `path` in English and shoots `name-en`. */
const inBothLangs = async (page: Page, path: string, name: string, save: Parameters<Shot>[2]) => {
  await save(page, name);
  await page.goto(withLang(path, 'en'));
  await save(page, `${name}${suffix('en')}`);
};

/** From the demo platform's button to the sign-in page, as a platform sends people there, in `lang`. */
const openSignInFromDemo = async (page: Page, lang: 'zh' | 'en') => {
  await page.goto(withLang('/demo', lang));
  await page.getByRole('button', { name: /使用统一身份认证登录|Sign in with the unified identity/ }).click();
  await page.waitForURL(/\/interaction\/[^/]+$/);
  if (lang === 'en' && (await page.locator('html').getAttribute('lang')) !== 'en') {
    await page.getByRole('link', { name: 'English' }).click();
  }
};

/** Every shot, by the name it is known by in --only. Each opens its own browser contexts. */
const shots: Record<string, Shot> = {
  'sign-in': async (browser, { runtime }, save) => {
    // The sign-in page as a platform sends people to it: password, passkey and the scan-to-login code.
    for (const lang of langs) {
      const { page, context } = await newPage(browser, runtime.baseUrl, { viewport: desktop });
      await openSignInFromDemo(page, lang);
      await save(page, `sign-in${suffix(lang)}`);
      await context.close();
    }
    const { page, context } = await newPage(browser, runtime.baseUrl, { viewport: phone, mobile: true });
    await page.goto('/wallet/login');
    await save(page, 'sign-in-phone', false);
    await context.close();
  },

  consent: async (browser, { runtime }, save) => {
    for (const lang of langs) {
      const { page, context } = await newPage(browser, runtime.baseUrl, { viewport: phone, mobile: true });
      await openSignInFromDemo(page, lang);
      await signInOnLoginPage(page, runtime.credentials.citizen);
      await page.locator('#consent-who').waitFor();
      await save(page, lang === 'zh' ? 'consent-phone' : 'consent-phone-en', false);
      await context.close();
    }
  },

  'consent-idcard': async (browser, { runtime }, save) => {
    // A platform entitled to the ID number asks for it: a consent of its own, a box unticked until ticked.
    const { page, context } = await newPage(browser, runtime.baseUrl, { viewport: phone, mobile: true });
    await page.goto('/demo');
    await page.getByLabel(/身份证号码（idcard）/).check();
    await page.getByRole('button', { name: '使用统一身份认证登录' }).click();
    await page.waitForURL(/\/interaction\/[^/]+$/);
    await signInOnLoginPage(page, runtime.credentials.citizen);
    await page.locator('#consent-idcard').waitFor();
    await save(page, 'consent-idcard-phone');
    await context.close();
  },

  'step-up': async (browser, { runtime, stepUpPerson }, save) => {
    const { page, context } = await newPage(browser, runtime.baseUrl, { viewport: desktop });
    const request = await authorizationRequest(await demoPlatform(runtime), {
      acr_values: 'urn:elicence:loa:3',
    });
    await page.goto(request.url.href);
    await signInOnLoginPage(page, stepUpPerson);
    await page.getByLabel(/手机号/).fill(stepUpPerson.phone);
    await page.getByRole('button', { name: '获取验证码' }).click();
    await page.locator('#form-notice').waitFor();
    if ((await outbox(runtime)).every((message) => message.to !== stepUpPerson.phone)) {
      throw new Error('no code was sent');
    }
    await save(page, 'step-up', false);
    await context.close();
  },

  'scan-login-confirm': async (browser, { runtime }, save) => {
    const phoneSide = await newPage(browser, runtime.baseUrl, { viewport: phone, mobile: true });
    await signedInWallet(phoneSide.page, runtime);
    const desk = await newPage(browser, runtime.baseUrl, { viewport: desktop });
    await desk.page.goto('/demo');
    await desk.page.getByRole('button', { name: '使用统一身份认证登录' }).click();
    await desk.page.waitForURL(/\/interaction\/[^/]+$/);
    const link = await desk.page.locator('#scan-login-link').getAttribute('href');
    if (!link) throw new Error('the sign-in page has no scan-to-login link');
    await phoneSide.page.goto(link);
    await phoneSide.page.locator('#scan-login-client').waitFor();
    await save(phoneSide.page, 'scan-login-confirm', false);
    await phoneSide.context.close();
    await desk.context.close();
  },

  wallet: async (browser, { runtime }, save) => {
    const wide = await newPage(browser, runtime.baseUrl, { viewport: desktop });
    await signedInWallet(wide.page, runtime);
    await inBothLangs(wide.page, '/wallet', 'wallet-revoked', save);
    await wide.context.close();
    for (const lang of langs) {
      const small = await newPage(browser, runtime.baseUrl, { viewport: phone, mobile: true });
      await signedInWallet(small.page, runtime);
      await small.page.goto(withLang('/wallet', lang));
      await save(small.page, `wallet-list-phone${suffix(lang)}`);
      // A licence that is not valid, on its own page.
      await small.page.locator('article.licence-card[data-status="revoked"] a').first().click();
      await small.page.waitForURL('**/wallet/licences/**');
      await save(small.page, `wallet-revoked-phone${suffix(lang)}`);
      await small.context.close();
      // Acting for the enterprise: 企业证照 and 个人证照.
      const agent = await newPage(browser, runtime.baseUrl, { viewport: phone, mobile: true });
      await signedInWallet(agent.page, runtime, 'entity');
      await agent.page.goto(withLang('/wallet', lang));
      await agent.page.locator('section.wallet-group').first().waitFor();
      await save(agent.page, `wallet-enterprise-phone${suffix(lang)}`);
      await agent.context.close();
    }
  },

  account: async (browser, { runtime }, save) => {
    for (const lang of langs) {
      const { page, context } = await newPage(browser, runtime.baseUrl, { viewport: phone, mobile: true });
      await signedInWallet(page, runtime);
      await page.goto(withLang('/wallet/account', lang));
      await page.locator('#account-close-link').waitFor();
      await save(page, `wallet-account-phone${suffix(lang)}`);
      // The confirmation before closing: what goes, what stays, the box to tick.
      await page.goto(withLang('/wallet/account/close', lang));
      await page.locator('#account-close-form').waitFor();
      await save(page, `wallet-account-close-phone${suffix(lang)}`);
      await context.close();
    }
  },

  agents: async (browser, { runtime }, save) => {
    const wide = await newPage(browser, runtime.baseUrl, { viewport: desktop });
    await headOnAgentsPage(wide.page, runtime);
    await inBothLangs(wide.page, '/wallet/agents', 'wallet-agents', save);
    await wide.context.close();
    const small = await newPage(browser, runtime.baseUrl, { viewport: phone, mobile: true });
    await headOnAgentsPage(small.page, runtime);
    // A name other than the registry's for the number: the summary names the field.
    const someone = registryPeople[15]!;
    await small.page.locator('#idNumber').fill(someone.idNumber);
    await small.page.locator('#name').fill(`${someone.name}甲`);
    await small.page.locator('#appoint-submit').click();
    await small.page.locator('#error-summary').waitFor();
    await save(small.page, 'wallet-agents-error-phone');
    // Withdrawing the seed's clerk: the confirmation (not sent).
    await small.page.goto('/wallet/agents');
    await small.page.getByRole('link', { name: '撤销委托…' }).first().click();
    await small.page.locator('#withdraw-form').waitFor();
    await save(small.page, 'wallet-agents-withdraw-phone');
    await small.context.close();
  },

  'console-sign-in': async (browser, { runtime }, save) => {
    // The clerk's way in: the console's sign-in, then the unified identity's, choosing the agency.
    const { page, context } = await newPage(browser, runtime.baseUrl, { viewport: desktop });
    await page.goto('/console');
    await save(page, 'console-sign-in', false);
    await page.getByRole('link', { name: '通过统一身份认证登录' }).click();
    await page.waitForURL(/\/interaction\/[^/]+$/);
    const { clerk } = runtime.credentials;
    await page.getByLabel(/身份证号/).fill(clerk.idNumber);
    await page.getByLabel(/密码/).fill(clerk.password);
    await page.getByRole('button', { name: /^登录$/ }).click();
    await page.locator('input[name="entity"]').first().waitFor();
    await save(page, 'console-sign-in-agency', false);
    await context.close();
  },

  verifier: async (browser, { runtime, valid, revoked, suspended }, save) => {
    for (const lang of langs) {
      const { page, context } = await newPage(browser, runtime.baseUrl, { viewport: phone, mobile: true });
      await openVerifier(page, withLang('/verifier', lang));
      for (const [name, licence] of [
        ['valid', valid],
        ['revoked', revoked],
        ['suspended', suspended],
      ] as const) {
        await pasteVerdict(page, licence.credential, lang);
        await save(page, `verifier-${name}${suffix(lang)}`, false);
      }
      await pasteVerdict(page, await presentationOf(valid), lang);
      await save(page, `verifier-live${suffix(lang)}`, false);
      await context.close();
    }
    // A live code shown ten minutes later: timed out, amber.
    const { page, context } = await newPage(browser, runtime.baseUrl, { viewport: phone, mobile: true });
    await openVerifier(page, '/verifier');
    const presented = await presentationOf(valid);
    await page.clock.setFixedTime(Date.now() + 10 * 60_000);
    await pasteVerdict(page, presented, 'zh');
    await save(page, 'verifier-qr-timed-out', false);
    await context.close();
  },

  console: async (browser, { runtime }, save) => {
    for (const lang of langs) {
      const wide = await newPage(browser, runtime.baseUrl, { viewport: desktop });
      await consoleSignIn(wide.page, runtime, lang);
      await save(wide.page, `console-list${suffix(lang)}`);
      await wide.context.close();
    }
    const small = await newPage(browser, runtime.baseUrl, { viewport: phone, mobile: true });
    await consoleSignIn(small.page, runtime, 'zh');
    await save(small.page, 'console-list-phone');
    await small.context.close();
  },

  'not-found': async (browser, { runtime }, save) => {
    for (const lang of langs) {
      const { page, context } = await newPage(browser, runtime.baseUrl, { viewport: desktop });
      await page.goto(withLang('/no/such/page', lang));
      await save(page, `not-found${suffix(lang)}`, false);
      await context.close();
    }
  },
};

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      out: { type: 'string', default: join('docs', 'screenshots') },
      only: { type: 'string' },
    },
  });
  const only = values.only?.split(',').map((name) => name.trim());
  const unknown = only?.filter((name) => !(name in shots));
  if (unknown?.length) {
    console.error(`Unknown shot(s): ${unknown.join(', ')}. Known: ${Object.keys(shots).join(', ')}`);
    return 2;
  }
  await mkdir(values.out, { recursive: true });
  const [seeded, browser] = await Promise.all([seed(), launchBrowser()]);
  const written: string[] = [];
  const save = async (page: Page, name: string, full = true) => {
    // Fonts and the pages' scripts settle before the picture: no half-drawn glyphs.
    await page.evaluate(() => document.fonts.ready);
    const path = join(values.out, `${name}.png`);
    await page.screenshot({ path, fullPage: full, animations: 'disabled', caret: 'hide' });
    written.push(path);
  };
  let failed = false;
  try {
    for (const [name, shot] of Object.entries(shots)) {
      if (only && !only.includes(name)) continue;
      try {
        await shot(browser, seeded, save);
      } catch (error) {
        failed = true;
        console.error(`${name}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  } finally {
    await browser.close();
    await seeded.runtime.close();
    await rm(seeded.runtime.dataDir, { recursive: true, force: true });
  }
  for (const path of written) console.log(path);
  return failed ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
