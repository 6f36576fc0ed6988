import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { dependencies } from '../../../functions/composition/dependencies.js';
import type { AuditTrail } from '../../../shared/audit/audit-trail.js';
import { UnavailableError } from '../../../shared/errors.js';
import type { StatusListStore } from '../../../shared/licence/status-list-store.js';
import { StatusType } from '../../../packages/verifier/src/status-list.js';
import { verifyAuditTrail } from '../../../shared/supervision/audit-chain-verify.js';
import { postJson } from '../../support/http-api.js';
import {
  drivingLicenceBody,
  expectJson,
  issued,
  issueLicence,
  issuerKeySet,
  licencePath,
  newIdNumber,
  statusAt,
  verifyCredential,
  type KeySet,
  type LicenceJson,
} from '../../support/licences.js';
import { clientCredentialsToken, startTestRuntime, type TestRuntime } from '../../support/runtime.js';

/**
 * Operator review H2: a change of a licence that fails half-way (after its record is written) leaves no
 * half-written state for good. The licence's audit entry and its status-list entry are recorded as pending
 * work in the record's own write; a retry of the request (the same Idempotency-Key, or the same status
 * change asked again) finishes them, and so does the reconciler on its own (`pending-work-reconciler`, run
 * here on demand, as its schedule runs it every minute). Each audit entry is written exactly once.
 */

/** Failures injected once into the runtime's own stores, after what they follow was written. */
const faults: {
  statusList: number;
  audit: number;
  /** Entries about a licence change written, then reported failed (the answer lost). */
  auditLanded: number;
  /** Run once before the next licence-change entry is written (another request landing meanwhile). */
  beforeAudit?: (() => Promise<void>) | undefined;
} = { statusList: 0, audit: 0, auditLanded: 0 };

/** The status-list store every function uses, refusing the next `faults.statusList` writes as contended. */
function faultyStatusLists(store: StatusListStore): StatusListStore {
  return {
    allocate: (issuerId) => store.allocate(issuerId),
    setStatus: async (listId, idx, value) => {
      if (faults.statusList > 0) {
        faults.statusList -= 1;
        throw new UnavailableError(`injected: status list ${listId} contended`, 'status_list_contended');
      }
      return store.setStatus(listId, idx, value);
    },
    find: (listId) => store.find(listId),
    allocated: (issuerId) => store.allocated(issuerId),
    saveToken: (listId, token, seen) => store.saveToken(listId, token, seen),
  };
}

/** The audit trail every function uses, failing the next `faults.audit` entries about a licence change. */
function faultyAudit(trail: AuditTrail): AuditTrail {
  return {
    record: async (entry, once) => {
      const change = entry.action.startsWith('licence.') && !/verified|issuer_read/.test(entry.action);
      if (change && faults.audit > 0) {
        faults.audit -= 1;
        throw new Error('injected: the audit write failed');
      }
      const before = change ? faults.beforeAudit : undefined;
      faults.beforeAudit = change ? undefined : faults.beforeAudit;
      await before?.();
      await trail.record(entry, once);
      if (change && faults.auditLanded > 0) {
        faults.auditLanded -= 1;
        throw new Error('injected: the audit write landed, but its answer was lost');
      }
    },
  };
}

let runtime: TestRuntime;
let token: string;
let adminToken: string;
let keys: KeySet;

beforeAll(async () => {
  // Pending work is due at once (the default waits a minute for the request's own completion).
  runtime = await startTestRuntime(
    undefined,
    { PENDING_WORK_AGE_SECONDS: '0', AUDIT_CHECKPOINT_INTERVAL_SECONDS: '0' },
    {
      statusLists: (operator) => faultyStatusLists(operator.statusLists),
      audit: (operator) => faultyAudit(operator.audit),
    },
  );
  token = await clientCredentialsToken(runtime, runtime.credentials.issuer, 'licences:issue');
  adminToken = await clientCredentialsToken(runtime, runtime.credentials.admin, 'admin');
  keys = await issuerKeySet(runtime, runtime.credentials.issuer.id);
});
afterEach(() => {
  faults.statusList = 0;
  faults.audit = 0;
  faults.auditLanded = 0;
  faults.beforeAudit = undefined;
});
afterAll(async () => {
  await runtime?.close();
});

/**
 * The licence's audit entries (`GET /admin/audit`) of its issuance and changes: their actions, oldest
 * first. The issuer's reads of it (`licence.issuer_read`, recorded for the holder) are not its changes.
 */
async function auditActions(licenceId: string): Promise<string[]> {
  const response = await fetch(`${runtime.baseUrl}/admin/audit?licence=${encodeURIComponent(licenceId)}`, {
    headers: { authorization: `Bearer ${adminToken}` },
  });
  const { items } = await expectJson<{ items: Array<{ action: string }> }>(response, 200);
  return items.map((entry) => entry.action).filter((action) => action !== 'licence.issuer_read');
}

