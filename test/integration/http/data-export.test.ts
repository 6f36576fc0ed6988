import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDependencies, dependencies } from '../../../functions/composition/dependencies.js';
import { formatAccountId } from '../../../shared/identifiers/account-id.js';
import { parseIdNumber } from '../../../shared/identifiers/id-number.js';
import { personLookupKey } from '../../../shared/identifiers/lookup-key.js';
import { proveAccountInPerson } from '../../support/assurance.js';
import { auditEntriesOf } from '../../support/audit-entries.js';
import { postJson } from '../../support/http-api.js';
import { CarrierOfNumbers } from '../../support/in-memory-sms.js';
import { drivingLicenceBody, issued } from '../../support/licences.js';
import { getWithToken, storedAccessToken, type RelyingParty } from '../../support/oidc-flows.js';
import type { TestRuntime } from '../../support/runtime.js';
import {
  approveConsent,
  newPerson,
  sharingBrowser,
  startSharingRuntime,
  toConsent,
  type TestPerson,
} from '../../support/sharing-flows.js';

/*
 * `GET /me/export` (导出我的数据, PIPL Art. 45; GB/T 35273 §8) over real HTTP: two people, each with a
 * licence, a platform's sign-in, a share, verifications, an appointment as an enterprise's agent and a
 * passkey; one exports, with a fresh sign-in from the wallet. The file holds their own data and nothing of
 * the other's, no raw ID number or phone outside the signed credentials, validates against the committed
 * JSON Schema, and is recorded in their usage record as `exported`.
 */

let runtime: TestRuntime;
let drivingIssuer: string;
let platform: RelyingParty;
const carrier = new CarrierOfNumbers();
const platformName = '导出测试平台';
const schema = JSON.parse(
  readFileSync(new URL('../../../docs/schemas/data-export-1.schema.json', import.meta.url), 'utf8'),
) as Record<string, unknown>;

interface Seeded {
  person: TestPerson;
  accountId: string;
  licence: { id: string; credential: string };
  agentId: string;
}

