/**
 * Finding 16: the static credential carried `hol.lk`, the holder's lookup key: the same value in every
 * licence of that person from every issuer, a correlation handle any verifier could use (and a business
 * licence carried its legal representative's, the same value again). Over real HTTP: two issuers issue to
 * one person; neither credential, nor a presentation, nor any API answer carries a lookup key, and the
 * two credentials share nothing about the holder but the name and the masked number. The lookup keys
 * stay in the licence records, server-side.
 */
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeVerifier } from '../../packages/verifier/src/node.js';
import {
  readPresentationClaims,
  readPresentationEnvelope,
} from '../../packages/verifier/src/presentation-format.js';
import { postJson, scanItems } from '../support/http-api.js';
import {
  businessLicenceBody,
  expectJson,
  getWithToken,
  issued,
  maskedIdNumber,
  newIdNumber,
  type LicenceJson,
} from '../support/licences.js';
import { adminToken, registerPlatform, signIn, citizenAnswers } from '../support/oidc-flows.js';
import { clientCredentialsToken, startTestRuntime, type TestRuntime } from '../support/runtime.js';
import { UserAgent } from '../support/user-agent.js';
import { newCreditCode } from '../support/http-api.js';
import { createWorld, FakeStatus } from '../support/verifier-world.js';

let runtime: TestRuntime;
let demoIssuerToken: string;
let otherIssuerToken: string;
/** The demo citizen's licences: a driving licence (demo issuer), a social security card (another issuer). */
let driving: LicenceJson;
let card: LicenceJson;
/** A business licence naming the demo citizen as its legal representative. */
let business: LicenceJson;
/** The citizen's lookup key, as the licence records keep it. */
let lookupKey: string;

/** Every string and number anywhere in `value`, as text. */
function leaves(value: unknown, out = new Set<string>()): Set<string> {
  if (typeof value === 'string' || typeof value === 'number') out.add(String(value));
  else if (Array.isArray(value)) for (const item of value) leaves(item, out);
  else if (value !== null && typeof value === 'object')
    for (const item of Object.values(value)) leaves(item, out);
  return out;
}

beforeAll(async () => {
  runtime = await startTestRuntime();
  const { citizen } = runtime.credentials;
  demoIssuerToken = await clientCredentialsToken(runtime, runtime.credentials.issuer, 'licences:issue');
  const admin = await adminToken(runtime);
  const other = await expectJson<{ clientId: string; clientSecret: string }>(
    await postJson(runtime, '/admin/issuers', admin, {
      name: '上海市人力资源和社会保障局（测试）',
      creditCode: newCreditCode('11', '310000'),
      region: '310000',
      licenceTypes: ['social-security-card'],
    }),
    201,
  );
  otherIssuerToken = await clientCredentialsToken(runtime, other, 'licences:issue');

  driving = await issued(runtime, demoIssuerToken, {
    type: 'driving-licence',
    holder: { idNumber: citizen.idNumber },
    holderName: citizen.name,
    fields: { vehicleClass: 'C1', firstIssuedOn: '2015-03-01', archiveNumber: '110100123456' },
  });
  card = await issued(runtime, otherIssuerToken, {
    type: 'social-security-card',
    holder: { idNumber: citizen.idNumber },
    holderName: citizen.name,
    fields: { cardNumber: 'A12345678', issuingRegion: '310000' },
  });
  business = await issued(
    runtime,
    demoIssuerToken,
    businessLicenceBody(newCreditCode('91', '110108'), citizen.idNumber),
  );

  const [record] = await scanItems(`licence#${driving.id}`);
  lookupKey = String((record?.holder as { lookupKey?: unknown } | undefined)?.lookupKey);
});
afterAll(() => runtime?.close());

describe('no credential carries a lookup key', () => {
  it('the lookup key exists server-side (the test looks for a real value)', async () => {
    expect(lookupKey).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const [cardRecord] = await scanItems(`licence#${card.id}`);
    expect((cardRecord?.holder as { lookupKey: string }).lookupKey).toBe(lookupKey);
    // A third person's number in the fields (the legal representative's) keeps no lookup key at all:
    // who represents an enterprise comes from the business registry, not from its licence.
    const [businessRecord] = await scanItems(`licence#${business.id}`);
    expect(businessRecord?.fields).not.toHaveProperty('legalRepresentativeLookupKey');
    expect(JSON.stringify(businessRecord)).not.toContain(lookupKey);
  });

  it('the holder is kind, name and masked number, nothing more, in every new credential', () => {
    const { citizen } = runtime.credentials;
    for (const licence of [driving, card]) {
      const claims = decodeJwt(licence.credential) as { hol: Record<string, unknown> };
      expect(claims.hol).toEqual({ k: 'p', n: citizen.name, m: maskedIdNumber(citizen.idNumber) });
    }
    for (const licence of [driving, card, business]) {
      expect(licence.credential).not.toContain(lookupKey);
      expect(JSON.stringify(decodeJwt(licence.credential))).not.toContain(lookupKey);
    }
  });

  it('two issuers’ credentials of one person share nothing about the holder but name and masked number', () => {
    const { citizen } = runtime.credentials;
    const a = decodeJwt(driving.credential);
    const b = decodeJwt(card.credential);
    expect(a.iss).not.toBe(b.iss);
    const shared = [...leaves(a)].filter((value) => leaves(b).has(value));
    // What both say alike: the holder kind, the name and the masked number. Times are the issuance's.
    const allowed = new Set(['p', citizen.name, maskedIdNumber(citizen.idNumber)]);
    const times = new Set([a.iat, a.nbf, b.iat, b.nbf].map(String));
    expect(shared.filter((value) => !allowed.has(value) && !times.has(value))).toEqual([]);
  });

  it('a business licence does not sign its representative’s lookup key, nor does the API answer it', async () => {
    const claims = decodeJwt(business.credential) as { f: Record<string, unknown> };
    expect(claims.f).toHaveProperty('legalRepresentativeIdMasked');
    expect(claims.f).not.toHaveProperty('legalRepresentativeLookupKey');
    expect(business.fields).not.toHaveProperty('legalRepresentativeLookupKey');
    const again = await expectJson<LicenceJson>(
      await getWithToken(runtime, `/licences/${encodeURIComponent(business.id)}`, demoIssuerToken),
      200,
    );
    expect(JSON.stringify(again)).not.toContain(lookupKey);
  });
});

