import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { walletClientId } from '../../../shared/identifiers/client-ids.js';
import {
  adminToken,
  authorizationRequest,
  demoPlatform,
  getWithToken,
  registerPlatform,
  runFlow,
  signIn,
  type RelyingParty,
} from '../../support/oidc-flows.js';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.js';
import { UserAgent } from '../../support/user-agent.js';

/**
 * A first-party client never meets the consent page, also when the person signs in to act for an
 * enterprise: scope `entity` together with an API scope (`licences`, as the wallet asks) makes our API
 * the resource of the request, and `entity` is one of its scopes, so the grant made for a first-party
 * client has to cover it there too. Before that it did not, and the wallet showed the consent page after
 * the entity choice. Other platforms still consent.
 */

let runtime: TestRuntime;
let firstParty: RelyingParty;
let notFirstParty: RelyingParty;

/** What the wallet asks for when a person signs in for an enterprise (functions/wallet.ts). */
const entityScope = 'openid profile licences entity';

const citizen = () => runtime.credentials.citizen;
const entity = () => runtime.credentials.entity;
const allAnswers = () => ({
  username: citizen().idNumber,
  password: citizen().password,
  entity: entity().creditCode,
  // A consent page stops the flow rather than being clicked through.
  consent: false,
});

beforeAll(async () => {
  runtime = await startTestRuntime();
  firstParty = await registerPlatform(runtime, await adminToken(runtime), {
    name: '自有平台 First-party platform',
    redirectUris: ['https://first-party.example/cb'],
    scopes: ['openid', 'profile', 'licences', 'entity'],
    firstParty: true,
  });
  notFirstParty = await demoPlatform(runtime);
});
afterAll(() => runtime?.close());

describe('a first-party client asking for scope entity', () => {
  let ua: UserAgent;

  beforeAll(() => {
    ua = new UserAgent(runtime.baseUrl);
  });

  it('goes from the entity choice straight to its callback with a code', async () => {
    const request = await authorizationRequest(firstParty, { scope: entityScope });
    const outcome = await runFlow(ua, request.url, allAnswers());
    expect(outcome.stoppedAt, outcome.page?.html.slice(0, 300)).toBeUndefined();
    expect(outcome.steps).toEqual(['login', 'entity']);
    expect(outcome.callback?.origin).toBe('https://first-party.example');
    expect(outcome.callback?.searchParams.get('code')).toMatch(/\S{20,}/);
    expect(outcome.callback?.searchParams.get('state')).toBe(request.state);
  });

  it('gets, in the entity session, a code without any page, and an access token with scope entity', async () => {
    const { steps, claims, tokens } = await signIn(firstParty, ua, {}, { scope: entityScope });
    expect(steps).toEqual([]);
    expect(claims).toMatchObject({ subject_type: 'legal_person', credit_code: entity().creditCode });
    // The grant covers `entity` for our API: the representative's token manages the entity's agents.
    const agents = await getWithToken(
      runtime,
      `/me/entities/${entity().creditCode}/agents`,
      tokens.access_token,
    );
    expect(agents.status, await agents.text()).toBe(200);
  });

  it('is the case of the wallet itself', async () => {
    const callback = `${runtime.baseUrl}/wallet/callback`;
    const url = new URL('/authorize', runtime.baseUrl);
    const state = client.randomState();
    url.search = new URLSearchParams({
      client_id: walletClientId,
      redirect_uri: callback,
      response_type: 'code',
      scope: entityScope,
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
      state,
    }).toString();
    const outcome = await runFlow(new UserAgent(runtime.baseUrl, [callback]), url, allAnswers());
    expect(outcome.stoppedAt, outcome.page?.html.slice(0, 300)).toBeUndefined();
    expect(outcome.steps).toEqual(['login', 'entity']);
    expect(outcome.callback?.href.startsWith(`${callback}?`)).toBe(true);
    expect(outcome.callback?.searchParams.get('code')).toMatch(/\S{20,}/);
    expect(outcome.callback?.searchParams.get('state')).toBe(state);
  });
});

describe('a platform that is not first-party asking for scope entity', () => {
  it('still meets the consent page after the entity choice', async () => {
    const ua = new UserAgent(runtime.baseUrl, [notFirstParty.redirectUri]);
    // Without `licences`: it is first-party only (a platform asking for it gets `invalid_scope`).
    const request = await authorizationRequest(notFirstParty, { scope: 'openid profile entity' });
    const outcome = await runFlow(ua, request.url, allAnswers());
    expect(outcome.steps).toEqual(['login', 'entity']);
    expect(outcome.stoppedAt).toBe('consent');
    expect(outcome.callback).toBeUndefined();
  });
});
