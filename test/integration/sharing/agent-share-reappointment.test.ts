import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registryPeople } from '../../../infra/local/demo-data.js';
import { walletClientId } from '../../../shared/identifiers/client-ids.js';
import { accountIdOf, appointClerk, changeRepresentative, withdrawClerk } from '../../support/clerks.js';
import { postJson } from '../../support/http-api.js';
import {
  adminToken,
  authorizationRequest,
  callbackOf,
  exchange,
  getWithToken,
  refusal,
  writtenAccessToken,
} from '../../support/oidc-flows.js';
import { CarrierOfNumbers } from '../../support/in-memory-sms.js';
import {
  licenceAccess,
  registerSharingPlatform,
  sharingBrowser,
  startRuntimeWithCarrier,
  throughStepUps,
} from '../../support/sharing-flows.js';
import type { TestRuntime } from '../../support/runtime.js';

/**
 * Review R42 F1: a share of the enterprise's licences an agent consented to is bound to that appointment.
 * It ends with the appointment, and stays ended when the same person is appointed again, whether by the
 * same representative or by a new one the business registry names after a change.
 */
let runtime: TestRuntime;
const carrier = new CarrierOfNumbers();
beforeAll(async () => {
  runtime = await startRuntimeWithCarrier(carrier);
});
afterAll(() => runtime?.close());

type Person = (typeof registryPeople)[number];
const reappoint = (repToken: string, person: Person) =>
  postJson(runtime, `/me/entities/${runtime.credentials.entity.creditCode}/agents`, repToken, {
    idNumber: person.idNumber,
    name: person.name,
    scope: ['licences', 'sign-in'],
    expiresAt: new Date(Date.now() + 30 * 86_400_000).toISOString(),
  });
const read = async (token: string) => {
  const r = await getWithToken(runtime, '/shared/licences', token);
  return {
    status: r.status,
    n: r.status === 200 ? ((await r.json()) as { items: unknown[] }).items.length : -1,
  };
};

/** The agent shares the enterprise's business licence with a platform: its tokens. */
async function agentShares(agent: { idNumber: string; password: string }, person: Person) {
  const { entity } = runtime.credentials;
  const platform = await registerSharingPlatform(
    runtime,
    await adminToken(runtime),
    '企业年报测试平台',
    'https://annual-report.example',
    ['openid', 'entity', 'offline_access'],
  );
  const ua = sharingBrowser(runtime);
  const details = [
    licenceAccess(['business-licence'], '企业年报公示', {
      expires_at: new Date(Date.now() + 80 * 86_400_000).toISOString(),
    }),
  ];
  const request = await authorizationRequest(platform, {
    scope: 'openid entity',
    authorization_details: JSON.stringify(details),
  });
  const answers = { entity: entity.creditCode, consent: false };
  const outcome = await throughStepUps(runtime, ua, request.url, {
    answers: { username: agent.idNumber, password: agent.password, ...answers },
    phone: person.phone,
    again: answers,
  });
  expect(outcome.stoppedAt).toBe('consent');
  const { callback } = await callbackOf(ua, outcome.page!.url, {});
  return { platform, tokens: await exchange(platform, request, callback) };
}

describe('an agent’s share of the enterprise’s licences (review R42)', () => {
  it('stays ended when the representative appoints the same person again', async () => {
    const { citizen, entity } = runtime.credentials;
    const repId = await accountIdOf(citizen.idNumber, citizen.password);
    const repToken = await writtenAccessToken({
      accountId: repId,
      clientId: walletClientId,
      scope: 'openid entity licences',
    });
    const person = registryPeople[9]!;
    const agent = await appointClerk(runtime, repToken, entity.creditCode, person, ['licences', 'sign-in']);
    const { tokens } = await agentShares(agent, person);
    expect((await read(tokens.access_token)).n).toBeGreaterThan(0);

    // The withdrawal withdraws the share the agent made under the appointment: the token is refused.
    await withdrawClerk(runtime, repToken, agent);
    expect(await read(tokens.access_token)).toEqual({ status: 401, n: -1 });

    expect((await reappoint(repToken, person)).status).toBe(201);
    // And stays refused: appointing the same person again brings back nothing they consented to before.
    expect(await read(tokens.access_token)).toEqual({ status: 401, n: -1 });
  });

  it('stays ended when a new representative (after a registry change) appoints the same person', async () => {
    const { citizen, entity } = runtime.credentials;
    const oldRep = await writtenAccessToken({
      accountId: await accountIdOf(citizen.idNumber, citizen.password),
      clientId: walletClientId,
      scope: 'openid entity licences',
    });
    const person = registryPeople[11]!;
    const agent = await appointClerk(runtime, oldRep, entity.creditCode, person, ['licences', 'sign-in']);
    const { platform, tokens } = await agentShares(agent, person);
    expect((await read(tokens.access_token)).n).toBeGreaterThan(0);

    // The business registry now names another person representative.
    const newRepId = await changeRepresentative(
      runtime,
      entity.creditCode,
      registryPeople[10]!,
      'NewRep-2026!',
    );
    expect(await read(tokens.access_token)).toEqual({ status: 200, n: 0 });

    const newRep = await writtenAccessToken({
      accountId: newRepId,
      clientId: walletClientId,
      scope: 'openid entity licences',
    });
    expect((await reappoint(newRep, person)).status).toBe(201);
    // Made under the former representative's appointment: neither the token nor its refresh revives it.
    expect(await read(tokens.access_token)).toEqual({ status: 200, n: 0 });
    await expect(
      refusal(client.refreshTokenGrant(platform.config, tokens.refresh_token!)),
    ).resolves.toMatchObject({
      error: 'invalid_grant',
    });
  });
});
