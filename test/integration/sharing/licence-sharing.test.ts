import * as oauth from 'oauth4webapi';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDependencies } from '../../../functions/composition/dependencies.js';
import { parseIdNumber } from '../../../shared/identifiers/id-number.js';
import { personLookupKey } from '../../../shared/identifiers/lookup-key.js';
import { auditEntriesOf } from '../../support/audit-entries.js';
import { onboardIssuer, postJson } from '../../support/http-api.js';
import { CarrierOfNumbers } from '../../support/in-memory-sms.js';
import { drivingLicenceBody, issued, type LicenceJson } from '../../support/licences.js';
import {
  adminToken,
  authorizationRequest,
  callbackOf,
  exchange,
  getWithToken,
  refusal,
  registerPlatform,
  runFlow,
  signIn,
  type RelyingParty,
  citizenAnswers,
} from '../../support/oidc-flows.js';
import { clientCredentialsToken, type TestRuntime } from '../../support/runtime.js';
import {
  licenceAccess,
  logOut,
  newPerson,
  registerSharingPlatform,
  sharingBrowser,
  startRuntimeWithCarrier,
  steppedUpToConsent,
  throughStepUps,
  walletToken,
  withdrawAuthorization,
  type TestPerson,
} from '../../support/sharing-flows.js';
import type { UserAgent } from '../../support/user-agent.js';

/**
 * Sharing licences with a platform (授权用证) over real HTTP: a platform registered for `licence_access`
 * asks with Rich Authorization Requests (openid-client, and oauth4webapi through PAR), the person (level
 * 2 by password) is stepped up and consents on a page naming the platform, the type, the purpose, the
 * fields and the duration; the token response echoes the details; `/shared/licences` gives the granted
 * types only, each with a credential that verifies; refresh keeps the grant; withdrawal ends every token
 * at once; an unregistered platform is refused.
 */

let runtime: TestRuntime;
let admin: string;
let drivingIssuer: string;
let cardIssuer: string;
let platform: RelyingParty;
let unregistered: RelyingParty;
const carrier = new CarrierOfNumbers();
const platformName = '交管业务测试平台';
const purpose = '办理机动车登记业务';

const browser = () => sharingBrowser(runtime);

/** A level-2 person holding a driving licence and a social security card. */
async function holder(): Promise<{ person: TestPerson; driving: LicenceJson; card: LicenceJson }> {
  const person = await newPerson(runtime, carrier);
  const driving = await issued(
    runtime,
    drivingIssuer,
    drivingLicenceBody(person.idNumber, { holderName: person.name }),
  );
  const card = await issued(runtime, cardIssuer, {
    type: 'social-security-card',
    holder: { idNumber: person.idNumber },
    holderName: person.name,
    fields: { cardNumber: 'A12345678', issuingRegion: '110105' },
  });
  return { person, driving, card };
}

/** The consent page of a share, reached by signing in and stepping up by SMS. */
const toConsent = (ua: UserAgent, url: URL, person: TestPerson) =>
  steppedUpToConsent(runtime, ua, url, person);

/** The whole share through openid-client: request, step-up, consent, code exchange. */
async function share(person: TestPerson, details: unknown[], params: Record<string, string> = {}) {
  const ua = browser();
  const request = await authorizationRequest(platform, {
    scope: 'openid profile offline_access',
    prompt: 'consent',
    authorization_details: JSON.stringify(details),
    ...params,
  });
  const consent = await toConsent(ua, request.url, person);
  expect(consent.html).toContain('/confirm');
  const { callback } = await callbackOf(ua, consent.url, {});
  const tokens = await exchange(platform, request, callback);
  return { ua, consent, tokens };
}

/** A person's own token for the holder API, from the wallet (first-party), in the same browser session. */
const personToken = (ua: UserAgent) => walletToken(runtime, ua);

beforeAll(async () => {
  runtime = await startRuntimeWithCarrier(carrier);
  admin = await adminToken(runtime);
  const driving = await onboardIssuer(runtime, admin, { licenceTypes: ['driving-licence'] });
  drivingIssuer = await clientCredentialsToken(runtime, driving, 'licences:issue');
  const card = await onboardIssuer(runtime, admin, { licenceTypes: ['social-security-card'] });
  cardIssuer = await clientCredentialsToken(runtime, card, 'licences:issue');
  platform = await registerSharingPlatform(runtime, admin, platformName, 'https://traffic.example');
  unregistered = await registerPlatform(runtime, admin, {
    name: 'Unregistered platform',
    redirectUris: ['https://other.example/callback'],
    scopes: ['openid', 'profile'],
  });
});
afterAll(() => runtime?.close());

