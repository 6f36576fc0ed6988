import { CreateKeyCommand, DescribeKeyCommand, DisableKeyCommand, type KeySpec } from '@aws-sdk/client-kms';
import { compactVerify, createLocalJWKSet, decodeProtectedHeader, type JSONWebKeySet } from 'jose';
import { afterAll, afterEach, expect, it, vi } from 'vitest';
import { logger } from '../../../shared/logger.js';
import { emulatorKms } from '../../support/http-api.js';
import { thumbprintKeys } from '../../support/jwks.js';
import {
  citizenAnswers,
  discover,
  getWithToken,
  registerPlatform,
  adminToken,
  signIn,
  verifyNotice,
  walletPlatform,
  type RelyingParty,
} from '../../support/oidc-flows.js';
import { registerNotifiedPlatform, withdrawAuthorization } from '../../support/sharing-flows.js';
import { createNodeVerifier, nodeEs256 } from '../../../packages/verifier/src/node.js';
import { OfflineTrustStore } from '../../../packages/verifier/src/offline-store.js';
import { zlibCompression } from '../../../packages/verifier/src/status-list-zlib.js';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.js';
import { UserAgent } from '../../support/user-agent.js';

/*
 * Step 2 of a signing key's rotation (docs/operating.md, "The platform signing key", "During a rollout"),
 * rehearsed on the local runtime: the stack disables the retired generation while the step-1 version is
 * still serving, and a container of that version starting then lists the disabled generation as previous.
 * It must start, publish the keys it can read, and log the one it leaves out (review R49 F1). Each restart
 * is a fresh composition: every function's container, the `oidc` provider among them, built anew.
 */

let runtime: TestRuntime | undefined;
afterAll(() => runtime?.close());
afterEach(() => vi.restoreAllMocks());

const LEFT_OUT = 'a retiring key generation is disabled or no longer granted: left out';

/** The runtime restarted on the same data with `env`: the operator's deployment, or a cold container. */
async function restart(env: Record<string, string>): Promise<TestRuntime> {
  const { dataDir } = runtime!;
  await runtime!.close();
  runtime = await startTestRuntime(dataDir, env);
  return runtime;
}

/** The operator's KMS calls (aws kms … in AWS): a key of `keySpec`, the key behind an alias, DisableKey. */
const operator = {
  async createKey(keySpec: KeySpec): Promise<string> {
    const kms = emulatorKms(runtime!);
    const { KeyMetadata } = await kms.send(
      new CreateKeyCommand({ KeySpec: keySpec, KeyUsage: 'SIGN_VERIFY' }),
    );
    kms.destroy();
    return KeyMetadata!.KeyId!;
  },
  async keyBehind(alias: string): Promise<string> {
    const kms = emulatorKms(runtime!);
    const { KeyMetadata } = await kms.send(new DescribeKeyCommand({ KeyId: alias }));
    kms.destroy();
    return KeyMetadata!.KeyId!;
  },
  async disable(keyId: string): Promise<void> {
    const kms = emulatorKms(runtime!);
    await kms.send(new DisableKeyCommand({ KeyId: keyId }));
    kms.destroy();
  },
};

/** The published JWKS, without the same keys under their presentations' short kids (credentials.md). */
async function jwks(baseUrl: string): Promise<JSONWebKeySet> {
  const response = await fetch(`${baseUrl}/.well-known/jwks.json`);
  expect(response.status, await response.clone().text()).toBe(200);
  return { keys: thumbprintKeys(((await response.json()) as JSONWebKeySet).keys) };
}

/** A registered platform, its configuration discovered at the runtime now running (a restart moves the port). */
const platformAt = async (platform: RelyingParty): Promise<RelyingParty> => ({
  ...platform,
  config: await discover(runtime!.baseUrl, platform),
});

