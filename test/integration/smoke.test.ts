import { afterAll, beforeAll, expect, it } from 'vitest';
import { clientCredentialsToken, startTestRuntime, type TestRuntime } from '../support/runtime.js';

let runtime: TestRuntime;
beforeAll(async () => {
  runtime = await startTestRuntime();
});
afterAll(() => runtime?.close());

it('answers healthz and issues an admin token', async () => {
  expect(await (await fetch(`${runtime.baseUrl}/healthz`)).json()).toEqual({ status: 'ok' });
  const token = await clientCredentialsToken(runtime, runtime.credentials.admin, 'admin');
  expect(token.length).toBeGreaterThan(20);
});