/** The licence's entry in its published status list, as an offline verifier reads it. */
async function listed(licence: LicenceJson): Promise<number> {
  const { status_list } = (await verifyCredential(licence.credential, keys)).status;
  return statusAt(status_list.uri, status_list.idx, keys);
}

const revoke = (licence: LicenceJson) =>
  postJson(runtime, `${licencePath(licence.id)}/status`, token, {
    status: 'revoked',
    reason: '以欺骗手段取得',
  });

/** The revocation whose status-list write fails once after the record was saved: a 503, the record revoked. */
async function revokedHalfWay(): Promise<LicenceJson> {
  const licence = await issued(runtime, token, drivingLicenceBody(newIdNumber()));
  faults.statusList = 1;
  const response = await revoke(licence);
  const text = await response.text();
  expect(response.status, text).toBe(503);
  expect(faults.statusList).toBe(0);
  const read = await expectJson<LicenceJson>(await fetchLicence(licence.id), 200);
  expect(read.status).toBe('revoked');
  // The state the finding describes: revoked online, still valid for an offline verifier.
  expect(await listed(licence)).toBe(StatusType.VALID);
  return licence;
}

const fetchLicence = (id: string) =>
  fetch(`${runtime.baseUrl}${licencePath(id)}`, { headers: { authorization: `Bearer ${token}` } });

describe('a status change whose status list fails after the record is saved', () => {
  it('is finished by the same change asked again: the list says revoked, one audit entry', async () => {
    const licence = await revokedHalfWay();
    const retried = await expectJson<LicenceJson>(await revoke(licence), 200);
    expect(retried.status).toBe('revoked');
    expect(await listed(licence)).toBe(StatusType.INVALID);
    expect(await auditActions(licence.id)).toEqual(['licence.issued', 'licence.revoked']);
    // Nothing left for the reconciler, which writes nothing more.
    expect(await runtime.runSchedule('pending-work-reconciler')).toMatchObject({ failed: 0 });
    expect(await auditActions(licence.id)).toEqual(['licence.issued', 'licence.revoked']);
  });

  it('is finished by one reconciler run without any retry: the list says revoked, one audit entry', async () => {
    const licence = await revokedHalfWay();
    const run = await runtime.runSchedule('pending-work-reconciler');
    expect(run).toMatchObject({ failed: 0 });
    expect((run as { completed: number }).completed).toBeGreaterThanOrEqual(1);
    expect(await listed(licence)).toBe(StatusType.INVALID);
    expect(await auditActions(licence.id)).toEqual(['licence.issued', 'licence.revoked']);
    // A second run finds nothing of this licence's left, and a late retry of the change writes no second entry.
    await runtime.runSchedule('pending-work-reconciler');
    await expectJson<LicenceJson>(await revoke(licence), 200);
    expect(await auditActions(licence.id)).toEqual(['licence.issued', 'licence.revoked']);
  });
});

