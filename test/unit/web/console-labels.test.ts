import { describe, expect, it } from 'vitest';
import { validity } from '../../../shared/web/console/labels.js';

const zh = (chinese: string) => chinese;
const en = (_chinese: string, english: string) => english;

describe('validity, the one sentence behind the console’s validity text and cell', () => {
  it('says the dates in Beijing time, with or without an end, in both languages', () => {
    expect(validity('2026-03-01T16:30:00Z', '2032-03-01T16:30:00Z', zh).text).toBe(
      '2026-03-02 至 2032-03-02',
    );
    expect(validity('2026-03-01T16:30:00Z', '2032-03-01T16:30:00Z', en).text).toBe(
      '2026-03-02 to 2032-03-02',
    );
    expect(validity('2026-03-01T16:30:00Z', undefined, zh).text).toBe('2026-03-02 起长期有效');
    expect(validity('2026-03-01T16:30:00Z', undefined, en).text).toBe('From 2026-03-02, no expiry');
  });

  it('gives the cell the same words, each date kept whole, and escapes what is not a date', () => {
    for (const t of [zh, en]) {
      for (const until of ['2032-03-01T16:30:00Z', undefined]) {
        const { text, cell } = validity('2026-03-01T16:30:00Z', until, t);
        expect(cell.toString().replace(/<span class="nowrap">([^<]*)<\/span>/g, '$1')).toBe(text);
        expect(cell.toString().match(/<span class="nowrap">/g)).toHaveLength(until ? 2 : 1);
      }
    }
    // A start that is not an instant is shown as given, escaped in the cell.
    const odd = validity('<b>', undefined, en);
    expect(odd.text).toBe('From <b>, no expiry');
    expect(odd.cell.toString()).toBe('From <span class="nowrap">&lt;b&gt;</span>, no expiry');
  });
});
