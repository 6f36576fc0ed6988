import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchFrom } from '../support/from-address.js';
import { postJson, scanItems } from '../support/http-api.js';
import { newIdNumber } from '../support/licences.js';
import {
  authorizationRequest,
  demoPlatform,
  runFlow,
  stepOf,
  type RelyingParty,
} from '../support/oidc-flows.js';
import { startTestRuntime, type TestRuntime } from '../support/runtime.js';
import { parseForm, UserAgent } from '../support/user-agent.js';

/**
 * Finding 14: the sign-in throttle counted failures per account and per source address alone, so an
 * attacker at one address could lock a named person out everywhere (five wrong passwords), and many
 * people behind one shared address (a service hall, a carrier NAT) locked each other out with their
 * typos. Now the main counter is the (account, address) pair; the account's own ceiling and the
 * address's spray counter are loose enough that neither case happens.
 *
 * Clients at different addresses: requests leave from 127.0.0.x, and the runtime takes the client's
 * address from the connection, as API Gateway does.
 */

let runtime: TestRuntime;
let platform: RelyingParty;

beforeAll(async () => {
  runtime = await startTestRuntime();
  platform = await demoPlatform(runtime);
});
afterAll(() => runtime?.close());

const sleep = (seconds: number) => new Promise((resolve) => setTimeout(resolve, seconds * 1000));

/** A browser at `address` on the demo platform's login page. */
async function loginPageAt(address: string) {
  const ua = new UserAgent(runtime.baseUrl, [`${runtime.baseUrl}/demo/callback`], fetchFrom(address));
  const { url } = await authorizationRequest(platform);
  const outcome = await runFlow(ua, url);
  expect(outcome.stoppedAt).toBe('login');
  const page = outcome.page!;
  return { ua, action: new URL(parseForm(page.html)!.action, page.url) };
}

/** One posted sign-in: the status and Retry-After of the answer. */
async function attempt(at: Awaited<ReturnType<typeof loginPageAt>>, username: string, password: string) {
  const response = await at.ua.request(at.action, { form: { username, password } });
  await response.arrayBuffer();
  return { status: response.status, retryAfter: Number(response.headers.get('retry-after') ?? 0) };
}

/** The right password, followed through to the platform: true when the sign-in went through. */
async function signsIn(at: Awaited<ReturnType<typeof loginPageAt>>, username: string, password: string) {
  const outcome = await at.ua.navigate(at.action, { form: { username, password } });
  // Signed in: the platform's consent page (a first sign-in there), or the platform itself with a code.
  return outcome.leftTo?.searchParams.has('code') === true || stepOf(outcome.page?.html ?? '') === 'consent';
}

describe('an attacker guessing one person’s password from one address', () => {
  it('gets growing waits (429 + Retry-After) on their own pair, and cannot lock the owner out elsewhere', async () => {
    const victim = runtime.credentials.citizen;
    const attacker = await loginPageAt('127.0.0.2');
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++)
      statuses.push((await attempt(attacker, victim.idNumber, `guess-${i}`)).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401]);

    // Each wait sat out earns one more guess, and a longer wait after it (1, 2, 4… s; Retry-After is in
    // whole seconds, so a guess may land just after a one-second wait ran out).
    const waits: number[] = [];
    for (let guess = 0; waits.length < 3 && guess < 10; guess++) {
      const answer = await attempt(attacker, victim.idNumber, `guess-more-${guess}`);
      if (answer.status === 429) {
        waits.push(answer.retryAfter);
        await sleep(answer.retryAfter);
      } else {
        expect(answer.status).toBe(401);
      }
    }
    expect(waits).toHaveLength(3);
    expect(waits[0]).toBeGreaterThanOrEqual(1);
    expect(waits[2]).toBeGreaterThan(waits[0]!);
    expect(waits[2]).toBeGreaterThanOrEqual(3);

    // One more guess after the last wait: the next wait is 8 s or more.
    expect((await attempt(attacker, victim.idNumber, 'guess-last')).status).toBe(401);
    // Hammering while blocked changes nothing: every attempt refused, none counted.
    for (let i = 0; i < 20; i++) {
      const refused = await attempt(attacker, victim.idNumber, `hammer-${i}`);
      expect(refused.status).toBe(429);
      expect(refused.retryAfter).toBeGreaterThan(0);
    }
    // The right password from the attacker's address is refused too: a throttled attempt checks nothing.
    expect((await attempt(attacker, victim.idNumber, victim.password)).status).toBe(429);

    // The owner, at home, signs in at once.
    const owner = await loginPageAt('127.0.0.3');
    expect(await signsIn(owner, victim.idNumber, victim.password)).toBe(true);

    // No counter names the address or the number in clear.
    const keys = (await scanItems('login-attempts#')).map((item) => String(item.pk));
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.join(' ')).not.toMatch(/127\.0\.0\.|110105199003071239/);
  }, 60_000);
});

describe('many people behind one shared address', () => {
  it('each with a few typos, all sign in', async () => {
    const people = Array.from({ length: 25 }, (_, i) => ({
      idNumber: newIdNumber(),
      name: '共享',
      password: `Shared-address-${i}-2026`,
    }));
    for (const person of people) {
      const registered = await postJson(runtime, '/accounts', undefined, { ...person, consent: true });
      expect(registered.status, await registered.clone().text()).toBe(201);
    }
    // 25 people × 3 typos: 75 failures from one address within minutes, more than the old counter allowed.
    for (const person of people) {
      const hall = await loginPageAt('127.0.0.4');
      for (let typo = 0; typo < 3; typo++) {
        expect((await attempt(hall, person.idNumber, `${person.password}x${typo}`)).status).toBe(401);
      }
      expect(await signsIn(hall, person.idNumber, person.password), person.idNumber).toBe(true);
    }
  }, 120_000);
});
