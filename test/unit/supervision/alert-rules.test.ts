import { describe, expect, it } from 'vitest';
import type { AlertThresholds } from '../../../shared/config.js';
import { loadConfig } from '../../../shared/config.js';
import { listAlerts, newAlertMemory } from '../../../shared/supervision/alert-rules.js';
import type { SupervisedEntry } from '../../../shared/supervision/events.js';
import { processAuditEntries } from '../../../shared/supervision/process-events.js';
import { emptyCounts } from '../../../shared/supervision/statistics.js';
import {
  InMemoryAlerts,
  InMemoryStatistics,
  KnownLicences,
  RecordingPublisher,
} from '../../support/in-memory-supervision.js';

const thresholds: AlertThresholds = {
  scanFailuresWindowSeconds: 600,
  scanFailuresPerLicence: 5,
  scanFailuresPerVerifier: 20,
  scanFailuresAnonymous: 200,
  bulkStatusWindowSeconds: 3600,
  bulkStatusChanges: 20,
  bulkStatusChangesPerDay: 200,
  issuanceFactor: 3,
  issuanceMinimum: 50,
  verificationsWindowSeconds: 600,
  verificationsPerLicence: 100,
  exportWindowSeconds: 3600,
  exportRows: 20_000,
  exportRowsPerDay: 100_000,
  publishPerRulePerHour: 20,
};

const licence = '1.2.156.3005.2.003.11110000000021135M.0001.1.3';

function world(overrides: Partial<AlertThresholds> = {}) {
  const statistics = new InMemoryStatistics();
  const alerts = new InMemoryAlerts();
  const publisher = new RecordingPublisher();
  const licences = new KnownLicences().add(licence);
  const deps = {
    statistics,
    alerts,
    publisher,
    licences,
    thresholds: { ...thresholds, ...overrides },
    memory: newAlertMemory(),
  };
  return {
    forget: () => {
      deps.memory = newAlertMemory();
    },
    statistics,
    alerts,
    publisher,
    licences,
    process: (entries: SupervisedEntry[]) => processAuditEntries(entries, deps),
    raised: async () =>
      (
        await alerts.list({ from: '2000-01-01T00:00:00.000Z', to: '2100-01-01T00:00:00.000Z', limit: 10_000 })
      ).items.map(({ position: _position, ...alert }) => alert),
  };
}

/** `n` entries a second apart from `start`. */
function times(n: number, start = '2026-03-01T02:00:00.000Z'): string[] {
  return Array.from({ length: n }, (_, i) => new Date(Date.parse(start) + i * 1000).toISOString());
}

const verification = (
  at: string,
  verdict: string,
  extra: Partial<SupervisedEntry> = {},
): SupervisedEntry => ({
  at,
  actor: 'cl_scanner',
  action: 'licence.verified',
  verdict,
  ...extra,
});