describe('registration', () => {
  it('POST /admin/clients refuses an unknown authorization details type, naming the field', async () => {
    const response = await postJson(runtime, '/admin/clients', admin, {
      name: 'Bad platform',
      redirectUris: ['https://bad.example/callback'],
      scopes: ['openid'],
      authorizationDetailsTypes: ['payment_initiation'],
    });
    expect(response.status).toBe(400);
    const problem = (await response.json()) as { errors: Array<{ path: string }> };
    expect(problem.errors.map((error) => error.path).join(' ')).toContain('authorizationDetailsTypes');
  });

  it('discovery lists licence_access among authorization_details_types_supported', async () => {
    const discovery = (await (await fetch(`${runtime.baseUrl}/.well-known/openid-configuration`)).json()) as {
      authorization_details_types_supported?: string[];
      pushed_authorization_request_endpoint?: string;
    };
    expect(discovery.authorization_details_types_supported).toEqual(['licence_access']);
    expect(discovery.pushed_authorization_request_endpoint).toBe(`${runtime.baseUrl}/request`);
  });
});

describe('requests the provider refuses', () => {
  it('a platform not registered for licence_access gets invalid_authorization_details, never a grant', async () => {
    const request = await authorizationRequest(unregistered, {
      authorization_details: JSON.stringify([licenceAccess(['driving-licence'], purpose)]),
    });
    const outcome = await runFlow(browser(), request.url, {});
    expect(outcome.callback?.origin).toBe('https://other.example');
    expect(outcome.callback?.searchParams.get('error')).toBe('invalid_authorization_details');
    expect(outcome.callback?.searchParams.get('code')).toBeNull();
  });

  it.each([
    ['an unknown licence type', [licenceAccess(['no-such-type'], purpose)], 'licence_types[0]'],
    ['no purpose', [{ type: 'licence_access', licence_types: ['driving-licence'] }], 'purpose'],
    ['a purpose over 200 characters', [licenceAccess(['driving-licence'], '用'.repeat(201))], 'purpose'],
    [
      'an action other than read',
      [licenceAccess(['driving-licence'], purpose, { actions: ['write'] })],
      'actions',
    ],
    ['an unknown member', [licenceAccess(['driving-licence'], purpose, { fields: ['all'] })], 'fields'],
    [
      'an expiry a year ahead',
      [
        licenceAccess(['driving-licence'], purpose, {
          expires_at: new Date(Date.now() + 365 * 86_400_000).toISOString(),
        }),
      ],
      'expires_at',
    ],
  ])('%s is refused naming the member', async (_case, details, member) => {
    const request = await authorizationRequest(platform, { authorization_details: JSON.stringify(details) });
    const outcome = await runFlow(browser(), request.url, {});
    expect(outcome.callback?.searchParams.get('error')).toBe('invalid_authorization_details');
    expect(outcome.callback?.searchParams.get('error_description')).toContain(member);
  });
});

