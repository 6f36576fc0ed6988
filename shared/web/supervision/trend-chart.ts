import { attr, html, type SafeHtml } from '../kit/html.js';
import type { Translate } from '../kit/i18n.js';

/** One line of a {@link trendChart}: a value per day, in the order of the chart's dates. */
export interface TrendSeries {
  /** The legend's words, and the data table's column heading. */
  label: string;
  /** A class of `console.css` (`issued`, `verified`, `status-changed`) giving the line its colour and dash. */
  kind: 'issued' | 'verified' | 'status-changed';
  values: readonly number[];
}

export interface TrendChartInput {
  /** Announced as the chart's name (`<title>`) and shown as its caption. */
  title: string;
  /** `YYYY-MM-DD`, oldest first: one point of each series per date. */
  dates: readonly string[];
  series: readonly TrendSeries[];
  /** An id unique on the page, for the SVG's accessible name. */
  id: string;
}

const width = 720;
const height = 260;
const margin = { top: 16, right: 16, bottom: 36, left: 48 };

/**
 * The smallest "nice" axis maximum (1, 2 or 5 times a power of ten, times the tick count) at or above
 * `max`, so the ticks read as round numbers: 0, 20, 40… rather than 0, 17.5, 35….
 */
export function niceScale(max: number, ticks = 4): { top: number; step: number } {
  if (max <= 0) return { top: ticks, step: 1 };
  const rough = max / ticks;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough) ?? 10 * power;
  // Counts are whole numbers: a step below 1 would label ticks 0.25, 0.5….
  const whole = Math.max(1, step);
  return { top: whole * ticks, step: whole };
}

const round = (n: number) => Math.round(n * 10) / 10;

/**
 * A line chart of daily counts drawn on the server as SVG: no script, no library, no CDN, so it shows
 * under the pages' strict CSP and prints. Colours come from `console.css` by series kind, and each line
 * also has its own dash pattern and point marker, so the lines stay apart for a reader who cannot tell
 * the colours apart. The same figures follow as a table (inside `<details>`), which is what a screen
 * reader reads: an SVG's lines are not announceable figures.
 *
 * @example
 * ```ts
 * trendChart(t, { id: 'trend', title: '近 30 天', dates, series: [{ label: '签发', kind: 'issued', values }] });
 * ```
 */
export function trendChart(t: Translate, input: TrendChartInput): SafeHtml {
  const { dates, series } = input;
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = height - margin.top - margin.bottom;
  const max = Math.max(0, ...series.flatMap((s) => s.values));
  const { top, step } = niceScale(max);
  const x = (i: number) =>
    round(margin.left + (dates.length <= 1 ? plotWidth / 2 : (i * plotWidth) / (dates.length - 1)));
  const y = (v: number) => round(margin.top + plotHeight - (v / top) * plotHeight);
  const ticks = Array.from({ length: top / step + 1 }, (_, i) => i * step);
  // About six date labels whatever the range: every fifth day of thirty.
  const every = Math.max(1, Math.ceil(dates.length / 6));
  const titleId = `${input.id}-title`;
  const descId = `${input.id}-desc`;
  const totals = series.map((s) => `${s.label} ${s.values.reduce((a, b) => a + b, 0)}`).join(t('，', ', '));

  return html`<figure class="trend">
    <figcaption>${input.title}</figcaption>
    <ul class="trend-legend">
      ${series.map((s) => html`<li class="${s.kind}"><span class="swatch" aria-hidden="true"></span>${s.label}</li>`)}
    </ul>
    <svg
      viewBox="0 0 ${width} ${height}"
      role="img"
      aria-labelledby="${titleId}"
      aria-describedby="${descId}"
      class="trend-chart"
      preserveAspectRatio="xMidYMid meet"
    >
      <title id="${titleId}">${input.title}</title>
      <desc id="${descId}">
        ${t(
          `${dates[0] ?? ''} 至 ${dates.at(-1) ?? ''} 每日数量。合计：${totals}。`,
          `Daily counts from ${dates[0] ?? ''} to ${dates.at(-1) ?? ''}. Totals: ${totals}.`,
        )}
      </desc>
      ${ticks.map(
        (v) =>
          html`<line
              class="grid"
              x1="${margin.left}"
              x2="${width - margin.right}"
              y1="${y(v)}"
              y2="${y(v)}"
            />
            <text class="tick" x="${margin.left - 6}" y="${y(v) + 4}" text-anchor="end">${v}</text>`,
      )}
      ${dates.map((date, i) =>
        i % every === 0 || i === dates.length - 1
          ? html`<text class="tick" x="${x(i)}" y="${height - margin.bottom + 18}" text-anchor="middle">
              ${date.slice(5)}
            </text>`
          : '',
      )}
      ${series.map(
        (s) =>
          html`<g class="series ${s.kind}">
            <polyline fill="none" points="${s.values.map((v, i) => `${x(i)},${y(v)}`).join(' ')}" />
            ${s.values.map((v, i) =>
              v > 0
                ? html`<circle cx="${x(i)}" cy="${y(v)}" r="3"
                    ><title>${dates[i]} ${s.label} ${v}</title></circle
                  >`
                : '',
            )}
          </g>`,
      )}
    </svg>
    <details class="trend-data">
      <summary>${t('查看数据表', 'Show the figures as a table')}</summary>
      <div class="table-scroll">
        <table>
          <caption>
            ${input.title}
          </caption>
          <thead>
            <tr>
              <th scope="col">${t('日期', 'Date')}</th>
              ${series.map((s) => html`<th scope="col">${s.label}</th>`)}
            </tr>
          </thead>
          <tbody>
            ${dates.map(
              (date, i) =>
                html`<tr>
                  <th scope="row">${date}</th>
                  ${series.map((s) => html`<td ${attr('class', s.values[i] ? undefined : 'zero')}>${s.values[i] ?? 0}</td>`)}
                </tr>`,
            )}
          </tbody>
        </table>
      </div>
    </details>
  </figure>`;
}
