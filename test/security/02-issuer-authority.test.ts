/**
 * Finding 2 (issue 12): any issuer allowed business licences could make anyone the legal representative
 * of any enterprise, because a business licence naming a person made them its representative. Who
 * represents an enterprise now comes from the business registry alone, and a regional licence type goes
 * only to holders in the issuer's jurisdiction.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registryPeople } from '../../infra/local/demo-data.js';
import { proveAccountInPerson } from '../support/assurance.js';
import { issuerBody, newCreditCode, onboardIssuer, postJson } from '../support/http-api.js';
import { businessLicenceBody, drivingLicenceBody, newIdNumber } from '../support/licences.js';
import {
  adminToken,
  authorizationRequest,
  citizenAnswers,
  demoPlatform,
  offeredEntities,
  runFlow,
  type RelyingParty,
} from '../support/oidc-flows.js';
import { clientCredentialsToken, startTestRuntime, type TestRuntime } from '../support/runtime.js';
import { UserAgent } from '../support/user-agent.js';

let runtime: TestRuntime;
let platform: RelyingParty;
let admin: string;

beforeAll(async () => {
  runtime = await startTestRuntime();
  platform = await demoPlatform(runtime);
  admin = await adminToken(runtime);
});
afterAll(() => runtime?.close());

/** Onboards an issuer and returns its `licences:issue` token. */
async function onboard(
  overrides: Record<string, unknown>,
): Promise<{ token: string; body: Record<string, unknown> }> {
  const body = await onboardIssuer(runtime, admin, overrides);
  return { token: await clientCredentialsToken(runtime, body, 'licences:issue'), body };
}

function issue(token: string, body: Record<string, unknown>): Promise<Response> {
  return postJson(runtime, '/licences', token, body, { 'idempotency-key': randomUUID() });
}

describe('finding 2: an issuer cannot make anyone the representative of an enterprise', () => {
  it('a business licence naming an attacker as legal representative gives them no right to act', async () => {
    // The attacker: a real, level-3 account, so nothing but the representative check can stop them.
    const attacker = registryPeople[5]!;
    const password = `Attacker-${randomUUID()}`;
    expect(
      (await postJson(runtime, '/accounts', undefined, { consent: true, ...attacker, password })).status,
    ).toBe(201);
    await proveAccountInPerson(runtime, attacker.idNumber);

    // An issuer whose jurisdiction covers the enterprise signs a business licence naming the attacker.
    const issuerToken = await clientCredentialsToken(runtime, runtime.credentials.issuer, 'licences:issue');
    const { entity } = runtime.credentials;
    const forged = await issue(issuerToken, businessLicenceBody(entity.creditCode, attacker.idNumber));
    expect(forged.status, await forged.clone().text()).toBe(201);

    // At sign-in the attacker is offered no enterprise, and choosing the demo entity anyway (a forged
    // form) gets no token for it.
    const attackerBrowser = new UserAgent(runtime.baseUrl, [`${runtime.baseUrl}/demo/callback`]);
    const request = await authorizationRequest(platform, { scope: 'openid profile entity' });
    const offered = await runFlow(attackerBrowser, request.url, { username: attacker.idNumber, password });
    expect(offered.page!.html).toContain('您目前不能代表任何企业办事');
    expect(offeredEntities(offered.page!.html)).toEqual([]);
    const entityStep = new URL(`${offered.page!.url.pathname}/entity`, runtime.baseUrl);
    const forced = await attackerBrowser.navigate(entityStep, { form: { entity: entity.creditCode } });
    expect(forced.leftTo).toBeUndefined();
    expect(forced.page?.status).toBeGreaterThanOrEqual(400);

    // The registry's representative (the demo citizen) is still offered it.
    const citizenFlow = await runFlow(
      new UserAgent(runtime.baseUrl, [`${runtime.baseUrl}/demo/callback`]),
      (await authorizationRequest(platform, { scope: 'openid profile entity' })).url,
      citizenAnswers(runtime),
    );
    expect(offeredEntities(citizenFlow.page!.html)).toEqual([entity.creditCode]);
  });

  it('a business licence for an enterprise outside the issuer’s jurisdiction is refused (403 outside_jurisdiction)', async () => {
    const shanghai = await onboard({
      region: '310000',
      licenceTypes: ['business-licence', 'driving-licence'],
    });
    expect(shanghai.body).toMatchObject({ region: '310000', jurisdiction: ['310000'] });
    const beijingEntity = newCreditCode('91', '110105');
    const refused = await issue(shanghai.token, businessLicenceBody(beijingEntity, newIdNumber()));
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ code: 'outside_jurisdiction' });

    // Inside it (any division of the province), and a national type anywhere.
    expect(
      (await issue(shanghai.token, businessLicenceBody(newCreditCode('91', '310104'), newIdNumber()))).status,
    ).toBe(201);
    expect((await issue(shanghai.token, drivingLicenceBody(newIdNumber('440305')))).status).toBe(201);
  });

  it('an issuer’s jurisdiction may name several divisions, each covering only what it contains', async () => {
    const issuer = await onboard({
      region: '310000',
      jurisdiction: ['310000', '320100'],
      licenceTypes: ['business-licence'],
    });
    expect(issuer.body).toMatchObject({ jurisdiction: ['310000', '320100'] });
    const inNanjing = await issue(
      issuer.token,
      businessLicenceBody(newCreditCode('91', '320102'), newIdNumber()),
    );
    expect(inNanjing.status).toBe(201);
    const inSuzhou = await issue(
      issuer.token,
      businessLicenceBody(newCreditCode('91', '320505'), newIdNumber()),
    );
    expect(inSuzhou.status).toBe(403);
  });

  it('a malformed jurisdiction is a 400 naming it', async () => {
    const response = await postJson(
      runtime,
      '/admin/issuers',
      admin,
      issuerBody({ jurisdiction: ['31000'] }),
    );
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ errors: [{ path: 'jurisdiction.0' }] });
  });

  it('the catalogue says which types are regional', async () => {
    const types = (await (await fetch(`${runtime.baseUrl}/licence-types`)).json()) as Array<{
      code: string;
      regional: boolean;
    }>;
    expect(types.find((type) => type.code === 'business-licence')?.regional).toBe(true);
    expect(types.find((type) => type.code === 'driving-licence')?.regional).toBe(false);
  });
});
