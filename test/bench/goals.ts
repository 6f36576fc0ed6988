import { loadavg } from 'node:os';

/** One row of issue 16's table: what was measured in this run, and the goal it is held to. */
export interface GoalRow {
  what: string;
  /** The measured figure as printed (a ratio, a count, a size). */
  measured: string;
  goal: string;
  met: boolean;
}

/** The median of some numbers (the lower middle for an even count). */
export function median(values: readonly number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)] ?? Number.NaN;
}

/** `min–max` of some numbers, with `digits` decimals. */
export function spread(values: readonly number[], digits = 2): string {
  const sorted = [...values].sort((a, b) => a - b);
  return `${sorted[0]?.toFixed(digits)}–${sorted.at(-1)?.toFixed(digits)}`;
}

/** The goals table `npm run bench` ends with, and the load average it was measured under. */
export function printGoals(rows: readonly GoalRow[]): void {
  const [one, five, fifteen] = loadavg().map((n) => n.toFixed(2));
  console.log(`\nGoals (issue 16), load average ${one} ${five} ${fifteen} at the end of the run`);
  console.log(`| what | measured | goal | met |\n| --- | --- | --- | --- |`);
  for (const row of rows)
    console.log(`| ${row.what} | ${row.measured} | ${row.goal} | ${row.met ? 'yes' : 'NO'} |`);
}
