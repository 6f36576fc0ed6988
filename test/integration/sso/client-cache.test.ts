import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dependencies } from '../../../functions/composition/dependencies.js';
import {
  adminToken,
  authorizationRequest,
  exchange,
  getWithToken,
  refusal,
  registerPlatform,
  signIn,
  type RelyingParty,
  citizenAnswers,
} from '../../support/oidc-flows.js';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.js';
import { UserAgent } from '../../support/user-agent.js';

/**
 * Each container keeps a platform's registration CLIENT_CACHE_SECONDS once read (1 s here): a platform
 * deleted elsewhere (here by this process's own composition, another container, as the operators' API
 * would) signs nobody in, redeems no code and its tokens open nothing once that time has passed.
 */

const clientCacheSeconds = 1;
let runtime: TestRuntime;
let platform: RelyingParty;

beforeAll(async () => {
  runtime = await startTestRuntime(undefined, { CLIENT_CACHE_SECONDS: String(clientCacheSeconds) });
  platform = await registerPlatform(runtime, await adminToken(runtime), {
    name: '缓存 Cached platform',
    redirectUris: ['https://cached.example/cb'],
    scopes: ['openid', 'profile', 'licences'],
    firstParty: true,
  });
});
afterAll(() => runtime?.close());

describe('a platform deleted in another container', () => {
  it('stops within CLIENT_CACHE_SECONDS: no sign-in, no token, and its tokens are refused', async () => {
    const ua = new UserAgent(runtime.baseUrl);
    const answers = citizenAnswers(runtime);
    const { tokens } = await signIn(platform, ua, answers, { scope: 'openid licences' });
    // Every container on the way has read the registration now, the API's included.
    expect((await getWithToken(runtime, '/me/licences', tokens.access_token)).status).toBe(200);
    const pending = await authorizationRequest(platform);
    const callback = (await ua.navigate(pending.url)).leftTo;
    expect(callback?.searchParams.get('code')).toBeTruthy();

    await dependencies().clients.delete(platform.clientId);
    await sleep(clientCacheSeconds * 1000 + 100);

    expect((await getWithToken(runtime, '/me/licences', tokens.access_token)).status).toBe(401);
    const { error } = await refusal(exchange(platform, pending, callback!));
    expect(error).toBe('invalid_client');
    const again = await ua.navigate((await authorizationRequest(platform)).url);
    expect(again.leftTo).toBeUndefined();
    expect(again.page?.status).toBe(400);
  });
});
