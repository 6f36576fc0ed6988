import { describe, expect, it } from 'vitest';
import { isoFromMillis, isoFromSeconds } from '../../../packages/verifier/src/iso-time.js';

describe('isoFromMillis', () => {
  it('writes what Date#toISOString writes, over the whole four-digit range and its edges', () => {
    const edges = [
      0, 1, 999, 1000, 86_399_999, 86_400_000, 951_782_400_000 /* 2000-02-29 */,
      4_107_542_400_000 /* 2100-03-01 */, 253_402_300_799_999, 253_402_300_800_000, -1, -86_400_000, 1.5,
      1e15, 8.64e15,
    ];
    for (const ms of edges) expect(isoFromMillis(ms), String(ms)).toBe(new Date(ms).toISOString());
    // Every day boundary of a few leap cycles, and random instants up to year 9999.
    for (let day = 0; day < 3 * 1461; day++) {
      const ms = Date.UTC(1999, 0, 1) + day * 86_400_000 - 1;
      expect(isoFromMillis(ms)).toBe(new Date(ms).toISOString());
    }
    for (let i = 0; i < 100_000; i++) {
      const ms = Math.floor(Math.random() * 253_402_300_800_000);
      if (isoFromMillis(ms) !== new Date(ms).toISOString())
        expect(isoFromMillis(ms)).toBe(new Date(ms).toISOString());
    }
  });

  it('throws the RangeError Date throws for an invalid time', () => {
    for (const bad of [Number.NaN, Infinity, 8.64e15 + 1, 2 ** 53]) {
      expect(() => isoFromMillis(bad)).toThrow(RangeError);
    }
    expect(() => isoFromSeconds(Number.MAX_SAFE_INTEGER)).toThrow(RangeError);
  });

  it('takes seconds as a presentation and a licence give them', () => {
    expect(isoFromSeconds(1_767_225_600)).toBe('2026-01-01T00:00:00.000Z');
  });
});
