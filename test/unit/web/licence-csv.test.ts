import { describe, expect, it } from 'vitest';
import {
  collectCsvLines,
  csvCell,
  csvLine,
  exportLimits,
  maskHolderNumber,
} from '../../../shared/web/console/licence-csv.js';
import { consoleSearch, readConsoleSearch } from '../../../shared/web/console/licence-search.js';

describe('the console’s CSV cells', () => {
  it('puts an apostrophe before every cell a spreadsheet would run as a formula', () => {
    for (const start of ['=', '+', '-', '@', '\t', '\r']) {
      expect(csvCell(`${start}1+1`).replace(/^"/, '').startsWith(`'${start}`)).toBe(true);
    }
    expect(csvCell('张三')).toBe('张三');
    expect(csvCell('1.2.156.3005.2.003')).toBe('1.2.156.3005.2.003');
    // A formula hidden behind a quote is quoted whole, its quotes doubled, and still guarded.
    expect(csvCell('=HYPERLINK("http://x")')).toBe('"\'=HYPERLINK(""http://x"")"');
    expect(csvLine(['a,b', 'line\nbreak', 'plain'])).toBe('"a,b","line\nbreak",plain\r\n');
  });

  it('guards the full-width ＝ ＋ － ＠ too, which an East Asian spreadsheet may read as formula signs', () => {
    // And the small forms (NFKC folds them into the ASCII signs) and the minus sign (review finding).
    for (const start of [
      '\uFF1D',
      '\uFF0B',
      '\uFF0D',
      '\uFF20',
      '\uFE66',
      '\uFE62',
      '\uFE63',
      '\uFE6B',
      '\u2212',
    ]) {
      expect(csvCell(`${start}1+1`)).toBe(`'${start}1+1`);
      expect(csvCell(`${start}HYPERLINK("http://x")`)).toBe(`"'${start}HYPERLINK(""http://x"")"`);
    }
    // Only at the start, as the ASCII signs: inside a name they are text.
    expect(csvCell('张三＝李四')).toBe('张三＝李四');
  });

  it('masks a holder number to its first and last four, whatever its form', () => {
    expect(maskHolderNumber('110105********002X')).toBe('1101**********002X');
    expect(maskHolderNumber('91110000100000000X')).toBe('9111**********000X');
    expect(maskHolderNumber('12345678')).toBe('********');
  });
});

describe('the console’s search form', () => {
  it('reads a blank or unknown field as no filter, a day it cannot read as refused, and keeps at most 50 earlier cursors', () => {
    expect(consoleSearch.parse({ holderName: ' ', status: 'lost', sort: 'x' })).toEqual({
      sort: '-issuedAt',
      back: [],
      page: 1,
    });
    // A day that is no day is not dropped silently: the page answers 400 naming it (console.md).
    expect(readConsoleSearch({ status: 'lost', issuedFrom: '2026-02-30' })).toEqual({
      search: { sort: '-issuedAt', back: [], page: 1 },
      invalid: { issuedFrom: '2026-02-30' },
    });
    const back = Array.from({ length: 51 }, (_, i) => `c${i}`).join(' ');
    expect(consoleSearch.parse({ back }).back).toEqual([]);
    expect(consoleSearch.parse({ back: '- c1', page: '3' })).toMatchObject({ back: ['-', 'c1'], page: 3 });
  });
});

describe('the console’s export bounds', () => {
  const clock = { now: () => 0 };
  const limits = { ...exportLimits, rows: 5, calls: 3 };

  it('stops after its call cap when a filter matches nothing over an index larger than the cap covers', async () => {
    // 10 pages of the index, none of them matching: the API answers an empty page and a cursor each time.
    let calls = 0;
    const page = async (cursor: string | undefined) => {
      calls += 1;
      const at = Number(cursor ?? 0);
      return { items: [] as string[], ...(at < 9 && { cursor: String(at + 1) }) };
    };
    const collected = await collectCsvLines(page, (item) => `${item}\r\n`, limits, clock);
    expect(calls).toBe(3);
    expect(collected).toEqual({ lines: [], cut: true, calls: 3 });
    // With room for every page, the same search ends uncut.
    calls = 0;
    expect(await collectCsvLines(page, (item) => item, { ...limits, calls: 50 }, clock)).toMatchObject({
      cut: false,
      calls: 10,
    });
  });

  it('cuts at the row cap, the body-size cap and the deadline, with whole rows only', async () => {
    const pages = (cursor: string | undefined) =>
      Promise.resolve({
        items: ['一行', '二行'],
        ...(Number(cursor ?? 0) < 3 && { cursor: String(Number(cursor ?? 0) + 1) }),
      });
    const line = (item: string) => `${item}\r\n`;
    expect(await collectCsvLines(pages, line, { ...limits, calls: 50 }, clock)).toMatchObject({
      lines: ['一行\r\n', '二行\r\n', '一行\r\n', '二行\r\n', '一行\r\n'],
      cut: true,
    });
    // Each line is 8 bytes in UTF-8: 20 bytes hold two.
    const bySize = await collectCsvLines(pages, line, { ...limits, rows: 100, calls: 50, bytes: 20 }, clock);
    expect(bySize).toMatchObject({ lines: ['一行\r\n', '二行\r\n'], cut: true });
    let now = 0;
    const late = { now: () => (now += 1_000) };
    const byTime = await collectCsvLines(
      pages,
      line,
      { ...limits, rows: 100, calls: 50, deadlineMs: 2_500 },
      late,
    );
    // Started at 1 s; asked at 2 s and 3 s (calls), at 4 s past the 2.5 s deadline.
    expect(byTime).toMatchObject({ cut: true, calls: 2 });
    expect(await collectCsvLines(pages, line, { ...limits, rows: 8, calls: 50 }, clock)).toMatchObject({
      cut: false,
    });
  });
});
