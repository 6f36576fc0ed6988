import { exportJWK, generateKeyPair, SignJWT, decodeJwt, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { zlibCompression } from '../../../packages/verifier/src/node.js';
import { decodeStatusList, readStatus, StatusType } from '../../../packages/verifier/src/status-list.js';
import type { TrustListPayload } from '../../../packages/verifier/src/trust-list.js';
import { startFakeHttpServer, type FakeHttpServer } from '../../support/fake-http-server.js';
import { expectProblem, newCreditCode, onboardIssuer, postJson } from '../../support/http-api.js';
import { spawnRuntime, type SpawnedRuntime } from '../../support/peer-runtime.js';
import { clientCredentialsToken, startTestRuntime, type TestRuntime } from '../../support/runtime.js';
import { changeStatus, issueDrivingLicence, syncedOfflineVerifier, verified } from '../verify/helpers.js';

/*
 * Peer platforms (跨地区互认, docs/peers.md) with real HTTP between three local platforms: A (this
 * process, region 110000), B (310000) and C (440000), each in its own process, port and data folder.
 */

type Platform = Pick<TestRuntime, 'baseUrl' | 'credentials'>;

let a: TestRuntime;
let b: SpawnedRuntime;
let c: SpawnedRuntime;
let fake: FakeHttpServer;
const admin = new Map<string, string>();
const STALE_SECONDS = 8;

const adminToken = async (platform: Platform) => {
  let token = admin.get(platform.baseUrl);
  if (!token) {
    token = await clientCredentialsToken(platform, platform.credentials.admin, 'admin');
    admin.set(platform.baseUrl, token);
  }
  return token;
};

/** A platform's ES256 platform keys, as an admin pins them (the RSA key is for ID tokens only). */
async function platformKeys(platform: Platform): Promise<JWK[]> {
  const jwks = (await (await fetch(`${platform.baseUrl}/.well-known/jwks.json`)).json()) as { keys: JWK[] };
  return jwks.keys.filter((key) => key.kty === 'EC');
}

async function registerPeer(at: Platform, body: Record<string, unknown>): Promise<Response> {
  return postJson(at, '/admin/peers', await adminToken(at), body);
}

async function register(at: Platform, peer: Platform, region: string): Promise<string> {
  const response = await registerPeer(at, {
    name: `Platform ${region}`,
    region,
    baseUrl: peer.baseUrl,
    jwks: { keys: await platformKeys(peer) },
  });
  expect(response.status, await response.clone().text()).toBe(201);
  return ((await response.json()) as { id: string }).id;
}

async function refresh(at: Platform, id: string): Promise<Record<string, unknown>> {
  const response = await postJson(at, `/admin/peers/${id}/refresh`, await adminToken(at), {});
  expect(response.status, await response.clone().text()).toBe(200);
  return (await response.json()) as Record<string, unknown>;
}

async function trustList(at: Platform): Promise<TrustListPayload> {
  return decodeJwt(await (await fetch(`${at.baseUrl}/trust-list`)).text()) as unknown as TrustListPayload;
}

interface StatusListRef {
  idx: number;
  uri: string;
}

/** The status at `idx` of a Status List Token (its signature is the verifier package's business). */
async function statusIn(jws: string, idx: number): Promise<number> {
  const { status_list } = decodeJwt(jws) as { status_list: unknown };
  const { bytes, bits } = await decodeStatusList(status_list, zlibCompression);
  return readStatus(bytes, idx, bits);
}

const issuerToken = (platform: Platform) =>
  clientCredentialsToken(platform, platform.credentials.issuer, 'licences:issue');

beforeAll(async () => {
  [a, b, c, fake] = await Promise.all([
    startTestRuntime(undefined, { PEER_STALE_SECONDS: String(STALE_SECONDS) }),
    spawnRuntime({ PLATFORM_REGION: '310000' }),
    spawnRuntime({ PLATFORM_REGION: '440000' }),
    startFakeHttpServer(),
  ]);
}, 240_000);

afterAll(async () => {
  await Promise.all([a?.close(), b?.stop(), c?.stop(), fake?.close()]);
});

describe('peer platforms (跨地区互认)', () => {
  let peerB: string;

  it('refuses a peer whose pinned keys do not verify its trust list (422 peer_untrusted), storing nothing', async () => {
    const response = await registerPeer(a, {
      name: 'B with C’s keys',
      region: '310000',
      baseUrl: b.baseUrl,
      jwks: { keys: await platformKeys(c) },
    });
    await expectProblem(response, 422, 'peer_untrusted');
    const listed = await fetch(`${a.baseUrl}/admin/peers`, {
      headers: { authorization: `Bearer ${await adminToken(a)}` },
    });
    expect(((await listed.json()) as { items: unknown[] }).items).toEqual([]);
    // Bad input names its field: a peer in our own region, a plain-http remote URL.
    const own = await registerPeer(a, {
      name: 'x',
      region: '110000',
      baseUrl: b.baseUrl,
      jwks: { keys: await platformKeys(b) },
    });
    expect((await expectProblem(own, 400)).errors?.[0]?.path).toBe('region');
    const plain = await registerPeer(a, {
      name: 'x',
      region: '310000',
      baseUrl: 'http://peer.example.gov.cn',
      jwks: { keys: await platformKeys(b) },
    });
    expect((await expectProblem(plain, 400)).errors?.[0]?.path).toBe('baseUrl');
  });

  it('a licence issued at B verifies at A online (issuer.region B’s, the audit names the peer) and offline', async () => {
    peerB = await register(a, b, '310000');
    const bIssuer = b.credentials.issuer.id;
    const listed = (await trustList(a)).issuers.find((entry) => entry.id === bIssuer);
    expect(listed).toMatchObject({
      region: '310000',
      status: 'active',
      peer: peerB,
      // Its status lists are read from A, which relays B's tokens (the verifier page's CSP allows only A).
      statusBase: a.baseUrl,
      peerFetchedAt: expect.any(String),
    });
    // A's own issuers are listed without `peer`.
    expect((await trustList(a)).issuers.find((e) => e.id === a.credentials.issuer.id)?.peer).toBeUndefined();

    const licence = await issueDrivingLicence(b, await issuerToken(b));
    const answer = await verified(a, licence.credential);
    expect(answer).toMatchObject({
      verdict: 'valid',
      issuer: { id: bIssuer, region: '310000', peer: { id: peerB, region: '310000' } },
    });
    expect((answer as { stale?: boolean }).stale).toBeUndefined();
    const audit = await fetch(`${a.baseUrl}/admin/audit?licence=${encodeURIComponent(licence.id)}`, {
      headers: { authorization: `Bearer ${await adminToken(a)}` },
    });
    const entries = ((await audit.json()) as { items: Array<Record<string, unknown>> }).items;
    expect(entries).toContainEqual(expect.objectContaining({ action: 'licence.verified', peerId: peerB }));

    // Offline: the verifier package with A's trust list only (B's status list relayed by A).
    const { verifier, report } = await syncedOfflineVerifier(a.baseUrl);
    expect(report.failures).toEqual([]);
    const offline = await verifier.verify(licence.credential);
    expect(offline).toMatchObject({ verdict: 'valid', status: { source: 'status-list' } });
    expect(offline.issuer).toMatchObject({ id: bIssuer, region: '310000' });

    // Issue 16's goal holds with peers registered: a warm verification of A's own licence makes 2 table
    // calls; one of a peer's licence reads no licence record (its status comes from the peer's list).
    const own = await issueDrivingLicence(a, await issuerToken(a));
    await verified(a, own.credential);
    a.dynamo!.resetStats();
    expect((await verified(a, own.credential)).verdict).toBe('valid');
    const ownCalls = Object.values(a.dynamo!.stats()).reduce((sum, n) => sum + n, 0);
    expect(ownCalls, JSON.stringify(a.dynamo!.stats())).toBeLessThanOrEqual(2);
    a.dynamo!.resetStats();
    expect((await verified(a, licence.credential)).verdict).toBe('valid');
    // Our issuer store asked for the unknown id (one index query), then the audit entry; no licence read.
    expect(a.dynamo!.stats()).toEqual({ Query: 1, PutItem: 1 });

    // Revoked at B: after a refresh of B (which drops A's cached status lists), A says revoked.
    await changeStatus(b, await issuerToken(b), licence.id, 'revoked');
    await refresh(a, peerB);
    expect((await verified(a, licence.credential)).verdict).toBe('revoked');
  });

  it('A relays B’s status list tokens unchanged at /status-lists, revocations included; nothing else', async () => {
    const licence = await issueDrivingLicence(b, await issuerToken(b));
    const { idx, uri } = (decodeJwt(licence.credential) as { status: { status_list: StatusListRef } }).status
      .status_list;
    expect(uri.startsWith(`${b.baseUrl}/status-lists/`)).toBe(true);
    const listId = decodeURIComponent(uri.slice(uri.lastIndexOf('/') + 1));
    const atB = await (await fetch(uri)).text();
    const relayed = await fetch(`${a.baseUrl}/status-lists/${encodeURIComponent(listId)}`);
    expect(relayed.status).toBe(200);
    expect(relayed.headers.get('content-type')).toBe('application/statuslist+jwt');
    expect(relayed.headers.get('access-control-allow-origin')).toBe('*');
    expect(relayed.headers.get('cache-control')).toMatch(/^public, max-age=\d+$/);
    const first = await relayed.text();
    expect(first).toBe(atB);
    expect(await statusIn(first, idx)).toBe(StatusType.VALID);

    // Revoked at B: A keeps its copy for a minute at most; a refresh of B drops it at once.
    await changeStatus(b, await issuerToken(b), licence.id, 'revoked');
    const revokedAtB = await (await fetch(uri)).text();
    expect(await statusIn(revokedAtB, idx)).toBe(StatusType.INVALID);
    await refresh(a, peerB);
    const after = await (await fetch(`${a.baseUrl}/status-lists/${encodeURIComponent(listId)}`)).text();
    expect(after).toBe(revokedAtB);

    // Unknown ids, a list B does not have, and ids that are no list id stay 404: no open proxy.
    for (const id of ['iss_unknown.0', `${b.credentials.issuer.id}.999`, `${listId}/../../trust-list`]) {
      await expectProblem(await fetch(`${a.baseUrl}/status-lists/${encodeURIComponent(id)}`), 404);
    }
    // A's own lists are still A's.
    const own = await issueDrivingLicence(a, await issuerToken(a));
    const ownUri = (decodeJwt(own.credential) as { status: { status_list: StatusListRef } }).status
      .status_list.uri;
    const ownToken = await (await fetch(ownUri)).text();
    expect(decodeJwt(ownToken).iss).toBe(a.credentials.issuer.id);
  });

  it('is not transitive: B registering C does not make A trust C; A trusts C once it registers C', async () => {
    await register(b, c, '440000');
    await refresh(a, peerB);
    const cIssuer = c.credentials.issuer.id;
    expect((await trustList(b)).issuers.find((e) => e.id === cIssuer)).toMatchObject({
      peer: expect.any(String),
    });
    expect((await trustList(a)).issuers.find((e) => e.id === cIssuer)).toBeUndefined();
    const licence = await issueDrivingLicence(c, await issuerToken(c));
    expect((await verified(a, licence.credential)).verdict).toBe('unknown_issuer');

    const peerC = await register(a, c, '440000');
    expect((await trustList(a)).issuers.find((e) => e.id === cIssuer)).toMatchObject({ peer: peerC });
    expect(await verified(a, licence.credential)).toMatchObject({
      verdict: 'valid',
      issuer: { region: '440000', peer: { id: peerC } },
    });
  });

  it('drops entries claiming A’s issuer id or credit code, its region, or another peer’s; refuses a rollback', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'fake-1', alg: 'ES256', use: 'sig' };
    const entry = (id: string, creditCode: string, region: string, extra: Record<string, unknown> = {}) => ({
      id,
      name: `issuer ${id}`,
      creditCode,
      region,
      status: 'active',
      jwks: { keys: [jwk] },
      licenceTypes: [{ code: 'driving-licence', typeCode: '003' }],
      ...extra,
    });
    const aIssuer = (await trustList(a)).issuers.find((e) => e.id === a.credentials.issuer.id)!;
    const good = entry('iss_fake_good', newCreditCode('11', '320000'), '320000');
    const now = Math.floor(Date.now() / 1000);
    const signed = (iat: number) =>
      new SignJWT({
        ttl: 3600,
        issuers: [
          good,
          entry(a.credentials.issuer.id, newCreditCode('11', '320000'), '320000'),
          entry('iss_fake_cc', aIssuer.creditCode, '320000'),
          entry('iss_fake_region', newCreditCode('11', '110000'), '110105'),
          entry('iss_fake_transitive', newCreditCode('11', '320000'), '320000', { peer: 'peer_x' }),
          entry(b.credentials.issuer.id, newCreditCode('11', '320000'), '320000'),
          entry('iss_fake_withdrawn', newCreditCode('11', '320000'), '320000', { status: 'withdrawn' }),
        ],
      })
        .setProtectedHeader({ alg: 'ES256', typ: 'trust-list+jwt', kid: 'fake-1' })
        .setIssuer(fake.url('').replace(/\/$/, ''))
        .setIssuedAt(iat)
        .setExpirationTime(iat + 7 * 86_400)
        .sign(privateKey);
    let served = await signed(now);
    fake.answer((_, response) => {
      response.writeHead(200, { 'content-type': 'application/trust-list+jwt' }).end(served);
    });
    const response = await registerPeer(a, {
      name: 'Jiangsu (fake)',
      region: '320000',
      baseUrl: fake.url('').replace(/\/$/, ''),
      jwks: { keys: [jwk] },
    });
    expect(response.status, await response.clone().text()).toBe(201);
    const { id } = (await response.json()) as { id: string };
    const fromFake = (await trustList(a)).issuers.filter((e) => e.peer === id).map((e) => e.id);
    expect(fromFake).toEqual(['iss_fake_good']);
    // A's own issuer is still A's, unmarked.
    expect((await trustList(a)).issuers.filter((e) => e.id === a.credentials.issuer.id)).toEqual([
      expect.not.objectContaining({ peer: expect.anything() }),
    ]);

    // A list signed before the copy held is refused and recorded; the copy stays, the peer still ok.
    served = await signed(now - 600);
    const after = await refresh(a, id);
    expect(after).toMatchObject({
      status: 'ok',
      trustListIat: new Date(now * 1000).toISOString(),
      lastError: { code: 'rolled_back' },
    });
    expect((await trustList(a)).issuers.filter((e) => e.peer === id).map((e) => e.id)).toEqual([
      'iss_fake_good',
    ]);
    // Signed an hour ahead of our clock: refused (held, it would refuse every later list as older until
    // real time caught up), recorded; the copy stays, the peer still ok.
    served = await signed(now + 3600);
    expect(await refresh(a, id)).toMatchObject({
      status: 'ok',
      trustListIat: new Date(now * 1000).toISOString(),
      lastError: { code: 'clock_skew' },
    });
    // Signed by a key that was not pinned: refused, recorded as untrusted, the last good copy stays.
    const intruder = await generateKeyPair('ES256');
    const good_ = served;
    served = await new SignJWT({ ttl: 3600, issuers: [] })
      .setProtectedHeader({ alg: 'ES256', typ: 'trust-list+jwt', kid: 'fake-1' })
      .setIssuer(fake.url('').replace(/\/$/, ''))
      .setIssuedAt(now + 60)
      .setExpirationTime(now + 86_400)
      .sign(intruder.privateKey);
    expect(await refresh(a, id)).toMatchObject({ status: 'untrusted', lastError: { code: 'untrusted' } });
    expect((await trustList(a)).issuers.filter((e) => e.peer === id).map((e) => e.id)).toEqual([
      'iss_fake_good',
    ]);
    served = good_;
    // The same list again: accepted (no error), the copy unchanged.
    served = await signed(now);
    const same = await refresh(a, id);
    expect(same).toMatchObject({ status: 'ok', trustListIat: new Date(now * 1000).toISOString() });
    expect(same.lastError).toBeUndefined();
    const removed = await fetch(`${a.baseUrl}/admin/peers/${id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${await adminToken(a)}` },
    });
    expect(removed.status).toBe(204);
  });

  it('an issuer B withdraws is gone at A after the next refresh', async () => {
    const onboarded = await onboardIssuer(b, await adminToken(b), {
      creditCode: newCreditCode('11', '310000'),
      region: '310000',
    });
    await refresh(a, peerB);
    expect((await trustList(a)).issuers.find((e) => e.id === onboarded.id)).toMatchObject({ peer: peerB });
    const withdrawn = await postJson(b, `/admin/issuers/${onboarded.id}/withdraw`, await adminToken(b), {
      reason: '机构撤并',
    });
    expect(withdrawn.status).toBe(200);
    await refresh(a, peerB);
    expect((await trustList(a)).issuers.find((e) => e.id === onboarded.id)).toBeUndefined();
  });

  it('B down: A keeps serving the last good copy, says so, and marks verdicts stale past the stale age', async () => {
    const licence = await issueDrivingLicence(b, await issuerToken(b));
    await refresh(a, peerB);
    expect((await verified(a, licence.credential)).verdict).toBe('valid');
    // A relays B's list once while B is up (a verifier page reading it through A).
    const relayed = await fetch(`${a.baseUrl}/status-lists/${b.credentials.issuer.id}.0`);
    expect(relayed.status).toBe(200);
    await relayed.body?.cancel();
    await b.stop();
    const view = await refresh(a, peerB);
    expect(view).toMatchObject({ status: 'ok', lastError: { code: 'unreachable' } });
    expect((await trustList(a)).issuers.find((e) => e.id === b.credentials.issuer.id)).toMatchObject({
      peer: peerB,
    });
    await new Promise((resolve) => setTimeout(resolve, (STALE_SECONDS + 1) * 1000));
    const answer = await verified(a, licence.credential);
    expect(answer).toMatchObject({ verdict: 'valid', stale: true, issuer: { peer: { id: peerB } } });
    const listed = await fetch(`${a.baseUrl}/admin/peers`, {
      headers: { authorization: `Bearer ${await adminToken(a)}` },
    });
    const peers = ((await listed.json()) as { items: Array<Record<string, unknown>> }).items;
    expect(peers.find((p) => p.id === peerB)).toMatchObject({ status: 'stale' });
    // Its status list, relayed by A before B went down, is served as the last good copy (not to be
    // cached further) until the token's own exp (a list A never relayed cannot be: a 502 problem naming
    // the peer as the dependency that failed, test/unit/licence/peer-status-lists.test.ts).
    const listId = `${b.credentials.issuer.id}.0`;
    const lastGood = await fetch(`${a.baseUrl}/status-lists/${listId}`);
    expect(lastGood.status).toBe(200);
    expect(lastGood.headers.get('cache-control')).toBe('public, max-age=0');
    const claims = decodeJwt(await lastGood.text());
    expect(claims.iss).toBe(b.credentials.issuer.id);
    expect(claims.exp! * 1000).toBeGreaterThan(Date.now());
    // A list B's trust list does not count is not asked of B at all (R23 L1): a 404, as for an unknown id.
    const uncounted = `${b.credentials.issuer.id}.7`;
    await expectProblem(await fetch(`${a.baseUrl}/status-lists/${uncounted}`), 404, 'status_list_not_found');
    const own = await fetch(`${a.baseUrl}/status-lists/${a.credentials.issuer.id}.0`);
    expect(own.status).toBe(200);
  }, 60_000);

  it('a removed peer’s issuers leave A’s trust list and verification at once', async () => {
    const licence = await issueDrivingLicence(c, await issuerToken(c));
    const peers = (
      (await (
        await fetch(`${a.baseUrl}/admin/peers`, {
          headers: { authorization: `Bearer ${await adminToken(a)}` },
        })
      ).json()) as { items: Array<{ id: string; baseUrl: string }> }
    ).items;
    const peerC = peers.find((p) => p.baseUrl === c.baseUrl)!.id;
    expect((await verified(a, licence.credential)).verdict).toBe('valid');
    const removed = await fetch(`${a.baseUrl}/admin/peers/${peerC}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${await adminToken(a)}` },
    });
    expect(removed.status).toBe(204);
    expect((await trustList(a)).issuers.find((e) => e.id === c.credentials.issuer.id)).toBeUndefined();
    expect((await verified(a, licence.credential)).verdict).toBe('unknown_issuer');
  });
});
