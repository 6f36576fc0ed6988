import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chinaDay } from '../../../shared/supervision/events.js';
import { postJson } from '../../support/http-api.js';
import type { TestRuntime } from '../../support/runtime.js';
import { alertsOf, outboxAlerts, startSupervisedRuntime } from '../../support/supervision.js';
import { demoTokens, issueDrivingLicence, verified, type IssuedLicence } from '../verify/helpers.js';

/**
 * The attack of the security review: anyone holding a printed QR code can send it to `POST /verify` over
 * and over, anonymously, and each check is (by rule) a line in the holder's usage record (用证记录),
 * burying the genuine ones. The route throttle slows this down; this rule tells the supervising office
 * (电子监察): `verification-flood-licence`, through the real runtime (HTTP → audit table → stream →
 * `supervision-events` → alert store and outbox). The threshold is lowered to 6 so that it is reached
 * a check at a time, and checked one below first.
 */
const threshold = 6;
const windowSeconds = 600;

let runtime: TestRuntime;
let supervisor: string;
let issuerToken: string;
let target: IssuedLicence;
let printed: { pdf: string; jws: string };
const today = chinaDay(Date.now());

async function floodAlerts() {
  return (await alertsOf(runtime, supervisor, today)).filter(
    (alert) => alert.rule === 'verification-flood-licence',
  );
}

/** An anonymous check of the printed copy (`POST /verify/pdf`), expected to pass. */
async function checkPrinted(): Promise<void> {
  const response = await postJson(runtime, '/verify/pdf', undefined, printed);
  const text = await response.text();
  expect(response.status, text).toBe(200);
  expect((JSON.parse(text) as { valid: boolean }).valid, text).toBe(true);
}

/**
 * Windows are fixed (multiples of their length since the epoch): a flood straddling two counts in both
 * halves. The few seconds this test's checks take are kept inside one window by starting them at least
 * 30 s before its end.
 */
async function awayFromWindowEdge(): Promise<void> {
  const size = windowSeconds * 1000;
  const left = size - (Date.now() % size);
  if (left < 30_000) await new Promise((resolve) => setTimeout(resolve, left + 100));
}

beforeAll(async () => {
  ({ runtime, supervisor } = await startSupervisedRuntime({
    ALERT_VERIFICATIONS_PER_LICENCE: String(threshold),
    ALERT_VERIFICATIONS_WINDOW_SECONDS: String(windowSeconds),
  }));
  issuerToken = (await demoTokens(runtime)).issuer;
  target = await issueDrivingLicence(runtime, issuerToken);
  const path = `${runtime.baseUrl}/licences/${encodeURIComponent(target.id)}`;
  const get = (suffix: string) =>
    fetch(`${path}/${suffix}`, { headers: { authorization: `Bearer ${issuerToken}` } });
  printed = {
    pdf: Buffer.from(await (await get('pdf')).arrayBuffer()).toString('base64'),
    jws: await (await get('pdf.jws')).text(),
  };
}, 60_000);
afterAll(() => runtime?.close());

describe('verification-flood-licence', () => {
  it('alerts when anonymous checks of one licence (QR code and printed copy) reach the threshold, not one below, once', async () => {
    await awayFromWindowEdge();
    // One below: QR checks and printed-copy checks alike.
    for (let i = 0; i < threshold - 2; i += 1)
      expect((await verified(runtime, target.credential)).verdict).toBe('valid');
    await checkPrinted();
    expect(await floodAlerts()).toEqual([]);
    expect((await verified(runtime, target.credential)).verdict).toBe('valid');
    const raised = await floodAlerts();
    expect(raised).toEqual([
      {
        at: expect.any(String),
        rule: 'verification-flood-licence',
        severity: 'medium',
        subject: target.id,
        detail: `${threshold} verifications of this licence (any verdict) within 10 min (threshold ${threshold})`,
      },
    ]);
    // Announced on the alarm topic (locally the outbox), with nothing of the holder's.
    const outbox = await outboxAlerts(runtime);
    expect(outbox.filter((alert) => alert.rule === 'verification-flood-licence')).toEqual(raised);
    const text = JSON.stringify(outbox);
    expect(text).not.toContain(target.holder.name);
    expect(text).not.toMatch(/\d{17}[\dX]/);
    // The flood goes on: no second alert in this window.
    for (let i = 0; i < 3; i += 1) await verified(runtime, target.credential);
    expect(await floodAlerts()).toHaveLength(1);
    expect(runtime.streamFailures()).toEqual([]);
  });

  it('raises nothing about a licence that forged scans merely name', async () => {
    const victim = await issueDrivingLicence(runtime, issuerToken);
    const forged = `${victim.credential.split('.').slice(0, 2).join('.')}.${Buffer.alloc(64, 1).toString('base64url')}`;
    await awayFromWindowEdge();
    for (let i = 0; i < threshold + 2; i += 1) {
      expect((await verified(runtime, forged)).verdict).toBe('invalid_signature');
    }
    expect((await floodAlerts()).filter((alert) => alert.subject === victim.id)).toEqual([]);
  });
});
