import { decodeJwt } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { nodeEs256, zlibCompression } from '../../../packages/verifier/src/node.js';
import { OfflineTrustStore } from '../../../packages/verifier/src/offline-store.js';
import { createStatusBytes, encodeStatusList } from '../../../packages/verifier/src/status-list.js';
import type { TrustListPayload } from '../../../packages/verifier/src/trust-list.js';
import { createVerifier } from '../../../packages/verifier/src/verifier.js';
import { signCompactJws } from '../../../shared/crypto/compact-jws.js';
import { formatLicenceId } from '../../../shared/identifiers/licence-id.js';
import { TRUST_LIST_MAX_CHARS } from '../../../shared/issuers/peer-limits.js';
import { startFakeHttpServer, type FakeHttpServer } from '../../support/fake-http-server.js';
import { expectProblem, newCreditCode, postJson } from '../../support/http-api.js';
import { LocalSigner } from '../../support/local-signer.js';
import { clientCredentialsToken, startTestRuntime, type TestRuntime } from '../../support/runtime.js';

/*
 * Review R23 over real HTTP, with fake peer platforms: a peer's list is bounded (H1: its size, and the
 * room our own trust list has for it, so that GET /trust-list never fails for a peer); a peer vouches
 * only for issuers registered in its region, two peers naming one issuer lose it both, and a credential
 * names its issuer with its own platform's URL (H2); the status-list relay asks a peer only for lists its
 * trust list counts, and keeps its 404 a minute (L1).
 */

let a: TestRuntime;
let admin: string;
const fakes: FakeHttpServer[] = [];
const now = () => Math.floor(Date.now() / 1000);

async function fake(): Promise<FakeHttpServer & { base: string }> {
  const server = await startFakeHttpServer();
  fakes.push(server);
  return Object.assign(server, { base: server.url('').replace(/\/$/, '') });
}

async function entry(
  id: string,
  creditCode: string,
  region: string,
  key: LocalSigner,
  name = `issuer ${id}`,
) {
  return {
    id,
    name,
    creditCode,
    region,
    status: 'active',
    jwks: { keys: [await key.publicJwk()] },
    licenceTypes: [{ code: 'driving-licence', typeCode: '003' }],
    statusLists: 1,
  };
}

async function trustListOf(platform: LocalSigner, iss: string, issuers: unknown[]) {
  const iat = now();
  return signCompactJws(
    { typ: 'trust-list+jwt' },
    { iss, iat, exp: iat + 7 * 86_400, ttl: 3600, issuers },
    platform,
  );
}

async function register(base: string, region: string, platform: LocalSigner) {
  return postJson(a, '/admin/peers', admin, {
    name: `peer ${region}`,
    region,
    baseUrl: base,
    jwks: { keys: [await platform.publicJwk()] },
  });
}

async function remove(id: string) {
  const answer = await fetch(`${a.baseUrl}/admin/peers/${id}`, {
    method: 'DELETE',
    headers: { authorization: `Bearer ${admin}` },
  });
  expect(answer.status).toBe(204);
}

async function ourTrustList(): Promise<{ status: number; jws: string }> {
  const answer = await fetch(`${a.baseUrl}/trust-list`);
  return { status: answer.status, jws: await answer.text() };
}

beforeAll(async () => {
  a = await startTestRuntime(undefined, { LOG_LEVEL: 'SILENT' });
  admin = await clientCredentialsToken(a, a.credentials.admin, 'admin');
}, 120_000);

// Each test starts with no peer, whatever the one before left (a failed one included).
afterEach(async () => {
  const listed = await fetch(`${a.baseUrl}/admin/peers`, { headers: { authorization: `Bearer ${admin}` } });
  for (const { id } of ((await listed.json()) as { items: Array<{ id: string }> }).items) await remove(id);
});

afterAll(async () => {
  await Promise.all([a?.close(), ...fakes.map((server) => server.close())]);
});

