import { createLocalJWKSet, decodeJwt, jwtVerify, type JSONWebKeySet } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { composition, dependencies } from '../../functions/composition/dependencies.js';
import { kms, lambda } from '../../functions/composition/factories.js';
import type { FunctionName } from '../../functions/routes.js';
import { invocation } from '../../infra/local/invocation.js';
import { LocalAccessDenied } from '../../infra/local/grant-guard.js';
import { lambdaListSigner } from '../../shared/adapters/lambda/index.js';
import { NotFoundError } from '../../shared/errors.js';
import { decodeStatusList, readStatus, StatusType } from '../../packages/verifier/src/status-list.js';
import { zlibCompression } from '../../packages/verifier/src/status-list-zlib.js';
import { invokeEvent, signDigest } from '../support/kms-commands.js';
import { startTestRuntime, type TestRuntime } from '../support/runtime.js';

/**
 * Review R7, M1 (High): the anonymous functions serving the trust list and the status lists held kms:Sign
 * on the platform key (which signs every ID token) and on every issuer's key (which signs every licence),
 * to sign their lists lazily. Whoever compromised either could mint ID tokens or forge licences. Now the
 * lists are signed by `list-signer`, a function with no route that only they may invoke, told only which
 * list to sign (shared/licence/list-signer.ts).
 */
let runtime: TestRuntime;

beforeAll(async () => {
  runtime = await startTestRuntime();
});
afterAll(async () => {
  await runtime?.close();
});
afterEach(() => {
  runtime.lambda?.setFault(undefined);
});

/** `name`'s own clients, as the local runtime builds them for it: its container, guarded by its grants. */
const clientsOf = (name: FunctionName) =>
  invocation.run({ functionName: name }, () => composition({ kms, lambda })());

const sign = signDigest;

/** `caller`'s own Lambda client invoking `target` with `event`. */
const invokeWith = (caller: FunctionName, target: string, event: unknown) =>
  clientsOf(caller).lambda.send(invokeEvent(target, event));

async function demoIssuerKey(): Promise<string> {
  const issuer = await dependencies().issuers.findById(runtime.credentials.issuer.id);
  if (!issuer?.keyId) throw new Error('the demo issuer has no key');
  return issuer.keyId;
}

const get = (path: string) => fetch(`${runtime.baseUrl}${path}`);

async function platformJwks() {
  const response = await get('/.well-known/jwks.json');
  return createLocalJWKSet((await response.json()) as JSONWebKeySet);
}

/** Makes the stored trust list look `age` seconds old (and expiring at `exp`), so that it is stale. */
async function ageTrustList(age: number, exp?: number): Promise<void> {
  const { trustList } = dependencies();
  const stored = await trustList.find();
  if (!stored) throw new Error('no stored trust list');
  const { version, ...token } = stored;
  const now = Math.floor(Date.now() / 1000);
  expect(await trustList.save({ ...token, iat: now - age, exp: exp ?? token.exp }, version)).toBe(true);
}

describe('the anonymous list functions sign nothing', () => {
  it('refuses trust-list kms:Sign on the platform key, and status-lists on an issuer key', async () => {
    await expect(clientsOf('trust-list').kms.send(sign(runtime.config.platformKeyId))).rejects.toThrow(
      'Function trust-list is not granted kms:Sign on the platform key',
    );
    const issuerKey = await demoIssuerKey();
    await expect(clientsOf('status-lists').kms.send(sign(issuerKey))).rejects.toThrow(LocalAccessDenied);
    await expect(clientsOf('status-lists').kms.send(sign(issuerKey))).rejects.toThrow(
      'Function status-lists is not granted kms:Sign on the issuer key',
    );
    await expect(clientsOf('status-lists').kms.send(sign(runtime.config.platformKeyId))).rejects.toThrow(
      LocalAccessDenied,
    );
    // The signer, which no route reaches, may.
    await clientsOf('list-signer').kms.send(sign(runtime.config.platformKeyId));
    await clientsOf('list-signer').kms.send(sign(issuerKey));
  });

  it('lets only the list functions invoke the signer', async () => {
    const payload = { kind: 'trust-list' };
    for (const name of ['verify', 'me', 'oidc', 'licences'] as const) {
      await expect(invokeWith(name, 'list-signer', payload)).rejects.toThrow(
        `Function ${name} is not granted lambda:InvokeFunction on function list-signer`,
      );
    }
    // Nor may the list functions invoke anything else.
    await expect(invokeWith('trust-list', 'oidc', payload)).rejects.toThrow(
      'Function trust-list is not granted lambda:InvokeFunction on function oidc',
    );
    const answer = await invokeWith('status-lists', 'list-signer:live', payload);
    expect(answer.FunctionError).toBeUndefined();
    expect(JSON.parse(Buffer.from(answer.Payload!).toString('utf8'))).toMatchObject({
      jws: expect.any(String),
    });
  });
});

