import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newIdNumber } from '../../support/in-memory-identity.js';
import { getWithToken } from '../../support/licences.js';
import {
  authorizationRequest,
  callbackOf,
  exchange,
  runFlow,
  type RelyingParty,
} from '../../support/oidc-flows.js';
import { failingCleanupRuntime } from '../../support/reset-cleanup.js';
import type { TestRuntime } from '../../support/runtime.js';

/**
 * Review R54: the reconciler finishing a reset's owed clean-up (shared/identity/owed-cleanup.ts).
 *
 * - R54-1: it spared every sign-in of the mark's second, which the mark counts as after it only because
 *   the reset's own clean-up ended them all; an intruder signed in within that second, just before the
 *   reset, kept a session and tokens accepted for good once the mark was taken off.
 * - R54-2: the owner signing in again in the browser they had used before continued the grant of before
 *   the reset (the session keeps its grant for the platform), which the reconciler then withdrew: the
 *   owner's fresh sign-in ended.
 */
const cleanup = failingCleanupRuntime();
const { faults, withDeps, signedIn, resetPage, userinfo } = cleanup;

let runtime: TestRuntime;
let platform: RelyingParty;

beforeAll(async () => {
  ({ runtime, platform } = await cleanup.start());
});
afterAll(() => runtime?.close());

/** An owner at level 3 with a proven phone: their reset is by a code to it. */
async function ownerOf(tag: string, phone: string) {
  const owner = { idNumber: newIdNumber(), name: '测试' + tag, phone, password: 'owner-old-pass-' + tag };
  return { owner, ...(await cleanup.provenOwner(owner)) };
}

describe('review R54: the reconciler finishing a reset’s owed clean-up', () => {
  it('R54-1: ends an intruder’s sign-in made in the mark’s second, just before the reset', async () => {
    // Until the intruder's sign-in and the reset fall in one second (the reset page is ready ahead: the
    // owner is typing the code), each try with an owner of its own: a second reset of one owner within
    // the SMS interval (60 s) sends no new code, and would submit the spent one (400).
    for (let attempt = 0; attempt < 8; attempt++) {
      const { owner, accountId, accountOf } = await ownerOf(`r54a${attempt}`, `+86139000715${60 + attempt}`);
      const page = await resetPage(owner);
      while (Date.now() % 1000 > 20) await sleep(2);
      const intruder = await signedIn(owner);
      faults.failWithdrawal = true;
      const password = `owner-new-pass-r54a-${attempt}`;
      const reset = await page.submit(password);
      faults.failWithdrawal = false;
      expect(reset.status).toBe(200);
      // The new password saved, the page says so (not an error), and signs no one in (review R62).
      expect(reset.headers.get('location')).toBeNull();
      expect(await reset.text()).toContain('您的新密码已生效。请使用新密码登录。');
      const saved = (await accountOf())!;
      expect(saved.proofCleanup).toBeDefined();
      const markSecond = Math.floor(Date.parse(saved.signInsEnded!.at) / 1000);
      const grants = await withDeps((deps) => deps.sharingGrants.listOf(accountId));
      const sameSecond = grants.some((grant) => grant.grantedAt === markSecond);
      await runtime.runSchedule('pending-work-reconciler');
      expect((await accountOf())!.proofCleanup).toBeUndefined();
      if (!sameSecond) continue;
      // The intruder's sign-in, made before the reset in its second, is gone with the rest.
      expect(await withDeps((deps) => deps.sharingGrants.listOf(accountId))).toEqual([]);
      expect((await userinfo(intruder.platform)).status).toBe(401);
      expect((await getWithToken(runtime, '/me/licences', intruder.wallet)).status).toBe(401);
      const silent = await runFlow(intruder.ua, (await authorizationRequest(platform)).url, {});
      expect(silent.callback).toBeUndefined();
      return;
    }
    throw new Error('the intruder’s sign-in and the reset never fell in one second');
  });

  it('R54-1: a reset whose mark could not be taken off signs no one in, whom the reconciler would sign out', async () => {
    const { owner, accountOf } = await ownerOf('r54c', '+8613900071543');
    const page = await resetPage(owner);
    // The clean-up done, the two writes taking its mark off fail: the reconciler does it again, ending
    // every sign-in of the mark's second, so the reset's own would be ended too.
    faults.failUnmarking = 2;
    const reset = await page.submit('owner-new-pass-r54c');
    const failed = faults.failUnmarking;
    faults.failUnmarking = 0;
    expect(failed).toBe(0);
    // The password is changed: the page says so and sends the owner to sign in with it (no error page
    // leaving them guessing), but signs no one in itself (no redirect to the platform).
    expect(reset.status).toBe(200);
    const answer = await reset.text();
    expect(answer).toContain('您的新密码已生效。请使用新密码登录。');
    expect(answer).toMatch(/<a class="button" id="sign-in" href="\/interaction\/[^"]+"\s*>\s*使用新密码登录/);
    expect((await accountOf())!.proofCleanup).toBeDefined();
    await runtime.runSchedule('pending-work-reconciler');
    expect((await accountOf())!.proofCleanup).toBeUndefined();
    // The password is the new one: the owner signs in with it, and that sign-in stands.
    const after = await signedIn({ idNumber: owner.idNumber, password: 'owner-new-pass-r54c' });
    await runtime.runSchedule('pending-work-reconciler');
    expect((await userinfo(after.platform)).status).toBe(200);
  });

  it('R54-2: the owner signing in again in the same browser keeps that sign-in past the reconciler', async () => {
    const { owner, accountId, accountOf } = await ownerOf('r54b', '+8613900071542');
    const before = await signedIn(owner);
    await sleep(1100);
    const page = await resetPage(owner);
    faults.failWithdrawal = true;
    const reset = await page.submit('owner-new-pass-r54b');
    faults.failWithdrawal = false;
    expect(reset.status).toBe(200);
    // The new password saved, the page says so (not an error), and signs no one in (review R62).
    expect(reset.headers.get('location')).toBeNull();
    expect(await reset.text()).toContain('您的新密码已生效。请使用新密码登录。');
    const markSecond = Math.floor(Date.parse((await accountOf())!.signInsEnded!.at) / 1000);
    await sleep(1100);
    // The owner, in the browser they had used before, signs in with the new password.
    const request = await authorizationRequest(platform, { scope: 'openid profile' });
    const { callback } = await callbackOf(before.ua, request.url, {
      username: owner.idNumber,
      password: 'owner-new-pass-r54b',
    });
    const tokens = await exchange(platform, request, callback);
    // A grant of its own, made after the reset: the one of before is not continued.
    const grants = await withDeps((deps) => deps.sharingGrants.listOf(accountId));
    expect(grants.filter((grant) => grant.grantedAt > markSecond)).toHaveLength(1);
    expect((await userinfo(tokens.access_token)).status).toBe(200);
    await runtime.runSchedule('pending-work-reconciler');
    expect((await accountOf())!.proofCleanup).toBeUndefined();
    expect((await userinfo(tokens.access_token)).status).toBe(200);
    expect((await userinfo(before.platform)).status).toBe(401);
    const silent = await runFlow(before.ua, (await authorizationRequest(platform)).url, {});
    expect(silent.callback).toBeDefined();
  });
});