describe('a peer’s trust list is bounded (R23 H1)', () => {
  it('refuses a list over a peer’s limits with 422 peer_trust_list_too_large, reading no further than the limit', async () => {
    const platform = new LocalSigner();
    const key = new LocalSigner();
    // 900 issuers: about 500 KB, more than one item can hold (it was a 500, the save failing).
    const big = await fake();
    const many = await Promise.all(
      Array.from({ length: 900 }, (_, i) =>
        entry(`iss_big${i}`, newCreditCode('11', '340000'), '340000', key),
      ),
    );
    const list = await trustListOf(platform, big.base, many);
    big.answer((_, response) => void response.writeHead(200).end(list));
    const problem = await expectProblem(
      await register(big.base, '340000', platform),
      422,
      'peer_trust_list_too_large',
    );
    expect(problem.detail).toMatch(/131072 bytes/);

    // A peer that never stops sending: refused as soon as it passes the limit, not after the fetch timeout.
    const endless = await fake();
    let sent = 0;
    endless.answer((_, response) => {
      response.writeHead(200);
      const chunk = Buffer.alloc(16 * 1024, 0x41);
      const write = () => {
        while (!response.destroyed && sent < 64 * 1024 * 1024) {
          sent += chunk.length;
          if (!response.write(chunk)) return void response.once('drain', write);
        }
        response.end();
      };
      write();
    });
    const started = Date.now();
    await expectProblem(await register(endless.base, '350000', platform), 422, 'peer_trust_list_too_large');
    expect(Date.now() - started).toBeLessThan(4000);
    expect(sent).toBeLessThan(32 * 1024 * 1024);
  }, 120_000);

  it('refuses a peer our trust list has no room for (409 trust_list_full): GET /trust-list never fails', async () => {
    const key = new LocalSigner();
    const answers: number[] = [];
    const registered: string[] = [];
    // Each about 112 KB signed, within a peer's limits; two fit in our list beside ours, not three. Two
    // used to be accepted and then every GET /trust-list answered 503 until a peer was removed.
    for (const [region, prefix] of [
      ['320000', 'p'],
      ['330000', 'q'],
      ['360000', 'r'],
    ] as const) {
      const platform = new LocalSigner();
      const peer = await fake();
      const issuers = await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          entry(`iss_${prefix}${i}`, newCreditCode('11', region), region, key),
        ),
      );
      const list = await trustListOf(platform, peer.base, issuers);
      expect(list.length).toBeLessThan(128 * 1024);
      peer.answer((_, response) => void response.writeHead(200).end(list));
      const answer = await register(peer.base, region, platform);
      answers.push(answer.status);
      if (answer.status === 201) registered.push(((await answer.json()) as { id: string }).id);
      else {
        const problem = await expectProblem(answer, 409, 'trust_list_full');
        expect(problem.detail).toContain(String(TRUST_LIST_MAX_CHARS));
      }
      const ours = await ourTrustList();
      expect(ours.status, ours.jws.slice(0, 300)).toBe(200);
      expect(ours.jws.length).toBeLessThanOrEqual(TRUST_LIST_MAX_CHARS);
    }
    expect(answers).toEqual([201, 201, 409]);
    const listed = (decodeJwt((await ourTrustList()).jws) as unknown as TrustListPayload).issuers;
    expect(new Set(listed.flatMap((issuer) => (issuer.peer ? [issuer.peer] : [])))).toEqual(
      new Set(registered),
    );
    expect(listed.some((issuer) => issuer.id === a.credentials.issuer.id)).toBe(true);
    for (const id of registered) await remove(id);
    expect((await ourTrustList()).status).toBe(200);
  }, 180_000);
});

