import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registryPeople } from '../../../infra/local/demo-data.js';
import {
  appointAgent,
  appointClerk,
  clerkToken,
  startEntityPlatform,
  withdrawClerk,
  type Clerk,
} from '../../support/clerks.js';
import {
  authorizationRequest,
  getWithToken,
  offeredEntities,
  refusal,
  runFlow,
  signIn,
  type RelyingParty,
} from '../../support/oidc-flows.js';
import type { TestRuntime } from '../../support/runtime.js';
import type { UserAgent } from '../../support/user-agent.js';

/**
 * What an appointment covers when its agent signs in as the enterprise (review R22): at a platform, only
 * an appointment with `sign-in` (代表企业登录其他平台); at the service's own apps (the issuer console), any
 * appointment in force, which the app checks on every call. Before, a clerk appointed only to issue
 * (办理发证) signed in at any platform as the agency, which the platform then took for a legal person.
 */

let runtime: TestRuntime;
let platform: RelyingParty;
let headToken: string;
let agency: string;
let browser: () => UserAgent;

beforeAll(async () => {
  // Any platform the operator registered (not first-party) that asks for `entity`.
  ({ runtime, platform, headToken, agency, browser } = await startEntityPlatform());
});
afterAll(() => runtime?.close());

describe('a clerk appointed only to issue (licences:issue)', () => {
  let clerk: Clerk;
  beforeAll(async () => {
    clerk = await appointClerk(runtime, headToken, agency, registryPeople[8]!, ['licences:issue']);
  });

  it('is not offered the agency at a platform, and choosing it anyway is refused', async () => {
    const request = await authorizationRequest(platform, { scope: 'openid profile entity' });
    const ua = browser();
    const outcome = await runFlow(ua, request.url, {
      username: clerk.idNumber,
      password: clerk.password,
      entity: agency,
    });
    expect(outcome.steps).toEqual(['login']);
    expect(outcome.callback).toBeUndefined();
    expect(offeredEntities(outcome.page!.html)).toEqual([]);
    expect(outcome.page!.html).toContain('您目前不能代表任何企业办事');

    // The agency's credit code posted to the chooser all the same: refused, no code for the platform.
    const uid = /\/interaction\/([A-Za-z0-9_-]+)\//.exec(outcome.page!.html)![1]!;
    const chosen = await ua.navigate(new URL(`/interaction/${uid}/entity`, runtime.baseUrl), {
      form: { entity: agency },
    });
    expect(chosen.leftTo).toBeUndefined();
    expect(chosen.page?.status).toBe(403);
    expect(chosen.page?.html).toContain('您不能代表该企业办事');
  });

  it('still signs in to the issuer console as the agency, whose API takes the token', async () => {
    const { token, claims } = await clerkToken(runtime, clerk);
    expect(claims).toMatchObject({ subject_type: 'legal_person', credit_code: agency });
    const issuer = await getWithToken(runtime, '/issuer', token);
    expect(issuer.status, await issuer.clone().text()).toBe(200);
    expect(await issuer.json()).toMatchObject({ creditCode: agency });
  });
});

describe('an agent appointed to sign in for the enterprise (sign-in)', () => {
  const person = registryPeople[9]!;
  let agent: Clerk & { agentId: string };

  beforeAll(async () => {
    agent = await appointClerk(runtime, headToken, agency, person, ['licences', 'sign-in']);
  });

  it('signs in at the platform as the agency; once the appointment no longer covers it, gets no new token and no userinfo', async () => {
    const { claims, tokens } = await signIn(
      platform,
      browser(),
      { username: agent.idNumber, password: agent.password, entity: agency },
      { scope: 'openid profile entity offline_access', prompt: 'consent' },
    );
    const info = await client.fetchUserInfo(platform.config, tokens.access_token, claims.sub);
    expect(info).toMatchObject({ subject_type: 'legal_person', credit_code: agency });
    expect(tokens.refresh_token).toBeTruthy();

    // The head narrows the appointment to using the licences: withdrawn, appointed again without sign-in.
    await withdrawClerk(runtime, headToken, agent);
    await appointAgent(runtime, headToken, agency, person, ['licences']);

    await expect(
      refusal(client.refreshTokenGrant(platform.config, tokens.refresh_token!)),
    ).resolves.toMatchObject({ error: 'invalid_grant', status: 400 });
    await expect(
      refusal(client.fetchUserInfo(platform.config, tokens.access_token, claims.sub)),
    ).resolves.toMatchObject({ status: 401 });
    // And a new sign-in at the platform offers the agency no more.
    const request = await authorizationRequest(platform, { scope: 'openid profile entity' });
    const outcome = await runFlow(browser(), request.url, {
      username: agent.idNumber,
      password: agent.password,
    });
    expect(offeredEntities(outcome.page!.html)).toEqual([]);
  });
});
