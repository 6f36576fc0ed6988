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
} from '../../support/oidc-flows.js';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.js';
import { thumbprintKeys } from '../../support/jwks.js';
import { UserAgent } from '../../support/user-agent.js';

let runtime: TestRuntime | undefined;
afterAll(() => runtime?.close());

async function jwks(baseUrl: string): Promise<JSONWebKeySet> {
  const published = (await (await fetch(`${baseUrl}/.well-known/jwks.json`)).json()) as JSONWebKeySet;
  // Without the same keys under their presentations' short kids (credentials.md).
  return { keys: thumbprintKeys(published.keys) };
}

it('rotating the platform key: the new key signs, and what the old key signed keeps verifying', async () => {
  // Before: one platform key signs ID tokens and presentations.
  runtime = await startTestRuntime();
  const { dataDir } = runtime;
  const wallet = await registerPlatform(runtime, await adminToken(runtime), {
    name: 'Wallet',
    redirectUris: ['https://wallet.example/cb'],
    scopes: ['openid', 'licences'],
    firstParty: true,
  });
  const { citizen } = runtime.credentials;
  const before = await signIn(
    wallet,
    new UserAgent(runtime.baseUrl),
    { username: citizen.idNumber, password: citizen.password },
    { scope: 'openid licences' },
  );
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
  const { KeyMetadata } = await emulatorKms(runtime).send(
    new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' }),
  );
  await runtime.close();
  runtime = await startTestRuntime(dataDir, {
    PLATFORM_KEY_ID: KeyMetadata!.KeyId!,
    PLATFORM_PREVIOUS_KEY_IDS: 'alias/elicence-platform',
  });

  // Both keys are published, the new one first.
  const published = await jwks(runtime.baseUrl);
  expect(published.keys).toHaveLength(2);
  expect(published.keys[1]!.kid).toBe(oldKid);
  const newKid = published.keys[0]!.kid;
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
  const after = await signIn(
    rp,
    new UserAgent(runtime.baseUrl),
    { username: citizen.idNumber, password: citizen.password },
    { scope: 'openid licences' },
  );
  expect(decodeProtectedHeader(after.tokens.id_token!).kid).toBe(newKid);
  const trustList = await (await fetch(`${runtime.baseUrl}/trust-list`)).text();
  expect(decodeProtectedHeader(trustList).kid).toBe(newKid);
});