describe('no presentation, nor the holder’s own API, carries one', () => {
  let accessToken: string;

  beforeAll(async () => {
    const wallet = await registerPlatform(runtime, await adminToken(runtime), {
      name: 'Wallet',
      redirectUris: ['https://wallet.example/cb'],
      scopes: ['openid', 'profile', 'licences'],
      firstParty: true,
    });
    const { tokens } = await signIn(wallet, new UserAgent(runtime.baseUrl), citizenAnswers(runtime), {
      scope: 'openid licences',
    });
    accessToken = tokens.access_token;
  });

  it('GET /me/licences answers no lookup key', async () => {
    const response = await getWithToken(runtime, '/me/licences', accessToken);
    const text = await response.text();
    expect(response.status, text).toBe(200);
    expect(text).toContain(card.id);
    expect(text).not.toContain(lookupKey);
    const { items } = JSON.parse(text) as { items: LicenceJson[] };
    for (const item of items) expect(JSON.stringify(decodeJwt(item.credential))).not.toContain(lookupKey);
  });

  it('a presentation disclosing every field has no lookup key, and the holder is [kind, name, masked]', async () => {
    for (const licence of [driving, card]) {
      const response = await postJson(
        runtime,
        `/me/licences/${encodeURIComponent(licence.id)}/presentations`,
        accessToken,
        { disclose: Object.keys(licence.fields) },
      );
      const { token } = await expectJson<{ token: string }>(response, 201);
      const envelope = readPresentationEnvelope(token);
      const { claims } = readPresentationClaims(envelope.payload);
      const { citizen } = runtime.credentials;
      expect(claims.licence.holder).toEqual({
        kind: 'person',
        name: citizen.name,
        masked: maskedIdNumber(citizen.idNumber),
      });
      expect(JSON.stringify(claims)).not.toContain(lookupKey);
      // Nor its bytes, in whatever encoding the CWT could carry them.
      expect(Buffer.from(envelope.payload).includes(Buffer.from(lookupKey, 'base64url'))).toBe(false);
      expect(Buffer.from(envelope.payload).includes(Buffer.from(lookupKey))).toBe(false);
      expect(Buffer.from(token).toString()).not.toContain(lookupKey);
    }
  });

  it('a person’s lookup key is not the same across people (the handle would be per person)', async () => {
    // Sanity for the check above: another person's record has another key.
    const other = await issued(runtime, demoIssuerToken, {
      type: 'driving-licence',
      holder: { idNumber: newIdNumber() },
      holderName: '赵测试',
      fields: { vehicleClass: 'C1', firstIssuedOn: '2015-03-01', archiveNumber: '110100123457' },
    });
    const [record] = await scanItems(`licence#${other.id}`);
    expect((record?.holder as { lookupKey: string }).lookupKey).not.toBe(lookupKey);
  });
});

describe('credentials issued before still verify', () => {
  it('a credential with hol.lk is valid, and the verdict shows no lookup key', async () => {
    const world = await createWorld();
    const status = new FakeStatus();
    // Its status is known (valid): without one the verifier cannot say valid (docs/verifier.md).
    status.statuses.set(world.credentialClaims().jti, 'valid');
    const verifier = createNodeVerifier({ trust: world.trust, status, clock: world.clock });
    const old = await world.credential({
      claims: { hol: { k: 'p', n: '王小明', m: '110105********1239', lk: 'bG9va3VwLWtleQ' } },
    });
    const result = await verifier.verify(old);
    expect(result.verdict).toBe('valid');
    expect(result.licence?.holder).toEqual({ kind: 'person', name: '王小明', masked: '110105********1239' });
    expect(JSON.stringify(result)).not.toContain('bG9va3VwLWtleQ');
  });
});
