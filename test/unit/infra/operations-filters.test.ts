import { describe, expect, it } from 'vitest';
import { serverErrorFilterPattern } from '../../../infra/constructs/http-api.js';
import { operationsFilterPatterns } from '../../../infra/constructs/operations-alarms.js';
import { checkSmsCode, smsCodePolicy } from '../../../shared/identity/sms-codes.js';
import { peersRefreshedLine, stalePeers } from '../../../shared/issuers/peers.js';
import { logger } from '../../../shared/logger.js';
import { smsJobDependencies } from '../../support/in-memory-sms.js';
import { filterPatternMatches as matches, loggedLines } from '../../support/logged-lines.js';

/**
 * The metric filters of the on-call's alarms (infra/constructs/operations-alarms.ts, http-api.ts),
 * evaluated against the lines the code really logs, so that a reworded message cannot silence an alarm
 * (the abandoned notices' in test/unit/sharing/withdrawal-notices.test.ts, the audit check's in
 * test/integration/supervision/audit-check.test.ts).
 */
describe('the on-call alarms’ metric filters', () => {
  it('count the peers whose copy is past the stale age, whatever their status, on every round', async () => {
    const config = {
      platformRegion: '110000',
      peers: { staleSeconds: 86_400, maxAgeSeconds: 604_800, fetchTimeoutMs: 5000 },
    };
    const now = Date.parse('2026-12-06T12:00:00Z');
    const peers = [
      { id: 'peer_fresh', status: 'ok', fetchedAt: '2026-12-06T11:45:00Z' },
      // Untrusted since its last fetch, and its good copy two days old: past the stale age all the same.
      { id: 'peer_old', status: 'untrusted', fetchedAt: '2026-12-04T11:00:00Z' },
      { id: 'peer_down', status: 'failed', fetchedAt: '2026-12-05T11:59:59Z' },
    ];
    const stale = stalePeers(peers, now, config);
    expect(stale).toEqual(['peer_old', 'peer_down']);
    const lines = await loggedLines(async () =>
      logger.info(peersRefreshedLine, { peers, stalePeers: stale.length }),
    );
    expect(lines).toHaveLength(1);
    expect(matches(operationsFilterPatterns.peersRefreshed.logPatternString, lines[0]!)).toBe(true);
    // The metric's value is the line's `stalePeers` (MetricValue `$.stalePeers`).
    expect((JSON.parse(lines[0]!) as { stalePeers: number }).stalePeers).toBe(2);
  });

  it('count the SMS code check that fills the daily ceiling and each it refuses, from a line with the purpose and no phone or person', async () => {
    const deps = smsJobDependencies();
    const subject = {
      purpose: 'reset' as const,
      lookupKey: 'lookup-key-of-the-person',
      phone: '+8613800138000',
    };
    const checks = smsCodePolicy.personDailyFailureCap + 2;
    const lines = await loggedLines(async () => {
      for (let i = 0; i < checks; i++) await checkSmsCode(subject, '000000', deps);
    });
    // The check that fills the ceiling is counted (a lock is seen even if its maker stops there), and the
    // two past it, one line each; the 19 before it are not.
    const counted = lines.filter((line) =>
      matches(operationsFilterPatterns.smsCheckCeiling.logPatternString, line),
    );
    expect(counted.map((line) => (JSON.parse(line) as { outcome: string }).outcome)).toEqual([
      'filled',
      'refused',
      'refused',
    ]);
    for (const line of counted) {
      expect(JSON.parse(line)).toMatchObject({ purpose: 'reset' });
      expect(line).not.toContain('13800138000');
      expect(line).not.toContain(subject.lookupKey);
    }
  });

  it('count an access-log line answered 5xx, by its route, and not a 4xx', () => {
    const line = (status: string) =>
      JSON.stringify({ requestId: 'r', routeKey: 'POST /licences', status, integrationStatus: '200' });
    const pattern = serverErrorFilterPattern.logPatternString;
    expect(matches(pattern, line('500'))).toBe(true);
    expect(matches(pattern, line('503'))).toBe(true);
    expect(matches(pattern, line('404'))).toBe(false);
    expect(matches(pattern, line('200'))).toBe(false);
  });
});
