import { describe, expect, it } from 'vitest';
import { buildDependencies } from '../../functions/composition/dependencies.js';
import { parseIdNumber } from '../../shared/identifiers/id-number.js';
import { personLookupKey } from '../../shared/identifiers/lookup-key.js';
import { axeViolations, browserSuite, signInToWallet } from '../support/browser.js';

/**
 * Adding a passkey in the wallet while the clean-up of the account's last password reset is still owed
 * (`409 cleanup_owed`: it failed after the reset's save, and the reconciler finishes it within minutes):
 * the page says so in its own words, in Chinese, that it clears by itself and to try again shortly,
 * rather than its generic 未能添加通行密钥. In Chromium, with axe.
 */
describe('the wallet’s passkeys page while a reset’s clean-up is owed', () => {
  const suite = browserSuite();

  it('tells the person the clean-up finishes by itself, and to try again shortly', async () => {
    const { runtime } = suite;
    const citizen = runtime.credentials.citizen;
    const deps = buildDependencies(runtime.config);
    try {
      const id = parseIdNumber(citizen.idNumber, new Date());
      const account = (await deps.accounts.findByLookupKey(await personLookupKey(deps.lookupMac, id)))!;
      // The last reset's clean-up failed after its save: owed, until the reconciler's next run.
      await deps.accounts.save({ ...account, proofCleanup: {} });
    } finally {
      deps.doc.destroy();
      deps.kms.destroy();
    }

    const { page, context, errors } = await suite.newPage();
    await signInToWallet(page, citizen);
    await page.goto('/wallet/passkeys');
    await page.locator('#passkey-password').fill(citizen.password);
    await page.getByRole('button', { name: '添加通行密钥' }).click();
    const problem = page.locator('#passkey-enrol-error');
    await problem.waitFor();
    const text = await problem.textContent();
    expect(text).toContain('旧的登录和通行密钥仍在清除中');
    expect(text).toContain('清除会在几分钟内自动完成，请稍后再试');
    expect(text).not.toContain('未能添加通行密钥');
    await expect(problem.getAttribute('role')).resolves.toBe('alert');
    // The button is usable again, for the try a few minutes later.
    await expect(page.getByRole('button', { name: '添加通行密钥' }).isDisabled()).resolves.toBe(false);
    await expect(axeViolations(page)).resolves.toEqual([]);
    await context.close();
    // The one refusal is the options' answer, shown by the page: no error of the page itself.
    expect(errors).toEqual([
      'console: Failed to load resource: the server responded with a status of 409 (Conflict)',
    ]);
  });
});