describe('a peer vouches for its own issuers only (R23 H2)', () => {
  it('an issuer whose credit code is of another region is not taken; credentials signed in its name do not verify', async () => {
    const [p, q] = [await fake(), await fake()];
    const [pPlatform, qPlatform, pKey, qKey] = [
      new LocalSigner(),
      new LocalSigner(),
      new LocalSigner(),
      new LocalSigner(),
    ];
    const X = 'iss_ZhejiangPolice0001';
    const zhejiang = newCreditCode('11', '330000');
    const name = '浙江省公安厅交通警察总队';
    // P (Jiangsu, 320000) lists Q's issuer id, credit code and name under a region of its own, first.
    const pList = await trustListOf(pPlatform, p.base, [await entry(X, zhejiang, '320100', pKey, name)]);
    const qList = await trustListOf(qPlatform, q.base, [await entry(X, zhejiang, '330000', qKey, name)]);
    const listUri = `${q.base}/status-lists/${X}.0`;
    p.answer(
      (request, response) => void response.writeHead(request.url === '/trust-list' ? 200 : 404).end(pList),
    );
    q.answer(
      (request, response) => void response.writeHead(request.url === '/trust-list' ? 200 : 404).end(qList),
    );
    const pAnswer = await register(p.base, '320000', pPlatform);
    expect(pAnswer.status).toBe(201);
    const pId = ((await pAnswer.json()) as { id: string }).id;
    const qAnswer = await register(q.base, '330000', qPlatform);
    expect(qAnswer.status).toBe(201);
    const qId = ((await qAnswer.json()) as { id: string }).id;
    const named = (decodeJwt((await ourTrustList()).jws) as unknown as TrustListPayload).issuers.filter(
      (issuer) => issuer.id === X,
    );
    expect(named).toEqual([expect.objectContaining({ peer: qId, issuerUrl: `${q.base}/issuers/${X}` })]);
    // What P's key signs in the name of Q's issuer is no licence of Q's.
    const iat = now();
    const credential = await signCompactJws(
      { typ: 'licence+jwt' },
      {
        iss: `${q.base}/issuers/${X}`,
        jti: formatLicenceId({ typeCode: '003', issuerCreditCode: zhejiang, serial: 7, version: 1 }),
        iat: iat - 60,
        nbf: iat - 60,
        exp: iat + 365 * 86_400,
        lt: 'driving-licence',
        hol: { k: 'p', n: '王小明', m: '330106********1239' },
        f: { vehicleClass: 'C1', firstIssuedOn: '2012-05-04', archiveNumber: '330100123456' },
        status: { status_list: { idx: 7, uri: listUri } },
      },
      pKey,
    );
    const verdict = (await (await postJson(a, '/verify', undefined, { qr: credential })).json()) as {
      verdict: string;
    };
    expect(verdict.verdict).not.toBe('valid');
    await remove(pId);
    await remove(qId);
  });

  it('a credential names its issuer with its own platform’s URL: another platform’s is unknown_issuer, online and offline', async () => {
    const [p, q] = [await fake(), await fake()];
    const [pPlatform, qPlatform, yKey, qKey] = [
      new LocalSigner(),
      new LocalSigner(),
      new LocalSigner(),
      new LocalSigner(),
    ];
    const Y = 'iss_JiangsuMarket0001';
    const jiangsu = newCreditCode('11', '320000');
    const pList = await trustListOf(pPlatform, p.base, [
      await entry(Y, jiangsu, '320000', yKey, '江苏省市场监督管理局'),
    ]);
    const qList = await trustListOf(qPlatform, q.base, [
      await entry('iss_ZhejiangMarket0001', newCreditCode('11', '330000'), '330000', qKey),
    ]);
    const iat = now();
    const statusToken = await signCompactJws(
      { typ: 'statuslist+jwt' },
      {
        iss: Y,
        sub: `${p.base}/status-lists/${Y}.0`,
        iat: iat - 5,
        exp: iat + 86_400,
        ttl: 300,
        status_list: await encodeStatusList(createStatusBytes(1024), zlibCompression),
      },
      yKey,
    );
    p.answer((request, response) => {
      if (request.url === '/trust-list') return void response.writeHead(200).end(pList);
      if (request.url === `/status-lists/${Y}.0`) return void response.writeHead(200).end(statusToken);
      response.writeHead(404).end();
    });
    q.answer(
      (request, response) => void response.writeHead(request.url === '/trust-list' ? 200 : 404).end(qList),
    );
    const ids = [];
    for (const [peer, region, platform] of [
      [p, '320000', pPlatform],
      [q, '330000', qPlatform],
    ] as const) {
      const answer = await register(peer.base, region, platform);
      expect(answer.status).toBe(201);
      ids.push(((await answer.json()) as { id: string }).id);
    }
    const credential = (iss: string) =>
      signCompactJws(
        { typ: 'licence+jwt' },
        {
          iss,
          jti: formatLicenceId({ typeCode: '003', issuerCreditCode: jiangsu, serial: 7, version: 1 }),
          iat: iat - 60,
          nbf: iat - 60,
          exp: iat + 365 * 86_400,
          lt: 'driving-licence',
          hol: { k: 'p', n: '王小明', m: '320106********1239' },
          f: { vehicleClass: 'C1', firstIssuedOn: '2012-05-04', archiveNumber: '320100123456' },
          status: { status_list: { idx: 7, uri: `${p.base}/status-lists/${Y}.0` } },
        },
        yKey,
      );
    const genuine = await credential(`${p.base}/issuers/${Y}`);
    // Signed with Y's own key, but naming it as Q's issuer: a verdict would read as Q's licence.
    const posing = await credential(`${q.base}/issuers/${Y}`);
    const online = async (qr: string) =>
      (await (await postJson(a, '/verify', undefined, { qr })).json()) as {
        verdict: string;
        reason?: string;
      };
    expect((await online(genuine)).verdict).toBe('valid');
    expect(await online(posing)).toMatchObject({ verdict: 'unknown_issuer', reason: 'issuer_url_mismatch' });

    const store = new OfflineTrustStore({
      baseUrl: a.baseUrl,
      crypto: nodeEs256,
      compression: zlibCompression,
    });
    await store.sync();
    const offline = createVerifier({ crypto: nodeEs256, trust: store, status: store });
    expect((await offline.verify(genuine)).verdict).toBe('valid');
    expect(await offline.verify(posing)).toMatchObject({
      verdict: 'unknown_issuer',
      reason: 'issuer_url_mismatch',
    });
    for (const id of ids) await remove(id);
  });

  it('two peers naming one issuer id lose it both, whichever registered first', async () => {
    const [p, q] = [await fake(), await fake()];
    const [pPlatform, qPlatform, key] = [new LocalSigner(), new LocalSigner(), new LocalSigner()];
    const Z = 'iss_SharedName000001';
    const pList = await trustListOf(pPlatform, p.base, [
      await entry(Z, newCreditCode('11', '320000'), '320000', key),
      await entry('iss_JiangsuOwn000001', newCreditCode('11', '320000'), '320000', key),
    ]);
    const qList = await trustListOf(qPlatform, q.base, [
      await entry(Z, newCreditCode('11', '330000'), '330000', key),
    ]);
    p.answer(
      (request, response) => void response.writeHead(request.url === '/trust-list' ? 200 : 404).end(pList),
    );
    q.answer(
      (request, response) => void response.writeHead(request.url === '/trust-list' ? 200 : 404).end(qList),
    );
    const pId = ((await (await register(p.base, '320000', pPlatform)).json()) as { id: string }).id;
    const named = async () =>
      (decodeJwt((await ourTrustList()).jws) as unknown as TrustListPayload).issuers
        .filter((issuer) => issuer.peer !== undefined)
        .map((issuer) => issuer.id)
        .sort();
    expect(await named()).toEqual(['iss_JiangsuOwn000001', Z]);
    const qId = ((await (await register(q.base, '330000', qPlatform)).json()) as { id: string }).id;
    expect(await named()).toEqual(['iss_JiangsuOwn000001']);
    // The peer at fault removed: the other's issuer is back.
    await remove(qId);
    expect(await named()).toEqual(['iss_JiangsuOwn000001', Z]);
    await remove(pId);
  });
});