/** The notices JWKS (`/.well-known/notices-jwks.json`) and how it may be cached. */
async function noticeKeys(baseUrl: string): Promise<JSONWebKeySet & { cacheControl: string | null }> {
  const response = await fetch(`${baseUrl}/.well-known/notices-jwks.json`);
  expect(response.status, await response.clone().text()).toBe(200);
  return {
    ...((await response.json()) as JSONWebKeySet),
    cacheControl: response.headers.get('cache-control'),
  };
}

const kidsOf = (set: JSONWebKeySet, kty: string) =>
  set.keys.filter((key) => key.kty === kty).map((key) => key.kid);

it('platform keys (ES256 and RS256), step 2: a cold oidc container of the step-1 version starts without the disabled generation, and ID tokens verify', async () => {
  runtime = await startTestRuntime();
  const es1 = await operator.keyBehind('alias/elicence-platform');
  const rsa1 = await operator.keyBehind('alias/elicence-platform-rsa');
  const token = await adminToken(runtime);
  const es256Platform = await registerPlatform(runtime, token, {
    name: 'ES256 platform',
    redirectUris: ['https://es256.example/cb'],
    scopes: ['openid', 'profile'],
  });
  const rs256Platform = await registerPlatform(runtime, token, {
    name: 'RS256 platform',
    redirectUris: ['https://rs256.example/cb'],
    scopes: ['openid', 'profile'],
    idTokenSignedResponseAlg: 'RS256',
  });
  const before = await jwks(runtime.baseUrl);
  const [es1Kid] = kidsOf(before, 'EC');
  const [rsa1Kid] = kidsOf(before, 'RSA');

  // Step 1: generation 2 of each signs; generation 1 is previous (the aliases still name it).
  const step1 = {
    PLATFORM_KEY_ID: await operator.createKey('ECC_NIST_P256'),
    PLATFORM_PREVIOUS_KEY_IDS: 'alias/elicence-platform',
    PLATFORM_RSA_KEY_ID: await operator.createKey('RSA_2048'),
    PLATFORM_RSA_PREVIOUS_KEY_IDS: 'alias/elicence-platform-rsa',
  };
  await restart(step1);
  const rotating = await jwks(runtime.baseUrl);
  const [es2Kid] = kidsOf(rotating, 'EC');
  const [rsa2Kid] = kidsOf(rotating, 'RSA');
  expect(kidsOf(rotating, 'EC')).toEqual([es2Kid, es1Kid]);
  expect(kidsOf(rotating, 'RSA')).toEqual([rsa2Kid, rsa1Kid]);
  const answers = citizenAnswers(runtime);
  const signedInStep1 = await signIn(
    await platformAt(es256Platform),
    new UserAgent(runtime.baseUrl),
    answers,
  );
  expect(decodeProtectedHeader(signedInStep1.tokens.id_token!).kid).toBe(es2Kid);

  // Step 2's rollout: the stack disables generation 1 of both, and a container of the step-1 version
  // (which still lists them) starts: the runtime restarted with the same configuration.
  await operator.disable(es1);
  await operator.disable(rsa1);
  const warn = vi.spyOn(logger, 'warn');
  await restart(step1);

  // It starts, and its JWKS is generation 2 alone.
  const retired = await jwks(runtime.baseUrl);
  expect(kidsOf(retired, 'EC')).toEqual([es2Kid]);
  expect(kidsOf(retired, 'RSA')).toEqual([rsa2Kid]);
  expect(warn).toHaveBeenCalledWith(LEFT_OUT, {
    keyId: 'alias/elicence-platform',
    error: 'DisabledException',
  });
  expect(warn).toHaveBeenCalledWith(LEFT_OUT, {
    keyId: 'alias/elicence-platform-rsa',
    error: 'DisabledException',
  });

  // ID tokens still verify against it: the one of step 1 and new ones, ES256 and RS256.
  const published = createLocalJWKSet(retired);
  await compactVerify(signedInStep1.tokens.id_token!, published, { algorithms: ['ES256'] });
  const es256 = await signIn(await platformAt(es256Platform), new UserAgent(runtime.baseUrl), answers);
  expect(decodeProtectedHeader(es256.tokens.id_token!).kid).toBe(es2Kid);
  await compactVerify(es256.tokens.id_token!, published, { algorithms: ['ES256'] });
  const rs256SignIn = await signIn(await platformAt(rs256Platform), new UserAgent(runtime.baseUrl), answers);
  expect(decodeProtectedHeader(rs256SignIn.tokens.id_token!)).toMatchObject({ alg: 'RS256', kid: rsa2Kid });
  await compactVerify(rs256SignIn.tokens.id_token!, published, { algorithms: ['RS256'] });

  // The step-2 version lists no previous key: the same set, and nothing left out.
  warn.mockClear();
  await restart({ PLATFORM_KEY_ID: step1.PLATFORM_KEY_ID, PLATFORM_RSA_KEY_ID: step1.PLATFORM_RSA_KEY_ID });
  expect(await jwks(runtime.baseUrl)).toEqual(retired);
  expect(warn).not.toHaveBeenCalledWith(LEFT_OUT, expect.anything());
});

