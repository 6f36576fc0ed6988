import { proveAccountInPerson } from '../../support/assurance.js';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registryPeople } from '../../../infra/local/demo-data.js';
import { dependencies } from '../../../functions/composition/dependencies.js';
import { walletClientId } from '../../../shared/identifiers/client-ids.js';
import { expectProblem, postJson } from '../../support/http-api.js';
import {
  adminToken,
  authorizationRequest,
  demoPlatform,
  getWithToken,
  offeredEntities,
  refusal,
  registerPlatform,
  runFlow,
  signIn,
  verifyJwt,
  writtenAccessToken,
  type RelyingParty,
} from '../../support/oidc-flows.js';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.js';
import { UserAgent } from '../../support/user-agent.js';

/**
 * Acting for an enterprise: the demo citizen, legal representative of the demo entity, signs in and
 * chooses the entity; the tokens name the entity as subject and the person as actor (`act`), and the
 * holder API shows the entity's licences with the person's own. The representative appoints an agent,
 * who then signs in for the entity; once withdrawn, the agent gets no new token.
 *
 * Two relying parties: the demo platform (not first-party) signs people in, with the consent page, and
 * reads no licences (`licences` is first-party only, docs/openid-connect.md); a first-party app of ours,
 * as the wallet is, reads the holder API and meets no consent page. Each sees its own pairwise `sub`.
 */

let runtime: TestRuntime;
let platform: RelyingParty;
let app: RelyingParty;

const citizen = () => runtime.credentials.citizen;
const entity = () => runtime.credentials.entity;
const browser = () => new UserAgent(runtime.baseUrl, [`${runtime.baseUrl}/demo/callback`]);
/** What the platform asks for to sign a person in for an entity. */
const entityScope = 'openid profile entity';
/** What the first-party app asks for to read the entity's licences, as the wallet does. */
const appEntityScope = 'openid profile entity licences';

beforeAll(async () => {
  runtime = await startTestRuntime();
  platform = await demoPlatform(runtime);
  app = await registerPlatform(runtime, await adminToken(runtime), {
    name: '自有应用 First-party app',
    redirectUris: [`${runtime.baseUrl}/demo/callback`],
    scopes: ['openid', 'profile', 'entity', 'licences', 'offline_access'],
    firstParty: true,
  });
});
afterAll(() => runtime?.close());

/** The `type` of each licence `GET /me/licences` lists for `token`, sorted. */
async function licenceTypes(token: string): Promise<string[]> {
  const response = await getWithToken(runtime, '/me/licences', token);
  expect(response.status, await response.clone().text()).toBe(200);
  const { items } = (await response.json()) as { items: Array<{ type: string }> };
  return items.map((item) => item.type).sort();
}

