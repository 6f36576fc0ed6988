import { describe, expect, it } from 'vitest';
import { withdrawalPartFaults, withdrawalSettleMs } from '../../../shared/supervision/audit-chain-verify.js';

/** Entries of withdrawal `id` (`part` n of `parts`), as answered redacted, at `at`. */
const parts = (id: string, written: Array<[number, number]>, at = '2026-12-05T10:00:00.000Z') =>
  written.map(([part, of], i) => ({
    at,
    action: 'authorization.withdrawn',
    chain: '2026-12-05.abcdefghijkl',
    seq: 10 + i,
    withdrawal: id,
    part,
    parts: of,
    redacted: true,
  }));
const range = { from: '2026-12-05', to: '2026-12-05', now: Date.parse('2026-12-06T12:00:00Z') };

describe('withdrawalPartFaults', () => {
  it('passes a withdrawal whose parts are 1..m, and entries of no withdrawal', () => {
    const whole = parts('w1', [
      [2, 3],
      [1, 3],
      [3, 3],
    ]);
    expect(withdrawalPartFaults([...whole, { at: range.from, action: 'account.registered' }], range)).toEqual(
      [],
    );
  });

  it('names a missing part, a part twice, a part outside 1..m, and parts that disagree on m', () => {
    const faults = withdrawalPartFaults(
      [
        ...parts('gap', [
          [1, 3],
          [3, 3],
        ]),
        ...parts('twice', [
          [1, 2],
          [1, 2],
          [2, 2],
        ]),
        ...parts('outside', [
          [1, 2],
          [3, 2],
        ]),
        ...parts('disagree', [
          [1, 2],
          [2, 3],
        ]),
      ],
      range,
    );
    expect(faults.map((fault) => fault.problem)).toEqual([
      expect.stringContaining('withdrawal gap: part 2 of 3 is not on the trail (parts 1, 3 are)'),
      'withdrawal twice: part 1 of 2 is on the trail twice',
      'withdrawal outside: an entry says it is part 3 of 2',
      'withdrawal disagree: its entries do not agree on how many parts it has (2, 3)',
    ]);
    expect(faults[0]).toMatchObject({ chain: '2026-12-05.abcdefghijkl', seq: 10 });
  });

  it('does not judge a withdrawal whose parts may be outside the range or still on their way', () => {
    const lacking = (at: string) => parts('late', [[1, 2]], at);
    // Dated before the range: its other parts may be on a chain of that day.
    expect(withdrawalPartFaults(lacking('2026-12-04T23:59:00.000Z'), range)).toEqual([]);
    // Within the settling time before the end of the last day: its last part may go on the next day's.
    expect(withdrawalPartFaults(lacking('2026-12-05T23:55:00.000Z'), range)).toEqual([]);
    // Within the settling time before now: its last part may not be written yet.
    const at = Date.parse('2026-12-05T10:00:00Z');
    expect(
      withdrawalPartFaults(lacking('2026-12-05T10:00:00.000Z'), {
        ...range,
        now: at + withdrawalSettleMs - 1,
      }),
    ).toEqual([]);
    expect(
      withdrawalPartFaults(lacking('2026-12-05T10:00:00.000Z'), { ...range, now: at + withdrawalSettleMs }),
    ).toHaveLength(1);
  });
});
