import { describe, expect, it } from 'vitest';
import { csvCell, csvLine, maskHolderNumber } from '../../../shared/web/console/licence-csv.js';
import { consoleSearch } from '../../../shared/web/console/licence-search.js';

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

  it('masks a holder number to its first and last four, whatever its form', () => {
    expect(maskHolderNumber('110105********002X')).toBe('1101**********002X');
    expect(maskHolderNumber('91110000100000000X')).toBe('9111**********000X');
    expect(maskHolderNumber('12345678')).toBe('********');
  });
});

describe('the console’s search form', () => {
  it('reads a blank or unreadable field as no filter, and keeps at most 50 earlier cursors', () => {
    expect(
      consoleSearch.parse({ holderName: ' ', status: 'lost', issuedFrom: '2026-02-30', sort: 'x' }),
    ).toEqual({
      sort: '-issuedAt',
      back: [],
      page: 1,
    });
    const back = Array.from({ length: 51 }, (_, i) => `c${i}`).join(' ');
    expect(consoleSearch.parse({ back }).back).toEqual([]);
    expect(consoleSearch.parse({ back: '- c1', page: '3' })).toMatchObject({ back: ['-', 'c1'], page: 3 });
  });
});
