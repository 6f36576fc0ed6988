import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  adminToken,
  authorizationRequest,
  callbackOf,
  citizenAnswers,
  exchange,
  registerPlatform,
  type RelyingParty,
} from '../../support/oidc-flows.js';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.js';
import { UserAgent } from '../../support/user-agent.js';

/**
 * The claims parameter (discovery: `claims_parameter_supported`) asks for a level (`acr`) and the sign-in's
 * time (`auth_time`); any other claim it names is ignored, as OpenID Connect Core §5.5 says of claims the
 * OP does not return, never refused (review R69 F2: the conformance suite's oidcc-claims-essential), and
 * never granted beyond the platform's scopes: claims come with the scopes, at userinfo.
 */

let runtime: TestRuntime;
/** A platform registered for `openid profile`: not for `idcard`. */
let platform: RelyingParty;
/** A platform registered for `idcard` too. */
let entitled: RelyingParty;
const callbackUri = () => `${runtime.baseUrl}/demo/callback`;
const browser = () => new UserAgent(runtime.baseUrl, [callbackUri()]);

beforeAll(async () => {
  runtime = await startTestRuntime();
  const token = await adminToken(runtime);
  platform = await registerPlatform(runtime, token, {
    name: '声明平台 Claims platform',
    redirectUris: [callbackUri()],
    scopes: ['openid', 'profile'],
  });
  entitled = await registerPlatform(runtime, token, {
    name: '实名平台 ID platform',
    redirectUris: [callbackUri()],
    scopes: ['openid', 'profile', 'idcard'],
  });
});
afterAll(() => runtime?.close());

/** A complete sign-in with `claims` (the consent page allowed, its ID-number box left unticked). */
async function signInAsking(rp: RelyingParty, scope: string, claims: object) {
  const request = await authorizationRequest(rp, { scope, claims: JSON.stringify(claims) });
  const { callback } = await callbackOf(browser(), request.url, citizenAnswers(runtime));
  const tokens = await exchange(rp, request, callback);
  const idToken = tokens.claims()!;
  const userinfo = await client.fetchUserInfo(rp.config, tokens.access_token, idToken.sub);
  return { idToken, userinfo };
}

describe('the claims parameter', () => {
  it('a claim asked as essential at userinfo is not refused (oidcc-claims-essential)', async () => {
    const { userinfo } = await signInAsking(platform, 'openid', { userinfo: { name: { essential: true } } });
    // Scope `openid` alone gives no name: asked through the parameter, it is ignored, not granted.
    expect(userinfo.name).toBeUndefined();
    const withProfile = await signInAsking(platform, 'openid profile', {
      userinfo: { name: { essential: true } },
    });
    expect(withProfile.userinfo.name).toBeTruthy();
  });

  it('an essential auth_time in the ID token puts auth_time there (no max_age sent)', async () => {
    const { idToken } = await signInAsking(platform, 'openid', {
      id_token: { auth_time: { essential: true } },
    });
    expect(typeof idToken.auth_time).toBe('number');
    expect(Math.abs(Math.floor(Date.now() / 1000) - (idToken.auth_time as number))).toBeLessThan(60);
  });

  it('gives no ID number to a platform not registered for idcard, wherever it is asked', async () => {
    const claims = {
      id_token: { id_number: { essential: true } },
      userinfo: { id_number: { essential: true } },
    };
    const { idToken, userinfo } = await signInAsking(platform, 'openid profile', claims);
    expect(idToken.id_number).toBeUndefined();
    expect(userinfo.id_number).toBeUndefined();
    expect(JSON.stringify([idToken, userinfo])).not.toContain(runtime.credentials.citizen.idNumber);
  });

  it('gives no ID number around the consent page’s own box, even to a platform asking idcard', async () => {
    const claims = { id_token: { id_number: { essential: true } }, userinfo: { id_number: null } };
    const { idToken, userinfo } = await signInAsking(entitled, 'openid profile idcard', claims);
    expect(JSON.stringify([idToken, userinfo])).not.toContain(runtime.credentials.citizen.idNumber);
  });

  it('puts no profile claim in the ID token (it travels in URLs and logs), name at userinfo only', async () => {
    const { idToken, userinfo } = await signInAsking(platform, 'openid profile', {
      id_token: { name: { essential: true } },
    });
    expect(idToken.name).toBeUndefined();
    expect(userinfo.name).toBeTruthy();
  });
});
