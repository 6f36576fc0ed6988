import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onboardIssuer, type OnboardedIssuer } from '../../support/http-api.js';
import {
  drivingLicenceBody,
  getWithToken,
  issued,
  newIdNumber,
  type LicenceJson,
  searchLicences,
} from '../../support/licences.js';
import { clientCredentialsToken, clientSecretConsole, type TestRuntime } from '../../support/runtime.js';
import { alertsOf, startSupervisedRuntime, supervisionGet } from '../../support/supervision.js';
import { chinaDay } from '../../../shared/supervision/events.js';
import { UserAgent } from '../../support/user-agent.js';

/**
 * Bulk reads leave a trace (docs/supervision.md "Bulk reads"): a console CSV export writes
 * `licences.exported` (the issuer, the client, the row count, the search without a holder's number or
 * name), and a listing by holder writes `licences.listed`; supervisors read both whole at
 * `GET /supervision/audit`.
 */
interface Entry {
  at: string;
  action: string;
  actor?: string;
  issuerId?: string;
  count?: number;
  filters?: string;
  redacted?: boolean;
}

let runtime: TestRuntime;
let supervisor: string;
let issuer: OnboardedIssuer;
let issuerToken: string;
const idNumbers: string[] = [];
const licences: LicenceJson[] = [];

beforeAll(async () => {
  // The bulk-export alert at 5 rows an hour: this file's second 3-row export reaches it.
  ({ runtime, supervisor } = await startSupervisedRuntime({
    ALERT_EXPORT_ROWS: '5',
    ...clientSecretConsole,
  }));
  const admin = await clientCredentialsToken(runtime, runtime.credentials.admin, 'admin');
  issuer = await onboardIssuer(runtime, admin, { licenceTypes: ['driving-licence'] });
  issuerToken = await clientCredentialsToken(runtime, issuer, 'licences:issue');
  for (const holderName of ['导出甲', '导出乙', '导出丙']) {
    const idNumber = newIdNumber();
    idNumbers.push(idNumber);
    licences.push(await issued(runtime, issuerToken, drivingLicenceBody(idNumber, { holderName })));
  }
}, 60_000);
afterAll(() => runtime?.close());

async function trail(action: string): Promise<Entry[]> {
  const today = new Date().toISOString().slice(0, 10);
  const { items } = await supervisionGet<{ items: Entry[] }>(
    runtime,
    `/supervision/audit?from=${today}&to=${today}&issuer=${issuer.id}&limit=1000`,
    supervisor,
  );
  return items.filter((entry) => entry.action === action);
}

describe('audit entries of bulk reads', () => {
  it('records a console CSV export: issuer, client, row count and the search, no holder named', async () => {
    const ua = new UserAgent(runtime.baseUrl);
    const login = await ua.request('/console/login', {
      form: { clientId: issuer.clientId, clientSecret: issuer.clientSecret },
    });
    expect(login.status).toBe(303);
    expect(await trail('licences.exported')).toEqual([]);

    const response = await ua.request('/console/export', {
      form: { status: 'valid', holderName: '导出', sort: 'issuedAt' },
    });
    expect(response.status).toBe(200);
    expect((await response.text()).split('\r\n').filter(Boolean)).toHaveLength(1 + 3);

    const exported = await trail('licences.exported');
    expect(exported).toHaveLength(1);
    expect(exported[0]).toMatchObject({
      action: 'licences.exported',
      actor: issuer.clientId,
      issuerId: issuer.id,
      count: 3,
      filters: 'status=valid&sort=issuedAt&holderName',
    });
    expect(exported[0]!.redacted).toBeUndefined();
    const text = JSON.stringify(exported);
    expect(text).not.toContain('导出');
    for (const idNumber of idNumbers) expect(text).not.toContain(idNumber.slice(6, 14));

    // The bulk-export alert (ALERT_EXPORT_ROWS, 5 here): 3 rows are below it, 6 within the hour reach it.
    const bulkExports = async () =>
      (await alertsOf(runtime, supervisor, chinaDay(Date.now()))).filter((a) => a.rule === 'bulk-export');
    expect(await bulkExports()).toEqual([]);
    expect((await ua.request('/console/export', { form: { holderName: '导出' } })).status).toBe(200);
    expect(await bulkExports()).toEqual([
      expect.objectContaining({
        severity: 'medium',
        subject: issuer.id,
        detail: expect.stringMatching(/^6 licences exported to CSV by this issuer's console within 60 min/),
      }),
    ]);
  });

  it('records a listing by holder (which licences one person holds), never the number searched', async () => {
    const before = await trail('licences.listed');
    // A listing without a holder filter is not recorded (one entry per page would bury the trail).
    expect((await getWithToken(runtime, '/licences?status=valid', issuerToken)).status).toBe(200);
    expect(await trail('licences.listed')).toEqual(before);

    const listed = await searchLicences(runtime, issuerToken, { holder: idNumbers[1]! });
    expect(listed.status).toBe(200);
    expect(((await listed.json()) as { items: LicenceJson[] }).items.map((l) => l.id)).toEqual([
      licences[1]!.id,
    ]);
    const after = await trail('licences.listed');
    expect(after).toHaveLength(before.length + 1);
    expect(after.at(-1)).toMatchObject({
      actor: issuer.clientId,
      issuerId: issuer.id,
      count: 1,
      filters: 'sort=-issuedAt&holder',
    });
    expect(JSON.stringify(after)).not.toContain(idNumbers[1]!.slice(6, 14));
  });
});