interface ExportDocument {
  format: string;
  account: { masked: string; name: string; acr: string; phone?: { masked: string } };
  licences: { items: Array<{ id: string; credential: string; holder: { name: string } }> };
  authorizations: { items: Array<{ kind: string; client: { id: string; name: string }; scopes: string[] }> };
  entities: {
    authorities: Array<{ creditCode: string; role: string }>;
    appointments: Array<{ agentId: string; creditCode: string; status: string }>;
  };
  passkeys: { items: Array<Record<string, unknown>> };
  usage: { items: Array<{ action: string; licenceId?: string; purpose?: string; client?: { id: string } }> };
  truncated: unknown[];
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

/** The wallet's token of a sign-in as the provider writes one: `acr` and `auth_time` as a test chooses. */
const walletToken = (accountId: string, acr: string, authTime: number) =>
  storedAccessToken(accountId, { extra: { acr, auth_time: authTime } });

const exportOf = (token: string) => getWithToken(runtime, '/me/export', token);

/** A person at level 3 with everything an export reads, made as the service makes it. */
async function seed(tag: string): Promise<Seeded> {
  const person = await newPerson(runtime, carrier);
  await proveAccountInPerson(runtime, person.idNumber);
  const login = await dependencies().directory.checkPassword({ ...person, source: '192.0.2.90' });
  if (!login.ok) throw new Error(`sign-in failed: ${login.reason}`);
  const accountId = login.person.id;

  // A licence.
  const licence = await issued(
    runtime,
    drivingIssuer,
    drivingLicenceBody(person.idNumber, { holderName: person.name }),
  );

  // A platform's sign-in, the ID number released to it at userinfo (in the usage record as `released`).
  const ua = sharingBrowser(runtime);
  const atConsent = await toConsent(platform, ua, person, 'openid profile idcard');
  const tokens = await approveConsent(platform, ua, atConsent, true);
  await client.fetchUserInfo(platform.config, tokens.access_token, tokens.claims()!.sub);

  // A verification of the licence, and a share with its purpose (as the sharing route writes it).
  const verified = await postJson(runtime, '/verify', undefined, { qr: licence.credential });
  expect(verified.status).toBe(200);
  const deps = buildDependencies(runtime.config);
  const holderKey = await personLookupKey(deps.lookupMac, parseIdNumber(person.idNumber, new Date()));
  await deps.audit.record({
    at: new Date().toISOString(),
    actor: platform.clientId,
    action: 'licence.shared',
    licenceId: licence.id,
    licenceType: 'driving-licence',
    holderKey,
    purpose: `办理业务-${tag}`,
  });
  // A passkey (its metadata is what the export shows; the public key never).
  await deps.passkeys.add({
    id: `cred-${tag}-${accountId}`,
    accountId,
    publicKey: `PUBLIC-KEY-${tag}`,
    counter: 0,
    transports: ['internal'],
    deviceType: 'multiDevice',
    backedUp: true,
    name: `钥匙-${tag}`,
    createdAt: new Date().toISOString(),
  });
  deps.doc.destroy();
  deps.kms.destroy();

  // An appointment as the demo enterprise's agent, by its representative (the demo citizen).
  const citizen = await dependencies().directory.checkPassword({
    idNumber: runtime.credentials.citizen.idNumber,
    password: runtime.credentials.citizen.password,
    source: '192.0.2.91',
  });
  if (!citizen.ok) throw new Error('the demo citizen could not sign in');
  const representative = await walletToken(citizen.person.id, 'urn:elicence:loa:3', nowSeconds());
  const appointed = await postJson(
    runtime,
    `/me/entities/${runtime.credentials.entity.creditCode}/agents`,
    representative,
    {
      idNumber: person.idNumber,
      name: person.name,
      scope: ['licences'],
      expiresAt: new Date(Date.now() + 30 * 86_400_000).toISOString(),
    },
  );
  expect(appointed.status, await appointed.clone().text()).toBe(201);
  const { agentId } = (await appointed.json()) as { agentId: string };
  return { person, accountId, licence, agentId };
}

let alice: Seeded;
let bob: Seeded;

beforeAll(async () => {
  ({ runtime, drivingIssuer, platform } = await startSharingRuntime(carrier, {
    name: platformName,
    origin: 'https://export.example',
    scopes: ['openid', 'profile', 'idcard'],
  }));
  alice = await seed('alice');
  bob = await seed('bob');
});
afterAll(() => runtime?.close());

/** The document with the signed credentials taken out: what must carry no raw number or phone. */
function withoutCredentials(document: ExportDocument): string {
  return JSON.stringify({
    ...document,
    licences: {
      ...document.licences,
      items: document.licences.items.map(({ credential: _, ...rest }) => rest),
    },
  });
}

describe('GET /me/export', () => {
  it('answers the person’s own data as one file, and nothing of another person’s', async () => {
    const token = await walletToken(alice.accountId, 'urn:elicence:loa:3', nowSeconds());
    const response = await exportOf(token);
    const text = await response.text();
    expect(response.status, text).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(response.headers.get('content-disposition')).toMatch(
      /^attachment; filename="elicence-data-export-\d{8}\.json"$/,
    );
    expect(response.headers.get('cache-control')).toContain('no-store');
    const document = JSON.parse(text) as ExportDocument;

    // Valid against the committed JSON Schema (docs/schemas/data-export-1.schema.json), which the
    // service serves as it is.
    const served = await fetch(`${runtime.baseUrl}/schemas/data-export-1.json`);
    expect(served.headers.get('content-type')).toMatch(/^application\/schema\+json/);
    expect(await served.json()).toEqual(schema);
    const validate = new Ajv2020({ strict: false }).compile(schema);
    expect(validate(document), JSON.stringify(validate.errors)).toBe(true);
    expect(document.format).toBe('elicence-data-export/1');
    expect(document.truncated).toEqual([]);

    // The account, masked as GET /me/account shows it.
    const { idNumber, name, phone } = alice.person;
    expect(document.account).toMatchObject({
      masked: `${idNumber.slice(0, 6)}********${idNumber.slice(14)}`,
      name,
      acr: 'urn:elicence:loa:3',
    });
    // The licence, with the signed credential that makes it portable.
    expect(document.licences.items.map((licence) => [licence.id, licence.credential])).toEqual([
      [alice.licence.id, alice.licence.credential],
    ]);
    // The platform's sign-in, with what it holds.
    expect(document.authorizations.items).toEqual([
      expect.objectContaining({
        kind: 'sign_in',
        client: { id: platform.clientId, name: platformName },
        scopes: expect.arrayContaining(['openid', 'profile', 'idcard']),
      }),
    ]);
    // The enterprise they act for as its agent, and the appointment.
    const { creditCode } = runtime.credentials.entity;
    expect(document.entities.authorities).toEqual([expect.objectContaining({ creditCode, role: 'agent' })]);
    expect(document.entities.appointments).toEqual([
      expect.objectContaining({ agentId: alice.agentId, creditCode, status: 'active' }),
    ]);
    // Passkeys: name and dates, never the key.
    expect(document.passkeys.items).toEqual([
      expect.objectContaining({ name: '钥匙-alice', createdAt: expect.any(String), synced: true }),
    ]);
    expect(text).not.toContain('PUBLIC-KEY');
    // The usage record: the share, the verification, the release of the ID number.
    expect(document.usage.items).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ action: 'shared', licenceId: alice.licence.id, purpose: '办理业务-alice' }),
        expect.objectContaining({ action: 'verified', licenceId: alice.licence.id }),
        expect.objectContaining({
          action: 'released',
          client: expect.objectContaining({ id: platform.clientId }),
        }),
      ]),
    );

    // Nothing of Bob's: his number (whole or masked), name, phone, licence, credential, share, passkey, appointment.
    for (const [what, value] of Object.entries({
      idNumber: bob.person.idNumber,
      masked: `${bob.person.idNumber.slice(0, 6)}********${bob.person.idNumber.slice(14)}`,
      name: bob.person.name,
      phone: bob.person.phone.slice(3),
      licence: bob.licence.id,
      credential: bob.licence.credential,
      purpose: '办理业务-bob',
      passkey: '钥匙-bob',
      appointment: bob.agentId,
    })) {
      expect(text.includes(value), `Bob's ${what}`).toBe(false);
    }
    // No raw ID number or phone of Alice's outside her signed credentials.
    const rest = withoutCredentials(document);
    expect(rest).not.toContain(idNumber);
    expect(rest).not.toContain(phone.slice(3));
  });

  it('is recorded in the person’s usage record as `exported`, and in no one else’s', async () => {
    const token = await walletToken(alice.accountId, 'urn:elicence:loa:3', nowSeconds());
    expect((await exportOf(token)).status).toBe(200);
    const usage = await getWithToken(runtime, '/me/usage', token);
    const { items } = (await usage.json()) as { items: Array<Record<string, unknown>> };
    // The newest entry, naming nobody (the person's own act) and no licence.
    expect(items[0]).toEqual({ at: expect.any(String), action: 'exported' });

    const bobs = await getWithToken(
      runtime,
      '/me/usage',
      await walletToken(bob.accountId, 'urn:elicence:loa:3', nowSeconds()),
    );
    const bobItems = ((await bobs.json()) as { items: Array<{ action: string }> }).items;
    expect(bobItems.map((entry) => entry.action)).not.toContain('exported');

    // The audit trail's entry: the account's opaque id, the licences counted; no number, name or document.
    const entries = await auditEntriesOf(dependencies().doc, runtime.config.auditTableName, alice.accountId);
    const exported = entries.filter((entry) => entry.action === 'data.exported');
    expect(exported.length).toBeGreaterThanOrEqual(1);
    expect(exported[0]).toMatchObject({ actor: alice.accountId, accountId: alice.accountId, count: 1 });
    const trace = JSON.stringify(exported);
    expect(trace).not.toContain(alice.person.idNumber);
    expect(trace).not.toContain(alice.person.name);
    expect(trace).not.toContain(alice.licence.credential);
  });

  it('refuses a sign-in that is not fresh at the account’s level, with the coded error', async () => {
    for (const [why, token] of [
      ['an hour old', await walletToken(alice.accountId, 'urn:elicence:loa:3', nowSeconds() - 3600)],
      ['below the account’s level', await walletToken(alice.accountId, 'urn:elicence:loa:2', nowSeconds())],
    ] as const) {
      const response = await exportOf(token);
      expect({ why, status: response.status }).toEqual({ why, status: 403 });
      const problem = (await response.json()) as { code: string; detail: string };
      expect(problem.code, why).toBe('fresh_sign_in_required');
      expect(problem.detail).toMatch(/max_age=0/);
    }
  });

  it('refuses a platform’s token, an enterprise’s sign-in and a sign-in the account’s reset ended', async () => {
    const platformToken = await storedAccessToken(alice.accountId, {
      clientId: platform.clientId,
      scope: 'openid licences',
      extra: { acr: 'urn:elicence:loa:3', auth_time: nowSeconds() },
    });
    const byPlatform = await exportOf(platformToken);
    expect(byPlatform.status).toBe(403);
    expect(((await byPlatform.json()) as { code: string }).code).toBe('first_party_only');

    // A sign-in acting for an enterprise: the file is the person's, not the enterprise's.
    const asEntity = await walletToken(
      formatAccountId({ kind: 'entity', entityId: 'ent_export_test', personId: alice.accountId }),
      'urn:elicence:loa:3',
      nowSeconds(),
    );
    const byEntity = await exportOf(asEntity);
    expect(byEntity.status).toBe(403);
    expect(((await byEntity.json()) as { code: string }).code).toBe('personal_sign_in_required');

    // Bob's sign-ins ended (a reset's mark) after his token's sign-in: the token exports nothing.
    const before = await walletToken(bob.accountId, 'urn:elicence:loa:3', nowSeconds() - 5);
    const deps = buildDependencies(runtime.config);
    try {
      const account = (await deps.accounts.findById(bob.accountId))!;
      await deps.accounts.save({
        ...account,
        signInsEnded: { at: new Date().toISOString(), version: account.version + 1 },
      });
    } finally {
      deps.doc.destroy();
      deps.kms.destroy();
    }
    const ended = await exportOf(before);
    expect(ended.status).toBe(401);
    expect(((await ended.json()) as { code: string }).code).toBe('invalid_token');
  });
});
