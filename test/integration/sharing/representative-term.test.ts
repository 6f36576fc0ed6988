import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dependencies } from '../../../functions/composition/dependencies.js';
import { registryPeople } from '../../../infra/local/demo-data.js';
import { parseIdNumber } from '../../../shared/identifiers/id-number.js';
import { personLookupKey } from '../../../shared/identifiers/lookup-key.js';
import { walletClientId } from '../../../shared/identifiers/client-ids.js';
import { recordRegisteredEntity } from '../../../shared/identity/representative-change.js';
import type { RegisteredEntity } from '../../../shared/identity/registry.js';
import { withdrawalEvents } from '../../../shared/sharing/withdrawal-notices.js';
import { translator } from '../../../shared/web/kit/i18n.js';
import { agentsBody } from '../../../shared/web/pages/wallet-agents-page.js';
import type { WalletAgent } from '../../../shared/web/wallet/agents-api.js';
import { accountIdOf, appointClerk } from '../../support/clerks.js';
import { startFakeHttpServer, type FakeHttpServer } from '../../support/fake-http-server.js';
import { postJson } from '../../support/http-api.js';
import {
  adminToken,
  authorizationRequest,
  callbackOf,
  exchange,
  getWithToken,
  refusal,
  verifyNotice,
  writtenAccessToken,
  type RelyingParty,
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
 * Review R42, left over: what a legal representative consented to as the enterprise is bound to their
 * term as representative (the registry's `representativeTerm`). After a change of representative, the
 * same person named again is in a new term: the platform's old tokens read nothing, and only a new
 * sign-in, with its consent, gives the platform the enterprise's licences again. Recording the change
 * (`recordRegisteredEntity`) also withdraws the former representative's grants, each platform told.
 * The agents they appointed are bound to that term too: named again, their appointments stand no more.
 */
let runtime: TestRuntime;
let receiver: FakeHttpServer;
let platform: RelyingParty;
const carrier = new CarrierOfNumbers();
beforeAll(async () => {
  runtime = await startRuntimeWithCarrier(carrier);
  receiver = await startFakeHttpServer();
  receiver.answer((_, res) => {
    res.writeHead(202).end();
  });
  platform = await registerSharingPlatform(
    runtime,
    await adminToken(runtime),
    '企业年报测试平台',
    'https://annual-report.example',
    ['openid', 'entity', 'offline_access'],
    receiver.url('/events'),
  );
});
afterAll(async () => {
  await runtime?.close();
  await receiver?.close();
});

const read = async (token: string) => {
  const r = await getWithToken(runtime, '/shared/licences', token);
  return r.status === 200 ? ((await r.json()) as { items: unknown[] }).items.length : 0;
};

/**
 * The representative (the demo citizen), or `who` (an agent of the enterprise), shares the enterprise's
 * business licence with the platform.
 */
async function representativeShares(who?: { idNumber: string; password: string; phone: string }) {
  const { entity } = runtime.credentials;
  const citizen = who ?? runtime.credentials.citizen;
  const ua = sharingBrowser(runtime);
  const details = [
    licenceAccess(['business-licence'], '企业年报公示', {
      expires_at: new Date(Date.now() + 80 * 86_400_000).toISOString(),
    }),
  ];
  const request = await authorizationRequest(platform, {
    scope: 'openid entity offline_access',
    prompt: 'consent',
    authorization_details: JSON.stringify(details),
  });
  const answers = { entity: entity.creditCode, consent: false };
  const outcome = await throughStepUps(runtime, ua, request.url, {
    answers: { username: citizen.idNumber, password: citizen.password, ...answers },
    phone: citizen.phone,
    again: answers,
  });
  expect(outcome.stoppedAt).toBe('consent');
  const { callback } = await callbackOf(ua, outcome.page!.url, {});
  const tokens = await exchange(platform, request, callback);
  expect(tokens.refresh_token).toBeTruthy();
  expect(await read(tokens.access_token)).toBeGreaterThan(0);
  return tokens;
}

/** The registry's record of the demo enterprise naming another person representative. */
async function namingAnother(former: RegisteredEntity): Promise<RegisteredEntity> {
  const deps = dependencies();
  const other = registryPeople[10]!;
  return {
    ...former,
    representativeLookupKey: await personLookupKey(deps.lookupMac, parseIdNumber(other.idNumber, new Date())),
    representativeMasked: `${other.idNumber.slice(0, 6)}********${other.idNumber.slice(-4)}`,
  };
}

async function stayDead(tokens: { access_token: string; refresh_token?: string }) {
  expect(await read(tokens.access_token)).toBe(0);
  await expect(
    refusal(client.refreshTokenGrant(platform.config, tokens.refresh_token!)),
  ).resolves.toMatchObject({ error: 'invalid_grant' });
}

describe('a legal representative named again after a change of representative (review R42)', () => {
  it('does not revive what they consented to in their former term, even if the platforms were never told', async () => {
    // The change written and nothing more (a crash right after it): the term alone ends the grants.
    const deps = dependencies();
    const tokens = await representativeShares();
    const former = (await deps.registry.findEntity(runtime.credentials.entity.creditCode))!;
    await deps.registry.putEntity(await namingAnother(former));
    expect(await read(tokens.access_token)).toBe(0);
    await deps.registry.putEntity(former);

    // The old term's tokens stay dead: no licence read, no refresh, without a new consent.
    await stayDead(tokens);
    // Signing in again, with its consent, gives the platform the licences again.
    await representativeShares();
  });

  it('withdraws the former representative’s grants when the change is recorded, each platform told', async () => {
    const deps = dependencies();
    const tokens = await representativeShares();
    const sub = tokens.claims()!.sub;
    const former = (await deps.registry.findEntity(runtime.credentials.entity.creditCode))!;
    await recordRegisteredEntity(await namingAnother(former), deps);

    for (let i = 0; i < 10; i++) await runtime.deliverNotices();
    const told = await Promise.all(
      receiver.received.map((request) =>
        verifyNotice(runtime.baseUrl, request.body, { audience: platform.clientId }),
      ),
    );
    const events = told
      .map(({ payload }) => payload)
      .filter((payload) => payload.sub === sub)
      .map((payload) => Object.keys(payload.events as object)[0]);
    expect(events).toContain(withdrawalEvents['share-withdrawn']);

    await recordRegisteredEntity(former, deps);
    await stayDead(tokens);
  });

  it('does not revive the grants of an agent they appointed in their former term, and shows it superseded', async () => {
    const deps = dependencies();
    const { citizen, entity } = runtime.credentials;
    const repToken = () =>
      writtenAccessToken({
        accountId: representativeId,
        clientId: walletClientId,
        scope: 'openid entity licences',
      });
    const representativeId = await accountIdOf(citizen.idNumber, citizen.password);
    const person = registryPeople[9]!;
    carrier.add(person);
    const agent = await appointClerk(runtime, await repToken(), entity.creditCode, person, [
      'licences',
      'sign-in',
    ]);
    const tokens = await representativeShares({ ...agent, phone: person.phone });
    const sub = tokens.claims()!.sub;

    // Another representative, then the same one again: the change written and nothing more.
    const former = (await deps.registry.findEntity(entity.creditCode))!;
    await deps.registry.putEntity(await namingAnother(former));
    await deps.registry.putEntity(former);

    // The agent's old tokens stay dead, their appointment of the former term shown superseded.
    await stayDead(tokens);
    await expect(
      refusal(client.fetchUserInfo(platform.config, tokens.access_token, sub)),
    ).resolves.toMatchObject({ status: 401 });
    const agents = async () => {
      const listed = await getWithToken(
        runtime,
        `/me/entities/${entity.creditCode}/agents`,
        await repToken(),
      );
      expect(listed.status).toBe(200);
      return ((await listed.json()) as { items: WalletAgent[] }).items;
    };
    const listed = await agents();
    expect(listed).toContainEqual(expect.objectContaining({ agentId: agent.agentId, status: 'superseded' }));
    // As the wallet's agents page shows that list: superseded, though its appointer is representative again.
    const page = agentsBody(translator('zh'), {
      entity: { name: entity.name, creditCode: entity.creditCode },
      agents: listed,
      defaultExpiry: '2027-12-06',
      latestExpiry: '2029-12-05',
    }).toString();
    expect(page).toMatch(
      new RegExp(`data-status="superseded"[^>]*>(?:(?!</article>)[\\s\\S])*${agent.idNumber.slice(-4)}`),
    );

    // Appointed again in this term (no `agent_exists`), the agent signs in and consents again.
    const again = await postJson(runtime, `/me/entities/${entity.creditCode}/agents`, await repToken(), {
      idNumber: person.idNumber,
      name: person.name,
      scope: ['licences', 'sign-in'],
      expiresAt: new Date(Date.now() + 30 * 86_400_000).toISOString(),
    });
    expect(again.status, await again.clone().text()).toBe(201);
    const { agentId } = (await again.json()) as { agentId: string };
    expect(await agents()).toContainEqual(expect.objectContaining({ agentId, status: 'active' }));
    await stayDead(tokens);
    await representativeShares({ ...agent, phone: person.phone });
  });

  it('withdraws the grants of the agents the former representative appointed when the change is recorded', async () => {
    const deps = dependencies();
    const { citizen, entity } = runtime.credentials;
    const repToken = await writtenAccessToken({
      accountId: await accountIdOf(citizen.idNumber, citizen.password),
      clientId: walletClientId,
      scope: 'openid entity licences',
    });
    const person = registryPeople[11]!;
    carrier.add(person);
    const agent = await appointClerk(runtime, repToken, entity.creditCode, person, ['licences', 'sign-in']);
    await representativeShares({ ...agent, phone: person.phone });
    const agentWallet = await writtenAccessToken({
      accountId: agent.accountId,
      clientId: walletClientId,
      scope: 'openid entity licences',
    });
    const platformAuthorizations = async () => {
      const listed = await getWithToken(runtime, '/me/authorizations', agentWallet);
      expect(listed.status).toBe(200);
      const { items } = (await listed.json()) as { items: Array<{ client: { id: string } }> };
      return items.filter((item) => item.client.id === platform.clientId).length;
    };
    expect(await platformAuthorizations()).toBe(1);

    const former = (await deps.registry.findEntity(entity.creditCode))!;
    await recordRegisteredEntity(await namingAnother(former), deps);
    expect(await platformAuthorizations()).toBe(0);
    await recordRegisteredEntity(former, deps);
  });
});
