import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dependencies } from '../../../functions/composition/dependencies.js';
import { recordShares } from '../../../shared/sharing/record-shares.js';
import { chinaDay } from '../../../shared/supervision/events.js';
import { expectProblem, onboardIssuer, postJson } from '../../support/http-api.js';
import { clientCredentialsToken, type TestRuntime } from '../../support/runtime.js';
import {
  alertsOf as alertsOfDay,
  type Alert,
  outboxAlerts,
  startSupervisedRuntime,
  supervisionGet,
} from '../../support/supervision.js';
import { changeStatus, issueDrivingLicence, verified, type IssuedLicence } from '../verify/helpers.js';

/**
 * Statistics and alerts (电子监察) through the real runtime: licences issued, suspended, reinstated,
 * revoked and verified over HTTP write their audit entries; the embedded DynamoDB's stream tap hands them
 * to `supervision-events`; the supervisor reads the counts and alerts over HTTP. Thresholds are lowered
 * so that each rule is reached one event at a time, and checked one below first.
 */
const thresholds = {
  ALERT_SCAN_FAILURES_PER_LICENCE: '3',
  ALERT_SCAN_FAILURES_PER_VERIFIER: '4',
  ALERT_BULK_STATUS_CHANGES: '3',
  ALERT_ISSUANCE_MINIMUM: '4',
};

interface Day {
  date: string;
  issued: number;
  suspended: number;
  reinstated: number;
  revoked: number;
  verified: Record<string, number>;
  shared: number;
}

let runtime: TestRuntime;
let supervisor: string;
let issuerId: string;
let issuerToken: string;
let verifierToken: string;
const licences: IssuedLicence[] = [];
const today = chinaDay(Date.now());

const get = <T>(path: string, token = supervisor) => supervisionGet<T>(runtime, path, token);
const statsOfIssuer = async () =>
  (await get<{ days: Day[] }>(`/supervision/stats?from=${today}&to=${today}&issuer=${issuerId}`)).days;
const alerts = () => alertsOfDay(runtime, supervisor, today);
const alertsOf = async (rule: string, subject: string) =>
  (await alerts()).filter((alert) => alert.rule === rule && alert.subject === subject);

/** A credential whose signature is not the issuer's: the same header and claims, 64 other bytes. */
const forged = (credential: string) =>
  `${credential.split('.').slice(0, 2).join('.')}.${Buffer.alloc(64, 1).toString('base64url')}`;

beforeAll(async () => {
  ({ runtime, supervisor } = await startSupervisedRuntime(thresholds));
  const { admin, verifier } = runtime.credentials;
  const adminToken = await clientCredentialsToken(runtime, admin, 'admin');
  const issuer = await onboardIssuer(runtime, adminToken, { licenceTypes: ['driving-licence'] });
  issuerId = issuer.id;
  issuerToken = await clientCredentialsToken(runtime, issuer, 'licences:issue');
  verifierToken = await clientCredentialsToken(runtime, verifier, 'licences:verify');
});
afterAll(() => runtime?.close());

describe('the supervisor client', () => {
  it('is seeded and written to credentials.json as `supervisor`', async () => {
    const file = JSON.parse(await readFile(runtime.credentialsFile, 'utf8')) as Record<string, unknown>;
    expect(file.supervisor).toEqual({
      clientId: runtime.credentials.supervisor.clientId,
      clientSecret: expect.any(String),
    });
  });

  it('is created by the admin like other clients, with client credentials and no redirect URI', async () => {
    const adminToken = await clientCredentialsToken(runtime, runtime.credentials.admin, 'admin');
    const response = await postJson(runtime, '/admin/clients', adminToken, {
      name: '省政务服务管理办公室 (test)',
      scopes: ['supervision'],
    });
    expect(response.status, await response.clone().text()).toBe(201);
    const client = (await response.json()) as { clientId: string; clientSecret: string };
    const token = await clientCredentialsToken(runtime, client, 'supervision');
    expect(
      (await get<{ days: Day[] }>(`/supervision/stats?from=${today}&to=${today}`, token)).days,
    ).toHaveLength(1);
    // It may not ask for more than supervision.
    await expect(clientCredentialsToken(runtime, client, 'admin')).rejects.toThrow(/400|invalid_scope/);
  });

  it('is a machine-only scope: a registration combining it with openid or other user scopes is refused', async () => {
    const adminToken = await clientCredentialsToken(runtime, runtime.credentials.admin, 'admin');
    for (const scopes of [
      ['openid', 'supervision'],
      ['supervision', 'profile'],
      ['supervision', 'licences'],
    ]) {
      const response = await postJson(runtime, '/admin/clients', adminToken, {
        name: 'a platform that would supervise',
        scopes,
        redirectUris: ['https://platform.example/cb'],
      });
      const problem = await expectProblem(response, 400);
      expect(
        problem.errors?.map((error) => error.path),
        scopes.join(' '),
      ).toContain('scopes');
    }
  });

  it('is the only kind of client the supervision routes answer', async () => {
    const response = await fetch(`${runtime.baseUrl}/supervision/stats?from=${today}&to=${today}`, {
      headers: { authorization: `Bearer ${issuerToken}` },
    });
    expect(response.status).toBe(403);
    const anonymous = await fetch(`${runtime.baseUrl}/supervision/alerts?from=${today}&to=${today}`);
    expect(anonymous.status).toBe(401);
  });
});

