export interface Measured {
  n: number;
  rate: number;
  p50: number;
  p99: number;
}

/** The value below which `q` of the sorted samples fall (nearest rank). */
export function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN;
}

/** Runs `task` `total` times with at most `concurrency` in flight: rate and latency percentiles. */
export async function measure(
  total: number,
  concurrency: number,
  task: () => Promise<unknown>,
): Promise<Measured> {
  const latencies: number[] = [];
  let started = 0;
  const worker = async () => {
    while (started < total) {
      started++;
      const begin = performance.now();
      await task();
      latencies.push(performance.now() - begin);
    }
  };
  const begin = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = performance.now() - begin;
  latencies.sort((a, b) => a - b);
  return {
    n: total,
    rate: (total / elapsed) * 1000,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
  };
}

/** One table row: name, n, concurrency, ops/s, p50 and p99 in ms. */
export function row(name: string, concurrency: number, m: Measured, width = 46): string {
  return (
    `${name.padEnd(width)} ${String(m.n).padStart(6)} ${String(concurrency).padStart(5)} ` +
    `${m.rate.toFixed(0).padStart(8)} ${m.p50.toFixed(2).padStart(8)} ${m.p99.toFixed(2).padStart(8)}`
  );
}

export function header(width = 46): string {
  return `${'path'.padEnd(width)} ${'n'.padStart(6)} ${'conc'.padStart(5)} ${'ops/s'.padStart(8)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)}`;
}