it('notice key, step 2: a fresh trust-list container of the step-1 version publishes the notices JWKS without the disabled generation, and a notice delivered then verifies', async () => {
  await runtime?.close();
  // No timer: the test runs the delivery rounds itself.
  const rounds = { NOTICE_INTERVAL_SECONDS: '0', NOTICE_RETRY_SECONDS: '1' };
  runtime = await startTestRuntime(undefined, rounds);
  const notice1 = await operator.keyBehind('alias/elicence-notice');
  const { platform, receiver } = await registerNotifiedPlatform(
    runtime,
    await adminToken(runtime),
    '通知密钥轮换平台',
    'https://notices.example',
  );
  receiver.answer((_, res) => {
    res.writeHead(202).end();
  });
  try {
    // Step 1: generation 2 signs notices, generation 1 is published beside it.
    const step1 = {
      ...rounds,
      NOTICE_KEY_ID: await operator.createKey('ECC_NIST_P256'),
      NOTICE_PREVIOUS_KEY_IDS: 'alias/elicence-notice',
    };
    await restart(step1);
    const rotating = await noticeKeys(runtime.baseUrl);
    expect(rotating.keys).toHaveLength(2);
    const [notice2Kid] = rotating.keys.map((key) => key.kid);

    // Step 2's rollout: generation 1 disabled, a container of the step-1 version starts.
    await operator.disable(notice1);
    const error = vi.spyOn(logger, 'error');
    const warn = vi.spyOn(logger, 'warn');
    await restart(step1);
    const retired = await noticeKeys(runtime.baseUrl);
    expect(retired.keys.map((key) => key.kid)).toEqual([notice2Kid]);
    // Answered, but not cached: the set lacks a key it lists.
    expect(retired.cacheControl).toBe('no-store');
    // Step 2's planned disable: WARN, not an ERROR that would page the on-call for every rotation.
    expect(warn).toHaveBeenCalledWith(
      'a retiring notice key cannot be read: left out of the notice key set',
      { keyId: 'alias/elicence-notice', error: 'DisabledException' },
    );
    expect(error).not.toHaveBeenCalledWith(
      'a retiring notice key cannot be read: left out of the notice key set',
      expect.anything(),
    );

    // A notice delivered now (the person withdraws their sign-in) verifies as the platform checks it.
    const browser = new UserAgent(runtime.baseUrl, [`${runtime.baseUrl}/wallet/callback`]);
    const answers = citizenAnswers(runtime);
    const { claims } = await signIn(await platformAt(platform), browser, answers, {
      scope: 'openid profile',
    });
    const wallet = await walletPlatform(runtime);
    const mine = (await signIn(wallet, browser, answers, { scope: 'openid licences' })).tokens.access_token;
    const listed = (await (await getWithToken(runtime, '/me/authorizations', mine)).json()) as {
      items: Array<{ id: string; kind: string; client: { id: string } }>;
    };
    const grant = listed.items.find(
      (item) => item.kind === 'sign_in' && item.client.id === platform.clientId,
    );
    expect((await withdrawAuthorization(runtime, grant!.id, mine)).status).toBe(204);
    for (let i = 0; i < 20 && receiver.received.length === 0; i++) await runtime.deliverNotices();
    const { payload, protectedHeader } = await verifyNotice(runtime.baseUrl, receiver.received[0]!.body, {
      audience: platform.clientId,
    });
    expect(protectedHeader.kid).toBe(notice2Kid);
    expect(payload.sub).toBe(claims.sub);
  } finally {
    await receiver.close();
  }
});

