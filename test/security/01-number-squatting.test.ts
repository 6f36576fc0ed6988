/**
 * Finding 1 (issue 12): anyone who registered a person's ID number got that person's licences. The
 * registry check at registration (level 2) proves only that a number and a name belong together, and
 * both are easy to learn; reading licences needs the type's level, 3 by default.
 */
import { randomUUID } from 'node:crypto';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registryPeople } from '../../infra/local/demo-data.js';
import { proveAccountInPerson } from '../support/assurance.js';
import { clientCredentialsToken, startTestRuntime, type TestRuntime } from '../support/runtime.js';
import { postJson } from '../support/http-api.js';
import { drivingLicenceBody, newIdNumber } from '../support/licences.js';
import {
  adminToken,
  getWithToken,
  registerPlatform,
  signIn,
  type RelyingParty,
  citizenAnswers,
} from '../support/oidc-flows.js';
import { UserAgent } from '../support/user-agent.js';

let runtime: TestRuntime;
let platform: RelyingParty;
let issuerToken: string;

beforeAll(async () => {
  runtime = await startTestRuntime();
  platform = await registerPlatform(runtime, await adminToken(runtime), {
    name: 'Holder app',
    redirectUris: ['https://holder.example/cb'],
    scopes: ['openid', 'profile', 'licences', 'offline_access'],
    firstParty: true,
  });
  issuerToken = await clientCredentialsToken(runtime, runtime.credentials.issuer, 'licences:issue');
});
afterAll(() => runtime?.close());

async function issueDrivingLicence(idNumber: string): Promise<string> {
  const response = await postJson(runtime, '/licences', issuerToken, drivingLicenceBody(idNumber), {
    'idempotency-key': randomUUID(),
  });
  expect(response.status).toBe(201);
  return ((await response.json()) as { id: string }).id;
}

/** Signs `idNumber` in with `password` and scope `licences`: the access token. */
async function signInWith(idNumber: string, password: string): Promise<string> {
  const { tokens } = await signIn(
    platform,
    new UserAgent(runtime.baseUrl),
    { username: idNumber, password },
    { scope: 'openid licences' },
  );
  return tokens.access_token;
}

const passwords = new Map<string, string>();

/** Registers `idNumber` under `name` (as anyone may) and signs that account in with scope `licences`. */
async function squat(idNumber: string, name: string): Promise<string> {
  const password = `Squat-${randomUUID()}`;
  passwords.set(idNumber, password);
  const registered = await postJson(runtime, '/accounts', undefined, {
    consent: true,
    idNumber,
    name,
    password,
  });
  expect(registered.status).toBe(201);
  return signInWith(idNumber, password);
}

function present(token: string, licenceId: string): Promise<Response> {
  return postJson(runtime, `/me/licences/${encodeURIComponent(licenceId)}/presentations`, token, {});
}

describe('finding 1: registering someone’s ID number does not give their licences', () => {
  it('a real-name (level 2) squatter of a registry person’s number reads and shows nothing', async () => {
    // A person the population registry knows, who has no account yet: the squatter knows the number
    // and the name, which is all registration checks.
    const victim = registryPeople[3]!;
    const licenceId = await issueDrivingLicence(victim.idNumber);
    const token = await squat(victim.idNumber, victim.name);

    const listed = await getWithToken(runtime, '/me/licences', token);
    expect(listed.status).toBe(200);
    const body = (await listed.json()) as { items: unknown[]; assurance: { acr: string; stepUpTo?: string } };
    expect(body.items).toEqual([]);
    expect(body.assurance).toEqual({ acr: 'urn:elicence:loa:2', stepUpTo: 'urn:elicence:loa:3' });

    const shown = await present(token, licenceId);
    expect(shown.status).toBe(403);
    expect(await shown.json()).toMatchObject({ code: 'insufficient_assurance' });
  });

  it('a self-asserted (level 1) squatter of a number no registry knows reads and shows nothing', async () => {
    const number = newIdNumber('310104');
    const licenceId = await issueDrivingLicence(number);
    const token = await squat(number, '冒名者');

    const body = (await (await getWithToken(runtime, '/me/licences', token)).json()) as {
      items: unknown[];
      assurance: { acr: string };
    };
    expect(body.items).toEqual([]);
    expect(body.assurance.acr).toBe('urn:elicence:loa:1');
    expect((await present(token, licenceId)).status).toBe(403);
  });

  it('answers a low-level account the same whether or not the licence exists', async () => {
    const number = newIdNumber('310104');
    const licenceId = await issueDrivingLicence(number);
    const token = await squat(newIdNumber('310104'), '旁人');
    const existing = await present(token, licenceId);
    const invented = await present(token, licenceId.replace(/\.\d+\.001\./, '.999999.001.'));
    expect([existing.status, invented.status]).toEqual([403, 403]);
  });

  it('the same account, once proven in person (level 3), reads and shows the licence', async () => {
    const victim = registryPeople[4]!;
    const licenceId = await issueDrivingLicence(victim.idNumber);
    const token = await squat(victim.idNumber, victim.name);
    expect(
      ((await (await getWithToken(runtime, '/me/licences', token)).json()) as { items: [] }).items,
    ).toEqual([]);

    await proveAccountInPerson(runtime, victim.idNumber);
    // The token from the level-2 sign-in keeps its level: a reader acts at the lower of the account's
    // level and the sign-in's.
    expect((await present(token, licenceId)).status).toBe(403);

    const fresh = await signInWith(victim.idNumber, passwords.get(victim.idNumber)!);
    const body = (await (await getWithToken(runtime, '/me/licences', fresh)).json()) as {
      items: Array<{ id: string }>;
      assurance: { acr: string; stepUpTo?: string };
    };
    expect(body.items.map((licence) => licence.id)).toEqual([licenceId]);
    expect(body.assurance).toEqual({ acr: 'urn:elicence:loa:3' });
    expect((await present(fresh, licenceId)).status).toBe(201);
  });

  it('the demo citizen, seeded at level 3, keeps their licences', async () => {
    const { tokens } = await signIn(platform, new UserAgent(runtime.baseUrl), citizenAnswers(runtime), {
      scope: 'openid licences',
    });
    const body = (await (await getWithToken(runtime, '/me/licences', tokens.access_token)).json()) as {
      items: unknown[];
    };
    expect(body.items.length).toBeGreaterThan(0);
  });

  it('a refreshed access token keeps the sign-in’s level, so the holder keeps reading', async () => {
    const { tokens } = await signIn(platform, new UserAgent(runtime.baseUrl), citizenAnswers(runtime), {
      scope: 'openid licences offline_access',
      prompt: 'consent',
    });
    expect(tokens.refresh_token).toBeTruthy();
    const refreshed = await client.refreshTokenGrant(platform.config, tokens.refresh_token!);
    expect(refreshed.access_token).not.toBe(tokens.access_token);
    const body = (await (await getWithToken(runtime, '/me/licences', refreshed.access_token)).json()) as {
      items: unknown[];
      assurance: { acr: string };
    };
    expect(body.assurance.acr).toBe('urn:elicence:loa:3');
    expect(body.items.length).toBeGreaterThan(0);
  });
});
