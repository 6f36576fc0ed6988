import { GenerateMacCommand } from '@aws-sdk/client-kms';
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dependencies } from '../../functions/composition/dependencies.js';
import { clientMetadata, registerClientInput } from '../../shared/clients/register-client.js';
import { cookieKeys, derivedSecret } from '../../shared/sso/derived-secrets.js';
import { randomId } from '../../shared/random-id.js';
import { auditEntriesOf } from '../support/audit-entries.js';
import { clientItems, emulatorKms, postJson, tokenRequest } from '../support/http-api.js';
import {
  adminToken,
  authorizationRequest,
  callbackOf,
  citizenAnswers,
  registerPlatform,
  signIn,
  type RelyingParty,
} from '../support/oidc-flows.js';
import { startTestRuntime, type TestRuntime } from '../support/runtime.js';
import { UserAgent } from '../support/user-agent.js';

/**
 * Review 24 (privilege escalation through the lookup key): the lookup MAC key is held by the
 * internet-facing holder, issuer and account APIs (`licences`, `me`, `accounts`, `batches`), and KMS's
 * GenerateMac cannot restrict the message. Two secrets derived from it are now derived from keys only the
 * OpenID provider (and for client secrets the operators' API) holds:
 *
 * - A client's secret was the lookup key's MAC of its id, so any of those functions could compute any
 *   client's secret, an operator's (scope `admin`) among them. Clients registered now derive it from the
 *   client-secret key; those registered before keep working until rotated onto it.
 * - The provider's cookie keys were derived from the lookup key: with a session id (stored in the table,
 *   listed by an index several functions query) they could sign a person's SSO session cookie.
 *
 * The attacker below holds the lookup key only, as a compromised `licences` function would: it computes
 * with the runtime's KMS emulator exactly what the service used to.
 */

let runtime: TestRuntime;
let admin: string;
beforeAll(async () => {
  runtime = await startTestRuntime();
  admin = await adminToken(runtime);
});
afterAll(() => runtime?.close());

/** What the lookup key's holder computes for `clientId`: the secret every client used to have. */
async function lookupKeySecret(clientId: string): Promise<string> {
  const kms = emulatorKms(runtime);
  try {
    const { Mac } = await kms.send(
      new GenerateMacCommand({
        KeyId: runtime.config.lookupMacKeyId,
        MacAlgorithm: 'HMAC_SHA_256',
        Message: new TextEncoder().encode(`elicence/oauth-client-secret/v1\0${clientId}`),
      }),
    );
    return Buffer.from(Mac!).toString('base64url');
  } finally {
    kms.destroy();
  }
}

const verifierToken = (client: { clientId: string; clientSecret: string }) =>
  tokenRequest(runtime, client, { grant_type: 'client_credentials', scope: 'licences:verify' });

/** A client-credentials answer: its status and error, or that a token came. */
async function tokenOutcome(response: Response): Promise<{ status: number; error?: string; token: boolean }> {
  const body = (await response.json()) as { error?: string; access_token?: string };
  return { status: response.status, ...(body.error && { error: body.error }), token: !!body.access_token };
}

async function rotate(clientId: string): Promise<Response> {
  return postJson(runtime, `/admin/clients/${clientId}/secret`, admin, undefined);
}

