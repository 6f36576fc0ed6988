import { CreateKeyCommand } from '@aws-sdk/client-kms';
import { compactVerify, createLocalJWKSet, decodeProtectedHeader, type JSONWebKeySet } from 'jose';
import { afterAll, expect, it } from 'vitest';
import { emulatorKms } from '../../support/http-api.js';
import {
  adminToken,
  discover,
  getWithToken,
  registerPlatform,
  signIn,
  type RelyingParty,
  citizenAnswers,
} from '../../support/oidc-flows.js';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.js';
import { thumbprintKeys } from '../../support/jwks.js';
import { createNodeVerifier, nodeEs256 } from '../../../packages/verifier/src/node.js';
import { OfflineTrustStore } from '../../../packages/verifier/src/offline-store.js';
import {
  presentationJwksKid,
  readPresentationEnvelope,
} from '../../../packages/verifier/src/presentation-format.js';
import { zlibCompression } from '../../../packages/verifier/src/status-list-zlib.js';
import { UserAgent } from '../../support/user-agent.js';

let runtime: TestRuntime | undefined;
afterAll(() => runtime?.close());

/**
 * The operator's rotation: a new KMS key of `keySpec`, and the runtime restarted on the same data with
 * `env(keyId)` (the new key current, the old one previous).
 */
async function restartWithNewKey(
  env: (keyId: string) => Record<string, string>,
  keySpec: 'ECC_NIST_P256' | 'RSA_2048' = 'ECC_NIST_P256',
): Promise<string> {
  const { dataDir } = runtime!;
  const { KeyMetadata } = await emulatorKms(runtime!).send(
    new CreateKeyCommand({ KeySpec: keySpec, KeyUsage: 'SIGN_VERIFY' }),
  );
  await runtime!.close();
  runtime = await startTestRuntime(dataDir, env(KeyMetadata!.KeyId!));
  return KeyMetadata!.KeyId!;
}

async function jwks(baseUrl: string): Promise<JSONWebKeySet> {
  const published = (await (await fetch(`${baseUrl}/.well-known/jwks.json`)).json()) as JSONWebKeySet;
  // Without the same keys under their presentations' short kids (credentials.md).
  return { keys: thumbprintKeys(published.keys) };
}