describe('a share through openid-client', () => {
  let person: TestPerson;
  let driving: LicenceJson;
  let result: Awaited<ReturnType<typeof share>>;

  beforeAll(async () => {
    ({ person, driving } = await holder());
    result = await share(person, [licenceAccess(['driving-licence'], purpose)]);
  });

  it('the consent page names the platform, the type in Chinese, the purpose, the fields and how long', () => {
    const { html } = result.consent;
    expect(html).toContain(platformName);
    expect(html).toContain('机动车驾驶证');
    expect(html).toContain(purpose);
    expect(html).toContain('准驾车型');
    expect(html).toContain('（30 天）');
    expect(html).toMatch(/<button type="submit"[^>]*>\s*同意授权/);
    expect(html).toMatch(/formaction="\/interaction\/[^"]+\/abort"/);
  });

  it('asking again without a consent page (prompt=none) gets consent_required, never a code', async () => {
    const request = await authorizationRequest(platform, {
      prompt: 'none',
      authorization_details: JSON.stringify([
        licenceAccess(['driving-licence', 'social-security-card'], purpose),
      ]),
    });
    const outcome = await runFlow(result.ua, request.url, {});
    expect(outcome.callback?.searchParams.get('error')).toBe('consent_required');
    expect(outcome.callback?.searchParams.get('code')).toBeNull();
  });

  it('the token response echoes the granted authorization_details, and the sign-in is level 3', () => {
    expect(result.tokens.authorization_details).toEqual([
      { type: 'licence_access', licence_types: ['driving-licence'], purpose },
    ]);
    expect(result.tokens.claims()?.acr).toBe('urn:elicence:loa:3');
  });

  it('leaves the person’s name out of the share’s ID token: it is at userinfo (privacy review L3)', async () => {
    // The access token has our API as audience, for which the provider would fill the ID token.
    const claims = result.tokens.claims()!;
    expect(claims).not.toHaveProperty('name');
    const userinfo = await client.fetchUserInfo(platform.config, result.tokens.access_token, claims.sub);
    expect(userinfo).toMatchObject({ sub: claims.sub, name: person.name });
  });

  it('GET /shared/licences gives the granted type only, with a credential that verifies', async () => {
    const response = await getWithToken(runtime, '/shared/licences', result.tokens.access_token);
    expect(response.status, await response.clone().text()).toBe(200);
    const { items } = (await response.json()) as { items: LicenceJson[] };
    expect(items.map((item) => item.id)).toEqual([driving.id]);
    expect(items[0]!.type).toBe('driving-licence');
    const verdict = (await (
      await postJson(runtime, '/verify', undefined, { qr: items[0]!.credential })
    ).json()) as {
      verdict: string;
    };
    expect(verdict.verdict).toBe('valid');
  });

  it('each licence shared leaves one audit entry with the platform, the type and the purpose', async () => {
    const response = await getWithToken(
      runtime,
      `/admin/audit?licence=${encodeURIComponent(driving.id)}`,
      admin,
    );
    const { items } = (await response.json()) as { items: Array<Record<string, unknown>> };
    const shared = items.filter((entry) => entry.action === 'licence.shared');
    expect(shared.length).toBeGreaterThanOrEqual(1);
    expect(shared[0]).toMatchObject({
      actor: platform.clientId,
      licenceId: driving.id,
      licenceType: 'driving-licence',
      purpose,
    });
  });

  it('the person finds the share in their usage record (用证记录): the platform by name, the type, the purpose', async () => {
    const response = await getWithToken(runtime, '/me/usage', await personToken(result.ua));
    expect(response.status).toBe(200);
    const { items } = (await response.json()) as { items: Array<Record<string, unknown>> };
    const share = items.find((item) => item.action === 'shared' && item.licenceId === driving.id);
    expect(share).toMatchObject({
      licenceType: 'driving-licence',
      client: { id: platform.clientId },
      purpose,
    });
    expect((share!.client as { name?: string }).name).toBeTruthy();
  });

  it('refresh keeps the same grant: the details again, and the new token reads the same', async () => {
    const refreshed = await client.refreshTokenGrant(platform.config, result.tokens.refresh_token!);
    expect(refreshed.authorization_details).toEqual(result.tokens.authorization_details);
    const response = await getWithToken(runtime, '/shared/licences', refreshed.access_token);
    expect(response.status).toBe(200);
    expect(((await response.json()) as { items: unknown[] }).items).toHaveLength(1);
    result = { ...result, tokens: refreshed };
  });

  it('the person lists the authorization, and withdrawing it stops the platform’s tokens at once', async () => {
    const mine = await personToken(result.ua);
    const listed = await getWithToken(runtime, '/me/authorizations', mine);
    expect(listed.status, await listed.clone().text()).toBe(200);
    const { items } = (await listed.json()) as {
      items: Array<{
        id: string;
        client: { id: string; name: string };
        licenceTypes: string[];
        purpose: string;
        grantedAt: string;
        expiresAt?: string;
      }>;
    };
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({
      client: { id: platform.clientId, name: platformName },
      licenceTypes: ['driving-licence'],
      purpose,
    });
    const days = (Date.parse(items[0]!.expiresAt!) - Date.parse(items[0]!.grantedAt)) / 86_400_000;
    expect(Math.round(days)).toBe(30);

    // Someone else cannot withdraw it: the same answer as an unknown id.
    const other = await holder();
    const otherShare = await share(other.person, [licenceAccess(['driving-licence'], purpose)]);
    const otherToken = await personToken(otherShare.ua);
    const foreign = await withdrawAuthorization(runtime, items[0]!.id, otherToken);
    expect(foreign.status).toBe(404);
    expect((await getWithToken(runtime, '/shared/licences', result.tokens.access_token)).status).toBe(200);

    const withdrawn = await withdrawAuthorization(runtime, items[0]!.id, mine);
    expect(withdrawn.status).toBe(204);
    expect((await getWithToken(runtime, '/shared/licences', result.tokens.access_token)).status).toBe(401);
    expect(
      (await refusal(client.refreshTokenGrant(platform.config, result.tokens.refresh_token!))).error,
    ).toBe('invalid_grant');
    const after = (await (await getWithToken(runtime, '/me/authorizations', mine)).json()) as {
      items: unknown[];
    };
    expect(after.items).toHaveLength(0);
    // The consent and its withdrawal are both in the audit trail, under the person's account.
    const deps = buildDependencies(runtime.config);
    const account = await deps.accounts.findByLookupKey(
      await personLookupKey(deps.lookupMac, parseIdNumber(person.idNumber, new Date())),
    );
    const trail = await auditEntriesOf(deps.doc, runtime.config.auditTableName, account!.id);
    expect(trail.map((entry) => entry.action)).toEqual(
      expect.arrayContaining(['authorization.granted', 'authorization.withdrawn']),
    );
    expect(trail.find((entry) => entry.action === 'authorization.granted')).toMatchObject({ purpose });
    // The other person's share is untouched.
    expect((await getWithToken(runtime, '/shared/licences', otherShare.tokens.access_token)).status).toBe(
      200,
    );
  });

  it('a token without licence_access is refused at /shared/licences', async () => {
    const ua = browser();
    const { tokens } = await signIn(
      platform,
      ua,
      { username: person.idNumber, password: person.password },
      {
        scope: 'openid profile',
      },
    );
    // A sign-in alone: a token for userinfo, not for our API. The refusal says what to ask for.
    const signInOnly = await getWithToken(runtime, '/shared/licences', tokens.access_token);
    expect(signInOnly.status).toBe(401);
    const refusal = (await signInOnly.json()) as { code: string; detail: string };
    expect(refusal.code).toBe('invalid_token');
    expect(refusal.detail).toMatch(/authorization_details of type licence_access/);
    // The holder API says which scope it wants.
    const atHolderApi = (await (await getWithToken(runtime, '/me/licences', tokens.access_token)).json()) as {
      code: string;
      detail: string;
    };
    expect(atHolderApi).toMatchObject({
      code: 'invalid_token',
      detail: expect.stringMatching(/scope licences/),
    });
    // The person's own token for our API (the wallet's), which carries no licence_access.
    const response = await getWithToken(runtime, '/shared/licences', await personToken(ua));
    expect(response.status).toBe(403);
    expect(((await response.json()) as { code: string }).code).toBe('insufficient_authorization');
  });

  it('a share gets a refresh token and outlives a logout, with prompt=consent or without (lasting-shares.test.ts)', async () => {
    const details = JSON.stringify([licenceAccess(['driving-licence'], purpose)]);
    /** A person's share in a browser (a session) of its own, then that browser signs out of everything. */
    const shareThenLogOut = async (params: Record<string, string>) => {
      const { person } = await holder();
      const ua = browser();
      const request = await authorizationRequest(platform, {
        scope: 'openid profile offline_access',
        authorization_details: details,
        ...params,
      });
      const consent = await toConsent(ua, request.url, person);
      const tokens = await exchange(platform, request, (await callbackOf(ua, consent.url, {})).callback);
      expect((await getWithToken(runtime, '/shared/licences', tokens.access_token)).status).toBe(200);
      // RP-initiated logout, confirmed on the provider's page (sign out of everything).
      await logOut(ua, platform);
      return tokens;
    };

    // A share lasts as the person approved it, not as long as the session: without prompt=consent too
    // (where OpenID Connect Core §11 drops offline_access), a refresh token, and the share outlives the
    // logout. A plain sign-in keeps that rule (lasting-shares.test.ts).
    for (const params of [{}, { prompt: 'consent' }] as Array<Record<string, string>>) {
      const lasting = await shareThenLogOut(params);
      expect(lasting.refresh_token).toEqual(expect.any(String));
      expect((await getWithToken(runtime, '/shared/licences', lasting.access_token)).status).toBe(200);
      const refreshed = await client.refreshTokenGrant(platform.config, lasting.refresh_token!);
      expect((await getWithToken(runtime, '/shared/licences', refreshed.access_token)).status).toBe(200);
    }
  });

  it('refusing on the consent page gives the platform access_denied and no grant', async () => {
    const { person } = await holder();
    const ua = browser();
    const request = await authorizationRequest(platform, {
      authorization_details: JSON.stringify([licenceAccess(['driving-licence'], purpose)]),
    });
    const consent = await toConsent(ua, request.url, person);
    const uid = /formaction="\/interaction\/([^/"]+)\/abort"/.exec(consent.html)![1]!;
    const refused = await ua.navigate(new URL(`/interaction/${uid}/abort`, runtime.baseUrl), { form: {} });
    expect(refused.leftTo?.searchParams.get('error')).toBe('access_denied');
  });
});

