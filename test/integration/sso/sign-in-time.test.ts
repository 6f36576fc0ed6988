import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  adminToken,
  authorizationRequest,
  citizenAnswers,
  demoPlatform,
  registerPlatform,
  runFlow,
  signIn,
  signedInAgo,
  type RelyingParty,
} from '../../support/oidc-flows.js';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.js';
import { UserAgent } from '../../support/user-agent.js';

/**
 * `auth_time` is when the person last authenticated, whatever the session did since: choosing an
 * enterprise and going back to personal use authenticate no one, so they keep the sign-in's time (and its
 * `acr` and `amr`), and a platform's `max_age` still asks for the password (R21). The step-up's own
 * answer (a fresh `auth_time`, `amr` with `sms`) is in step-up.test.ts.
 */

let runtime: TestRuntime;
let platform: RelyingParty;
let app: RelyingParty;

beforeAll(async () => {
  runtime = await startTestRuntime();
  platform = await demoPlatform(runtime);
  app = await registerPlatform(runtime, await adminToken(runtime), {
    name: '自有应用 First-party app',
    redirectUris: [`${runtime.baseUrl}/demo/callback`],
    scopes: ['openid', 'profile', 'entity'],
    firstParty: true,
  });
});
afterAll(() => runtime?.close());

describe('auth_time after acting for an enterprise and back', () => {
  it('stays the password’s, so a platform’s max_age still asks for the password', async () => {
    const ua = new UserAgent(runtime.baseUrl, [`${runtime.baseUrl}/demo/callback`]);
    // `max_age` (a day) for `auth_time` in the ID token, which says it only when asked.
    const day = { max_age: '86400' };
    const first = await signIn(app, ua, citizenAnswers(runtime), { scope: 'openid profile', ...day });
    expect(first.steps).toEqual(['login']);
    // The password was typed an hour ago (the session's own sign-in time, moved back).
    const signedInAt = await signedInAgo(runtime, ua, 3600);

    // No password on either step: the entity chooser, then the way back to personal use.
    const asEntity = await signIn(
      app,
      ua,
      { entity: runtime.credentials.entity.creditCode },
      { scope: 'openid profile entity', ...day },
    );
    expect(asEntity.steps).toEqual(['entity']);
    expect(asEntity.claims).toMatchObject({
      auth_time: signedInAt,
      acr: first.claims.acr,
      amr: ['pwd'],
    });
    const back = await signIn(app, ua, { personal: true }, { scope: 'openid profile', ...day });
    expect(back.steps).toEqual(['personal']);
    expect(back.claims).toMatchObject({ auth_time: signedInAt, acr: first.claims.acr, amr: ['pwd'] });

    // A platform that wants a sign-in of the last ten minutes gets the sign-in page, not a code.
    const strict = await authorizationRequest(platform, { max_age: '600' });
    const outcome = await runFlow(ua, strict.url, {});
    expect(outcome.callback).toBeUndefined();
    expect(outcome.stoppedAt).toBe('login');
  });
});