describe('client secrets (review 24 A)', () => {
  it('of a client registered now are not the lookup key’s MAC: its holder cannot authenticate as the client', async () => {
    const response = await postJson(runtime, '/admin/clients', admin, {
      name: 'Review 24 verifier app',
      scopes: ['licences:verify'],
    });
    expect(response.status).toBe(201);
    const client = (await response.json()) as { clientId: string; clientSecret: string };
    const forged = await lookupKeySecret(client.clientId);
    expect(forged).not.toBe(client.clientSecret);
    expect(
      await tokenOutcome(await verifierToken({ clientId: client.clientId, clientSecret: forged })),
    ).toEqual({
      status: 401,
      error: 'invalid_client',
      token: false,
    });
    // The client itself authenticates with the secret it was shown.
    expect(await tokenOutcome(await verifierToken(client))).toEqual({ status: 200, token: true });
    // Its record says which key (and nothing secret).
    const [item] = (await clientItems()).filter((i) => String(i.pk).endsWith(client.clientId));
    expect(JSON.stringify(item)).toContain('"secret_key":"client-secret"');
    expect(JSON.stringify(item)).not.toContain(client.clientSecret);
  });

  it('of the demo operator (a fresh data folder) cannot be computed with the lookup key: no admin token', async () => {
    const operator = runtime.credentials.admin;
    const forged = await lookupKeySecret(operator.clientId);
    expect(forged).not.toBe(operator.clientSecret);
    const attempt = await tokenRequest(
      runtime,
      { clientId: operator.clientId, clientSecret: forged },
      { grant_type: 'client_credentials', scope: 'admin' },
    );
    expect(await tokenOutcome(attempt)).toMatchObject({ status: 401, error: 'invalid_client', token: false });
    // The issuer onboarded at seeding too.
    const issuer = runtime.credentials.issuer;
    expect(await lookupKeySecret(issuer.clientId)).not.toBe(issuer.clientSecret);
  });

  it('of a client registered before the key keep working, until rotated: then only the new one works', async () => {
    // As registered before the client-secret key: the same record without the marker.
    const legacyId = randomId('cl');
    await dependencies().clients.save(
      clientMetadata(
        legacyId,
        registerClientInput.parse({ name: 'Legacy verifier app', scopes: ['licences:verify'] }),
      ),
    );
    const legacy = { clientId: legacyId, clientSecret: await lookupKeySecret(legacyId) };
    expect(await tokenOutcome(await verifierToken(legacy))).toEqual({ status: 200, token: true });

    const rotated = await rotate(legacyId);
    expect(rotated.status).toBe(200);
    const moved = (await rotated.json()) as { clientId: string; clientSecret: string };
    expect(moved.clientId).toBe(legacyId);
    expect(moved.clientSecret).not.toBe(legacy.clientSecret);
    expect(await tokenOutcome(await verifierToken(legacy))).toMatchObject({ status: 401, token: false });
    expect(await tokenOutcome(await verifierToken(moved))).toEqual({ status: 200, token: true });

    // A second rotation (a secret that leaked) replaces it again.
    const again = (await (await rotate(legacyId)).json()) as { clientSecret: string };
    expect(again.clientSecret).not.toBe(moved.clientSecret);
    expect(await tokenOutcome(await verifierToken(moved))).toMatchObject({ status: 401, token: false });
    expect(
      await tokenOutcome(await verifierToken({ clientId: legacyId, clientSecret: again.clientSecret })),
    ).toEqual({ status: 200, token: true });
  });

  it('rotate with an audit entry naming the operator, the client and the version, never the secret', async () => {
    const registered = await postJson(runtime, '/admin/clients', admin, {
      name: 'Audited verifier app',
      scopes: ['licences:verify'],
    });
    const target = (await registered.json()) as { clientId: string };
    const rotated = await rotate(target.clientId);
    expect(rotated.status).toBe(200);
    const { clientSecret } = (await rotated.json()) as { clientSecret: string };
    const operator = runtime.credentials.admin.clientId;
    const entries = (
      await auditEntriesOf(dependencies().doc, runtime.config.auditTableName, operator)
    ).filter((entry) => entry.action === 'client.secret_rotated' && entry.targetClientId === target.clientId);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ actor: operator, secretVersion: 2 });
    expect(entries[0]!.requestId).toEqual(expect.any(String));
    expect(JSON.stringify(entries)).not.toContain(clientSecret);
  });

  it('refuses (409 client_secret_key_unknown) a client whose record names a secret key it does not know', async () => {
    const id = randomId('cl');
    await dependencies().clients.save({
      ...clientMetadata(
        id,
        registerClientInput.parse({ name: 'Mended by hand', scopes: ['licences:verify'] }),
      ),
      secret_key: 'lookup-v9',
    });
    const refused = await rotate(id);
    expect(refused.status).toBe(409);
    expect(((await refused.json()) as { code?: string }).code).toBe('client_secret_key_unknown');
  });

  it('rotate only for a registered client with a secret, and only for an operator', async () => {
    expect((await rotate('cl_nobody')).status).toBe(404);
    // The demo platform is one of the service's own pages: its secret is the web key's, not rotatable here.
    const page = await rotate(runtime.credentials.platform.clientId);
    expect(page.status).toBe(409);
    expect(((await page.json()) as { code?: string }).code).toBe('client_secret_fixed');
    const anonymous = await postJson(runtime, '/admin/clients/cl_nobody/secret', 'not-a-token', undefined);
    expect(anonymous.status).toBe(401);
  });
});

/** `prompt=none` from a browser sending exactly `cookie`: the callback's code, or its error. */
async function silentSignIn(platform: RelyingParty, cookie: string) {
  const request = await authorizationRequest(platform, { prompt: 'none' });
  const { callback } = await callbackOf(
    new UserAgent(runtime.baseUrl, [], (url, init) =>
      fetch(url, { ...init, headers: { ...(init?.headers as Record<string, string>), cookie } }),
    ),
    request.url,
  );
  return { code: callback.searchParams.get('code'), error: callback.searchParams.get('error') };
}

/** A cookie's signature as the provider's cookie library (keygrip: HMAC-SHA1, base64url) computes it. */
const signature = (key: string, name: string, value: string) =>
  createHmac('sha1', key).update(`${name}=${value}`).digest('base64url');

describe('the SSO session cookie’s keys (review 24 B)', () => {
  it('are not derived from the lookup key: a session cookie its holder signs is nobody’s session', async () => {
    const platform = await registerPlatform(runtime, admin, {
      name: 'Review 24 platform',
      redirectUris: ['https://review24.example/cb'],
      scopes: ['openid', 'profile'],
      firstParty: true,
    });
    const person = new UserAgent(runtime.baseUrl);
    await signIn(platform, person, citizenAnswers(runtime));
    const pairs = new Map(
      person
        .cookieHeader(new URL('/', runtime.baseUrl))
        .split('; ')
        .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)] as const),
    );
    // The session id, which the table holds and which the attacker reads there.
    const sessionId = pairs.get('session')!;
    expect(sessionId).toBeTruthy();

    // Control: the real cookie signs the person in silently.
    const real = await silentSignIn(
      platform,
      `session=${sessionId}; session.sig=${pairs.get('session.sig')}`,
    );
    expect(real.code).toBeTruthy();

    // The attacker signs the same session id with the key the lookup key used to derive.
    const lookupDerived = Buffer.from(
      await derivedSecret(dependencies().lookupMac, 'cookie-key/v1'),
    ).toString('base64url');
    const forged = signature(lookupDerived, 'session', sessionId);
    expect(await silentSignIn(platform, `session=${sessionId}; session.sig=${forged}`)).toEqual({
      code: null,
      error: 'login_required',
    });
    // What it signed is not what the provider signs: the cookie keys derive from the interaction key.
    expect(forged).not.toBe(pairs.get('session.sig'));
    const [providerKey] = await cookieKeys(dependencies().interactionMac);
    expect(signature(providerKey!, 'session', sessionId)).toBe(pairs.get('session.sig'));
  });
});