describe('the alert rules', () => {
  describe('scan-failures-licence: invalid_signature or malformed scans of one licence', () => {
    it('fires at the threshold (5 in 10 min), once, and not one below', async () => {
      const w = world();
      await w.process(
        times(4).map((at, i) =>
          verification(at, i % 2 ? 'malformed' : 'invalid_signature', { claimedLicenceId: licence }),
        ),
      );
      expect((await w.raised()).filter((a) => a.rule === 'scan-failures-licence')).toEqual([]);
      await w.process([
        verification('2026-03-01T02:00:10.000Z', 'invalid_signature', { claimedLicenceId: licence }),
      ]);
      const raised = (await w.raised()).filter((a) => a.rule === 'scan-failures-licence');
      expect(raised).toEqual([
        {
          at: '2026-03-01T02:00:10.000Z',
          rule: 'scan-failures-licence',
          severity: 'high',
          subject: licence,
          detail:
            '5 invalid_signature or malformed verifications of this licence within 10 min (threshold 5)',
        },
      ]);
      expect(w.publisher.published).toContainEqual(raised[0]);
      await w.process([
        verification('2026-03-01T02:00:11.000Z', 'invalid_signature', { claimedLicenceId: licence }),
      ]);
      expect((await w.raised()).filter((a) => a.rule === 'scan-failures-licence')).toHaveLength(1);
    });

    it('counts a claimed licence id only when that licence is on record (forged ids raise nothing)', async () => {
      const w = world();
      const invented = '1.2.156.3005.2.003.11110000000021135M.9999.1.3';
      await w.process(
        times(50).map((at) => verification(at, 'invalid_signature', { claimedLicenceId: invented })),
      );
      expect((await w.raised()).filter((a) => a.rule === 'scan-failures-licence')).toEqual([]);
      // Read once for the whole batch, not once per scan.
      expect(w.licences.reads).toEqual([invented]);
      w.licences.add(invented);
      await w.process(
        times(5, '2026-03-01T02:01:00.000Z').map((at) =>
          verification(at, 'invalid_signature', { claimedLicenceId: invented }),
        ),
      );
      expect((await w.raised()).filter((a) => a.rule === 'scan-failures-licence')).toEqual([
        expect.objectContaining({ subject: invented }),
      ]);
    });

    it('counts each window apart, and not valid or expired scans', async () => {
      const w = world();
      // 4 in one window, 4 in the next: never 5 in one.
      await w.process(
        times(4, '2026-03-01T02:09:00.000Z').map((at) =>
          verification(at, 'invalid_signature', { licenceId: licence }),
        ),
      );
      await w.process(
        times(4, '2026-03-01T02:10:00.000Z').map((at) =>
          verification(at, 'invalid_signature', { licenceId: licence }),
        ),
      );
      await w.process(times(10).map((at) => verification(at, 'expired', { licenceId: licence })));
      expect((await w.raised()).filter((a) => a.rule === 'scan-failures-licence')).toEqual([]);
    });
  });

  describe('scan-failures-verifier: the same from one verifier app', () => {
    it('fires at 20 for a client, not at 19', async () => {
      const w = world();
      await w.process(times(19).map((at) => verification(at, 'malformed')));
      expect((await w.raised()).filter((a) => a.rule === 'scan-failures-verifier')).toEqual([]);
      await w.process([verification('2026-03-01T02:01:00.000Z', 'malformed')]);
      expect((await w.raised()).filter((a) => a.rule === 'scan-failures-verifier')).toEqual([
        expect.objectContaining({
          subject: 'cl_scanner',
          severity: 'high',
          detail: expect.stringMatching(/^20 .*by this verifier app.*\(threshold 20\)$/),
        }),
      ]);
    });

    it('counts anonymous scans together, against their own threshold', async () => {
      const w = world({ scanFailuresAnonymous: 30 });
      const anonymous = (at: string) => verification(at, 'invalid_signature', { actor: 'anonymous' });
      await w.process(times(29).map(anonymous));
      expect(await w.raised()).toEqual([]);
      await w.process([anonymous('2026-03-01T02:01:00.000Z')]);
      expect(await w.raised()).toEqual([
        expect.objectContaining({ rule: 'scan-failures-verifier', subject: 'anonymous', severity: 'medium' }),
      ]);
    });
  });

  describe('bulk-status-change: an issuer revoking or suspending in bulk', () => {
    const change = (at: string, action: string): SupervisedEntry => ({
      at,
      actor: 'cl_issuer',
      action,
      issuerId: 'iss_bulk',
      licenceType: 'driving-licence',
      licenceId: licence,
    });

    it('fires at 20 revocations and suspensions within the hour, not at 19; reinstatements do not count', async () => {
      const w = world();
      await w.process(times(19).map((at, i) => change(at, i % 2 ? 'licence.suspended' : 'licence.revoked')));
      await w.process(times(5, '2026-03-01T02:05:00.000Z').map((at) => change(at, 'licence.reinstated')));
      expect(await w.raised()).toEqual([]);
      await w.process([change('2026-03-01T02:30:00.000Z', 'licence.revoked')]);
      expect(await w.raised()).toEqual([
        expect.objectContaining({
          rule: 'bulk-status-change',
          subject: 'iss_bulk',
          severity: 'high',
          detail: '20 licences revoked or suspended by this issuer within 60 min (threshold 20)',
        }),
      ]);
    });

    it('judges a window with the one before: 38 in 2 minutes across a clock hour fire (R24 L3)', async () => {
      const w = world();
      await w.process(times(19, '2026-03-01T02:59:10.000Z').map((at) => change(at, 'licence.revoked')));
      expect(await w.raised()).toEqual([]);
      await w.process(times(19, '2026-03-01T03:00:30.000Z').map((at) => change(at, 'licence.revoked')));
      // 19 + 19 × (1 − 48/3600), rounded down.
      expect(await w.raised()).toEqual([
        expect.objectContaining({
          rule: 'bulk-status-change',
          subject: 'iss_bulk',
          detail:
            'about 37 licences revoked or suspended by this issuer within the last 60 min (19 in this window, 19 in the one before, 99% of which still within 60 min; threshold 20)',
        }),
      ]);
    });

    it('leaves the same 19 alone when the one before lies a window back', async () => {
      const w = world();
      await w.process(times(19, '2026-03-01T02:00:00.000Z').map((at) => change(at, 'licence.revoked')));
      await w.process(times(19, '2026-03-01T03:59:00.000Z').map((at) => change(at, 'licence.revoked')));
      expect(await w.raised()).toEqual([]);
    });

    it('fires bulk-status-change-daily for an issuer keeping under the hourly threshold all day', async () => {
      const w = world();
      // 9 an hour, evenly, for a China-time day (16:00Z to 16:00Z): never 20 within an hour, 216 in the day.
      const day = Array.from({ length: 24 * 9 }, (_, i) =>
        change(
          new Date(Date.parse('2026-03-01T16:00:00.000Z') + i * 400_000).toISOString(),
          'licence.revoked',
        ),
      );
      for (const entry of day) await w.process([entry]);
      expect(await w.raised()).toEqual([
        expect.objectContaining({
          rule: 'bulk-status-change-daily',
          subject: 'iss_bulk',
          severity: 'high',
          detail: '200 licences revoked or suspended by this issuer today, China time (threshold 200)',
        }),
      ]);
    });
  });

  describe('issuance-volume: issuance outside an issuer’s usual volume', () => {
    const issued = (at: string): SupervisedEntry => ({
      at,
      actor: 'cl_issuer',
      action: 'licence.issued',
      issuerId: 'iss_volume',
      licenceType: 'driving-licence',
    });

    it('with no history, fires at the floor (50 a day), not at 49', async () => {
      const w = world();
      await w.process(times(49).map(issued));
      expect(await w.raised()).toEqual([]);
      await w.process([issued('2026-03-01T03:00:00.000Z')]);
      expect(await w.raised()).toEqual([
        expect.objectContaining({ rule: 'issuance-volume', subject: 'iss_volume', severity: 'medium' }),
      ]);
    });

    it('with a trailing mean of 30 a day, fires at 3 × 30 = 90 issued today, not at 89', async () => {
      const w = world();
      // 210 over the 7 China-time days before 2026-03-01 (one day before that does not count).
      for (const day of [
        '2026-02-22',
        '2026-02-23',
        '2026-02-24',
        '2026-02-25',
        '2026-02-26',
        '2026-02-27',
        '2026-02-28',
      ]) {
        await w.statistics.add([
          {
            day,
            issuerId: 'iss_volume',
            licenceType: 'driving-licence',
            counts: { ...emptyCounts(), issued: 30 },
          },
        ]);
      }
      await w.statistics.add([
        {
          day: '2026-02-21',
          issuerId: 'iss_volume',
          licenceType: 'driving-licence',
          counts: { ...emptyCounts(), issued: 9000 },
        },
      ]);
      await w.process(times(89).map(issued));
      expect(await w.raised()).toEqual([]);
      await w.process([issued('2026-03-01T03:00:00.000Z')]);
      const [alert] = await w.raised();
      expect(alert).toMatchObject({ rule: 'issuance-volume', subject: 'iss_volume' });
      expect(alert!.detail).toBe(
        '90 licences issued today (China time) by this issuer, against a mean of 30.0 a day over the previous 7 days (threshold 90: 3× the mean, at least 50)',
      );
    });

    it('counts the China-time day: 16:00Z is already the next day', async () => {
      const w = world({ issuanceMinimum: 3 });
      await w.process(['2026-03-01T15:59:59.000Z', '2026-03-01T15:59:59.500Z'].map(issued));
      await w.process(['2026-03-01T16:00:00.000Z', '2026-03-01T16:00:01.000Z'].map(issued));
      expect(await w.raised()).toEqual([]);
      expect(await w.statistics.read({ from: '2026-03-01', to: '2026-03-02' })).toEqual([
        expect.objectContaining({ day: '2026-03-01', counts: expect.objectContaining({ issued: 2 }) }),
        expect.objectContaining({ day: '2026-03-02', counts: expect.objectContaining({ issued: 2 }) }),
      ]);
    });
  });

  describe('revoked-verified: any verification of a revoked licence', () => {
    it('fires at the first, once a day per licence; other verdicts do not', async () => {
      const w = world();
      await w.process(times(3).map((at) => verification(at, 'valid', { licenceId: licence })));
      await w.process(times(3).map((at) => verification(at, 'suspended', { licenceId: licence })));
      expect(await w.raised()).toEqual([]);
      await w.process(times(2).map((at) => verification(at, 'revoked', { licenceId: licence })));
      expect(await w.raised()).toEqual([
        expect.objectContaining({ rule: 'revoked-verified', subject: licence, severity: 'high' }),
      ]);
      expect(w.publisher.published).toHaveLength(1);
    });
  });

  describe('verification-flood-licence: verifications of one licence on record, any verdict', () => {
    const flood = <A extends { rule: string }>(alerts: A[]) =>
      alerts.filter((alert) => alert.rule === 'verification-flood-licence');
    /** Anonymous checks of the licence, by QR code and by its printed copy, with mixed verdicts. */
    const checks = (at: string[]) =>
      at.map((time, i) =>
        i % 3 === 2
          ? verification(time, 'valid', { actor: 'anonymous', licenceId: licence, format: 'pdf' })
          : verification(time, i % 3 ? 'suspended' : 'valid', { actor: 'anonymous', licenceId: licence }),
      );

    it('fires when the count in the window reaches the threshold (QR codes and printed copies), not one below, once', async () => {
      const w = world({ verificationsPerLicence: 10 });
      await w.process(checks(times(9)));
      expect(flood(await w.raised())).toEqual([]);
      await w.process(checks(['2026-03-01T02:00:30.000Z']));
      const raised = flood(await w.raised());
      expect(raised).toEqual([
        {
          at: '2026-03-01T02:00:30.000Z',
          rule: 'verification-flood-licence',
          severity: 'medium',
          subject: licence,
          detail: '10 verifications of this licence (any verdict) within 10 min (threshold 10)',
        },
      ]);
      expect(w.publisher.published).toEqual(raised);
      // Once a window: more checks, another batch, another container (nothing remembered) raise no more.
      await w.process(checks(times(20, '2026-03-01T02:01:00.000Z')));
      w.forget();
      await w.process(checks(times(5, '2026-03-01T02:05:00.000Z')));
      expect(flood(await w.raised())).toHaveLength(1);
      expect(w.publisher.published).toHaveLength(1);
      // The next window has its own count: reaching it again there is a second alert.
      await w.process(checks(times(10, '2026-03-01T02:10:00.000Z')));
      expect(flood(await w.raised()).map((alert) => alert.at)).toEqual([
        '2026-03-01T02:00:30.000Z',
        '2026-03-01T02:10:09.000Z',
      ]);
    });

    it('counts in fixed windows: a burst straddling two windows counts in both halves', async () => {
      const w = world({ verificationsPerLicence: 10 });
      // 02:09:55..02:10:04: 5 in the window from 02:00, 5 in the window from 02:10.
      await w.process(checks(times(10, '2026-03-01T02:09:55.000Z')));
      expect(flood(await w.raised())).toEqual([]);
      await w.process(checks(times(5, '2026-03-01T02:10:05.000Z')));
      expect(flood(await w.raised())).toEqual([
        expect.objectContaining({ at: '2026-03-01T02:10:09.000Z', subject: licence }),
      ]);
    });

    it('counts each licence on its own, and only licences the service identified (claimed ids raise nothing)', async () => {
      const w = world({ verificationsPerLicence: 10 });
      const other = '1.2.156.3005.2.003.11110000000021135M.0002.1.3';
      w.licences.add(other);
      // 5 each of two licences: neither reaches 10.
      await w.process([
        ...checks(times(5)),
        ...times(5).map((at) => verification(at, 'valid', { actor: 'anonymous', licenceId: other })),
      ]);
      // Forged scans claiming the licence (on record), garbage, and an unidentified pdf: not its checks.
      await w.process([
        ...times(20).map((at) => verification(at, 'invalid_signature', { claimedLicenceId: licence })),
        ...times(20).map((at) => verification(at, 'malformed')),
        ...times(20).map((at) => verification(at, 'unknown_issuer', { format: 'pdf' })),
      ]);
      expect(flood(await w.raised())).toEqual([]);
      // Other actions about the licence are no verifications either.
      await w.process(
        times(20).map((at) => ({ at, actor: 'cl_issuer', action: 'licence.shared', licenceId: licence })),
      );
      expect(flood(await w.raised())).toEqual([]);
      await w.process(checks(times(5, '2026-03-01T02:01:00.000Z')));
      expect(flood(await w.raised())).toEqual([
        expect.objectContaining({ subject: licence, detail: expect.stringMatching(/^10 verifications/) }),
      ]);
    });

    it('leaves a day of ordinary use alone at the default (100 in 10 min)', async () => {
      const w = world();
      // A hotel chain checking one guest's licence 60 times over a day (every 24 min).
      const day = Array.from({ length: 60 }, (_, i) =>
        new Date(Date.parse('2026-03-01T00:00:00.000Z') + i * 24 * 60_000).toISOString(),
      );
      await w.process(checks(day));
      // 99 in one window (02:10..02:20, one every 6 s) is not yet a flood; the 100th is.
      const burst = Array.from({ length: 99 }, (_, i) =>
        new Date(Date.parse('2026-03-01T02:10:00.000Z') + i * 6000).toISOString(),
      );
      await w.process(checks(burst));
      expect(flood(await w.raised())).toEqual([]);
      await w.process(checks(['2026-03-01T02:19:59.000Z']));
      expect(flood(await w.raised())).toEqual([
        expect.objectContaining({
          detail: '100 verifications of this licence (any verdict) within 10 min (threshold 100)',
        }),
      ]);
    });
  });

  it('publishes at most publishPerRulePerHour alerts of one rule an hour; the rest are stored and listed', async () => {
    const w = world({ scanFailuresPerLicence: 1, publishPerRulePerHour: 2 });
    const ids = ['L1', 'L2', 'L3', 'L4'];
    for (const id of ids) w.licences.add(id);
    await w.process(
      ids.map((id, i) =>
        verification(`2026-03-01T02:0${i}:00.000Z`, 'invalid_signature', { claimedLicenceId: id }),
      ),
    );
    const stored = (await w.raised()).filter((a) => a.rule === 'scan-failures-licence');
    expect(stored.map((a) => a.subject)).toEqual(ids);
    expect(w.publisher.published.filter((a) => a.rule === 'scan-failures-licence')).toHaveLength(2);
    // The next hour has its own allowance.
    w.licences.add('L5');
    await w.process([
      verification('2026-03-01T03:00:00.000Z', 'invalid_signature', { claimedLicenceId: 'L5' }),
    ]);
    expect(w.publisher.published.map((a) => a.subject)).toContain('L5');
  });

  it('loses no alert when its publish fails: the retried batch publishes it, in this container or another', async () => {
    for (const container of ['same', 'fresh'] as const) {
      const w = world({ bulkStatusChanges: 1 });
      const batch: SupervisedEntry[] = [
        { at: '2026-03-01T02:00:00.000Z', actor: 'cl', action: 'licence.revoked', issuerId: 'iss_1' },
      ];
      w.publisher.failing = 1;
      await expect(w.process(batch)).rejects.toThrow('publish failed');
      expect(w.publisher.published).toEqual([]);
      expect(await w.alerts.pending('bulk-status-change#iss_1#2026-03-01T02:00:00.000Z')).toBe(true);
      // The mapping retries the batch (a container that remembers, or a fresh one that does not).
      if (container === 'fresh') w.forget();
      await w.process(batch);
      expect(w.publisher.published, container).toEqual([
        expect.objectContaining({ rule: 'bulk-status-change', subject: 'iss_1' }),
      ]);
      expect(await w.alerts.pending('bulk-status-change#iss_1#2026-03-01T02:00:00.000Z')).toBe(false);
      // Once published, a further retry publishes nothing more.
      w.forget();
      await w.process(batch);
      expect(w.publisher.published).toHaveLength(1);
    }
  });

  it('lists alerts a page at a time, and refuses a cursor outside the range asked for', async () => {
    const w = world({ bulkStatusChanges: 1 });
    await w.process(
      times(5).map((at, i) => ({ at, actor: 'cl', action: 'licence.revoked', issuerId: `iss_${i}` })),
    );
    const pages: string[][] = [];
    let cursor: string | undefined;
    do {
      const page = await listAlerts(
        {
          from: '2026-03-01',
          to: '2026-03-01',
          limit: 2,
          order: 'oldest' as const,
          ...(cursor ? { cursor } : {}),
        },
        { alerts: w.alerts },
      );
      pages.push(page.items.map((a) => a.subject));
      cursor = page.cursor;
    } while (cursor);
    expect(pages).toEqual([['iss_0', 'iss_1'], ['iss_2', 'iss_3'], ['iss_4']]);
    const first = await listAlerts(
      { from: '2026-03-01', to: '2026-03-01', limit: 2, order: 'oldest' as const },
      { alerts: w.alerts },
    );
    await expect(
      listAlerts(
        { from: '2026-03-02', to: '2026-03-03', limit: 2, order: 'oldest' as const, cursor: first.cursor! },
        { alerts: w.alerts },
      ),
    ).rejects.toMatchObject({ code: 'invalid_cursor' });
    await expect(
      listAlerts(
        { from: '2026-03-01', to: '2026-03-01', limit: 2, order: 'oldest' as const, cursor: 'garbage' },
        { alerts: w.alerts },
      ),
    ).rejects.toMatchObject({ code: 'invalid_cursor' });
  });

  describe('bulk-export: CSV rows one issuer exports within the window', () => {
    const exported = (at: string, count: number, issuerId = 'iss_a'): SupervisedEntry => ({
      at,
      actor: 'cl_console',
      action: 'licences.exported',
      issuerId,
      count,
      filters: 'status=valid',
    });
    const bulk = (alerts: Array<{ rule: string }>) => alerts.filter((alert) => alert.rule === 'bulk-export');

    it('fires when the rows exported in the window reach the threshold, not one below, once; per issuer; not counted in the statistics', async () => {
      const w = world({ exportRows: 10_000 });
      await w.process([
        exported('2026-03-01T02:00:00.000Z', 5000),
        exported('2026-03-01T02:10:00.000Z', 4999),
      ]);
      await w.process([exported('2026-03-01T02:11:00.000Z', 5000, 'iss_b')]);
      expect(bulk(await w.raised())).toEqual([]);
      await w.process([exported('2026-03-01T02:20:00.000Z', 1)]);
      const raised = bulk(await w.raised());
      expect(raised).toEqual([
        {
          at: '2026-03-01T02:20:00.000Z',
          rule: 'bulk-export',
          severity: 'medium',
          subject: 'iss_a',
          detail: "10000 licences exported to CSV by this issuer's console within 60 min (threshold 10000)",
        },
      ]);
      expect(w.publisher.published).toEqual(raised);
      await w.process([exported('2026-03-01T02:30:00.000Z', 5000)]);
      expect(bulk(await w.raised())).toHaveLength(1);
      // Judged with the hour before (sliding, R36 L1): an hour after an empty one counts afresh.
      await w.process([exported('2026-03-01T05:00:00.000Z', 9999)]);
      expect(bulk(await w.raised())).toHaveLength(1);
      // The statistics count what happened to licences: exports are not among them.
      expect([...w.statistics.counters.values()]).toEqual([]);
    });

    it('judges a window with the one before: 39,998 rows in 4 minutes across a clock hour fire (R36 L1)', async () => {
      const w = world();
      await w.process([
        exported('2026-03-01T01:58:00.000Z', 5000),
        exported('2026-03-01T01:58:30.000Z', 5000),
        exported('2026-03-01T01:59:00.000Z', 5000),
        exported('2026-03-01T01:59:30.000Z', 4999),
      ]);
      await w.process([
        exported('2026-03-01T02:00:10.000Z', 5000),
        exported('2026-03-01T02:00:40.000Z', 5000),
        exported('2026-03-01T02:01:10.000Z', 5000),
        exported('2026-03-01T02:01:40.000Z', 4999),
      ]);
      const raised = bulk(await w.raised());
      expect(raised).toHaveLength(1);
      // 19,999 + 19,999 × (1 − 100/3600), rounded down.
      expect(raised[0]).toMatchObject({
        rule: 'bulk-export',
        subject: 'iss_a',
        detail: expect.stringMatching(
          /^about 39442 licences exported .* \(19999 in this window, 19999 in the one before, 97% of which/,
        ),
      });
    });

    it('fires bulk-export-daily for an issuer keeping under the hourly threshold all day (R36 L1)', async () => {
      const w = world();
      const entries: SupervisedEntry[] = [];
      // 5,000 rows every 40 minutes, from 00:05 UTC: 7,500 an hour, far under the 20,000 of the sliding hour.
      for (let k = 0; k < 30; k += 1) {
        entries.push(
          exported(new Date(Date.parse('2026-03-01T00:05:00.000Z') + k * 2_400_000).toISOString(), 5000),
        );
      }
      for (const entry of entries) await w.process([entry]);
      const raised = await w.raised();
      expect(bulk(raised)).toEqual([]);
      const daily = raised.filter((alert) => alert.rule === 'bulk-export-daily');
      expect(daily).toEqual([
        {
          // The 20th export reaches 100,000 rows in the China-time day (00:05 UTC is 08:05 in Beijing).
          at: new Date(Date.parse('2026-03-01T00:05:00.000Z') + 19 * 2_400_000).toISOString(),
          rule: 'bulk-export-daily',
          severity: 'medium',
          subject: 'iss_a',
          detail:
            "100000 licences exported to CSV by this issuer's console today, China time (threshold 100000)",
        },
      ]);
    });
  });

  it('takes its defaults from the configuration, each overridable', () => {
    expect(loadConfig({}).alertThresholds).toEqual(thresholds);
    expect(loadConfig({ ALERT_BULK_STATUS_CHANGES: '7' }).alertThresholds.bulkStatusChanges).toBe(7);
    expect(() => loadConfig({ ALERT_BULK_STATUS_CHANGES: '0' })).toThrow(/ALERT_BULK_STATUS_CHANGES/);
    expect(loadConfig({}).alertThresholds.bulkStatusChangesPerDay).toBe(200);
    expect(loadConfig({ ALERT_EXPORT_ROWS_PER_DAY: '5000' }).alertThresholds.exportRowsPerDay).toBe(5000);
    expect(() => loadConfig({ ALERT_EXPORT_ROWS_PER_DAY: '0' })).toThrow(/ALERT_EXPORT_ROWS_PER_DAY/);
    expect(
      loadConfig({ ALERT_BULK_STATUS_CHANGES_PER_DAY: '50' }).alertThresholds.bulkStatusChangesPerDay,
    ).toBe(50);
    const flood = loadConfig({
      ALERT_VERIFICATIONS_WINDOW_SECONDS: '300',
      ALERT_VERIFICATIONS_PER_LICENCE: '40',
    }).alertThresholds;
    expect([flood.verificationsWindowSeconds, flood.verificationsPerLicence]).toEqual([300, 40]);
    expect(() => loadConfig({ ALERT_VERIFICATIONS_PER_LICENCE: '0' })).toThrow(
      /ALERT_VERIFICATIONS_PER_LICENCE/,
    );
    expect(() => loadConfig({ ALERT_VERIFICATIONS_WINDOW_SECONDS: '10' })).toThrow(
      /ALERT_VERIFICATIONS_WINDOW_SECONDS/,
    );
    expect(() => loadConfig({ ALERT_PUBLISHER: 'sns' })).toThrow(/ALERT_TOPIC_ARN/);
  });

  it('publishes nothing personal: holder data in the entries never reaches an alert or a counter', async () => {
    const w = world({ scanFailuresPerLicence: 1 });
    await w.process([
      verification('2026-03-01T02:00:00.000Z', 'invalid_signature', {
        claimedLicenceId: licence,
        holderKey: 'hk-secret',
        holderMasked: '110105********002X',
      }),
    ]);
    const text = JSON.stringify([
      await w.raised(),
      w.publisher.published,
      [...w.statistics.counters.values()],
    ]);
    expect(text).not.toContain('hk-secret');
    expect(text).not.toContain('110105');
  });
});