describe('the legal representative acting for the entity', () => {
  const ua = () => representative;
  let representative: UserAgent;
  /** His pairwise `sub` at the app, and at the platform. */
  let personalSub: string;
  let platformSub: string;
  let personalToken: string;

  beforeAll(() => {
    representative = browser();
  });

  it('signs in personally first: the holder API lists only his own driving licence', async () => {
    const { steps, claims, tokens } = await signIn(
      app,
      ua(),
      { username: citizen().idNumber, password: citizen().password },
      { scope: 'openid profile licences' },
    );
    expect(steps).toEqual(['login']);
    expect(claims).toMatchObject({ name: citizen().name });
    expect(claims).not.toHaveProperty('subject_type');
    expect(claims).not.toHaveProperty('act');
    personalSub = claims.sub;
    personalToken = tokens.access_token;
    expect(await licenceTypes(personalToken)).toEqual(['driving-licence']);

    // The platform, in the same session, after its consent page: his own sub there, no entity.
    const atPlatform = await signIn(platform, ua(), {});
    expect(atPlatform.steps).toEqual(['consent']);
    expect(atPlatform.claims).not.toHaveProperty('act');
    expect(atPlatform.claims.sub).not.toBe(personalSub);
    platformSub = atPlatform.claims.sub;
  });

  it('is offered the entity on a page of radio inputs named entity', async () => {
    const request = await authorizationRequest(platform, { scope: entityScope });
    const outcome = await runFlow(ua(), request.url);
    expect(outcome.stoppedAt).toBe('entity');
    expect(outcome.page?.status).toBe(200);
    expect(offeredEntities(outcome.page!.html)).toEqual([entity().creditCode]);
    expect(outcome.page!.html).toContain('法定代表人');
  });

  it('gets tokens naming the entity as subject and himself as actor, without typing the password again', async () => {
    const { steps, claims, tokens } = await signIn(
      app,
      ua(),
      { entity: entity().creditCode },
      { scope: appEntityScope },
    );
    expect(steps).toEqual(['entity']);
    const { payload } = await verifyJwt(runtime.baseUrl, tokens.id_token!, { audience: app.clientId });
    expect(payload).toMatchObject({
      sub: claims.sub,
      subject_type: 'legal_person',
      credit_code: entity().creditCode,
      name: entity().name,
      act: { sub: personalSub },
      acr: 'urn:elicence:loa:3',
    });
    expect(payload.sub).not.toBe(personalSub);

    // The entity's business licence, and his own driving licence, in this session.
    expect(await licenceTypes(tokens.access_token)).toEqual(['business-licence', 'driving-licence']);
    // Acting for the entity is a session of its own: the personal session ended, and with it the
    // grants it held, so the personal access token no longer works.
    expect((await getWithToken(runtime, '/me/licences', personalToken)).status).toBe(401);
  });

  it('returns to personal use with one click, and the platform sees his personal sub again', async () => {
    // A new personal session: the platform asks for consent again (the old grant ended with the session).
    const { steps, claims } = await signIn(platform, ua(), { personal: true });
    expect(steps).toEqual(['personal', 'consent']);
    expect(claims.sub).toBe(platformSub);
    expect(claims).not.toHaveProperty('credit_code');
  });

  // `entity` is also a scope of the API resource, but a platform's consent to it does not let the platform
  // manage the entity's agents (security review: it appointed one, who then signed in as the entity).
  // A first-party app's token does (test/integration/sso/first-party-entity.test.ts). Without `licences`
  // the platform's token is for userinfo only, so it names our API as its resource here.
  it("does not let the platform list or appoint agents with the representative's access token", async () => {
    const { steps, claims, tokens } = await signIn(
      platform,
      ua(),
      { entity: entity().creditCode },
      { scope: entityScope, resource: dependencies().config.issuerUrl },
    );
    // The platform signs him in for the entity after its consent page, under its own subjects.
    expect(steps).toEqual(['entity', 'consent']);
    expect(claims).toMatchObject({ subject_type: 'legal_person', act: { sub: platformSub } });
    const agents = `/me/entities/${entity().creditCode}/agents`;
    await expectProblem(await getWithToken(runtime, agents, tokens.access_token), 403, 'first_party_only');
    await expectProblem(
      await postJson(runtime, agents, tokens.access_token, {
        idNumber: registryPeople[3]!.idNumber,
        name: registryPeople[3]!.name,
        scope: ['licences'],
        expiresAt: new Date(Date.now() + 5 * 86_400_000).toISOString(),
      }),
      403,
      'first_party_only',
    );
    await expectProblem(
      await getWithToken(runtime, '/me/entities', tokens.access_token),
      403,
      'first_party_only',
    );
  });
});

/**
 * An access token of the representative with scope `entity` for our API, issued to the wallet and written
 * through the provider's adapter as `test/integration/http/accounts-agents.test.ts` does, for the cases
 * that need no sign-in.
 */
async function representativeToken(): Promise<string> {
  const deps = dependencies();
  // The citizen's account, found as the login page finds it.
  const login = await deps.directory.checkPassword({ ...citizen(), source: '192.0.2.81' });
  if (!login.ok) throw new Error(`sign-in failed: ${login.reason}`);
  // The wallet's: only a first-party app manages an entity's agents (the demo citizen's sign-in: level 3).
  return writtenAccessToken({ accountId: login.person.id, clientId: walletClientId, scope: 'openid entity' });
}

