import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.js';

let runtime: TestRuntime;
beforeAll(async () => {
  runtime = await startTestRuntime();
});
afterAll(() => runtime?.close());

const register = (body: unknown) =>
  fetch(`${runtime.baseUrl}/accounts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

it('counts registrations per source address, valid or not, and then asks it to wait', async () => {
  for (let attempt = 0; attempt < 50; attempt++) {
    expect((await register({ idNumber: '110105194912310021', name: '测试', password: 'x' })).status).toBe(
      400,
    );
  }
  const refused = await register({
    idNumber: '110105199001011237',
    name: '张三',
    password: 'a-good-password-2026',
  });
  expect(refused.status).toBe(429);
  expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
  expect(await refused.json()).toMatchObject({ code: 'too_many_requests', status: 429 });

  // The form shares the count: it says how long to wait, in its language, with the same Retry-After.
  const postForm = () =>
    fetch(`${runtime.baseUrl}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        idNumber: '110105199001011237',
        name: '张三',
        password: 'a-good-password-2026',
        passwordConfirm: 'a-good-password-2026',
      }),
    });
  // The first wait is one second, which a busy machine can spend between two requests; a form post let
  // through then counts too and doubles the wait, so a few posts reach a wait that holds.
  let page = await postForm();
  for (let round = 0; round < 6 && page.status !== 429; round++) page = await postForm();
  expect(page.status).toBe(429);
  const wait = Number(page.headers.get('retry-after'));
  expect(wait).toBeGreaterThan(0);
  expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
  expect(await page.text()).toContain(`尝试次数过多，请在 ${wait} 秒后重试。`);
});
