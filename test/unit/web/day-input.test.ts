import { describe, expect, it } from 'vitest';
import { readConsoleSearch } from '../../../shared/web/console/licence-search.js';
import { dayInputProperties, normaliseDay, readDay } from '../../../shared/web/kit/day-input.js';

/** The console's issue days, typed as text (shared/web/kit/day-input.ts), read on the server. */
describe('a day typed as text', () => {
  it('reads YYYY-MM-DD, slashes, dots, 年月日 and eight digits as the same day', () => {
    for (const typed of [
      '2026-03-05',
      '2026/3/5',
      ' 2026.03.5 ',
      '2026年3月5日',
      '20260305',
      '2026 - 3 - 5',
    ]) {
      expect(normaliseDay(typed)).toBe('2026-03-05');
    }
    expect(normaliseDay('3/5/2026')).toBe('3/5/2026');
  });

  it('reads the full-width digits and separators a Chinese input method types, and the page lets them through', () => {
    const typedFullWidth = [
      '２０２６－０３－０５',
      '２０２６年３月５日',
      '２０２６／３／５',
      '２０２６．３．５',
      '２０２６０３０５',
    ];
    const pattern = new RegExp(`^(?:${dayInputProperties((zh) => zh).pattern})$`, 'v');
    for (const typed of typedFullWidth) {
      expect(readDay(typed)).toBe('2026-03-05');
      expect(pattern.test(typed)).toBe(true);
    }
    expect(readDay('２０２６年１３月１日')).toBeUndefined();
  });

  it('reads a day as YYYY-MM-DD, or nothing when it is none', () => {
    expect(readDay('2026年3月5日')).toBe('2026-03-05');
    expect(readDay('20260305')).toBe('2026-03-05');
    for (const none of ['2026-02-30', '2026年13月1日', '3/5/2026', '202603', '']) {
      expect(readDay(none)).toBeUndefined();
    }
  });

  it('refuses a day that is none, by its field, and keeps the rest of the search', () => {
    const read = readConsoleSearch({ issuedFrom: '2026年3月5日', issuedTo: '' });
    expect(read.invalid).toEqual({});
    expect([read.search.issuedFrom, read.search.issuedTo]).toEqual(['2026-03-05', undefined]);
    const { search, invalid } = readConsoleSearch({
      holderName: '王',
      issuedFrom: '2026-02-30',
      issuedTo: '03/05/2026',
      status: 'valid',
    });
    expect(invalid).toEqual({ issuedFrom: '2026-02-30', issuedTo: '03/05/2026' });
    expect(search).toMatchObject({ holderName: '王', status: 'valid' });
    expect([search.issuedFrom, search.issuedTo]).toEqual([undefined, undefined]);
  });
});
