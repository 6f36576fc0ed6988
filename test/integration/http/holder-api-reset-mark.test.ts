import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDependencies } from '../../../functions/composition/dependencies.js';
import { parseIdNumber } from '../../../shared/identifiers/id-number.js';
import { personLookupKey } from '../../../shared/identifiers/lookup-key.js';
import { newIdNumber } from '../../support/in-memory-identity.js';
import { CarrierOfNumbers } from '../../support/in-memory-sms.js';
import { getWithToken } from '../../support/licences.js';
import {
  authorizationRequest,
  callbackOf,
  demoPlatform,
  exchange,
  type RelyingParty,
} from '../../support/oidc-flows.js';
import type { TestRuntime } from '../../support/runtime.js';
import {
  openAccount,
  putInRegistry,
  startRuntimeWithCarrier,
  walletToken,
} from '../../support/sharing-flows.js';
import { UserAgent } from '../../support/user-agent.js';

/**
 * Review R47 F3: a takeover or a reset marks the account (`signInsEnded`, review R44) and then ends its
 * sessions and tokens. The provider's endpoints refuse a token from before the mark by the account they
 * read; the holder API (`/me/…`) checked only that the token was stored and its session held it, so a
 * wallet token that outlived a clean-up failed after the account's save still read the licences and the
 * account. It is now refused there as at userinfo (401 `invalid_token`); a sign-in made since reads.
 */
let runtime: TestRuntime;
let platform: RelyingParty;
const carrier = new CarrierOfNumbers();
const browser = () =>
  new UserAgent(runtime.baseUrl, [`${runtime.baseUrl}/demo/callback`, `${runtime.baseUrl}/wallet/callback`]);

beforeAll(async () => {
  runtime = await startRuntimeWithCarrier(carrier);
  platform = await demoPlatform(runtime);
});
afterAll(() => runtime?.close());

/** The signed-in person's wallet token for the holder API, and a platform's token of the same sign-in. */
async function signedIn(person: { idNumber: string; password: string }) {
  const ua = browser();
  const request = await authorizationRequest(platform, { scope: 'openid profile' });
  const { callback } = await callbackOf(ua, request.url, {
    username: person.idNumber,
    password: person.password,
  });
  const platformTokens = await exchange(platform, request, callback);
  return { wallet: await walletToken(runtime, ua), platform: platformTokens.access_token };
}

describe('the holder API and a takeover or a reset (review R47 F3)', () => {
  it('a wallet token from before the reset, its clean-up failed, reads nothing; a sign-in since reads', async () => {
    const owner = { idNumber: newIdNumber(), name: '测试戊五', password: 'owner-pass-5a' };
    await putInRegistry(runtime, owner.idNumber, owner.name);
    await openAccount(runtime, owner);
    const before = await signedIn(owner);
    expect((await getWithToken(runtime, '/me/licences', before.wallet)).status).toBe(200);

    // The reset saved (its mark, a later second than that sign-in), its clean-up failed after the save:
    // the tokens are still stored, their session still holds them.
    await sleep(1100);
    const deps = buildDependencies(runtime.config);
    try {
      const id = parseIdNumber(owner.idNumber, new Date());
      const account = (await deps.accounts.findByLookupKey(await personLookupKey(deps.lookupMac, id)))!;
      const at = new Date().toISOString();
      await deps.accounts.save({
        ...account,
        proofCleanup: { passkeysBefore: at },
        signInsEnded: { at, version: account.version + 1 },
      });
    } finally {
      deps.doc.destroy();
      deps.kms.destroy();
    }

    // The provider refuses the platform's token; the holder API now refuses the wallet's alike.
    const discovery = await fetch(`${runtime.baseUrl}/.well-known/openid-configuration`);
    const { userinfo_endpoint: userinfo } = (await discovery.json()) as { userinfo_endpoint: string };
    const refused = await fetch(userinfo, { headers: { authorization: `Bearer ${before.platform}` } });
    expect(refused.status).toBe(401);
    for (const path of ['/me/licences', '/me/account', '/me/passkeys']) {
      const answer = await getWithToken(runtime, path, before.wallet);
      expect({ path, status: answer.status }).toEqual({ path, status: 401 });
      expect(((await answer.json()) as { code?: string }).code).toBe('invalid_token');
      // As `authenticate`'s refusals and the provider's userinfo answer it (RFC 6750 §3).
      expect(answer.headers.get('www-authenticate')).toBe(
        'Bearer error="invalid_token", error_description="The access token is unknown, revoked or expired"',
      );
    }
    expect(refused.headers.get('www-authenticate')).toMatch(/^Bearer .*error="invalid_token"/);

    const after = await signedIn(owner);
    expect((await getWithToken(runtime, '/me/licences', after.wallet)).status).toBe(200);
    expect((await getWithToken(runtime, '/me/account', after.wallet)).status).toBe(200);
  });
});