it('presentation key, step 2: the step-1 version started anew names generation 2 alone in its trust list, and /verify and verifier apps accept what it signs', async () => {
  await runtime?.close();
  runtime = await startTestRuntime();
  const presentation1 = await operator.keyBehind('alias/elicence-presentation');
  const wallet = await registerPlatform(runtime, await adminToken(runtime), {
    name: 'Wallet',
    redirectUris: ['https://wallet.example/cb'],
    scopes: ['openid', 'licences'],
    firstParty: true,
  });
  const answers = citizenAnswers(runtime);
  /** A presentation of the citizen's first licence, made by the holder API. */
  const present = async () => {
    const { tokens } = await signIn(await platformAt(wallet), new UserAgent(runtime!.baseUrl), answers, {
      scope: 'openid licences',
    });
    const { items } = (await (await getWithToken(runtime!, '/me/licences', tokens.access_token)).json()) as {
      items: Array<{ id: string }>;
    };
    const response = await fetch(
      `${runtime!.baseUrl}/me/licences/${encodeURIComponent(items[0]!.id)}/presentations`,
      {
        method: 'POST',
        headers: { authorization: `Bearer ${tokens.access_token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ ttlSeconds: 600 }),
      },
    );
    expect(response.status).toBe(201);
    return ((await response.json()) as { token: string }).token;
  };
  /** The trust list's presentation keys, and the verdicts of a verifier app (synced from it) and /verify. */
  const verdicts = async (qr: string) => {
    const store = new OfflineTrustStore({
      baseUrl: runtime!.baseUrl,
      crypto: nodeEs256,
      compression: zlibCompression,
    });
    await store.sync({ cache: 'no-store' });
    const offline = await createNodeVerifier({ trust: store, status: store }).verify(qr);
    const online = (await (
      await fetch(`${runtime!.baseUrl}/verify`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ qr }),
      })
    ).json()) as { verdict: string };
    return { keys: (store.presentationKeys() ?? []).map((key) => key.kid), offline: offline.verdict, online };
  };

  const step1 = {
    PRESENTATION_KEY_ID: await operator.createKey('ECC_NIST_P256'),
    PRESENTATION_PREVIOUS_KEY_IDS: 'alias/elicence-presentation',
  };
  await restart(step1);
  const signedStep1 = await present();
  const rotating = await verdicts(signedStep1);
  expect(rotating.keys).toHaveLength(2);
  const [presentation2Kid] = rotating.keys;

  // Step 2's rollout: generation 1 disabled, the step-1 version (trust-list, verify) started anew.
  await operator.disable(presentation1);
  const warn = vi.spyOn(logger, 'warn');
  await restart(step1);
  const retired = await verdicts(signedStep1);
  expect(retired).toMatchObject({ keys: [presentation2Kid], offline: 'valid', online: { verdict: 'valid' } });
  expect(await verdicts(await present())).toMatchObject({ offline: 'valid', online: { verdict: 'valid' } });
  expect(warn).toHaveBeenCalledWith(LEFT_OUT, {
    keyId: 'alias/elicence-presentation',
    error: 'DisabledException',
  });
});