it('rotating the platform key: the new key signs, and what the old key signed keeps verifying', async () => {
  // Before: one platform key signs ID tokens (presentations have a key of their own, unchanged here).
  runtime = await startTestRuntime();
  const wallet = await registerPlatform(runtime, await adminToken(runtime), {
    name: 'Wallet',
    redirectUris: ['https://wallet.example/cb'],
    scopes: ['openid', 'licences'],
    firstParty: true,
  });
  const before = await signIn(wallet, new UserAgent(runtime.baseUrl), citizenAnswers(runtime), {
    scope: 'openid licences',
  });
  const oldIdToken = before.tokens.id_token!;
  const oldKid = decodeProtectedHeader(oldIdToken).kid;
  const { items } = (await (
    await getWithToken(runtime, '/me/licences', before.tokens.access_token)
  ).json()) as { items: Array<{ id: string }> };
  const presented = await fetch(
    `${runtime.baseUrl}/me/licences/${encodeURIComponent(items[0]!.id)}/presentations`,
    {
      method: 'POST',
      headers: { authorization: `Bearer ${before.tokens.access_token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ttlSeconds: 600 }),
    },
  );
  const oldPresentation = ((await presented.json()) as { token: string }).token;

  // The operator makes a new key and restarts with it current and the old one previous.
  await restartWithNewKey((keyId) => ({
    PLATFORM_KEY_ID: keyId,
    PLATFORM_PREVIOUS_KEY_IDS: 'alias/elicence-platform',
  }));

  // Both keys are published, the new one first (beside the RSA key of RS256 platforms).
  const published = await jwks(runtime.baseUrl);
  const ecKeys = published.keys.filter((key) => key.kty === 'EC');
  expect(ecKeys).toHaveLength(2);
  expect(ecKeys[1]!.kid).toBe(oldKid);
  const newKid = ecKeys[0]!.kid;
  expect(newKid).not.toBe(oldKid);

  // What the old key signed still verifies against the published keys.
  const verified = await compactVerify(oldIdToken, createLocalJWKSet(published), { algorithms: ['ES256'] });
  expect(verified.protectedHeader.kid).toBe(oldKid);
  const verdict = await fetch(`${runtime.baseUrl}/verify`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ qr: oldPresentation }),
  });
  expect(((await verdict.json()) as { verdict: string }).verdict).toBe('valid');

  // And from now on the new key signs: ID tokens and the trust list.
  const rp: RelyingParty = { ...wallet, config: await discover(runtime.baseUrl, wallet) };
  const after = await signIn(rp, new UserAgent(runtime.baseUrl), citizenAnswers(runtime), {
    scope: 'openid licences',
  });
  expect(decodeProtectedHeader(after.tokens.id_token!).kid).toBe(newKid);
  const trustList = await (await fetch(`${runtime.baseUrl}/trust-list`)).text();
  expect(decodeProtectedHeader(trustList).kid).toBe(newKid);
});

it('rotating the RSA platform key: the new key signs RS256 ID tokens, the old one stays published', async () => {
  await runtime?.close();
  runtime = await startTestRuntime();
  const platform = await registerPlatform(runtime, await adminToken(runtime), {
    name: 'RS256 platform',
    redirectUris: ['https://rs256.example/cb'],
    scopes: ['openid', 'profile'],
    idTokenSignedResponseAlg: 'RS256',
  });
  const password = citizenAnswers(runtime);
  const before = await signIn(platform, new UserAgent(runtime.baseUrl), password);
  const oldIdToken = before.tokens.id_token!;
  expect(decodeProtectedHeader(oldIdToken).alg).toBe('RS256');
  const oldKid = decodeProtectedHeader(oldIdToken).kid;

  await restartWithNewKey(
    (keyId) => ({ PLATFORM_RSA_KEY_ID: keyId, PLATFORM_RSA_PREVIOUS_KEY_IDS: 'alias/elicence-platform-rsa' }),
    'RSA_2048',
  );

  const published = await jwks(runtime.baseUrl);
  const rsaKeys = published.keys.filter((key) => key.kty === 'RSA');
  expect(rsaKeys).toHaveLength(2);
  expect(rsaKeys.every((key) => key.alg === 'RS256' && key.use === 'sig')).toBe(true);
  expect(rsaKeys[1]!.kid).toBe(oldKid);
  const newKid = rsaKeys[0]!.kid;
  expect(newKid).not.toBe(oldKid);
  await compactVerify(oldIdToken, createLocalJWKSet(published), { algorithms: ['RS256'] });

  const rp: RelyingParty = { ...platform, config: await discover(runtime.baseUrl, platform) };
  const after = await signIn(rp, new UserAgent(runtime.baseUrl), password);
  expect(decodeProtectedHeader(after.tokens.id_token!)).toMatchObject({ alg: 'RS256', kid: newKid });
  await compactVerify(after.tokens.id_token!, createLocalJWKSet(published), { algorithms: ['RS256'] });
});

it('rotating the presentation key: the new key signs presentations, the retiring one verifies until dropped', async () => {
  await runtime?.close();
  runtime = await startTestRuntime();
  const { dataDir } = runtime;
  const wallet = await registerPlatform(runtime, await adminToken(runtime), {
    name: 'Wallet',
    redirectUris: ['https://wallet.example/cb'],
    scopes: ['openid', 'licences'],
    firstParty: true,
  });
  const answers = citizenAnswers(runtime);
  /** A presentation of the citizen's first licence, made by the holder API over HTTP. */
  const present = async (baseUrl: string) => {
    const rp: RelyingParty = { ...wallet, config: await discover(baseUrl, wallet) };
    const { tokens } = await signIn(rp, new UserAgent(baseUrl), answers, { scope: 'openid licences' });
    const { items } = (await (await getWithToken(runtime!, '/me/licences', tokens.access_token)).json()) as {
      items: Array<{ id: string }>;
    };
    const response = await fetch(`${baseUrl}/me/licences/${encodeURIComponent(items[0]!.id)}/presentations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.access_token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ttlSeconds: 600 }),
    });
    expect(response.status).toBe(201);
    return ((await response.json()) as { token: string }).token;
  };
  /** The trust list's presentation keys, and verdicts offline (synced from it) and online. */
  const verdicts = async (baseUrl: string, qr: string) => {
    const store = new OfflineTrustStore({ baseUrl, crypto: nodeEs256, compression: zlibCompression });
    await store.sync({ cache: 'no-store' });
    const offline = await createNodeVerifier({ trust: store, status: store }).verify(qr);
    const online = (await (
      await fetch(`${baseUrl}/verify`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ qr }),
      })
    ).json()) as { verdict: string };
    return { keys: (store.presentationKeys() ?? []).map((key) => key.kid), offline, online: online.verdict };
  };
  const coseKid = (qr: string) => Buffer.from(readPresentationEnvelope(qr).kid).toString('base64url');

  const before = await present(runtime.baseUrl);
  const [oldKid] = (await verdicts(runtime.baseUrl, before)).keys;
  expect(presentationJwksKid(oldKid!)).toBe(coseKid(before));

  // Generation 2: a new key signs, generation 1 is kept (public key only) while what it signed is shown.
  const newKeyId = await restartWithNewKey((keyId) => ({
    PRESENTATION_KEY_ID: keyId,
    PRESENTATION_PREVIOUS_KEY_IDS: 'alias/elicence-presentation',
  }));
  const after = await present(runtime.baseUrl);
  const rotating = await verdicts(runtime.baseUrl, before);
  expect(rotating.keys).toHaveLength(2);
  expect(rotating.keys[1]).toBe(oldKid);
  const newKid = rotating.keys[0]!;
  expect(presentationJwksKid(newKid)).toBe(coseKid(after));
  expect(rotating).toMatchObject({ offline: { verdict: 'valid' }, online: 'valid' });
  expect(await verdicts(runtime.baseUrl, after)).toMatchObject({
    offline: { verdict: 'valid' },
    online: 'valid',
  });

  // Generation 1 retired (its presentations have expired): it is named nowhere and verifies nothing.
  await runtime.close();
  runtime = await startTestRuntime(dataDir, { PRESENTATION_KEY_ID: newKeyId });
  const retired = await verdicts(runtime.baseUrl, before);
  expect(retired.keys).toEqual([newKid]);
  expect(retired).toMatchObject({ offline: { verdict: 'unknown_issuer' }, online: 'unknown_issuer' });
  expect(await verdicts(runtime.baseUrl, after)).toMatchObject({
    offline: { verdict: 'valid' },
    online: 'valid',
  });
});
