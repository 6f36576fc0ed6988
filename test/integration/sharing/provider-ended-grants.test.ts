import * as client from 'openid-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildDependencies } from '../../../functions/composition/dependencies.js';
import type { AuditTrail } from '../../../shared/audit/audit-trail.js';
import { grantEndAuditPrefix } from '../../../shared/pending-work/pending-work.js';
import { auditEntriesOf } from '../../support/audit-entries.js';
import { postJson, scanItems } from '../../support/http-api.js';
import { CarrierOfNumbers } from '../../support/in-memory-sms.js';
import {
  adminToken,
  authorizationRequest,
  citizenAnswers,
  exchange,
  getWithToken,
  type AuthorizationRequest,
  type RelyingParty,
} from '../../support/oidc-flows.js';
import { reconcileLater } from '../../support/pending-work.js';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.js';
import {
  licenceAccess,
  registerSharingPlatform,
  sharingBrowser,
  throughStepUps,
  walletToken,
} from '../../support/sharing-flows.js';

/**
 * Review R34 L1: oidc-provider ends a whole grant itself, every token of it, when a refresh token is used
 * again after its rotation (the OAuth security BCP: the family goes), when an authorization code is used
 * again, and when the platform revokes a refresh token at the revocation endpoint. A share so ended used
 * to vanish from the person's wallet with no trace at all. Each end keeps the security property (every
 * token of the grant refused) and leaves its audit entry, `authorization.ended` with its cause, saved with
 * the grant's deletion (the provider's pending work: an entry that cannot be written at once is written by
 * the reconciler). Over real HTTP, openid-client as the platform, the demo citizen as the person.
 */

/** `authorization.ended` writes to fail, injected into the audit trail every function uses. */
let failEnds = 0;

function faultyAudit(trail: AuditTrail): AuditTrail {
  return {
    record: async (entry, once) => {
      if (entry.action === 'authorization.ended' && failEnds > 0) {
        failEnds -= 1;
        throw new Error('injected: the audit write failed');
      }
      await trail.record(entry, once);
    },
  };
}

let runtime: TestRuntime;
let platform: RelyingParty;
const carrier = new CarrierOfNumbers();

beforeAll(async () => {
  runtime = await startTestRuntime(
    undefined,
    {},
    {
      carrier: (operator) => carrier.using(operator.lookupMac),
      audit: (operator) => faultyAudit(operator.audit),
    },
  );
  platform = await registerSharingPlatform(
    runtime,
    await adminToken(runtime),
    '平台自行结束测试平台',
    'https://ended.example',
  );
});
afterEach(() => {
  failEnds = 0;
});
afterAll(() => runtime?.close());

/** A share of the driving licence: the request, the callback with its code, and the share's grant id. */
async function share() {
  const ua = sharingBrowser(runtime);
  const request = await authorizationRequest(platform, {
    scope: 'openid profile',
    authorization_details: JSON.stringify([licenceAccess(['driving-licence'], '办理机动车登记业务')]),
  });
  const outcome = await throughStepUps(runtime, ua, request.url, {
    answers: citizenAnswers(runtime),
    phone: runtime.credentials.citizen.phone,
  });
  expect(outcome.callback).toBeDefined();
  const personToken = await walletToken(runtime, ua);
  return { request, callback: outcome.callback!, personToken };
}

/** The ids of the platform's authorizations the person's wallet lists. */
async function listed(personToken: string): Promise<string[]> {
  const response = await getWithToken(runtime, '/me/authorizations', personToken);
  return ((await response.json()) as { items: Array<{ id: string; client: { id: string } }> }).items
    .filter((item) => item.client.id === platform.clientId)
    .map((item) => item.id);
}

/** The platform's `authorization.ended` entries naming `grantId`. */
async function endsOf(grantId: string) {
  const deps = buildDependencies(runtime.config);
  try {
    return (await auditEntriesOf(deps.doc, runtime.config.auditTableName, platform.clientId)).filter(
      (entry) => entry.action === 'authorization.ended' && String(entry['reason']).includes(grantId),
    );
  } finally {
    deps.doc.destroy();
    deps.kms.destroy();
  }
}

/** The authorizations of the platform listed at some point so far. */
const seen = new Set<string>();

/** The share's grant: the one authorization listed now that was not listed in any test before. */
async function newShare(personToken: string) {
  const added = (await listed(personToken)).filter((id) => !seen.has(id));
  expect(added).toHaveLength(1);
  seen.add(added[0]!);
  return added[0]!;
}

const sharedStatus = async (token: string) => (await getWithToken(runtime, '/shared/licences', token)).status;

async function exchanged(request: AuthorizationRequest, callback: URL) {
  const tokens = await exchange(platform, request, callback);
  expect(await sharedStatus(tokens.access_token)).toBe(200);
  return tokens;
}