describe('issuance and status changes', () => {
  it('counts issuance per issuer and type, and alerts on unusual volume at its threshold only', async () => {
    for (let i = 0; i < 3; i += 1) licences.push(await issueDrivingLicence(runtime, issuerToken));
    expect(await alertsOf('issuance-volume', issuerId)).toEqual([]);
    licences.push(await issueDrivingLicence(runtime, issuerToken));
    const [alert, ...more] = await alertsOf('issuance-volume', issuerId);
    expect(more).toEqual([]);
    expect(alert).toEqual({
      at: expect.any(String),
      rule: 'issuance-volume',
      severity: 'medium',
      subject: issuerId,
      detail: expect.stringContaining('4 licences issued today'),
    });
    expect(alert!.detail).toContain('threshold 4');
    // Once a window: a fifth issuance raises no second alert.
    licences.push(await issueDrivingLicence(runtime, issuerToken));
    expect(await alertsOf('issuance-volume', issuerId)).toHaveLength(1);
  });

  it('alerts on bulk revocations and suspensions at the threshold, not one below', async () => {
    const [a, b, c] = licences as [IssuedLicence, IssuedLicence, IssuedLicence];
    await changeStatus(runtime, issuerToken, a.id, 'suspended');
    await changeStatus(runtime, issuerToken, a.id, 'valid');
    await changeStatus(runtime, issuerToken, b.id, 'revoked');
    expect(await alertsOf('bulk-status-change', issuerId)).toEqual([]);
    await changeStatus(runtime, issuerToken, c.id, 'revoked');
    const raised = await alertsOf('bulk-status-change', issuerId);
    expect(raised).toEqual([
      expect.objectContaining({
        severity: 'high',
        detail: expect.stringContaining('3 licences revoked or suspended'),
      }),
    ]);
  });
});

describe('verifications', () => {
  it('alerts on the first verification of a revoked licence', async () => {
    const revoked = licences[1]!;
    expect(await alertsOf('revoked-verified', revoked.id)).toEqual([]);
    expect((await verified(runtime, revoked.credential)).verdict).toBe('revoked');
    expect(await alertsOf('revoked-verified', revoked.id)).toEqual([
      expect.objectContaining({ severity: 'high', subject: revoked.id }),
    ]);
  });

  it('alerts on repeated forged scans of one licence at the threshold, not one below', async () => {
    const target = licences[3]!;
    expect((await verified(runtime, target.credential, verifierToken)).verdict).toBe('valid');
    expect((await verified(runtime, target.credential, verifierToken)).verdict).toBe('valid');
    for (let i = 0; i < 2; i += 1) {
      expect((await verified(runtime, forged(target.credential), verifierToken)).verdict).toBe(
        'invalid_signature',
      );
    }
    expect(await alertsOf('scan-failures-licence', target.id)).toEqual([]);
    await verified(runtime, forged(target.credential), verifierToken);
    const [alert, ...more] = await alertsOf('scan-failures-licence', target.id);
    expect(more).toEqual([]);
    expect(alert?.detail).toMatch(
      /^3 invalid_signature or malformed verifications of this licence .*threshold 3/,
    );
  });

  it('alerts on a verifier app scanning garbage, counted with its forged scans', async () => {
    const client = runtime.credentials.verifier.clientId;
    // Its 3 forged scans above count: one more reaches 4.
    expect(await alertsOf('scan-failures-verifier', client)).toEqual([]);
    expect((await verified(runtime, 'not a licence at all', verifierToken)).verdict).toBe('malformed');
    expect(await alertsOf('scan-failures-verifier', client)).toEqual([
      expect.objectContaining({ severity: 'high', subject: client }),
    ]);
  });
});

