import { generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { rm } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import Provider from 'oidc-provider';
import * as client from 'openid-client';
import { clientCredentialsToken, startTestRuntime } from '../support/runtime.js';
import { parseForm, UserAgent } from '../support/user-agent.js';
import { header, measure, row } from './measure.js';

const LOGINS = 40;
const SSO_LOGINS = 200;
const BASELINE_LOGINS = 1000;
const CONCURRENCY = 4;
const redirectUri = 'https://platform.bench.example/cb';

interface Flow {
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  /** Takes a user agent from the authorization URL to the callback; returns the callback URL. */
  authenticate(ua: UserAgent, url: URL): Promise<URL>;
}

/** authorize → (sign in) → code → token, as a relying party does it, with PKCE. */
async function loginFlow(flow: Flow, ua: UserAgent): Promise<void> {
  const config = new client.Configuration(
    await cachedMetadata(flow.baseUrl),
    flow.clientId,
    flow.clientSecret,
  );
  client.allowInsecureRequests(config);
  const verifier = client.randomPKCECodeVerifier();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: 'openid',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state: 'bench',
  });
  const callback = await flow.authenticate(ua, url);
  const tokens = await client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: verifier,
    expectedState: 'bench',
  });
  if (!tokens.id_token) throw new Error('no ID token');
}

const metadata = new Map<string, client.ServerMetadata>();
async function cachedMetadata(baseUrl: string): Promise<client.ServerMetadata> {
  let found = metadata.get(baseUrl);
  if (!found) {
    found = (
      await client.discovery(new URL(baseUrl), 'x', undefined, undefined, {
        execute: [client.allowInsecureRequests],
      })
    ).serverMetadata();
    metadata.set(baseUrl, found);
  }
  return found;
}

/** The baseline: oidc-provider alone, in memory, a local key, an interaction that signs in at once. */
async function plainProvider(): Promise<{ flow: Flow; server: Server }> {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const provider = new Provider(baseUrl, {
    clients: [
      {
        client_id: 'rp',
        client_secret: 'bench-secret-long-enough',
        redirect_uris: [redirectUri],
        id_token_signed_response_alg: 'ES256',
      },
    ],
    jwks: { keys: [{ ...privateKey.export({ format: 'jwk' }), alg: 'ES256', use: 'sig' }] },
    cookies: { keys: ['bench'] },
    findAccount: (_ctx, sub) => ({ accountId: sub, claims: () => ({ sub }) }),
    loadExistingGrant: async (ctx) => {
      const grant = new ctx.oidc.provider.Grant({
        clientId: ctx.oidc.client!.clientId,
        accountId: ctx.oidc.session!.accountId!,
      });
      grant.addOIDCScope('openid');
      await grant.save();
      return grant;
    },
    features: { devInteractions: { enabled: false } },
  });
  provider.use(async (ctx, next) => {
    if (!ctx.path.startsWith('/interaction/')) return next();
    await provider.interactionFinished(
      ctx.req,
      ctx.res,
      { login: { accountId: 'bench-user' } },
      { mergeWithLastSubmission: false },
    );
  });
  server.on('request', provider.callback());
  return {
    server,
    flow: {
      baseUrl,
      clientId: 'rp',
      clientSecret: 'bench-secret-long-enough',
      authenticate: async (ua, url) => {
        const step = await ua.navigate(url);
        if (!step.leftTo) throw new Error(`baseline flow stopped at ${step.page?.url}`);
        return step.leftTo;
      },
    },
  };
}

/**
 * Complete logins per second through the local runtime (authorize → sign-in page → password (scrypt)
 * → code → token, the ID token signed in KMS) and single sign-on logins (a session exists: no password),
 * next to oidc-provider alone in memory with a local key, measured in the same run; and the KMS
 * signatures each login costs.
 */
export default async function run(): Promise<void> {
  const runtime = await startTestRuntime();
  const baseline = await plainProvider();
  try {
    const admin = await clientCredentialsToken(runtime, runtime.credentials.admin, 'admin');
    const registered = (await (
      await fetch(`${runtime.baseUrl}/admin/clients`, {
        method: 'POST',
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          name: 'Bench platform',
          redirectUris: [redirectUri],
          scopes: ['openid'],
          firstParty: true,
        }),
      })
    ).json()) as { clientId: string; clientSecret: string };
    const citizen = runtime.credentials.citizen as { idNumber: string; password?: string };
    const ours: Flow = {
      baseUrl: runtime.baseUrl,
      ...registered,
      authenticate: async (ua, url) => {
        let step = await ua.navigate(url);
        if (step.page) {
          const form = parseForm(step.page.html);
          if (!form) throw new Error(`no sign-in form at ${step.page.url}`);
          step = await ua.navigate(form.action, {
            form: { username: citizen.idNumber, password: citizen.password ?? '' },
          });
        }
        if (!step.leftTo) throw new Error(`flow stopped at ${step.page?.url} (${step.page?.status})`);
        return step.leftTo;
      },
    };
    const emulator = runtime.kms;
    if (!emulator) throw new Error('the bench needs the embedded KMS emulator');

    await measure(4, 2, () => loginFlow(ours, new UserAgent(runtime.baseUrl)));
    emulator.resetStats();
    const full = await measure(LOGINS, CONCURRENCY, () => loginFlow(ours, new UserAgent(runtime.baseUrl)));
    const signsPerLogin = (emulator.stats().Sign ?? 0) / LOGINS;

    const signedIn = new UserAgent(runtime.baseUrl);
    await loginFlow(ours, signedIn);
    emulator.resetStats();
    const sso = await measure(SSO_LOGINS, CONCURRENCY, () => loginFlow(ours, signedIn));
    const signsPerSso = (emulator.stats().Sign ?? 0) / SSO_LOGINS;

    await measure(50, CONCURRENCY, () => loginFlow(baseline.flow, new UserAgent(baseline.flow.baseUrl)));
    const plain = await measure(BASELINE_LOGINS, CONCURRENCY, () =>
      loginFlow(baseline.flow, new UserAgent(baseline.flow.baseUrl)),
    );

    console.log('\nLogin flows (authorize → sign in → code → token), openid-client as the relying party');
    console.log(header(58));
    console.log(row('ours, with password (scrypt N=2^15) and KMS-signed ID token', CONCURRENCY, full, 58));
    console.log(row('ours, single sign-on (session cookie, no password)', CONCURRENCY, sso, 58));
    console.log(row('oidc-provider alone, in memory, local key (baseline)', CONCURRENCY, plain, 58));
    console.log(
      `ratio ours/baseline: with password ${(full.rate / plain.rate).toFixed(3)}, single sign-on ${(sso.rate / plain.rate).toFixed(3)}\n` +
        `KMS signatures per login: ${signsPerLogin.toFixed(2)} (with password), ${signsPerSso.toFixed(2)} (single sign-on)`,
    );
  } finally {
    baseline.server.close();
    await runtime.close();
    await rm(runtime.dataDir, { recursive: true, force: true });
  }
}

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(entry).href) {
  await run();
}
