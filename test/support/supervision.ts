import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import { clientCredentialsToken, startTestRuntime, type TestRuntime } from './runtime.js';

/** An alert as `GET /supervision/alerts` answers it and the alarm topic (locally the outbox) carries it. */
export interface Alert {
  at: string;
  rule: string;
  severity: string;
  subject: string;
  detail: string;
}

/**
 * The local runtime with the alert settings given (thresholds lowered so that a rule is reached one
 * event at a time), and a token of the seeded supervisor client (scope `supervision`).
 *
 * @example
 * ```ts
 * const { runtime, supervisor } = await startSupervisedRuntime({ ALERT_ISSUANCE_MINIMUM: '4' });
 * ```
 */
export async function startSupervisedRuntime(
  env: Record<string, string>,
): Promise<{ runtime: TestRuntime; supervisor: string }> {
  const runtime = await startTestRuntime(undefined, env);
  const supervisor = await clientCredentialsToken(runtime, runtime.credentials.supervisor, 'supervision');
  return { runtime, supervisor };
}

/**
 * `GET path` with `token`, expected to answer 200 (the body is shown when it does not), its JSON body.
 *
 * @example
 * ```ts
 * const { days } = await supervisionGet<{ days: unknown[] }>(runtime, `/supervision/stats?from=${day}&to=${day}`, supervisor);
 * ```
 */
export async function supervisionGet<T>(runtime: TestRuntime, path: string, token: string): Promise<T> {
  const response = await fetch(`${runtime.baseUrl}${path}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const text = await response.text();
  expect(response.status, text).toBe(200);
  return JSON.parse(text) as T;
}

/**
 * The alerts of `day` (China time), once every audit entry written so far has reached the supervision
 * consumer (`drainStreams`): what the supervisor reads, with nothing still in flight.
 *
 * @example
 * ```ts
 * const raised = (await alertsOf(runtime, supervisor, chinaDay(Date.now()))).filter((a) => a.rule === rule);
 * ```
 */
export async function alertsOf(runtime: TestRuntime, supervisor: string, day: string): Promise<Alert[]> {
  await runtime.drainStreams();
  return (
    await supervisionGet<{ items: Alert[] }>(runtime, `/supervision/alerts?from=${day}&to=${day}`, supervisor)
  ).items;
}

/**
 * The alerts announced on the alarm topic: locally, the lines of the outbox file `alerts.jsonl`.
 *
 * @example
 * ```ts
 * expect(await outboxAlerts(runtime)).toContainEqual(alert);
 * ```
 */
export async function outboxAlerts(runtime: TestRuntime): Promise<Alert[]> {
  return (await readFile(join(runtime.dataDir, 'outbox', 'alerts.jsonl'), 'utf8'))
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Alert);
}