describe('a share the provider ends itself', () => {
  it('on a refresh token used again: every token refused, and the end traced with its cause', async () => {
    const { request, callback, personToken } = await share();
    const tokens = await exchanged(request, callback);
    const grantId = await newShare(personToken);

    const rotated = await client.refreshTokenGrant(platform.config, tokens.refresh_token!);
    await expect(client.refreshTokenGrant(platform.config, tokens.refresh_token!)).rejects.toThrow();
    // The whole family goes: the token the rotation gave is refused too.
    expect(await sharedStatus(rotated.access_token)).toBe(401);
    await expect(client.refreshTokenGrant(platform.config, rotated.refresh_token!)).rejects.toThrow();
    expect(await listed(personToken)).not.toContain(grantId);

    const ends = await endsOf(grantId);
    expect(ends).toHaveLength(1);
    expect(ends[0]).toMatchObject({ reasonCode: 'refresh_token_reused', actor: platform.clientId });
    expect(String(ends[0]!['reason'])).toContain('types driving-licence');
  });

  it('on an authorization code used again: its tokens refused, the end traced', async () => {
    const { request, callback, personToken } = await share();
    const tokens = await exchanged(request, callback);
    const grantId = await newShare(personToken);

    await expect(exchange(platform, request, callback)).rejects.toThrow();
    expect(await sharedStatus(tokens.access_token)).toBe(401);
    expect(await listed(personToken)).not.toContain(grantId);
    expect(await endsOf(grantId)).toEqual([expect.objectContaining({ reasonCode: 'code_replayed' })]);
  });

  it('on the platform’s revocation of its refresh token: the end traced', async () => {
    const { request, callback, personToken } = await share();
    const tokens = await exchanged(request, callback);
    const grantId = await newShare(personToken);

    await client.tokenRevocation(platform.config, tokens.refresh_token!);
    expect(await sharedStatus(tokens.access_token)).toBe(401);
    expect(await listed(personToken)).not.toContain(grantId);
    expect(await endsOf(grantId)).toEqual([expect.objectContaining({ reasonCode: 'token_revoked' })]);
  });

  it('never on the revocation of an access token: that token alone ends, the share goes on (review R43 M1)', async () => {
    const { request, callback, personToken } = await share();
    const tokens = await exchanged(request, callback);
    const grantId = await newShare(personToken);

    // A common logout step of a platform: its access token revoked.
    await client.tokenRevocation(platform.config, tokens.access_token, { token_type_hint: 'access_token' });
    expect(await sharedStatus(tokens.access_token)).toBe(401);
    // The share's refresh token still works (it used to answer invalid_grant, the share left listed, untraced).
    const refreshed = await client.refreshTokenGrant(platform.config, tokens.refresh_token!);
    expect(await sharedStatus(refreshed.access_token)).toBe(200);
    expect(await listed(personToken)).toContain(grantId);
    expect(await endsOf(grantId)).toEqual([]);
  });

  it('whose entry cannot be written at once: the grant ends all the same, the reconciler writes it', async () => {
    const { request, callback, personToken } = await share();
    const tokens = await exchanged(request, callback);
    const grantId = await newShare(personToken);

    failEnds = 1;
    await client.refreshTokenGrant(platform.config, tokens.refresh_token!);
    await expect(client.refreshTokenGrant(platform.config, tokens.refresh_token!)).rejects.toMatchObject({
      error: 'invalid_grant',
    });
    expect(await listed(personToken)).not.toContain(grantId);
    expect(await endsOf(grantId)).toEqual([]);
    // Saved with the grant's deletion, a minute on (its time moved back, as the runtime's clock cannot be),
    // the reconciler writes it, once.
    const id = `${grantEndAuditPrefix}${grantId}`;
    expect((await scanItems('pending-provider-audit#')).map((item) => item.sk)).toContain(id);
    await reconcileLater(runtime, 'provider', [id]);
    expect(await endsOf(grantId)).toEqual([expect.objectContaining({ reasonCode: 'refresh_token_reused' })]);
    expect((await scanItems('pending-provider-audit#')).map((item) => item.sk)).not.toContain(id);
  });
});

describe("a public app's share (token_endpoint_auth_method none, DPoP-bound tokens)", () => {
  it('cannot be ended by a stranger holding only a copy of its access token (review R43 M1)', async () => {
    const registered = await postJson(runtime, '/admin/clients', await adminToken(runtime), {
      name: '公共客户端撤销测试',
      redirectUris: ['https://public-app.example/callback'],
      scopes: ['openid', 'profile', 'offline_access'],
      authorizationDetailsTypes: ['licence_access'],
      tokenEndpointAuthMethod: 'none',
    });
    expect(registered.status).toBe(201);
    const { clientId } = (await registered.json()) as { clientId: string };
    const config = await client.discovery(new URL(runtime.baseUrl), clientId, undefined, client.None(), {
      execute: [client.allowInsecureRequests],
    });
    const app: RelyingParty = {
      clientId,
      clientSecret: '',
      redirectUri: 'https://public-app.example/callback',
      config,
    };
    const dpop = client.getDPoPHandle(config, await client.randomDPoPKeyPair('ES256'));
    const ua = sharingBrowser(runtime);
    const request = await authorizationRequest(app, {
      scope: 'openid profile',
      authorization_details: JSON.stringify([licenceAccess(['driving-licence'], '办理机动车登记业务')]),
    });
    const outcome = await throughStepUps(runtime, ua, request.url, {
      answers: citizenAnswers(runtime),
      phone: runtime.credentials.citizen.phone,
    });
    const checks = {
      pkceCodeVerifier: request.codeVerifier,
      expectedNonce: request.nonce,
      expectedState: request.state,
    };
    const tokens = await client.authorizationCodeGrant(config, outcome.callback!, checks, undefined, {
      DPoP: dpop,
    });
    expect(tokens.token_type).toBe('dpop');

    // The stranger: the app's client id (public) and a copy of its bound access token, no key, no secret.
    const revoked = await fetch(`${runtime.baseUrl}/token/revocation`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: clientId, token: tokens.access_token }),
    });
    expect(revoked.status).toBe(200);
    // The app's share goes on: its refresh works, and the new token reads the licences.
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!, undefined, {
      DPoP: dpop,
    });
    const read = await client.fetchProtectedResource(
      config,
      refreshed.access_token,
      new URL(`${runtime.baseUrl}/shared/licences`),
      'GET',
      undefined,
      undefined,
      { DPoP: dpop },
    );
    expect(read.status).toBe(200);
  });
});
