import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  drivingLicenceBody,
  getWithToken,
  issued,
  licencePath,
  newIdNumber,
} from '../../support/licences.js';
import { postJson } from '../../support/http-api.js';
import { clientCredentialsToken, startTestRuntime, type TestRuntime } from '../../support/runtime.js';

let runtime: TestRuntime;
beforeAll(async () => {
  runtime = await startTestRuntime();
});
afterAll(() => runtime?.close());

describe('the operator reads a licence’s audit trail (网上留痕)', () => {
  it('lists who issued, suspended and verified it, in order, with the holder masked only', async () => {
    const issuerToken = await clientCredentialsToken(runtime, runtime.credentials.issuer, 'licences:issue');
    const idNumber = newIdNumber();
    const licence = await issued(runtime, issuerToken, drivingLicenceBody(idNumber));
    const suspend = await postJson(runtime, `${licencePath(licence.id)}/status`, issuerToken, {
      status: 'suspended',
      reason: '记满12分',
    });
    expect(suspend.status).toBe(200);
    const verify = await fetch(`${runtime.baseUrl}/verify`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ qr: licence.credential }),
    });
    expect(((await verify.json()) as { verdict: string }).verdict).toBe('suspended');

    const adminToken = await clientCredentialsToken(runtime, runtime.credentials.admin, 'admin');
    const response = await getWithToken(
      runtime,
      `/admin/audit?licence=${encodeURIComponent(licence.id)}`,
      adminToken,
    );
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text).not.toContain(idNumber);
    const { items } = JSON.parse(text) as {
      items: Array<{
        action: string;
        actor: string;
        reason?: string;
        verdict?: string;
        holderMasked?: string;
      }>;
    };
    expect(items.map((entry) => entry.action)).toEqual([
      'licence.issued',
      'licence.suspended',
      'licence.verified',
    ]);
    expect(items[0]).toMatchObject({
      actor: runtime.credentials.issuer.clientId,
      holderMasked: licence.holder.masked,
    });
    expect(items[1]).toMatchObject({ reason: '记满12分' });
    expect(items[2]).toMatchObject({ actor: 'anonymous', verdict: 'suspended' });
  });

  it('is for operators only, and needs the licence named', async () => {
    const adminToken = await clientCredentialsToken(runtime, runtime.credentials.admin, 'admin');
    expect((await getWithToken(runtime, '/admin/audit', adminToken)).status).toBe(400);
    const issuerToken = await clientCredentialsToken(runtime, runtime.credentials.issuer, 'licences:issue');
    expect((await getWithToken(runtime, '/admin/audit?licence=x', issuerToken)).status).toBe(403);
  });
});
