import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../../shared/audit/audit-trail.js';
import { entryHash } from '../../../shared/supervision/audit-chain.js';
import { chinaDay } from '../../../shared/supervision/events.js';
import { onboardIssuer, postJson } from '../../support/http-api.js';
import { licencePath } from '../../support/licences.js';
import { clientCredentialsToken, type TestRuntime } from '../../support/runtime.js';
import {
  alertsOf as alertsOfDay,
  startSupervisedRuntime,
  supervisionGet,
} from '../../support/supervision.js';
import { issueDrivingLicence, type IssuedLicence } from '../verify/helpers.js';

/**
 * A bulk re-issue (a withdrawn key's licences, docs/operating.md) revokes each old licence as it issues its
 * replacement: no licence is lost, so it must not raise the `bulk-status-change` alert, which the default
 * threshold (20 in 60 minutes) would at 25. The audit entry of the revocation keeps its reason code and the
 * licence replacing it, and the rule skips exactly those; a plain mass revocation still alerts, also one
 * that gives the code `reissued` itself (any issuer may: it is a listed reason), since only the re-issue
 * names a replacement.
 */
const count = 25;
let runtime: TestRuntime;
let supervisor: string;
const today = chinaDay(Date.now());

const bulkAlertsOf = async (issuerId: string) =>
  (await alertsOfDay(runtime, supervisor, today)).filter(
    (alert) => alert.rule === 'bulk-status-change' && alert.subject === issuerId,
  );

/** A new issuer with `count` licences of its own. */
async function issuerWithLicences(): Promise<{ id: string; token: string; licences: IssuedLicence[] }> {
  const adminToken = await clientCredentialsToken(runtime, runtime.credentials.admin, 'admin');
  const issuer = await onboardIssuer(runtime, adminToken, { licenceTypes: ['driving-licence'] });
  const token = await clientCredentialsToken(runtime, issuer, 'licences:issue');
  const licences: IssuedLicence[] = [];
  for (let n = 0; n < count; n++) licences.push(await issueDrivingLicence(runtime, token));
  return { id: issuer.id, token, licences };
}

async function revoke(token: string, id: string, body: Record<string, unknown>): Promise<void> {
  const response = await postJson(runtime, `${licencePath(id)}/status`, token, {
    status: 'revoked',
    ...body,
  });
  expect(response.status, await response.clone().text()).toBe(200);
}

beforeAll(async () => {
  // Issuance alerts are not what this is about: their floor out of reach.
  ({ runtime, supervisor } = await startSupervisedRuntime({
    ALERT_ISSUANCE_MINIMUM: '10000',
    // The longest window (fixed, from UTC midnight): a run is not split between two of them.
    ALERT_BULK_STATUS_WINDOW_SECONDS: '86400',
  }));
});
afterAll(() => runtime?.close());

describe('re-issues and the bulk revocation alert', () => {
  it(`${count} re-issues in a window raise no bulk-status-change alert; their entries keep the code`, async () => {
    const issuer = await issuerWithLicences();
    for (const licence of issuer.licences) {
      const response = await postJson(runtime, `${licencePath(licence.id)}/reissue`, issuer.token, undefined);
      expect(response.status, await response.clone().text()).toBe(201);
    }
    expect(await bulkAlertsOf(issuer.id)).toEqual([]);

    // The revocation's entry, as the supervisor reads it: the code and the replacement, and its hash holds.
    const old = issuer.licences[0]!;
    const { items } = await supervisionGet<{ items: Array<AuditEntry & { hash?: string }> }>(
      runtime,
      `/supervision/audit?licence=${encodeURIComponent(old.id)}`,
      supervisor,
    );
    const revoked = items.find((entry) => entry.action === 'licence.revoked')!;
    expect(revoked).toMatchObject({ reasonCode: 'reissued', replacedBy: expect.any(String) });
    expect(entryHash(revoked)).toBe(revoked.hash);
  });

  it(`${count} plain revocations still raise it`, async () => {
    const issuer = await issuerWithLicences();
    for (const licence of issuer.licences)
      await revoke(issuer.token, licence.id, { reasonCode: 'violation' });
    expect(await bulkAlertsOf(issuer.id)).toEqual([
      expect.objectContaining({ severity: 'high', detail: expect.stringContaining('20 licences revoked') }),
    ]);
  });

  it(`${count} revocations giving the code reissued themselves (no replacement) still raise it`, async () => {
    const issuer = await issuerWithLicences();
    for (const licence of issuer.licences) await revoke(issuer.token, licence.id, { reasonCode: 'reissued' });
    expect(await bulkAlertsOf(issuer.id)).toEqual([
      expect.objectContaining({ severity: 'high', detail: expect.stringContaining('20 licences revoked') }),
    ]);
  });
});
