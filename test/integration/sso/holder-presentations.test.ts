import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientCredentialsToken, startTestRuntime, type TestRuntime } from '../../support/runtime.js';
import { expectProblem } from '../../support/http-api.js';
import {
  adminToken,
  authorizationRequest,
  demoPlatform,
  getWithToken,
  registerPlatform,
  runFlow,
  signIn,
  writtenAccessToken,
  type RelyingParty,
  citizenAnswers,
} from '../../support/oidc-flows.js';
import { UserAgent } from '../../support/user-agent.js';
import { dependencies } from '../../../functions/composition/dependencies.js';
import { createPresentation } from '../../../shared/licence/presentation.js';
import { createNodeVerifier, nodeEs256 } from '../../../packages/verifier/src/node.js';
import { OfflineTrustStore } from '../../../packages/verifier/src/offline-store.js';
import {
  presentationJwksKid,
  readPresentationEnvelope,
} from '../../../packages/verifier/src/presentation-format.js';
import { zlibCompression } from '../../../packages/verifier/src/status-list-zlib.js';

let runtime: TestRuntime;
let wallet: RelyingParty;
let accessToken: string;

interface HeldLicence {
  id: string;
  type: string;
  fields: Record<string, unknown>;
}

beforeAll(async () => {
  runtime = await startTestRuntime();
  wallet = await registerPlatform(runtime, await adminToken(runtime), {
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
afterAll(() => runtime?.close());

function present(licenceId: string, body: unknown, token = accessToken) {
  return fetch(`${runtime.baseUrl}/me/licences/${encodeURIComponent(licenceId)}/presentations`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

describe('a holder shows a licence as a short-lived QR code (亮证)', () => {
  let drivingLicence: HeldLicence;

  it('lists the signed-in person’s own licences', async () => {
    const response = await getWithToken(runtime, '/me/licences', accessToken);
    expect(response.status).toBe(200);
    const { items } = (await response.json()) as { items: HeldLicence[] };
    expect(items.map((l) => l.type)).toEqual(['driving-licence']);
    drivingLicence = items[0]!;
  });

  it('makes a presentation QR with only the chosen fields, which a verifier app reads as valid', async () => {
    const response = await present(drivingLicence.id, { disclose: ['vehicleClass'], ttlSeconds: 60 });
    expect(response.status).toBe(201);
    const body = (await response.json()) as {
      token: string;
      qr: { text: string; svg: string };
      expiresAt: string;
    };
    expect(body.token).toMatch(/^EL1:[0-9A-Z $%*+\-./:]+$/);
    expect(body.qr.text).toBe(body.token);
    expect(body.qr.svg).toMatch(/^<svg[\s\S]*<\/svg>\s*$/);
    const lifetime = Date.parse(body.expiresAt) - Date.now();
    expect(lifetime).toBeGreaterThan(50_000);
    expect(lifetime).toBeLessThanOrEqual(60_000);

    const verifierToken = await clientCredentialsToken(
      runtime,
      runtime.credentials.verifier,
      'licences:verify',
    );
    const verdict = await fetch(`${runtime.baseUrl}/verify`, {
      method: 'POST',
      headers: { authorization: `Bearer ${verifierToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ qr: body.token }),
    });
    const result = (await verdict.json()) as {
      verdict: string;
      licence?: { id: string; fields?: Record<string, unknown> };
    };
    expect(result.verdict).toBe('valid');
    expect(result.licence?.id).toBe(drivingLicence.id);
    expect(result.licence?.fields).toEqual({ vehicleClass: drivingLicence.fields.vehicleClass });
  });

  it('refuses a lifetime outside 30 to 600 seconds, naming the field', async () => {
    for (const ttlSeconds of [5, 601]) {
      const response = await present(drivingLicence.id, { ttlSeconds });
      expect(response.status).toBe(400);
      const problem = (await response.json()) as { errors: Array<{ path: string }> };
      expect(problem.errors.map((e) => e.path)).toContain('ttlSeconds');
    }
  });

  it('does not present a licence the person does not hold', async () => {
    const held = (await (await getWithToken(runtime, '/me/licences', accessToken)).json()) as {
      items: HeldLicence[];
    };
    const issuerToken = await clientCredentialsToken(runtime, runtime.credentials.issuer, 'licences:issue');
    const all = (await (await getWithToken(runtime, '/licences?limit=100', issuerToken)).json()) as {
      items: HeldLicence[];
    };
    const someoneElses = all.items.find((licence) => !held.items.some((mine) => mine.id === licence.id));
    expect(someoneElses).toBeDefined();
    expect((await present(someoneElses!.id, {})).status).toBe(404);
  });

  it('requires a person’s token with scope licences', async () => {
    const issuerToken = await clientCredentialsToken(runtime, runtime.credentials.issuer, 'licences:issue');
    expect((await present(drivingLicence.id, {}, issuerToken)).status).toBe(403);
    expect((await getWithToken(runtime, '/me/licences', 'x'.repeat(43))).status).toBe(401);
  });

  // Security review (L1): a platform holding the person's `licences` token (consent: "read your
  // electronic licences") made presentations, each verifying as valid and recorded in the audit trail and
  // the person's usage record as the person showing their licence. Presenting is the holder's own act.
  // Since review R9 (H1) a platform gets no such token: `licences` is first-party only. One issued before
  // that rule, still live in the store, is refused all the same.
  it('is refused to a platform that is not first-party, holding the person’s licences token', async () => {
    const platform = await demoPlatform(runtime);
    // Asking for `licences` now fails at the authorization request.
    const request = await authorizationRequest(platform, { scope: 'openid licences' });
    const outcome = await runFlow(
      new UserAgent(runtime.baseUrl, [platform.redirectUri]),
      request.url,
      citizenAnswers(runtime),
    );
    expect(outcome.callback?.searchParams.get('error')).toBe('invalid_scope');
    expect(outcome.callback?.searchParams.has('code')).toBe(false);

    // A `licences` token of the platform's client as the provider wrote one before the rule.
    const login = await dependencies().directory.checkPassword({
      ...runtime.credentials.citizen,
      source: '192.0.2.82',
    });
    if (!login.ok) throw new Error(`sign-in failed: ${login.reason}`);
    const token = await writtenAccessToken({
      accountId: login.person.id,
      clientId: platform.clientId,
      scope: 'openid licences',
    });
    // It reads no licence…
    await expectProblem(await getWithToken(runtime, '/me/licences', token), 403, 'first_party_only');
    const admin = await adminToken(runtime);
    const presented = async () => {
      const response = await getWithToken(
        runtime,
        `/admin/audit?licence=${encodeURIComponent(drivingLicence.id)}`,
        admin,
      );
      expect(response.status).toBe(200);
      const { items } = (await response.json()) as { items: Array<{ action: string }> };
      return items.filter((entry) => entry.action === 'licence.presented').length;
    };
    const before = await presented();
    // …nor presents one: every field, the longest lifetime, as the review's request.
    const disclose = Object.keys(drivingLicence.fields);
    await expectProblem(
      await present(drivingLicence.id, { disclose, ttlSeconds: 300 }, token),
      403,
      'first_party_only',
    );
    expect(await presented()).toBe(before);
    // The first-party app's token still presents.
    expect((await present(drivingLicence.id, { disclose, ttlSeconds: 300 })).status).toBe(201);
    expect(await presented()).toBe(before + 1);
  });
});

// Review R7 M1: presentations are signed by the presentation key, named in the trust list, never by the
// platform key (which signs ID tokens and is the only key in jwks_uri).
describe('a presentation is signed by the presentation key, which the trust list names', () => {
  let licenceId: string;

  beforeAll(async () => {
    const { items } = (await (await getWithToken(runtime, '/me/licences', accessToken)).json()) as {
      items: HeldLicence[];
    };
    licenceId = items[0]!.id;
  });

  /** The platform's trust data as an offline app syncs it, and a verifier over it. */
  async function offlineVerifier() {
    const store = new OfflineTrustStore({
      baseUrl: runtime.baseUrl,
      crypto: nodeEs256,
      compression: zlibCompression,
    });
    await store.sync({ cache: 'no-store' });
    return { store, verifier: createNodeVerifier({ trust: store, status: store }) };
  }

  const verifyOnline = async (qr: string) =>
    (await (
      await fetch(`${runtime.baseUrl}/verify`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ qr }),
      })
    ).json()) as { verdict: string };

  it('verifies offline from the trust list, online through /verify, under a key jwks_uri does not name', async () => {
    const response = await present(licenceId, { disclose: ['vehicleClass'], ttlSeconds: 120 });
    expect(response.status).toBe(201);
    const { token } = (await response.json()) as { token: string };

    const { store, verifier } = await offlineVerifier();
    const named = store.presentationKeys();
    expect(named?.length).toBeGreaterThan(0);
    // The presentation's COSE kid is the first 8 bytes of a presentation key's thumbprint…
    const coseKid = Buffer.from(readPresentationEnvelope(token).kid).toString('base64url');
    expect(named!.map((key) => presentationJwksKid(key.kid!))).toContain(coseKid);
    // …and of no key of jwks_uri, which a relying party would accept for an ID token.
    const jwks = (await (await fetch(`${runtime.baseUrl}/.well-known/jwks.json`)).json()) as {
      keys: Array<{ kid: string; x?: string }>;
    };
    expect(jwks.keys.map((key) => presentationJwksKid(key.kid))).not.toContain(coseKid);
    expect(jwks.keys.some((key) => named!.some((presentation) => presentation.x === key.x))).toBe(false);

    expect(await verifier.verify(token)).toMatchObject({ verdict: 'valid', licence: { id: licenceId } });
    expect(await verifyOnline(token)).toMatchObject({ verdict: 'valid' });
  });

  it('refuses a presentation signed by the platform key, offline and online, once the list names presentation keys', async () => {
    // What whoever holds the ID-token key could make: a well-formed presentation of a real licence.
    const deps = dependencies();
    const record = await deps.licences.get(licenceId);
    const { token } = await createPresentation(
      licenceId,
      { disclose: ['vehicleClass'], ttlSeconds: 120 },
      { holderLookupKeys: [record!.holder.lookupKey], level: 3, actor: 'test-forger' },
      { ...deps, presentationSigner: deps.platformSigner },
    );
    const { verifier } = await offlineVerifier();
    expect(await verifier.verify(token)).toMatchObject({
      verdict: 'unknown_issuer',
      reason: 'key_not_trusted',
    });
    expect(await verifyOnline(token)).toMatchObject({ verdict: 'unknown_issuer' });
  });
});
