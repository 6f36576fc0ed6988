import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { routeKey, routes } from '../../../functions/routes.js';
import { RouteThrottles } from '../../../infra/local/route-throttles.js';
import { createLocalServer } from '../../../infra/local/server.js';
import type { HttpHandler } from '../../../shared/http/types.js';

/*
 * The local gateway applies the route table's own throttles as API Gateway's route settings do (security
 * review R27: the anonymous sign-in routes, each of which can make the table keep an item): a bucket of
 * `burstLimit` per throttled route, refilled at `rateLimit` a second, 429 past it, before the function
 * runs. The clock stands still here, so the counts are exact.
 */

const answered: string[] = [];
const handler: HttpHandler = async (event) => {
  answered.push(event.routeKey);
  return { statusCode: 200, headers: { 'content-type': 'text/plain' }, body: 'ok' };
};

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
  answered.length = 0;
});

async function serve(now: () => number) {
  const server = createLocalServer(routes, {
    loadHandler: async () => handler,
    throttles: new RouteThrottles(routes, now),
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  close = () => new Promise((resolve) => server.close(() => resolve()));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return (path: string, init?: RequestInit) => fetch(`${base}${path}`, { redirect: 'manual', ...init });
}

const throttleOf = (key: string) => routes.find((route) => routeKey(route) === key)?.throttle;

describe('the local gateway’s route throttles', () => {
  it('throttles /authorize, the sign-in pages and /token below the stage (review R27)', () => {
    expect(throttleOf('ANY /authorize')).toEqual({ rateLimit: 50, burstLimit: 100 });
    expect(throttleOf('ANY /interaction/{uid}')).toEqual({ rateLimit: 50, burstLimit: 100 });
    expect(throttleOf('ANY /interaction/{uid}/{step}')).toEqual({ rateLimit: 100, burstLimit: 200 });
    expect(throttleOf('ANY /token')).toEqual({ rateLimit: 100, burstLimit: 200 });
  });

  it('answers 429 past a route’s burst, before the function runs, and again once its bucket refills', async () => {
    let now = 0;
    const request = await serve(() => now);
    const burst = throttleOf('ANY /authorize')!.burstLimit;
    const statuses: number[] = [];
    for (let i = 0; i < burst + 2; i++) statuses.push((await request('/authorize?client_id=x')).status);
    expect(statuses.slice(0, burst).every((status) => status === 200)).toBe(true);
    expect(statuses.slice(burst)).toEqual([429, 429]);
    const refused = await request('/authorize');
    expect(refused.status).toBe(429);
    expect(await refused.json()).toEqual({ message: 'Too Many Requests' });
    expect(answered.filter((key) => key === 'ANY /authorize')).toHaveLength(burst);

    // Each route has its own bucket: the sign-in page and the token endpoint still answer.
    expect((await request('/interaction/abc')).status).toBe(200);
    expect((await request('/token', { method: 'POST', body: 'grant_type=x' })).status).toBe(200);
    // A route without a throttle of its own is not throttled here.
    for (let i = 0; i < 3; i++) expect((await request('/healthz')).status).toBe(200);

    // One second later, the rate's worth of requests go through again, and no more.
    now += 1000;
    const rate = throttleOf('ANY /authorize')!.rateLimit;
    const after: number[] = [];
    for (let i = 0; i < rate + 1; i++) after.push((await request('/authorize')).status);
    expect(after.filter((status) => status === 200)).toHaveLength(rate);
    expect(after.at(-1)).toBe(429);
  });

  it('throttles the QR image and the other steps of a sign-in page on their own route', async () => {
    const request = await serve(() => 0);
    const burst = throttleOf('ANY /interaction/{uid}/{step}')!.burstLimit;
    let admitted = 0;
    for (let i = 0; i < burst + 1; i++) {
      if ((await request(`/interaction/uid${i}/qr`)).status === 200) admitted++;
    }
    expect(admitted).toBe(burst);
    expect((await request('/interaction/another/qr')).status).toBe(429);
  });
});
