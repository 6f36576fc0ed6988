import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demo } from '../../../infra/local/demo-data.js';
import { adminToken, getWithToken, licencesToken, registerPlatform } from '../../support/oidc-flows.js';
import { onboardIssuer } from '../../support/http-api.js';
import {
  drivingLicenceBody,
  expectJson,
  issued,
  licencePath,
  searchLicences,
  type LicenceJson,
} from '../../support/licences.js';
import { clientCredentialsToken, startTestRuntime, type TestRuntime } from '../../support/runtime.js';

/**
 * Privacy review L4: an issuing agency's reads of a person's licences (one licence by id, its QR code or
 * printable PDF, or a search by holder's number or name) are in that person's usage record (用证记录),
 * naming the agency, never its client or clerk.
 */
interface UsageEntry {
  at: string;
  action: string;
  licenceId?: string;
  licenceType?: string;
  client?: { id: string; name: string };
  issuer?: { id: string; name: string };
}

let runtime: TestRuntime;
let citizenToken: string;
let issuerToken: string;

async function issuerReads(): Promise<UsageEntry[]> {
  const page = await expectJson<{ items: UsageEntry[] }>(
    await getWithToken(runtime, '/me/usage?action=issuer_read&limit=100', citizenToken),
    200,
  );
  return page.items;
}

beforeAll(async () => {
  runtime = await startTestRuntime();
  const wallet = await registerPlatform(runtime, await adminToken(runtime), {
    name: 'Wallet',
    redirectUris: ['https://wallet.example/cb'],
    scopes: ['openid', 'profile', 'licences'],
    firstParty: true,
  });
  const { citizen, issuer } = runtime.credentials;
  citizenToken = await licencesToken(runtime, wallet, {
    username: citizen.idNumber,
    password: citizen.password,
  });
  issuerToken = await clientCredentialsToken(runtime, issuer, 'licences:issue');
});
afterAll(() => runtime?.close());

describe('issuers’ reads in the holder’s usage record', () => {
  it('records a read by id, naming the agency; another issuer’s miss records nothing', async () => {
    const { citizen, issuer } = runtime.credentials;
    const mine = await issued(runtime, issuerToken, drivingLicenceBody(citizen.idNumber));
    expect(await issuerReads()).toEqual([]);

    await expectJson(await getWithToken(runtime, licencePath(mine.id), issuerToken), 200);
    const reads = await issuerReads();
    expect(reads).toEqual([
      {
        at: expect.any(String),
        action: 'issuer_read',
        licenceId: mine.id,
        licenceType: 'driving-licence',
        issuer: { id: issuer.id, name: demo.issuer.name },
      },
    ]);
    // Nothing of the client that read (the agency's machine client, the console's for a clerk).
    expect(JSON.stringify(reads)).not.toContain(issuer.clientId);

    // Another agency asking for this licence finds nothing (404): no read, no entry.
    const other = await onboardIssuer(runtime, await adminToken(runtime), {
      licenceTypes: ['driving-licence'],
    });
    const otherToken = await clientCredentialsToken(runtime, other, 'licences:issue');
    expect((await getWithToken(runtime, licencePath(mine.id), otherToken)).status).toBe(404);
    expect(await issuerReads()).toHaveLength(1);
  });

  it('records each licence a search by holder answered, and nothing for a listing without one', async () => {
    const { citizen } = runtime.credentials;
    const before = await issuerReads();
    for (let i = 0; i < 2; i++) await issued(runtime, issuerToken, drivingLicenceBody(citizen.idNumber));
    expect((await getWithToken(runtime, '/licences?limit=100', issuerToken)).status).toBe(200);
    expect(await issuerReads()).toEqual(before);

    const page = await expectJson<{ items: LicenceJson[] }>(
      await searchLicences(runtime, issuerToken, { holder: citizen.idNumber, limit: 100 }),
      200,
    );
    const reads = await issuerReads();
    const added = reads.slice(0, reads.length - before.length);
    expect(added.map((entry) => entry.licenceId).sort()).toEqual(page.items.map((item) => item.id).sort());
    // One instant for the whole search.
    expect(new Set(added.map((entry) => entry.at)).size).toBe(1);
  });

  it('records each rendering the issuer fetches: QR codes, the PDF and its signature', async () => {
    const { citizen, issuer } = runtime.credentials;
    const mine = await issued(runtime, issuerToken, drivingLicenceBody(citizen.idNumber));
    const before = await issuerReads();
    for (const rendering of ['qr.svg', 'qr.png', 'pdf?layout=a4', 'pdf.jws?layout=card']) {
      const response = await getWithToken(runtime, `${licencePath(mine.id)}/${rendering}`, issuerToken);
      expect(response.status, rendering).toBe(200);
      await response.arrayBuffer();
    }
    const reads = await issuerReads();
    expect(reads.slice(0, reads.length - before.length)).toEqual(
      Array.from({ length: 4 }, () => ({
        at: expect.any(String),
        action: 'issuer_read',
        licenceId: mine.id,
        licenceType: 'driving-licence',
        issuer: { id: issuer.id, name: demo.issuer.name },
      })),
    );
    // A rendering of a licence not the issuer's is a 404 that records nothing.
    const other = await onboardIssuer(runtime, await adminToken(runtime), {
      licenceTypes: ['driving-licence'],
    });
    const otherToken = await clientCredentialsToken(runtime, other, 'licences:issue');
    expect((await getWithToken(runtime, `${licencePath(mine.id)}/pdf`, otherToken)).status).toBe(404);
    expect(await issuerReads()).toHaveLength(reads.length);
  });

  it('records each licence a search by holder’s name answered, as one by number', async () => {
    const { citizen } = runtime.credentials;
    const name = '名查甲';
    const mine = await issued(
      runtime,
      issuerToken,
      drivingLicenceBody(citizen.idNumber, { holderName: name }),
    );
    const before = await issuerReads();
    const page = await expectJson<{ items: LicenceJson[] }>(
      await searchLicences(runtime, issuerToken, { holderName: name, limit: 100 }),
      200,
    );
    expect(page.items.map((item) => item.id)).toEqual([mine.id]);
    const reads = await issuerReads();
    expect(reads.slice(0, reads.length - before.length).map((entry) => entry.licenceId)).toEqual([mine.id]);
  });
});
