import { describe, expect, it } from 'vitest';
import { translator } from '../../../shared/web/kit/i18n.js';
import { niceScale, trendChart } from '../../../shared/web/supervision/trend-chart.js';

const t = translator('zh');
const dates = ['2026-12-01', '2026-12-02', '2026-12-03'];

describe('the supervision trend chart', () => {
  it('rounds the axis up to 1, 2 or 5 times a power of ten per tick', () => {
    expect(niceScale(0)).toEqual({ top: 4, step: 1 });
    expect(niceScale(3)).toEqual({ top: 4, step: 1 });
    expect(niceScale(7)).toEqual({ top: 8, step: 2 });
    expect(niceScale(70)).toEqual({ top: 80, step: 20 });
    expect(niceScale(101)).toEqual({ top: 200, step: 50 });
    expect(niceScale(1234)).toEqual({ top: 2000, step: 500 });
  });

  it('draws one line per series through its points, highest value at the top of the plot', () => {
    const svg = trendChart(t, {
      id: 'trend',
      title: '近 3 天',
      dates,
      series: [
        { label: '签发', kind: 'issued', values: [0, 4, 8] },
        { label: '核验', kind: 'verified', values: [2, 2, 2] },
      ],
    }).value;
    const lines = [...svg.matchAll(/<polyline fill="none" points="([^"]+)"/g)].map((m) => m[1]!.split(' '));
    expect(lines).toHaveLength(2);
    const [issued, verified] = lines as [string[], string[]];
    const ys = issued.map((point) => Number(point.split(',')[1]));
    // 8 is the axis top (niceScale(8) = 8): the plot's top margin; 0 its bottom.
    expect(ys[2]).toBe(16);
    expect(ys[0]).toBe(224);
    expect(new Set(verified.map((point) => point.split(',')[1])).size).toBe(1);
    // Its name and a summary are announced; the figures follow as a table.
    expect(svg).toContain('role="img"');
    expect(svg).toContain('<title id="trend-title">近 3 天</title>');
    expect(svg).toContain('合计：签发 12，核验 6');
    expect(svg.match(/<th scope="row">/g)).toHaveLength(3);
    // Every date's point of a non-zero value carries its own tooltip.
    expect(svg).toContain('<title>2026-12-03 签发 8</title>');
  });

  it('escapes labels and titles it is given', () => {
    const svg = trendChart(t, {
      id: 'x',
      title: '<script>',
      dates,
      series: [{ label: '"><b>', kind: 'issued', values: [1, 2, 3] }],
    }).value;
    expect(svg).not.toContain('<script>');
    expect(svg).not.toContain('"><b>');
  });
});