describe('a share through oauth4webapi, pushed (PAR)', () => {
  let as: oauth.AuthorizationServer;
  const insecure = { [oauth.allowInsecureRequests]: true } as const;

  beforeAll(async () => {
    const issuer = new URL(runtime.baseUrl);
    as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, insecure));
  });

  it('a granted type the person holds nothing of gives an empty list, not an error', async () => {
    const { person } = await holder();
    const oauthClient: oauth.Client = { client_id: platform.clientId, id_token_signed_response_alg: 'ES256' };
    const auth = oauth.ClientSecretBasic(platform.clientSecret);
    const codeVerifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const details = [licenceAccess(['degree-certificate'], '核验学历', { actions: ['read'] })];
    const pushed = await oauth.processPushedAuthorizationResponse(
      as,
      oauthClient,
      await oauth.pushedAuthorizationRequest(
        as,
        oauthClient,
        auth,
        new URLSearchParams({
          redirect_uri: platform.redirectUri,
          response_type: 'code',
          scope: 'openid',
          state,
          code_challenge: await oauth.calculatePKCECodeChallenge(codeVerifier),
          code_challenge_method: 'S256',
          authorization_details: JSON.stringify(details),
        }),
        insecure,
      ),
    );
    const url = new URL(as.authorization_endpoint!);
    url.search = new URLSearchParams({
      client_id: platform.clientId,
      request_uri: pushed.request_uri,
    }).toString();
    const ua = browser();
    const consent = await toConsent(ua, url, person);
    expect(consent.html).toContain('学位证书');
    expect(consent.html).toContain('核验学历');
    const { callback } = await callbackOf(ua, consent.url, {});
    const params = oauth.validateAuthResponse(as, oauthClient, callback, state);
    const tokens = await oauth.processAuthorizationCodeResponse(
      as,
      oauthClient,
      await oauth.authorizationCodeGrantRequest(
        as,
        oauthClient,
        auth,
        params,
        platform.redirectUri,
        codeVerifier,
        insecure,
      ),
    );
    expect(tokens.authorization_details).toEqual(details);
    const response = await getWithToken(runtime, '/shared/licences', tokens.access_token);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ items: [] });
  });
});

