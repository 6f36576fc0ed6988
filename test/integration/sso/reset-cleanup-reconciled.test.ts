import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { userHandleOf } from '../../../shared/identity/passkeys.js';
import { postJson } from '../../support/http-api.js';
import { newIdNumber } from '../../support/in-memory-identity.js';
import { getWithToken } from '../../support/licences.js';
import { authorizationRequest, runFlow, type RelyingParty } from '../../support/oidc-flows.js';
import { failingCleanupRuntime } from '../../support/reset-cleanup.js';
import type { TestRuntime } from '../../support/runtime.js';
import { SoftwareAuthenticator } from '../../support/software-authenticator.js';

/**
 * A reset (or a takeover) saves the account with its clean-up owed (`proofCleanup`) and the mark that
 * refuses what came before (`signInsEnded`), then withdraws the consents, removes the passkeys and ends the
 * sign-ins. When that clean-up failed after the save, only another proof of the account finished it: until
 * then the old sessions, grants and passkeys stayed stored (refused by the mark alone), and the owner could
 * enrol no passkey (`409 cleanup_owed`). The proof's own save now keeps its pointer until the clean-up is
 * done, and the reconciler finishes it from there: the old sign-ins, consents and passkeys go, enrolment
 * works again, and what the owner signed in to after the reset stays.
 */
const cleanup = failingCleanupRuntime();
const { faults, withDeps, signedIn, resetPage, userinfo } = cleanup;

let runtime: TestRuntime;
let platform: RelyingParty;

beforeAll(async () => {
  ({ runtime, platform } = await cleanup.start());
});
afterAll(() => runtime?.close());

describe('a reset whose clean-up failed, finished by the reconciler', () => {
  it('ends what came before the reset, lets the owner enrol again, and spares the sign-in since', async () => {
    const owner = {
      idNumber: newIdNumber(),
      name: '测试庚七',
      phone: '+8613900071077',
      password: 'owner-old-pass-7',
    };
    // Proven at a counter with this phone (level 3: a password sign-in reaches it), so that the phone
    // resets the password (no takeover) and a sign-in by the new password may manage passkeys.
    const { accountId, accountOf } = await cleanup.provenOwner(owner);

    // Before the reset: a sign-in (a platform's grant, the wallet's), and a passkey someone enrolled.
    const old = await signedIn(owner);
    const oldPasskey = new SoftwareAuthenticator(new URL(runtime.baseUrl).origin);
    oldPasskey.userHandle = userHandleOf(accountId);
    await withDeps((deps) =>
      deps.passkeys.add({
        id: oldPasskey.credentialId,
        accountId,
        publicKey: oldPasskey.publicKey(),
        counter: 0,
        transports: ['internal'],
        deviceType: 'singleDevice',
        backedUp: false,
        name: '旧钥匙',
        createdAt: new Date().toISOString(),
      }),
    );
    const grantsBefore = await withDeps((deps) => deps.sharingGrants.listOf(accountId));
    expect(grantsBefore.length).toBeGreaterThan(0);

    // The reset, a later second: saved (the new password signs in), its clean-up failed at its first step.
    await sleep(1100);
    faults.failWithdrawal = true;
    const reset = await (await resetPage(owner)).submit('owner-new-pass-7');
    expect(reset.status).toBe(200);
    // The new password saved, the page says so (not an error), and signs no one in (review R62).
    expect(reset.headers.get('location')).toBeNull();
    expect(await reset.text()).toContain('您的新密码已生效。请使用新密码登录。');
    const saved = (await accountOf())!;
    expect(saved.proofCleanup).toBeDefined();
    expect(saved.signInsEnded).toBeDefined();

    // The owner signs in with the new password: enrolling a passkey is refused while the clean-up is owed.
    await sleep(1100);
    const since = await signedIn({ idNumber: owner.idNumber, password: 'owner-new-pass-7' });
    const refused = await postJson(runtime, '/me/passkeys/options', since.wallet, {});
    expect(refused.status).toBe(409);
    expect(await refused.json()).toMatchObject({ code: 'cleanup_owed' });
    // Nothing of before is gone yet: its grants and its passkey are still stored.
    const stored = await withDeps((deps) => deps.sharingGrants.listOf(accountId));
    expect(stored.map((grant) => grant.id)).toEqual(expect.arrayContaining(grantsBefore.map((g) => g.id)));

    // The reconciler's run finishes it, with no other proof.
    await runtime.runSchedule('pending-work-reconciler');

    expect((await accountOf())!.proofCleanup).toBeUndefined();
    const after = await withDeps((deps) => deps.sharingGrants.listOf(accountId));
    const markSecond = Math.floor(Date.parse(saved.signInsEnded!.at) / 1000);
    for (const grant of grantsBefore) expect(after.map((g) => g.id)).not.toContain(grant.id);
    expect(after.length).toBeGreaterThan(0);
    expect(after.every((grant) => grant.grantedAt >= markSecond)).toBe(true);
    expect(await withDeps((deps) => deps.passkeys.listFor(accountId))).toEqual([]);
    // The old browser's session is gone: the platform asks for a sign-in again.
    const silent = await runFlow(old.ua, (await authorizationRequest(platform)).url, {});
    expect(silent.stoppedAt).toBe('login');

    // The sign-in made after the reset goes on: its tokens read, its session signs in silently.
    expect((await getWithToken(runtime, '/me/licences', since.wallet)).status).toBe(200);
    expect((await userinfo(since.platform)).status).toBe(200);
    const again = await runFlow(since.ua, (await authorizationRequest(platform)).url, {});
    expect(again.callback).toBeDefined();

    // And a passkey may be enrolled again.
    const options = await postJson(runtime, '/me/passkeys/options', since.wallet, {});
    expect(options.status).toBe(200);
    const authenticator = new SoftwareAuthenticator(new URL(runtime.baseUrl).origin);
    const enrolled = await postJson(runtime, '/me/passkeys', since.wallet, {
      name: '新钥匙',
      password: 'owner-new-pass-7',
      response: authenticator.register(
        (await options.json()) as Parameters<SoftwareAuthenticator['register']>[0],
      ),
    });
    expect(enrolled.status).toBe(201);

    // A second run finds nothing left to do, and ends nothing of the owner's.
    await runtime.runSchedule('pending-work-reconciler');
    expect((await getWithToken(runtime, '/me/licences', since.wallet)).status).toBe(200);
    expect(await withDeps((deps) => deps.passkeys.listFor(accountId))).toHaveLength(1);
  });
});
