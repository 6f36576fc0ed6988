import { validUntilOf } from '../../../shared/validity-dates.js';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registryPeople } from '../../../infra/local/demo-data.js';
import { dependencies } from '../../../functions/composition/dependencies.js';
import { walletClientId } from '../../../shared/identifiers/client-ids.js';
import { expectProblem, newCreditCode, postJson } from '../../support/http-api.js';
import { adminToken, registerPlatform, writtenAccessToken } from '../../support/oidc-flows.js';
import { clientCredentialsToken, startTestRuntime, type TestRuntime } from '../../support/runtime.js';

let runtime: TestRuntime;
let citizenToken: string;

/**
 * An access token of a signed-in person, written through the provider's adapter as the provider would
 * write it after an authorization-code flow with scope `entity`: the wallet's (first-party) unless
 * `clientId` names another client.
 */
function personToken(
  accountId: string | undefined,
  scope = 'openid entity',
  acr = 'urn:elicence:loa:3',
  clientId = walletClientId,
): Promise<string> {
  return writtenAccessToken({ ...(accountId ? { accountId } : {}), clientId, scope, acr });
}

/** A person's account id, from a sign-in with their password (the login page's path). */
async function signedInAccountId(idNumber: string, password: string): Promise<string> {
  const login = await dependencies().directory.checkPassword({ idNumber, password, source: '192.0.2.80' });
  if (!login.ok) throw new Error(`sign-in failed: ${login.reason}`);
  return login.person.id;
}

/** The demo citizen's account id. */
const citizenId = () =>
  signedInAccountId(runtime.credentials.citizen.idNumber, runtime.credentials.citizen.password);

/** Registers one of the seeded registry people and returns a token of theirs. */
async function registeredPerson(
  index: number,
): Promise<{ idNumber: string; name: string; token: string; id: string }> {
  const person = registryPeople[index]!;
  const password = `Pass-${index}-2026`;
  const response = await postJson(runtime, '/accounts', undefined, { consent: true, ...person, password });
  expect(response.status, await response.clone().text()).toBe(201);
  const id = await signedInAccountId(person.idNumber, password);
  return { idNumber: person.idNumber, name: person.name, id, token: await personToken(id) };
}

