/**
 * Review R32 M2: a key withdrawn after a compromise vouches for nothing (docs/security.md): the QR code
 * of a licence it signed verifies `unknown_issuer` (`key_not_trusted`). A presentation (亮证) of that
 * licence still verified `valid`: the platform made one without asking whether the credential's key was
 * still published, and `POST /verify` checked nothing key-related for presentations. Now neither: a
 * presentation is refused (409 `key_withdrawn`), and one made before the withdrawal is `unknown_issuer`
 * (`key_not_trusted`) online, judged by the issuer entry the verification read anyway.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dependencies } from '../../functions/composition/dependencies.js';
import { createPresentation } from '../../shared/licence/presentation.js';
import { issuerBody, postJson } from '../support/http-api.js';
import { clientCredentialsToken, startTestRuntime, type TestRuntime } from '../support/runtime.js';
import { issueDrivingLicence, verified, type IssuedLicence } from '../integration/verify/helpers.js';

let runtime: TestRuntime;
let admin: string;
let issuer: { id: string; kid: string; clientId: string; clientSecret: string };
let issuerToken: string;

beforeAll(async () => {
  runtime = await startTestRuntime();
  admin = await clientCredentialsToken(runtime, runtime.credentials.admin, 'admin');
  const response = await postJson(
    runtime,
    '/admin/issuers',
    admin,
    issuerBody({ licenceTypes: ['driving-licence'] }),
  );
  expect(response.status).toBe(201);
  issuer = (await response.json()) as typeof issuer;
  issuerToken = await clientCredentialsToken(runtime, issuer, 'licences:issue');
});
afterAll(() => runtime?.close());

/** A presentation of `licence`, as the wallet's `POST /me/licences/{id}/presentations` makes it. */
async function present(licence: IssuedLicence): Promise<string> {
  const deps = dependencies();
  const record = await deps.licences.get(licence.id);
  if (!record) throw new Error('the licence was not stored');
  const { token } = await createPresentation(
    licence.id,
    { ttlSeconds: 300 },
    { holderLookupKeys: [record.holder.lookupKey], level: 3, actor: 'test-holder' },
    deps,
  );
  return token;
}

describe('a licence whose credential key was withdrawn for compromise', () => {
  it('is neither presented nor, presented before, valid online', async () => {
    const licence = await issueDrivingLicence(runtime, issuerToken);
    const before = await present(licence);
    expect(await verified(runtime, before)).toMatchObject({ verdict: 'valid', format: 'presentation' });

    const rotated = await postJson(runtime, `/admin/issuers/${encodeURIComponent(issuer.id)}/keys`, admin, {
      previousKey: 'withdraw',
    });
    expect(rotated.status, await rotated.clone().text()).toBe(201);

    // Its QR code, as before this fix, and now its presentation made before the withdrawal alike.
    expect(await verified(runtime, licence.credential)).toMatchObject({
      verdict: 'unknown_issuer',
      reason: 'key_not_trusted',
    });
    const answer = await verified(runtime, before);
    expect(answer).toMatchObject({
      verdict: 'unknown_issuer',
      reason: 'key_not_trusted',
      format: 'presentation',
    });
    expect(answer.licence).toBeUndefined();

    await expect(present(licence)).rejects.toMatchObject({ kind: 'conflict', code: 'key_withdrawn' });

    // A licence the new key signed is presented and verifies as ever.
    const fresh = await issueDrivingLicence(runtime, issuerToken);
    expect(await verified(runtime, await present(fresh))).toMatchObject({ verdict: 'valid' });
  });
});