describe('the status-list relay asks a peer only what its trust list counts (R23 L1)', () => {
  it('answers 404 without asking for a list beyond the count, and keeps the peer’s 404 a minute', async () => {
    const peer = await fake();
    const [platform, key] = [new LocalSigner(), new LocalSigner()];
    const list = await trustListOf(platform, peer.base, [
      await entry('iss_Anhui0001', newCreditCode('11', '340000'), '340000', key),
    ]);
    peer.answer((request, response) => {
      if (request.url === '/trust-list') response.writeHead(200).end(list);
      else response.writeHead(404).end();
    });
    const answer = await register(peer.base, '340000', platform);
    expect(answer.status).toBe(201);
    const before = peer.received.length;
    const statuses = new Set<number>();
    for (let i = 0; i < 30; i += 1) {
      const response = await fetch(
        `${a.baseUrl}/status-lists/iss_Anhui0001.${i % 3 === 0 ? 0 : 100_000 + i}`,
      );
      statuses.add(response.status);
      await response.body?.cancel();
    }
    expect([...statuses]).toEqual([404]);
    // One request for list 0 (its 404 then kept), none for the lists its trust list does not count.
    expect(peer.received.slice(before).map((request) => request.url)).toEqual([
      '/status-lists/iss_Anhui0001.0',
    ]);
    await remove(((await answer.json()) as { id: string }).id);
  });
});