describe('the signer is invoked through its live alias alone (gradual deploys)', () => {
  // In AWS the grant is lambda:InvokeFunction on `<arn>:live` alone (test/cdk/gradual-deploys.test.ts):
  // $LATEST is what CodeDeploy has not yet let take traffic, and another alias or version is not granted.
  it.each([
    ['list-signer', '$LATEST'],
    ['list-signer:$LATEST', '$LATEST'],
    ['list-signer:1', '1'],
    ['arn:aws-cn:lambda:cn-north-1:123456789012:function:list-signer', '$LATEST'],
  ])('refuses the list functions %s', async (target, qualifier) => {
    await expect(invokeWith('trust-list', target, { kind: 'trust-list' })).rejects.toThrow(
      `Function trust-list is not granted lambda:InvokeFunction on function list-signer as ${qualifier} (only its live alias is granted)`,
    );
  });

  it('lets them invoke it by its qualified name or ARN, which the configuration names by default', async () => {
    expect(runtime.config.listSignerFunction).toBe('list-signer:live');
    for (const target of [
      'list-signer:live',
      'arn:aws-cn:lambda:cn-north-1:123456789012:function:list-signer:live',
    ]) {
      const answer = await invokeWith('trust-list', target, { kind: 'trust-list' });
      expect(answer.FunctionError, target).toBeUndefined();
    }
  });
});

describe('the lists are still served, and signed again when stale', () => {
  it('serves a fresh trust list with no call to the signer, and a stale one signed by it', async () => {
    const first = await (await get('/trust-list')).text();
    await jwtVerify(first, await platformJwks(), { typ: 'trust-list+jwt', issuer: runtime.baseUrl });
    runtime.lambda!.resetStats();
    expect(await (await get('/trust-list')).text()).toBe(first);
    expect(runtime.lambda!.stats()).toEqual({});

    await ageTrustList(1_800);
    const response = await get('/trust-list');
    const second = await response.text();
    expect(response.status).toBe(200);
    expect(second).not.toBe(first);
    expect(runtime.lambda!.stats()).toEqual({ 'list-signer': 1 });
    const { payload } = await jwtVerify(second, await platformJwks(), { typ: 'trust-list+jwt' });
    expect(Math.abs(payload.iat! - Date.now() / 1000)).toBeLessThan(60);
    expect(await (await get('/trust-list')).text()).toBe(second);
    expect(runtime.lambda!.stats()).toEqual({ 'list-signer': 1 });
  });

  it('serves a status change at the next request, as before, signed by the issuer key', async () => {
    const { statusLists } = dependencies();
    const slot = await statusLists.allocate(runtime.credentials.issuer.id);
    if (!slot) throw new Error('allocation failed');
    const path = `/status-lists/${encodeURIComponent(slot.listId)}`;
    const bitOf = async (jws: string) => {
      const { status_list } = decodeJwt(jws) as { status_list: { bits: 1 | 2 | 4 | 8; lst: string } };
      return readStatus((await decodeStatusList(status_list, zlibCompression)).bytes, slot.idx);
    };
    const before = await (await get(path)).text();
    expect(await bitOf(before)).toBe(StatusType.VALID);
    runtime.lambda!.resetStats();
    expect(await (await get(path)).text()).toBe(before);
    expect(runtime.lambda!.stats()).toEqual({});

    await statusLists.setStatus(slot.listId, slot.idx, StatusType.INVALID);
    const after = await (await get(path)).text();
    expect(await bitOf(after)).toBe(StatusType.INVALID);
    expect(runtime.lambda!.stats()).toEqual({ 'list-signer': 1 });
    const issuer = await dependencies().issuers.findById(runtime.credentials.issuer.id);
    expect(
      (await jwtVerify(after, createLocalJWKSet({ keys: [issuer!.publicJwk!] }))).protectedHeader.kid,
    ).toBe(issuer!.kid);
  });

  it('stores once for concurrent stale requests, each answered with a current list', async () => {
    await ageTrustList(1_800);
    const { version } = (await dependencies().trustList.find())!;
    const answers = await Promise.all(Array.from({ length: 8 }, () => get('/trust-list')));
    const tokens = await Promise.all(answers.map((answer) => answer.text()));
    expect(answers.map((answer) => answer.status)).toEqual(Array(8).fill(200));
    const jwks = await platformJwks();
    for (const token of tokens) await jwtVerify(token, jwks, { typ: 'trust-list+jwt' });
    const stored = (await dependencies().trustList.find())!;
    // One conditional write won; the others lost it (or found it fresh) and stored nothing.
    expect(stored.version).toBe(version + 1);
    expect(tokens).toContain(stored.jws);
  });
});