const get = (path: string, token?: string) =>
  fetch(`${runtime.baseUrl}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
const del = (path: string, token: string) =>
  fetch(`${runtime.baseUrl}${path}`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });

async function myEntities(token: string) {
  const response = await get('/me/entities', token);
  expect(response.status).toBe(200);
  return ((await response.json()) as { items: Array<Record<string, unknown>> }).items;
}

beforeAll(async () => {
  runtime = await startTestRuntime();
  citizenToken = await personToken(await citizenId());
});
afterAll(() => runtime?.close());

describe('entities a person acts for, and their agents', () => {
  const entity = () => runtime.credentials.entity;
  const agentsPath = () => `/me/entities/${entity().creditCode}/agents`;

  it('lists the demo entity for the demo citizen, its legal representative per the entity registry', async () => {
    expect(await myEntities(citizenToken)).toEqual([
      {
        creditCode: entity().creditCode,
        name: entity().name,
        role: 'legal_representative',
        scope: ['licences', 'sign-in'],
      },
    ]);
  });

  it('lets the representative appoint an agent, who then acts for the entity within scope and expiry', async () => {
    const agent = await registeredPerson(5);
    expect(await myEntities(agent.token)).toEqual([]);
    const sent = new Date(Date.now() + 30 * 86_400_000).toISOString();
    // Through the whole of that day in Beijing time, as a licence's `validUntil` (review R60).
    const expiresAt = validUntilOf(sent);
    expect(expiresAt).toMatch(/T16:00:00\.000Z$/);

    const response = await postJson(runtime, agentsPath(), citizenToken, {
      idNumber: agent.idNumber,
      name: agent.name,
      scope: ['licences'],
      expiresAt: sent,
    });
    const text = await response.text();
    expect(response.status, text).toBe(201);
    expect(text).not.toContain(agent.idNumber);
    const appointed = JSON.parse(text) as { agentId: string };
    expect(appointed).toEqual({
      agentId: expect.stringMatching(/^agt_/),
      masked: `${agent.idNumber.slice(0, 6)}********${agent.idNumber.slice(14)}`,
      scope: ['licences'],
      expiresAt,
    });
    expect(response.headers.get('location')).toBe(`${agentsPath()}/${appointed.agentId}`);

    expect(await myEntities(agent.token)).toEqual([
      { creditCode: entity().creditCode, name: entity().name, role: 'agent', scope: ['licences'], expiresAt },
    ]);
    expect(await dependencies().directory.canActFor(agent.id, entity().creditCode)).toEqual({
      role: 'agent',
      scope: ['licences'],
      expiresAt,
      agentId: appointed.agentId,
    });

    // One appointment in force per person.
    await expectProblem(
      await postJson(runtime, agentsPath(), citizenToken, {
        idNumber: agent.idNumber,
        name: agent.name,
        scope: ['licences'],
        expiresAt,
      }),
      409,
      'agent_exists',
    );

    // The agent may not manage agents.
    const other = registryPeople[6]!;
    await expectProblem(
      await postJson(runtime, agentsPath(), agent.token, {
        idNumber: other.idNumber,
        name: other.name,
        scope: ['licences'],
        expiresAt,
      }),
      403,
      'not_legal_representative',
    );
    await expectProblem(
      await del(`${agentsPath()}/${appointed.agentId}`, agent.token),
      403,
      'not_legal_representative',
    );
    await expectProblem(await get(agentsPath(), agent.token), 403, 'not_legal_representative');

    // The representative sees the agent, then withdraws it: no more acting for the entity.
    const listed = await get(agentsPath(), citizenToken);
    expect(((await listed.json()) as { items: unknown[] }).items).toEqual([
      expect.objectContaining({ agentId: appointed.agentId, status: 'active' }),
    ]);
    const withdrawn = await del(`${agentsPath()}/${appointed.agentId}`, citizenToken);
    expect(withdrawn.status).toBe(204);
    expect(await myEntities(agent.token)).toEqual([]);
    expect(await dependencies().directory.canActFor(agent.id, entity().creditCode)).toBeUndefined();
    expect((await del(`${agentsPath()}/${appointed.agentId}`, citizenToken)).status).toBe(204);
    await expectProblem(await del(`${agentsPath()}/agt_unknown`, citizenToken), 404, 'agent_not_found');
  });

  it('refuses to let the representative manage agents from a sign-in below level 3', async () => {
    // The account is level 3, but this sign-in reached level 2 only.
    const token = await personToken(await citizenId(), 'openid entity', 'urn:elicence:loa:2');
    await expectProblem(
      await postJson(runtime, `/me/entities/${runtime.credentials.entity.creditCode}/agents`, token, {
        idNumber: registryPeople[9]!.idNumber,
        name: registryPeople[9]!.name,
        scope: ['licences'],
        expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
      }),
      403,
      'insufficient_assurance',
    );
  });

  it('refuses a bad appointment with the failing fields', async () => {
    const problem = await expectProblem(
      await postJson(runtime, agentsPath(), citizenToken, {
        idNumber: registryPeople[7]!.idNumber,
        name: registryPeople[7]!.name,
        scope: ['admin'],
        expiresAt: 'tomorrow',
      }),
      400,
      'invalid_request',
    );
    expect(problem.errors?.map((e) => e.path)).toEqual(['scope.0', 'expiresAt']);
    // The name is required: the API checks it against the population registry (review R28 L5).
    const nameless = await expectProblem(
      await postJson(runtime, agentsPath(), citizenToken, {
        idNumber: registryPeople[7]!.idNumber,
        scope: ['licences'],
        expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
      }),
      400,
      'invalid_request',
    );
    expect(nameless.errors?.map((e) => e.path)).toEqual(['name']);
    // The agent's number typed as the name too: refused at the field, the number not echoed (review R72-1).
    const numbered = await postJson(runtime, agentsPath(), citizenToken, {
      idNumber: registryPeople[7]!.idNumber,
      name: registryPeople[7]!.idNumber,
      scope: ['licences'],
      expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
    });
    const numberedText = await numbered.clone().text();
    expect(numberedText).not.toContain(registryPeople[7]!.idNumber);
    const refusedName = await expectProblem(numbered, 400, 'invalid_request');
    expect(refusedName.errors).toEqual([
      {
        path: 'name',
        message: expect.any(String),
        code: 'personal_data_in_text',
        params: { kind: 'id_number' },
      },
    ]);
    await expectProblem(
      await postJson(runtime, '/me/entities/91110105MA01DEM070/agents', citizenToken, {
        idNumber: registryPeople[7]!.idNumber,
        name: registryPeople[7]!.name,
        scope: ['licences'],
        expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
      }),
      400,
      'invalid_credit_code',
    );
  });

  it('does not count a business licence naming the person: only the entity registry says who represents it', async () => {
    const person = await registeredPerson(8);
    const issuerToken = await clientCredentialsToken(runtime, runtime.credentials.issuer, 'licences:issue');
    const creditCode = newCreditCode('91', '110105');
    const issued = await postJson(
      runtime,
      '/licences',
      issuerToken,
      {
        type: 'business-licence',
        holder: { creditCode },
        holderName: '北京测试贸易有限公司',
        fields: {
          entityType: '有限责任公司',
          legalRepresentativeName: registryPeople[8]!.name,
          legalRepresentativeIdNumber: person.idNumber,
          establishedOn: '2020-01-02',
          businessScope: '销售日用品。',
          address: '北京市朝阳区测试路2号',
        },
      },
      { 'idempotency-key': randomUUID() },
    );
    expect(issued.status, await issued.clone().text()).toBe(201);
    const licence = (await issued.json()) as { id: string };

    // The licence names the person, but the entity registry does not: no right to act (issue 12,
    // finding 2: otherwise any issuer allowed business licences could appoint representatives).
    expect(licence.id).toMatch(/^1\.2\.156\.3005\.2\.001\./);
    expect(await myEntities(person.token)).toEqual([]);
    await expectProblem(
      await postJson(runtime, '/me/entities', person.token, { creditCode }),
      403,
      'not_authorised_for_entity',
    );
  });

  it('needs a person’s access token with scope entity', async () => {
    await expectProblem(await get('/me/entities'), 401, 'invalid_request');
    await expectProblem(await get('/me/entities', 'x'.repeat(43)), 401, 'invalid_token');
    await expectProblem(
      await get('/me/entities', await personToken(await citizenId(), 'openid')),
      403,
      'insufficient_scope',
    );
    await expectProblem(await get('/me/entities', await personToken(undefined)), 403, 'person_required');
  });

  it('accepts the acting person of an entity session', async () => {
    const deps = dependencies();
    const entityAccount = await deps.directory.entityAccount(entity().creditCode);
    const token = await personToken(`${entityAccount!.id}~${await citizenId()}`);
    expect((await myEntities(token)).map((e) => e.creditCode)).toEqual([entity().creditCode]);
  });

  // Security review (H1): a platform that signed the representative in with `entity` (consent: "the
  // enterprise's credit code, and that you act for it") listed their enterprises and appointed an agent,
  // who then signed in at platforms as the enterprise. Only a first-party app manages these.
  it('refuses every route to a platform that is not first-party, and serves a first-party one', async () => {
    const platformToken = await personToken(
      await citizenId(),
      'openid entity licences',
      'urn:elicence:loa:3',
      runtime.credentials.platform.clientId,
    );
    const appointment = {
      idNumber: registryPeople[9]!.idNumber,
      name: registryPeople[9]!.name,
      scope: ['licences'],
      expiresAt: new Date(Date.now() + 5 * 86_400_000).toISOString(),
    };
    const before = await get(agentsPath(), citizenToken);
    expect(before.status).toBe(200);
    const agentsBefore = ((await before.json()) as { items: unknown[] }).items;

    await expectProblem(await get('/me/entities', platformToken), 403, 'first_party_only');
    await expectProblem(
      await postJson(runtime, '/me/entities', platformToken, { creditCode: entity().creditCode }),
      403,
      'first_party_only',
    );
    await expectProblem(await get(agentsPath(), platformToken), 403, 'first_party_only');
    await expectProblem(
      await postJson(runtime, agentsPath(), platformToken, appointment),
      403,
      'first_party_only',
    );
    // Nobody was appointed.
    const after = await get(agentsPath(), citizenToken);
    expect(((await after.json()) as { items: unknown[] }).items).toEqual(agentsBefore);

    // A withdrawal is refused too: an agent appointed in the wallet stays.
    const appointed = await postJson(runtime, agentsPath(), citizenToken, appointment);
    expect(appointed.status, await appointed.clone().text()).toBe(201);
    const { agentId } = (await appointed.json()) as { agentId: string };
    await expectProblem(await del(`${agentsPath()}/${agentId}`, platformToken), 403, 'first_party_only');
    const listed = await get(agentsPath(), citizenToken);
    expect(((await listed.json()) as { items: unknown[] }).items).toContainEqual(
      expect.objectContaining({ agentId, status: 'active' }),
    );

    // A client registered as first-party is served like the wallet.
    const firstParty = await registerPlatform(runtime, await adminToken(runtime), {
      name: '自有平台 First-party platform',
      redirectUris: ['https://first-party.example/cb'],
      scopes: ['openid', 'profile', 'licences', 'entity'],
      firstParty: true,
    });
    const firstPartyToken = await personToken(
      await citizenId(),
      'openid entity',
      'urn:elicence:loa:3',
      firstParty.clientId,
    );
    expect((await myEntities(firstPartyToken)).map((e) => e.creditCode)).toEqual([entity().creditCode]);
    expect((await del(`${agentsPath()}/${agentId}`, firstPartyToken)).status).toBe(204);
  });
});
