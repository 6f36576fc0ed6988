import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onboardIssuer, type OnboardedIssuer } from '../../support/http-api.js';
import { drivingLicenceBody, expectJson, issued, type LicenceJson } from '../../support/licences.js';
import { adminToken, getWithToken, licencesToken, registerPlatform } from '../../support/oidc-flows.js';
import {
  clientCredentialsToken,
  clientSecretConsole,
  startTestRuntime,
  type TestRuntime,
} from '../../support/runtime.js';
import { issuerConsole } from '../../support/clerks.js';

/**
 * The issuer console's reads of a person's licences are in that person's usage record (用证记录) as the
 * API's are (privacy review L4), once per read: a view of a licence page is one `issuer_read` (its QR code
 * drawn from the licence the page read, not a second read of the API's QR image), and a CSV export of a
 * search by holder records each licence it exported, as `POST /licences/search` does for each one answered.
 */

let runtime: TestRuntime;
let issuer: OnboardedIssuer;
let citizenToken: string;
const licences: LicenceJson[] = [];

interface UsageEntry {
  action: string;
  licenceId?: string;
}

/** The citizen's `issuer_read` entries, per licence id. */
async function readsOf(): Promise<Map<string, number>> {
  const page = await expectJson<{ items: UsageEntry[] }>(
    await getWithToken(runtime, '/me/usage?action=issuer_read&limit=100', citizenToken),
    200,
  );
  const counts = new Map<string, number>();
  for (const entry of page.items) counts.set(entry.licenceId!, (counts.get(entry.licenceId!) ?? 0) + 1);
  return counts;
}

beforeAll(async () => {
  runtime = await startTestRuntime(undefined, clientSecretConsole);
  const admin = await adminToken(runtime);
  issuer = await onboardIssuer(runtime, admin, { licenceTypes: ['driving-licence'] });
  const token = await clientCredentialsToken(runtime, issuer, 'licences:issue');
  const { citizen } = runtime.credentials;
  for (let i = 0; i < 2; i++)
    licences.push(await issued(runtime, token, drivingLicenceBody(citizen.idNumber)));
  const wallet = await registerPlatform(runtime, admin, {
    name: 'Wallet',
    redirectUris: ['https://wallet.example/cb'],
    scopes: ['openid', 'profile', 'licences'],
    firstParty: true,
  });
  citizenToken = await licencesToken(runtime, wallet, {
    username: citizen.idNumber,
    password: citizen.password,
  });
});
afterAll(() => runtime?.close());

const signedIn = () => issuerConsole(runtime, issuer);

describe('the console’s reads in the holder’s usage record', () => {
  it('records one issuer_read per view of a licence page, its QR code shown', async () => {
    const ua = await signedIn();
    const before = (await readsOf()).get(licences[0]!.id) ?? 0;
    const page = await ua.request(`/console/licences/${encodeURIComponent(licences[0]!.id)}`);
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/src="data:image\/svg\+xml;base64,[A-Za-z0-9+/=]{100,}"/);
    expect((await readsOf()).get(licences[0]!.id)).toBe(before + 1);
  });

  it('records an issuer_read for each licence a CSV export of a holder search exported', async () => {
    const ua = await signedIn();
    const before = await readsOf();
    const exported = await ua.request('/console/export', {
      form: { holder: runtime.credentials.citizen.idNumber },
    });
    expect(exported.status).toBe(200);
    const csv = await exported.text();
    for (const licence of licences) expect(csv).toContain(licence.id);
    const after = await readsOf();
    for (const licence of licences) {
      expect(after.get(licence.id), licence.id).toBe((before.get(licence.id) ?? 0) + 1);
    }
  });
});