describe('the signer takes only which list to sign', () => {
  const invoke = async (event: unknown) => {
    const answer = await invokeWith('trust-list', 'list-signer:live', event);
    expect(answer.FunctionError).toBeUndefined();
    return JSON.parse(Buffer.from(answer.Payload!).toString('utf8')) as unknown;
  };

  it('refuses a malformed request, content offered with it included, and stores nothing', async () => {
    const before = await dependencies().trustList.find();
    for (const event of [
      null,
      [],
      'trust-list',
      {},
      { kind: 'other' },
      { kind: 'trust-list', issuers: [{ id: 'iss_forged' }] },
      { kind: 'status-list' },
      { kind: 'status-list', listId: 'x'.repeat(65) },
      {
        kind: 'status-list',
        listId: `${runtime.credentials.issuer.id}.0`,
        status_list: { bits: 2, lst: '' },
      },
    ]) {
      expect(await invoke(event), JSON.stringify(event)).toEqual({ error: 'invalid_request' });
    }
    expect(await dependencies().trustList.find()).toEqual(before);
  });

  it('answers an unknown list as not found, which the caller sees as such', async () => {
    expect(await invoke({ kind: 'status-list', listId: 'iss_AAAAAAAAAAAAAAAA.0' })).toEqual({
      error: 'status_list_not_found',
    });
    const signer = lambdaListSigner(clientsOf('status-lists').lambda, 'list-signer:live');
    await expect(signer.sign({ kind: 'status-list', listId: 'not-a-list' })).rejects.toBeInstanceOf(
      NotFoundError,
    );
  });
});

describe('when the signer cannot be reached', () => {
  it.each(['unhandled', 'throttled'] as const)(
    '(%s) serves the stored trust list while its exp is ahead, then 503 with Retry-After',
    async (fault) => {
      await get('/trust-list');
      const stored = (await dependencies().trustList.find())!;
      runtime.lambda!.setFault(fault);

      // Stale by age but still within its ttl: served, cacheable for what is left of its freshness.
      await ageTrustList(1_800);
      let response = await get('/trust-list');
      expect(response.status).toBe(200);
      expect(await response.text()).toBe(stored.jws);
      const maxAge = Number(/max-age=(\d+)/.exec(response.headers.get('cache-control') ?? '')?.[1]);
      expect(maxAge).toBeGreaterThan(1_700);
      expect(maxAge).toBeLessThanOrEqual(1_800);

      // Past its ttl: served uncacheable (verifiers judge its freshness by iat and ttl themselves).
      await ageTrustList(4_000);
      response = await get('/trust-list');
      expect(response.status).toBe(200);
      expect(response.headers.get('cache-control')).toBe('public, max-age=0');

      // Expired: nothing to serve.
      await ageTrustList(8 * 86_400, Math.floor(Date.now() / 1000) - 1);
      response = await get('/trust-list');
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBe('30');
      expect(((await response.json()) as { code: string }).code).toBe('temporarily_unavailable');

      // Back: signed again at once.
      runtime.lambda!.setFault(undefined);
      response = await get('/trust-list');
      expect(response.status).toBe(200);
      expect(await response.text()).not.toBe(stored.jws);
    },
  );

  it('serves a stale status list token while its exp is ahead; a changed list, whose token is gone, is 503', async () => {
    const { statusLists } = dependencies();
    const slot = await statusLists.allocate(runtime.credentials.issuer.id);
    if (!slot) throw new Error('allocation failed');
    const path = `/status-lists/${encodeURIComponent(slot.listId)}`;
    const before = await (await get(path)).text();
    runtime.lambda!.setFault('unhandled');

    // Stale by age (older than half its ttl): served, for what is left of its freshness.
    const snapshot = await statusLists.find(slot.listId);
    const token = snapshot.token!;
    expect(await statusLists.saveToken(slot.listId, { ...token, iat: token.iat - 200 }, snapshot)).toBe(true);
    let response = await get(path);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe(before);
    const maxAge = Number(/max-age=(\d+)/.exec(response.headers.get('cache-control') ?? '')?.[1]);
    expect(maxAge).toBeGreaterThan(90);
    expect(maxAge).toBeLessThanOrEqual(100);

    // A status change drops the stored token (it no longer says the truth): nothing to serve.
    await statusLists.setStatus(slot.listId, slot.idx, StatusType.SUSPENDED);
    response = await get(path);
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('30');

    runtime.lambda!.setFault(undefined);
    const after = await (await get(path)).text();
    const { status_list } = decodeJwt(after) as { status_list: unknown };
    expect(readStatus((await decodeStatusList(status_list, zlibCompression)).bytes, slot.idx)).toBe(
      StatusType.SUSPENDED,
    );
  });
});