describe('the reconciler and a licence with a long trail', () => {
  it('finishes a revocation reading none of the trail: the list says revoked, the entry written once', async () => {
    const licence = await issued(runtime, token, drivingLicenceBody(newIdNumber()));
    // A printed QR code scanned over and over: more entries than any page or query answers at once.
    const trail = dependencies().audit;
    const base = Date.now() - 600_000;
    await Promise.all(
      Array.from({ length: 1_200 }, (_, i) =>
        trail.record({
          at: new Date(base + i * 100).toISOString(),
          actor: 'anonymous',
          action: 'licence.verified',
          licenceId: licence.id,
          verdict: 'valid',
        }),
      ),
    );
    faults.statusList = 1;
    expect((await revoke(licence)).status).toBe(503);
    // The reconciler's grants hold no query of the audit table (the local grant guard refuses one as IAM
    // would), and its audit port has no read of a trail at all (AuditTrail only records).
    expect(await runtime.runSchedule('pending-work-reconciler')).toMatchObject({ failed: 0 });
    expect(await listed(licence)).toBe(StatusType.INVALID);
    const changes = async () => {
      const actions: string[] = [];
      let cursor: string | undefined;
      do {
        const response = await fetch(
          `${runtime.baseUrl}/admin/audit?licence=${encodeURIComponent(licence.id)}&limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
          { headers: { authorization: `Bearer ${adminToken}` } },
        );
        const page = await expectJson<{ items: Array<{ action: string }>; cursor?: string }>(response, 200);
        actions.push(...page.items.map((entry) => entry.action));
        cursor = page.cursor;
      } while (cursor);
      return actions;
    };
    const all = await changes();
    expect(all.filter((action) => action === 'licence.verified')).toHaveLength(1_200);
    expect(all.filter((action) => !/verified|issuer_read/.test(action))).toEqual([
      'licence.issued',
      'licence.revoked',
    ]);
    // Run again, and the change asked again: still one entry.
    await runtime.runSchedule('pending-work-reconciler');
    await expectJson<LicenceJson>(await revoke(licence), 200);
    expect((await changes()).filter((action) => action === 'licence.revoked')).toHaveLength(1);
  });
});

describe('an issuance whose audit entry fails after the licence is written', () => {
  it('is finished by a retry with the same Idempotency-Key: exactly one licence.issued entry', async () => {
    const key = randomUUID();
    const body = drivingLicenceBody(newIdNumber());
    faults.audit = 1;
    const first = await expectJson<LicenceJson>(await issueLicence(runtime, token, body, key), 201);
    expect(faults.audit).toBe(0);
    // Issued, but not yet in the audit trail (nor, so, in supervision's statistics).
    expect(await auditActions(first.id)).toEqual([]);

    const retried = await expectJson<LicenceJson>(await issueLicence(runtime, token, body, key), 200);
    expect(retried.id).toBe(first.id);
    expect(await auditActions(first.id)).toEqual(['licence.issued']);

    // Neither another retry nor the reconciler writes it again.
    await expectJson<LicenceJson>(await issueLicence(runtime, token, body, key), 200);
    await runtime.runSchedule('pending-work-reconciler');
    expect(await auditActions(first.id)).toEqual(['licence.issued']);
  });

  it('is finished by one reconciler run when nobody retries', async () => {
    faults.audit = 1;
    const licence = await issued(runtime, token, drivingLicenceBody(newIdNumber()));
    expect(await auditActions(licence.id)).toEqual([]);
    expect(await runtime.runSchedule('pending-work-reconciler')).toMatchObject({ failed: 0 });
    expect(await auditActions(licence.id)).toEqual(['licence.issued']);
  });
});

/** What `npm run audit:verify` runs: every chain of today recomputed from the public API, checkpoint first. */
async function auditVerifies(): Promise<void> {
  const registered = await postJson(runtime, '/admin/clients', adminToken, {
    name: '电子监察 supervising office',
    scopes: ['supervision'],
  });
  expect(registered.status).toBe(201);
  const supervisor = (await registered.json()) as { clientId: string; clientSecret: string };
  const today = new Date().toISOString().slice(0, 10);
  const report = await verifyAuditTrail({
    base: runtime.baseUrl,
    ...supervisor,
    from: today,
    to: today,
    checkpointFirst: true,
  });
  expect(report.faults).toEqual([]);
  expect(report.ok).toBe(true);
}

describe('completions that race or repeat (security review R11)', () => {
  it('a change landing while the reconciler writes the last one’s entry: each entry once, the chains intact', async () => {
    const licence = await issued(runtime, token, drivingLicenceBody(newIdNumber()));
    const suspend = (status: 'suspended' | 'valid') =>
      postJson(runtime, `${licencePath(licence.id)}/status`, token, { status, reason: '核查' });
    // The suspension's entry fails: recorded, pending.
    faults.audit = 1;
    await expectJson<LicenceJson>(await suspend('suspended'), 200);
    expect(await auditActions(licence.id)).toEqual(['licence.issued']);
    // The reconciler claims it; just before it writes the entry, the licence is reinstated (and that
    // request, which cannot take the reconciler's claim, writes the status list itself).
    let reinstated: Response | undefined;
    faults.beforeAudit = async () => {
      reinstated = await suspend('valid');
    };
    await runtime.runSchedule('pending-work-reconciler');
    expect(reinstated?.status).toBe(200);
    expect(await listed(licence)).toBe(StatusType.VALID);
    await runtime.runSchedule('pending-work-reconciler');
    expect(await auditActions(licence.id)).toEqual([
      'licence.issued',
      'licence.suspended',
      'licence.reinstated',
    ]);
    await auditVerifies();
  });

  it('an entry whose write landed but was reported failed: completed again, written once, the chains intact', async () => {
    const licence = await issued(runtime, token, drivingLicenceBody(newIdNumber()));
    faults.auditLanded = 1;
    await expectJson<LicenceJson>(await revoke(licence), 200);
    // A retry of the change, and the reconciler twice: each writes it under its key, a no-op.
    await expectJson<LicenceJson>(await revoke(licence), 200);
    await runtime.runSchedule('pending-work-reconciler');
    await runtime.runSchedule('pending-work-reconciler');
    expect(await auditActions(licence.id)).toEqual(['licence.issued', 'licence.revoked']);
    await auditVerifies();
  });
});