describe('acting for an enterprise', () => {
  it('its legal representative shares the business licence: the consent page names the enterprise', async () => {
    const { citizen, entity } = runtime.credentials;
    const enterprisePlatform = await registerSharingPlatform(
      runtime,
      admin,
      '企业年报测试平台',
      'https://annual-report.example',
      ['openid', 'entity'],
    );
    const ua = browser();
    // The driving licence too, which the representative holds personally: acting for the enterprise, the
    // page says the enterprise's licences, so the person's own must not go (security review L1).
    const details = [licenceAccess(['business-licence', 'driving-licence'], '企业年报公示')];
    const request = await authorizationRequest(enterprisePlatform, {
      scope: 'openid entity',
      authorization_details: JSON.stringify(details),
    });
    const answers = { entity: entity.creditCode, consent: false };
    const outcome = await throughStepUps(runtime, ua, request.url, {
      answers: { ...citizenAnswers(runtime), ...answers },
      phone: citizen.phone,
      again: answers,
    });
    expect(outcome.stoppedAt, outcome.callback?.href ?? outcome.page?.html.slice(0, 400)).toBe('consent');
    expect(outcome.page!.html).toContain(entity.name);
    expect(outcome.page!.html).toContain('营业执照');
    expect(outcome.page!.html).not.toContain('role="alert"');
    const { callback } = await callbackOf(ua, outcome.page!.url, {});
    const tokens = await exchange(enterprisePlatform, request, callback);
    expect(tokens.authorization_details).toEqual(details);
    const response = await getWithToken(runtime, '/shared/licences', tokens.access_token);
    expect(response.status, await response.clone().text()).toBe(200);
    const { items } = (await response.json()) as { items: LicenceJson[] };
    expect(items.length).toBeGreaterThanOrEqual(1);
    expect(items.every((item) => item.type === 'business-licence' && item.holder.kind === 'entity')).toBe(
      true,
    );
  });
});