describe('GET /supervision/stats', () => {
  it('equals the events generated, per issuer and per type', async () => {
    // A platform handed two licences (授权用证): the use case the shared-licences API runs, writing its
    // audit entries through the runtime's table as that API does.
    const deps = dependencies();
    const shared = await Promise.all(
      licences.slice(3, 5).map(async ({ id }) => (await deps.licences.get(id))!),
    );
    await recordShares({ clientId: 'cl_platform', at: new Date().toISOString() }, shared, deps);
    await runtime.drainStreams();
    const expected: Day = {
      date: today,
      issued: 5,
      suspended: 1,
      reinstated: 1,
      revoked: 2,
      // The forged and garbage scans name no issuer the service stands behind: not this issuer's.
      verified: { valid: 2, revoked: 1 },
      shared: 2,
    };
    expect(await statsOfIssuer()).toEqual([expected]);
    const byType = await get<{ days: Day[] }>(
      `/supervision/stats?from=${today}&to=${today}&issuer=${issuerId}&type=driving-licence`,
    );
    expect(byType.days).toEqual([expected]);
    const otherType = await get<{ days: Day[] }>(
      `/supervision/stats?from=${today}&to=${today}&issuer=${issuerId}&type=business-licence`,
    );
    expect(otherType.days).toEqual([
      { date: today, issued: 0, suspended: 0, reinstated: 0, revoked: 0, verified: {}, shared: 0 },
    ]);
    // Across every issuer: at least these, and the scans that named none (3 forged, 1 malformed).
    const [all] = (await get<{ days: Day[] }>(`/supervision/stats?from=${today}&to=${today}`)).days;
    expect(all!.issued).toBeGreaterThanOrEqual(5);
    expect(all!.verified.invalid_signature).toBeGreaterThanOrEqual(3);
    expect(all!.verified.malformed).toBeGreaterThanOrEqual(1);
    expect(runtime.streamFailures()).toEqual([]);
  });

  it('answers every day of the range, zeros included', async () => {
    const from = new Date(Date.parse(`${today}T00:00:00Z`) - 2 * 86_400_000).toISOString().slice(0, 10);
    const { days } = await get<{ days: Day[] }>(
      `/supervision/stats?from=${from}&to=${today}&issuer=${issuerId}`,
    );
    expect(days.map((day) => day.date)).toHaveLength(3);
    expect(days[0]).toEqual({
      date: from,
      issued: 0,
      suspended: 0,
      reinstated: 0,
      revoked: 0,
      verified: {},
      shared: 0,
    });
    expect(days[2]!.issued).toBe(5);
  });

  it('refuses a range over 366 days or backwards, naming the field', async () => {
    const tooLong = await fetch(`${runtime.baseUrl}/supervision/stats?from=2024-01-01&to=2025-01-01`, {
      headers: { authorization: `Bearer ${supervisor}` },
    });
    const problem = await expectProblem(tooLong, 400, 'invalid_range');
    expect(problem.errors).toEqual([
      { path: 'to', message: expect.stringContaining('366'), code: 'invalid' },
    ]);
    const backwards = await fetch(`${runtime.baseUrl}/supervision/stats?from=2025-01-02&to=2025-01-01`, {
      headers: { authorization: `Bearer ${supervisor}` },
    });
    await expectProblem(backwards, 400, 'invalid_range');
    const badDate = await fetch(`${runtime.baseUrl}/supervision/stats?from=2025-02-30&to=2025-03-01`, {
      headers: { authorization: `Bearer ${supervisor}` },
    });
    const bad = await expectProblem(badDate, 400);
    expect(bad.errors?.map((error) => error.path)).toEqual(['from']);
  });
});

describe('alerts', () => {
  it('are published to the outbox (the alarm topic in AWS), one line each, nothing personal', async () => {
    const lines = await outboxAlerts(runtime);
    const stored = await alerts();
    for (const alert of stored) expect(lines).toContainEqual(alert);
    expect(new Set(lines.map((alert) => `${alert.rule}#${alert.subject}`)).size).toBe(lines.length);
    const text = JSON.stringify(lines);
    expect(text).not.toMatch(/\d{17}[\dX]/);
    expect(text).not.toContain('holderKey');
  });

  it('are answered a page at a time (limit, cursor); a cursor of another range is refused', async () => {
    const all = await alerts();
    expect(all.length).toBeGreaterThan(1);
    const paged: Alert[] = [];
    let cursor: string | undefined;
    do {
      const page = await get<{ items: Alert[]; cursor?: string }>(
        `/supervision/alerts?from=${today}&to=${today}&limit=1${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(page.items.length).toBeLessThanOrEqual(1);
      paged.push(...page.items);
      cursor = page.cursor;
    } while (cursor);
    expect(paged).toEqual(all);
    const first = await get<{ cursor: string }>(`/supervision/alerts?from=${today}&to=${today}&limit=1`);
    const elsewhere = await fetch(
      `${runtime.baseUrl}/supervision/alerts?from=2020-01-01&to=2020-01-31&cursor=${first.cursor}`,
      { headers: { authorization: `Bearer ${supervisor}` } },
    );
    const problem = await expectProblem(elsewhere, 400, 'invalid_cursor');
    expect(problem.errors?.map((error) => error.path)).toEqual(['cursor']);
  });

  it('answer only the days asked for', async () => {
    const { items } = await get<{ items: Alert[] }>(`/supervision/alerts?from=2020-01-01&to=2020-01-31`);
    expect(items).toEqual([]);
  });
});