describe('an agent appointed by the representative', () => {
  const agent = registryPeople[2]!;
  const agentPassword = 'Agent-Pass-2026';
  const agentsPath = () => `/me/entities/${entity().creditCode}/agents`;
  let repToken: string;
  let agentId: string;
  let agentBrowser: UserAgent;
  let agentTokens: client.TokenEndpointResponse & client.TokenEndpointResponseHelpers;

  beforeAll(async () => {
    const registered = await postJson(runtime, '/accounts', undefined, {
      consent: true,
      ...agent,
      password: agentPassword,
    });
    expect(registered.status, await registered.clone().text()).toBe(201);
    // Reading the entity's licences needs level 3, as reading one's own does.
    await proveAccountInPerson(runtime, agent.idNumber);
    repToken = await representativeToken();
    agentBrowser = browser();
  });

  it('is appointed by the representative with scope licences', async () => {
    const response = await postJson(runtime, agentsPath(), repToken, {
      idNumber: agent.idNumber,
      name: agent.name,
      scope: ['licences'],
      expiresAt: new Date(Date.now() + 7 * 86_400_000).toISOString(),
    });
    expect(response.status, await response.clone().text()).toBe(201);
    agentId = ((await response.json()) as { agentId: string }).agentId;
  });

  it('signs in for the entity, offered it as agent, and gets a refresh token with offline_access', async () => {
    // The app, to read the entity's licences with the token (offline_access asks for prompt=consent).
    const request = await authorizationRequest(app, {
      scope: `${appEntityScope} offline_access`,
      prompt: 'consent',
    });
    const atChoice = await runFlow(agentBrowser, request.url, {
      username: agent.idNumber,
      password: agentPassword,
    });
    expect(atChoice.stoppedAt).toBe('entity');
    expect(offeredEntities(atChoice.page!.html)).toEqual([entity().creditCode]);
    expect(atChoice.page!.html).toContain('经办人');

    const { claims, tokens } = await signIn(
      app,
      agentBrowser,
      { entity: entity().creditCode },
      { scope: `${appEntityScope} offline_access`, prompt: 'consent' },
    );
    const personal = await signIn(
      app,
      browser(),
      { username: agent.idNumber, password: agentPassword },
      { scope: 'openid' },
    );
    expect(claims).toMatchObject({
      subject_type: 'legal_person',
      credit_code: entity().creditCode,
      act: { sub: personal.claims.sub },
    });
    expect(tokens.refresh_token).toMatch(/\S{20,}/);
    agentTokens = tokens;
    // The agent's scope covers the entity's licences; the agent holds none personally.
    expect(await licenceTypes(tokens.access_token)).toEqual(['business-licence']);

    // While appointed, the refresh token works (and rotates).
    const refreshed = await client.refreshTokenGrant(app.config, tokens.refresh_token!);
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    expect(refreshed.claims()).toMatchObject({ sub: claims.sub, act: { sub: personal.claims.sub } });
    agentTokens = refreshed;
  });

  it('once withdrawn, gets no new token by refresh, and no longer sees the entity', async () => {
    const withdrawn = await fetch(`${runtime.baseUrl}${agentsPath()}/${agentId}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${repToken}` },
    });
    expect(withdrawn.status).toBe(204);

    const refused = await refusal(client.refreshTokenGrant(app.config, agentTokens.refresh_token!));
    expect(refused).toMatchObject({ error: 'invalid_grant', status: 400 });
    // The access token still in hand no longer shows the entity's licences: the right is checked now.
    expect(await licenceTypes(agentTokens.access_token)).toEqual([]);

    // A new sign-in, at the platform, offers no entity to act for.
    const request = await authorizationRequest(platform, { scope: entityScope });
    const outcome = await runFlow(browser(), request.url, {
      username: agent.idNumber,
      password: agentPassword,
    });
    expect(outcome.stoppedAt).toBeUndefined();
    expect(outcome.steps).toEqual(['login']);
    expect(outcome.page?.status).toBe(200);
    expect(offeredEntities(outcome.page!.html)).toEqual([]);
    expect(outcome.page!.html).toContain('您目前不能代表任何企业办事');
  });

  it('once withdrawn, is asked to sign in again in the browser still acting for the entity', async () => {
    // Silently, at the app that signed it in: no.
    const silent = await authorizationRequest(app, { scope: appEntityScope, prompt: 'none' });
    const refused = await runFlow(agentBrowser, silent.url);
    expect(refused.callback?.searchParams.get('error')).toBe('login_required');
    expect(refused.callback?.searchParams.has('code')).toBe(false);

    // Otherwise the sign-in page, and after it no entity to act for.
    const request = await authorizationRequest(platform, { scope: entityScope });
    const outcome = await runFlow(agentBrowser, request.url, {
      username: agent.idNumber,
      password: agentPassword,
      entity: entity().creditCode,
    });
    expect(outcome.steps).toEqual(['login']);
    expect(outcome.callback).toBeUndefined();
    expect(outcome.page?.status).toBe(200);
    expect(offeredEntities(outcome.page!.html)).toEqual([]);
    expect(outcome.page!.html).toContain('您目前不能代表任何企业办事');
  });
});
