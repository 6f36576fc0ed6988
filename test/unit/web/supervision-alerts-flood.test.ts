import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../shared/config.js';
import {
  alertRules,
  alertsQuery,
  listAlerts,
  newAlertMemory,
} from '../../../shared/supervision/alert-rules.js';
import type { SupervisedEntry } from '../../../shared/supervision/events.js';
import { processAuditEntries } from '../../../shared/supervision/process-events.js';
import {
  maxAlertsPerRule,
  overviewAlertRules,
  SupervisionApi,
} from '../../../shared/web/supervision/supervision-api.js';
import {
  InMemoryAlerts,
  InMemoryStatistics,
  KnownLicences,
  RecordingPublisher,
} from '../../support/in-memory-supervision.js';

/**
 * The supervision overview's 7 days of alerts under a flood (R24 M2): forged scans of licence ids read off
 * QR codes raise a `scan-failures-licence` alert per id and 10 minutes. The page listed the oldest 2,000
 * and hid every newer one, an insider's bulk revocation among them, without saying so.
 */
describe('the supervision overview under a flood of forged-scan alerts', () => {
  const alerts = new InMemoryAlerts();
  const licences = new KnownLicences();
  const deps = {
    statistics: new InMemoryStatistics(),
    alerts,
    publisher: new RecordingPublisher(),
    licences,
    thresholds: loadConfig({}).alertThresholds,
    memory: newAlertMemory(),
  };
  const ids = Array.from(
    { length: 50 },
    (_, i) => `1.2.156.3005.2.003.11110000000021135M.${String(i).padStart(4, '0')}.1.3`,
  );
  ids.forEach((id) => licences.add(id));
  /** 5 forged scans of each id in the 10 minutes from `start`: 50 alerts. */
  const flood = (start: number) =>
    processAuditEntries(
      ids.flatMap((id) =>
        Array.from({ length: 5 }, (): SupervisedEntry => ({
          at: new Date(start).toISOString(),
          actor: 'anonymous',
          action: 'licence.verified',
          verdict: 'invalid_signature',
          claimedLicenceId: id,
        })),
      ),
      deps,
    );
  /** The API over the store, as `GET /supervision/alerts` answers. */
  const fetchImpl = (async (input: string | URL) => {
    const url = new URL(String(input));
    const query = alertsQuery.parse(Object.fromEntries(url.searchParams));
    return new Response(JSON.stringify(await listAlerts(query, { alerts })), {
      status: 200,
      headers: { 'content-type': 'application/json' },
    });
  }) as typeof fetch;

  it('still shows an insider’s bulk revocation, whether raised after the flood or before it', async () => {
    // 40 windows of 2026-03-02 (10,000 requests), then 25 revocations by one issuer within the hour,
    // then 40 more windows: 4,000 alerts of the flooded rule around one bulk-status-change.
    for (let w = 0; w < 40; w += 1) await flood(Date.parse('2026-03-02T00:00:00Z') + w * 600_000);
    await processAuditEntries(
      Array.from({ length: 25 }, (_, i) => ({
        at: `2026-03-02T09:0${i % 10}:00.000Z`,
        actor: 'cl_iss',
        action: 'licence.revoked',
        issuerId: 'iss_1',
        licenceType: 'driving-licence',
        licenceId: `lic-${i}`,
      })),
      deps,
    );
    for (let w = 0; w < 40; w += 1) await flood(Date.parse('2026-03-02T10:00:00Z') + w * 600_000);
    // And one scan-failures-verifier alert (all anonymous scanners) a window.
    expect([...alerts.stored.values()].length).toBe(4000 + 1 + 80);

    const shown = await new SupervisionApi('https://id.example', 'token', fetchImpl).alerts({
      from: '2026-02-25',
      to: '2026-03-03',
    });
    expect(shown.items.filter((alert) => alert.rule === 'bulk-status-change')).toEqual([
      expect.objectContaining({ subject: 'iss_1', severity: 'high' }),
    ]);
    // The flooded rule's newest, newest first, and the page told that older ones are cut.
    const flooded = shown.items.filter((alert) => alert.rule === 'scan-failures-licence');
    expect(flooded).toHaveLength(maxAlertsPerRule);
    expect(flooded[0]!.at).toBe('2026-03-02T16:30:00.000Z');
    expect(shown.items.map((alert) => alert.at)).toEqual(
      shown.items
        .map((alert) => alert.at)
        .toSorted()
        .reverse(),
    );
    expect(shown.cut).toEqual(['scan-failures-licence']);
  });

  it('asks for every rule there is', () => {
    expect([...overviewAlertRules].sort()).toEqual([...alertRules].sort());
  });
});
