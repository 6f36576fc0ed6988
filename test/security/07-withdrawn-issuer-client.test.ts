import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onboardIssuer, postJson, tokenRequest } from '../support/http-api.js';
import { drivingLicenceBody, getWithToken, issued, licencePath, newIdNumber } from '../support/licences.js';
import { clientCredentialsToken, startTestRuntime, type TestRuntime } from '../support/runtime.js';

/**
 * Finding 7: withdrawing an issuer ends its client. Its access tokens, obtained before, stop on the next
 * request (no list, no read, no QR, no status change, no issuance: the issuing API refuses an issuer that
 * is not active at once), and it gets no new token once the containers that read its client registration
 * have let it go: within CLIENT_CACHE_SECONDS (1 s here; docs/architecture.md, "Caches").
 */

const clientCacheSeconds = 1;
const afterClientCache = () => sleep(clientCacheSeconds * 1000 + 100);

let runtime: TestRuntime;
let admin: string;
let issuer: { id: string; clientId: string; clientSecret: string };
let token: string;
let licenceId: string;

beforeAll(async () => {
  runtime = await startTestRuntime(undefined, { CLIENT_CACHE_SECONDS: String(clientCacheSeconds) });
  admin = await clientCredentialsToken(runtime, runtime.credentials.admin, 'admin');
  issuer = await onboardIssuer(runtime, admin, { licenceTypes: ['driving-licence'] });
  token = await clientCredentialsToken(runtime, issuer, 'licences:issue');
  licenceId = (await issued(runtime, token, drivingLicenceBody(newIdNumber()))).id;
});
afterAll(() => runtime?.close());

/** A refusal our API gives a token that no longer counts: 401 or 403, problem+json, a stable code. */
async function expectRefused(response: Response): Promise<string> {
  const text = await response.text();
  expect([401, 403], text).toContain(response.status);
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const { code } = JSON.parse(text) as { code: string };
  expect(code).toMatch(/^(invalid_token|issuer_inactive)$/);
  return code;
}

describe('a withdrawn issuer’s client (finding 7)', () => {
  it('works until the withdrawal', async () => {
    expect((await getWithToken(runtime, '/licences', token)).status).toBe(200);
    expect((await getWithToken(runtime, licencePath(licenceId), token)).status).toBe(200);
  });

  it('stops at once: the old token reads, lists, renders, changes and issues nothing', async () => {
    const withdrawn = await postJson(
      runtime,
      `/admin/issuers/${encodeURIComponent(issuer.id)}/withdraw`,
      admin,
      {
        reason: '机构撤并',
      },
    );
    expect(withdrawn.status, await withdrawn.clone().text()).toBe(200);

    await expectRefused(await getWithToken(runtime, '/licences', token));
    await expectRefused(await getWithToken(runtime, licencePath(licenceId), token));
    await expectRefused(await getWithToken(runtime, `${licencePath(licenceId)}/qr.png`, token));
    await expectRefused(await getWithToken(runtime, `${licencePath(licenceId)}/qr.svg`, token));
    await expectRefused(
      await postJson(runtime, `${licencePath(licenceId)}/status`, token, {
        status: 'revoked',
        reason: '撤销',
      }),
    );
    await expectRefused(
      await postJson(runtime, '/licences', token, drivingLicenceBody(newIdNumber()), {
        'idempotency-key': randomUUID(),
      }),
    );
  });

  it('gets no new token once the client cache has let the client go: invalid_client', async () => {
    await afterClientCache();
    const response = await tokenRequest(runtime, issuer, {
      grant_type: 'client_credentials',
      scope: 'licences:issue',
    });
    const body = (await response.json()) as { error?: string; access_token?: string };
    expect(body.access_token).toBeUndefined();
    expect(response.status).toBe(401);
    expect(body.error).toBe('invalid_client');
  });

  it('left the licence as it was (the refused status change did nothing)', async () => {
    const { dependencies } = await import('../../functions/composition/dependencies.js');
    expect((await dependencies().licences.get(licenceId))?.status).toBe('valid');
  });

  it('an issuer withdrawn before clients ended with it: its client is refused, and withdrawing again ends it', async () => {
    const { clientItems } = await import('../support/http-api.js');
    const { dependencies } = await import('../../functions/composition/dependencies.js');
    // The client record as onboarding saved it, put back as an older withdrawal left it.
    await dependencies().clients.save({
      client_id: issuer.clientId,
      client_name: 'legacy issuer',
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      scope: 'licences:issue',
      token_endpoint_auth_method: 'client_secret_basic',
      issuer_id: issuer.id,
      // Its secret on the client-secret key, as onboarding registers it.
      secret_key: 'client-secret',
    });
    const legacy = await clientCredentialsToken(runtime, issuer, 'licences:issue');
    const code = await expectRefused(await getWithToken(runtime, '/licences', legacy));
    expect(code).toBe('issuer_inactive');

    const again = await postJson(runtime, `/admin/issuers/${encodeURIComponent(issuer.id)}/withdraw`, admin, {
      reason: '再次撤销',
    });
    expect(again.status).toBe(409);
    await afterClientCache();
    expect((await clientItems()).some((item) => String(item.pk) === `oidc#Client#${issuer.clientId}`)).toBe(
      false,
    );
    expect(await expectRefused(await getWithToken(runtime, '/licences', legacy))).toBe('invalid_token');
  });
});
