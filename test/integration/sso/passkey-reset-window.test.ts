import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { buildDependencies } from '../../../functions/composition/dependencies.js';
import { parseIdNumber } from '../../../shared/identifiers/id-number.js';
import { personLookupKey } from '../../../shared/identifiers/lookup-key.js';
import { userHandleOf } from '../../../shared/identity/passkeys.js';
import type { PersonAccount } from '../../../shared/identity/person-account.js';
import { phoneDigest } from '../../../shared/identity/sms-codes.js';
import { newIdNumber } from '../../support/in-memory-identity.js';
import { authorizationRequest, exchange, runFlow, type RelyingParty } from '../../support/oidc-flows.js';
import { failingCleanupRuntime } from '../../support/reset-cleanup.js';
import type { TestRuntime } from '../../support/runtime.js';
import { openAccount, putInRegistry, uidOf } from '../../support/sharing-flows.js';
import { SoftwareAuthenticator } from '../../support/software-authenticator.js';
import { UserAgent } from '../../support/user-agent.js';

/**
 * Review R47 F1: a takeover or a reset saves the account (its new password, the mark `signInsEnded`, the
 * clean-up owed) and only then removes the passkeys. A passkey sign-in between the two read the account
 * after the save, so its result carried the new version and went through; a clean-up that failed after the
 * save left that window open for good. A passkey enrolled before the mark now signs no one in, whether or
 * not the clean-up got to it; the owner's, enrolled after, does.
 */
// The reset clean-up tests' runtime (its faults left off: the clean-up's failure is written here directly).
const cleanup = failingCleanupRuntime();
const { carrier, withDeps } = cleanup;

let runtime: TestRuntime;
let platform: RelyingParty;

beforeAll(async () => {
  ({ runtime, platform } = await cleanup.start());
});
afterAll(() => runtime?.close());

/** A passkey of `accountId` put in the store directly (as step-up.test.ts does), with a real key behind it. */
function storePasskey(
  deps: ReturnType<typeof buildDependencies>,
  accountId: string,
  createdAt: string,
  name: string,
) {
  const authenticator = new SoftwareAuthenticator(new URL(runtime.baseUrl).origin);
  authenticator.userHandle = userHandleOf(accountId);
  return deps.passkeys
    .add({
      id: authenticator.credentialId,
      accountId,
      publicKey: authenticator.publicKey(),
      counter: 0,
      transports: ['internal'],
      deviceType: 'singleDevice',
      backedUp: false,
      name,
      createdAt,
    })
    .then(() => authenticator);
}

/** A passkey sign-in on the sign-in page of a platform: its answer, and where the browser ends up. */
async function signInWith(authenticator: SoftwareAuthenticator) {
  const ua = new UserAgent(runtime.baseUrl, [`${runtime.baseUrl}/demo/callback`]);
  const request = await authorizationRequest(platform, { scope: 'openid profile' });
  const uid = uidOf((await runFlow(ua, request.url, {})).page!.html);
  const post = (path: string, body: unknown) =>
    ua.request(`/interaction/${uid}/${path}`, {
      body: JSON.stringify(body),
      headers: { origin: new URL(runtime.baseUrl).origin, 'content-type': 'application/json' },
    });
  const options = await post('passkeyoptions', {});
  const answer = await post('passkey', authenticator.assert((await options.json()) as never));
  const body = (await answer.json()) as { location?: string; error?: string };
  if (answer.status !== 200 || !body.location) return { status: answer.status, error: body.error };
  const outcome = await runFlow(ua, new URL(body.location, runtime.baseUrl), {});
  if (!outcome.callback) return { status: answer.status, stoppedAt: outcome.stoppedAt };
  const claims = (await exchange(platform, request, outcome.callback)).claims()!;
  return { status: answer.status, acr: claims.acr };
}

describe('a passkey between a reset’s save and the removal of the passkeys (review R47 F1)', () => {
  it('an intruder’s passkey signs no one in once the reset is saved, its removal failed; the owner’s new one does', async () => {
    const owner = {
      idNumber: newIdNumber(),
      name: '测试丁四',
      phone: '+8613900074004',
      password: 'owner-pass-4a',
    };
    await putInRegistry(runtime, owner.idNumber, owner.name);
    carrier.add(owner);
    await openAccount(runtime, owner);
    const { accountId, intruder, account } = await withDeps(async (deps) => {
      const id = parseIdNumber(owner.idNumber, new Date());
      const found = (await deps.accounts.findByLookupKey(await personLookupKey(deps.lookupMac, id)))!;
      const atLevel3 = await deps.accounts.save({
        ...found,
        assurance: 'possession-verified',
        provenPhone: await phoneDigest(deps.lookupMac, owner.phone),
      });
      const key = await storePasskey(deps, found.id, new Date(Date.now() - 60_000).toISOString(), 'intruder');
      return { accountId: found.id, intruder: key, account: atLevel3 };
    });
    // The intruder's passkey signs in (at level 3) before the reset.
    expect(await signInWith(intruder)).toEqual({ status: 200, acr: 'urn:elicence:loa:3' });

    // The owner's reset, as `completePhoneProof` saves it: a new password, the clean-up owed, the mark.
    // Its clean-up (consents, passkeys, sign-ins) runs after the save: not yet run here.
    const at = new Date().toISOString();
    const reset: PersonAccount = await withDeps((deps) =>
      deps.accounts.save({
        ...account,
        passwordHash: 'replaced-by-the-reset',
        proofCleanup: { passkeysBefore: at },
        signInsEnded: { at, version: account.version + 1 },
      }),
    );
    expect(await signInWith(intruder)).toEqual({ status: 401, error: 'invalid_passkey' });

    // The clean-up failed before it removed the passkey, yet took its mark off (the worst case: the
    // account no longer says a clean-up is owed): the mark alone still refuses the passkey.
    await withDeps(async (deps) => {
      const { proofCleanup: _owed, ...cleaned } = reset;
      await deps.accounts.save(cleaned);
    });
    expect(await signInWith(intruder)).toEqual({ status: 401, error: 'invalid_passkey' });

    // The owner's own passkey, enrolled after the reset, signs in.
    const mine = await withDeps((deps) =>
      storePasskey(deps, accountId, new Date(Date.parse(at) + 1).toISOString(), 'owner'),
    );
    expect(await signInWith(mine)).toEqual({ status: 200, acr: 'urn:elicence:loa:3' });
  });
});
