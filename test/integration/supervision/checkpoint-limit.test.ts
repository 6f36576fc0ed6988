import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler } from '../../../functions/audit.js';
import { operationsFilterPatterns } from '../../../infra/constructs/operations-alarms.js';
import { logger, setServiceLogLevel } from '../../../shared/logger.js';
import { verifyAuditTrail } from '../../../shared/supervision/audit-chain-verify.js';
import { postJson } from '../../support/http-api.js';
import { filterPatternMatches, loggedLines } from '../../support/logged-lines.js';
import { clientCredentialsToken, startTestRuntime, type TestRuntime } from '../../support/runtime.js';

/**
 * Security review L5: `POST /supervision/audit/checkpoints` signs through KMS and reads every chain of its
 * days, so it is limited to one per interval platform-wide, by a claim in the table (not in a container's
 * memory) taken before any of that work. The interval is shortened here (AUDIT_CHECKPOINT_INTERVAL_SECONDS,
 * as SCAN_LOGIN_SECONDS is shortened to see expiry) so that its end is reached within the test.
 */
const intervalSeconds = 3;
let runtime: TestRuntime;
let token: string;
let credentials: { clientId: string; clientSecret: string } | undefined;

const signs = () => runtime.kms!.stats().Sign ?? 0;
const queries = () => runtime.dynamo!.stats().Query ?? 0;
const post = () => postJson(runtime, '/supervision/audit/checkpoints', token, {});

async function listed(): Promise<number> {
  const response = await fetch(`${runtime.baseUrl}/supervision/audit/checkpoints`, {
    headers: { authorization: `Bearer ${token}` },
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { items: unknown[] }).items.length;
}

beforeAll(async () => {
  runtime = await startTestRuntime(undefined, { AUDIT_CHECKPOINT_INTERVAL_SECONDS: String(intervalSeconds) });
  const admin = await clientCredentialsToken(runtime, runtime.credentials.admin, 'admin');
  const registered = await postJson(runtime, '/admin/clients', admin, {
    name: '电子监察 checkpoint limit',
    scopes: ['supervision'],
  });
  expect(registered.status).toBe(201);
  credentials = (await registered.json()) as { clientId: string; clientSecret: string };
  token = await clientCredentialsToken(runtime, credentials, 'supervision');
}, 60_000);
afterAll(() => runtime?.close());

describe('the on-demand checkpoint limit', () => {
  let retryAfter = 0;

  it('is not taken by the daily schedule: a POST right after a scheduled checkpoint is signed', async () => {
    const before = signs();
    expect(await handler({ 'detail-type': 'Scheduled Event' })).toMatchObject({ at: expect.any(String) });
    expect(signs()).toBe(before + 1);
    const response = await post();
    expect(response.status, await response.text()).toBe(201);
    expect(signs()).toBe(before + 2);
  });

  it('refuses a second POST within the interval: 429 too_many_requests with Retry-After, no KMS Sign, no chain query', async () => {
    const count = await listed();
    const [kmsBefore, queriesBefore] = [signs(), queries()];
    const response = await post();
    expect(response.status).toBe(429);
    expect(await response.json()).toMatchObject({ status: 429, code: 'too_many_requests' });
    retryAfter = Number(response.headers.get('retry-after'));
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(intervalSeconds);
    expect(signs()).toBe(kmsBefore);
    expect(queries()).toBe(queriesBefore);
    expect(await listed()).toBe(count);
  });

  it('does not hold back the daily schedule while it is taken', async () => {
    const count = await listed();
    expect(await handler({ 'detail-type': 'Scheduled Event' })).toMatchObject({ at: expect.any(String) });
    expect(await listed()).toBe(count + 1);
  });

  it('frees at the time Retry-After named: of POSTs racing then, exactly one is signed', async () => {
    await sleep(retryAfter * 1000);
    const before = signs();
    const responses = await Promise.all(Array.from({ length: 4 }, () => post()));
    expect(responses.map((r) => r.status).sort()).toEqual([201, 429, 429, 429]);
    expect(signs()).toBe(before + 1);
  });

  it('npm run audit:verify -- --checkpoint waits out a refusal once, then signs and verifies', async () => {
    const today = new Date().toISOString().slice(0, 10);
    await sleep(intervalSeconds * 1000); // the race above took the slot
    expect((await post()).status).toBe(201);
    const before = signs();
    const { clientId, clientSecret } = credentials!;
    const report = await verifyAuditTrail({
      base: runtime.baseUrl,
      clientId,
      clientSecret,
      from: today,
      to: today,
      checkpointFirst: true,
    });
    expect(report.badCheckpoints).toEqual([]);
    expect(signs()).toBe(before + 1);
  }, 30_000);
});

describe('POST /supervision/audit/checkpoints for a day after today (security review 22b M2)', () => {
  it('is refused, 400 naming the field, before the limit: no claim taken, nothing signed or listed', async () => {
    await sleep(intervalSeconds * 1000); // the slot the test above took is free again
    const today = new Date().toISOString().slice(0, 10);
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    const [count, before] = [await listed(), signs()];
    const ahead = await postJson(runtime, '/supervision/audit/checkpoints', token, {
      from: today,
      to: tomorrow,
    });
    expect(ahead.status).toBe(400);
    const body = (await ahead.json()) as { errors: Array<{ path: string }> };
    expect(body.errors.map((error) => error.path)).toEqual(['to']);
    const both = await postJson(runtime, '/supervision/audit/checkpoints', token, {
      from: tomorrow,
      to: tomorrow,
    });
    expect(both.status).toBe(400);
    expect(((await both.json()) as typeof body).errors.map((error) => error.path)).toEqual(['from', 'to']);
    expect(signs()).toBe(before);
    expect(await listed()).toBe(count);
    // Today still signs at once: the refusals took no claim.
    const todays = await postJson(runtime, '/supervision/audit/checkpoints', token, {
      from: today,
      to: today,
    });
    expect(todays.status, await todays.text()).toBe(201);
  }, 30_000);
});

describe('the daily scheduled checkpoint', () => {
  it('logs `audit checkpoint signed`, the line the stack counts (no such line for 25 hours alarms, R24 M1)', async () => {
    const level = logger.getLevelName();
    setServiceLogLevel('INFO');
    try {
      const lines = await loggedLines(async () => {
        await handler({ 'detail-type': 'Scheduled Event' });
      });
      const counted = lines.filter((line) =>
        filterPatternMatches(operationsFilterPatterns.auditCheckpointSigned.logPatternString, line),
      );
      expect(counted).toHaveLength(1);
      expect(JSON.parse(counted[0]!)).toMatchObject({ at: expect.any(String), chains: expect.any(Number) });
    } finally {
      setServiceLogLevel(level);
    }
  });
});
