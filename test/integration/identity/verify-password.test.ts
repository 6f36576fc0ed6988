import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dependencies, type Dependencies } from '../../../functions/composition/dependencies.js';
import { registerPerson } from '../../../shared/identity/register-person.js';
import {
  findPersonById,
  personIdNumber,
  verifyPassword,
  type VerifyPasswordDependencies,
  type VerifyPasswordResult,
} from '../../../shared/identity/verify-password.js';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.js';
import { newIdNumber, TestClock } from '../../support/in-memory-identity.js';

let runtime: TestRuntime;
let deps: Dependencies;

beforeAll(async () => {
  runtime = await startTestRuntime();
  deps = dependencies();
});
afterAll(() => runtime?.close());

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
};

describe('the password check against the local runtime (dynalite, KMS emulator, scrypt)', () => {
  it('signs the demo citizen in with the seeded password', async () => {
    const { idNumber, password } = runtime.credentials.citizen;
    const result = await verifyPassword({ idNumber, password, source: '192.0.2.1' }, deps);
    expect(result).toMatchObject({ ok: true, account: { name: '王小明', assurance: 'in-person-verified' } });
    if (!result.ok) return;
    expect(result.account.id).toMatch(/^acc_/);
    expect(await findPersonById(result.account.id, deps)).toEqual(result.account);
  });

  it('decrypts the ID number for the id_number claim, and only under the account it belongs to', async () => {
    const { idNumber, password } = runtime.credentials.citizen;
    const login = await verifyPassword({ idNumber, password, source: '192.0.2.2' }, deps);
    const account = login.ok ? login.account : undefined;
    expect(account).toBeDefined();
    expect(await personIdNumber(account!, deps)).toBe(runtime.credentials.citizen.idNumber);
    await expect(personIdNumber({ ...account!, id: 'acc_someone_else' }, deps)).rejects.toThrow();
  });

  it('gives the same answer, in about the same time, for a wrong password, an unknown and a malformed number', async () => {
    // Counters are forgotten after an hour: moving a private clock by two hours between attempts keeps
    // every attempt unthrottled, so each one runs the full path.
    const clock = new TestClock(Date.now());
    const check: VerifyPasswordDependencies = { ...deps, clock };
    const { idNumber } = runtime.credentials.citizen;
    const cases = {
      wrongPassword: () => ({ idNumber, password: 'not-the-password' }),
      unknownAccount: () => ({ idNumber: newIdNumber(), password: 'not-the-password' }),
      malformedNumber: () => ({ idNumber: '11010519900307123', password: 'not-the-password' }),
    };
    const times: Record<keyof typeof cases, number[]> = {
      wrongPassword: [],
      unknownAccount: [],
      malformedNumber: [],
    };
    const answers = new Set<string>();
    for (let round = 0; round < 7; round++) {
      for (const [name, attempt] of Object.entries(cases) as Array<
        [keyof typeof cases, () => { idNumber: string; password: string }]
      >) {
        clock.advanceSeconds(7200);
        const started = performance.now();
        const result = await verifyPassword({ ...attempt(), source: `192.0.2.${10 + round}` }, check);
        times[name].push(performance.now() - started);
        answers.add(JSON.stringify(result));
      }
    }
    expect([...answers]).toEqual([JSON.stringify({ ok: false, reason: 'invalid_credentials' })]);
    const medians = Object.values(times).map(median);
    // scrypt (N = 2^15) dominates every path; a missing account skipping it would be 10× faster.
    expect(Math.min(...medians)).toBeGreaterThan(20);
    expect(Math.max(...medians) / Math.min(...medians), JSON.stringify(times)).toBeLessThan(2);
  });

  it('throttles repeated failures from one address across calls, for an unknown number as for a known one', async () => {
    const known = { consent: true, idNumber: newIdNumber(), name: '钱七', password: 'Known-pass-1' };
    await registerPerson(known, deps);
    // A clock that stands still while scrypt runs, so that one-second waits are seen as such.
    const clock = new TestClock(Date.now());
    const check: VerifyPasswordDependencies = { ...deps, clock };
    const sequence = async (idNumber: string) => {
      const outcomes: VerifyPasswordResult[] = [];
      for (let i = 0; i < 6; i++) {
        outcomes.push(
          await verifyPassword({ idNumber, password: 'wrong-wrong', source: '198.18.0.1' }, check),
        );
      }
      return outcomes;
    };
    const expected = [
      ...Array.from({ length: 5 }, () => ({ ok: false, reason: 'invalid_credentials' })),
      { ok: false, reason: 'throttled', retryAfterSeconds: 1 },
    ];
    expect(await sequence(known.idNumber)).toEqual(expected);
    expect(await sequence(newIdNumber())).toEqual(expected);
    // The right password is refused too until the wait is over: a throttled attempt checks nothing.
    const attempt = { ...known, source: '198.18.0.1' };
    expect(await verifyPassword(attempt, check)).toMatchObject({ ok: false, reason: 'throttled' });
    clock.advanceSeconds(1);
    expect(await verifyPassword(attempt, check)).toMatchObject({ ok: true });
  });

  it('refuses a burst of parallel guesses beyond the free five: the three counters are claimed at once (attack)', async () => {
    const victim = { consent: true, idNumber: newIdNumber(), name: '孙八', password: 'Victim-pass-1' };
    await registerPerson(victim, deps);
    const clock = new TestClock(Date.now());
    const check: VerifyPasswordDependencies = { ...deps, clock };
    const source = '198.18.0.2';
    const outcomes = await Promise.all(
      Array.from({ length: 30 }, () =>
        verifyPassword({ idNumber: victim.idNumber, password: 'guess-guess', source }, check),
      ),
    );
    const checked = outcomes.filter((outcome) => !outcome.ok && outcome.reason === 'invalid_credentials');
    // Every guess either checked a password as one of the free five, or was refused without a check.
    expect(checked.length).toBeGreaterThanOrEqual(1);
    expect(checked.length).toBeLessThanOrEqual(5);
    expect(outcomes.filter((outcome) => !outcome.ok && outcome.reason === 'throttled')).toHaveLength(
      30 - checked.length,
    );
    // Each guess that ran was counted, and none that was refused: the free five are used up exactly.
    const guess = () => verifyPassword({ idNumber: victim.idNumber, password: 'guess-guess', source }, check);
    for (let i = checked.length; i < 5; i++)
      expect(await guess()).toMatchObject({ reason: 'invalid_credentials' });
    expect(await guess()).toEqual({ ok: false, reason: 'throttled', retryAfterSeconds: 1 });
    // The right password is refused now too: the pair must wait.
    expect(await verifyPassword({ ...victim, source }, check)).toMatchObject({
      ok: false,
      reason: 'throttled',
    });
  });
});
