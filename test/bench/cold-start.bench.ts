import { execFileSync } from 'node:child_process';
import { mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { functionNames } from '../../functions/routes.js';
import { bundling } from '../../infra/bundling.js';

const IMPORTS_PER_FUNCTION = 5;

/** Import time of a bundle in a fresh Node process: what a Lambda cold start pays before the handler runs. */
function importMilliseconds(file: string): number {
  const script = `const t = performance.now(); await import(${JSON.stringify(pathToFileURL(file).href)}); console.log(performance.now() - t);`;
  const output = execFileSync(process.execPath, ['--input-type=module', '--no-warnings', '-e', script], {
    encoding: 'utf8',
    env: { ...process.env, AWS_REGION: 'cn-north-1' },
  });
  return Number(output.trim().split('\n').at(-1));
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;

/**
 * Bundles each function as the CDK stack does (esbuild, ESM, minified) and measures the bundle's size and
 * the median import time over fresh processes on this machine.
 */
export default async function run(): Promise<void> {
  const outdir = join('node_modules', '.cache', 'elicence-bench');
  await rm(outdir, { recursive: true, force: true });
  await mkdir(outdir, { recursive: true });
  const rows = [];
  for (const name of functionNames) {
    const outfile = join(outdir, `${name}.mjs`);
    await build({
      ...bundling,
      entryPoints: [join('functions', `${name}.ts`)],
      bundle: true,
      outfile,
      logLevel: 'error',
    });
    const size = (await stat(outfile)).size;
    const times = Array.from({ length: IMPORTS_PER_FUNCTION }, () => importMilliseconds(outfile));
    rows.push({
      function: name,
      'bundle KB': Math.round(size / 1024),
      'import ms (median)': Number(median(times).toFixed(1)),
    });
  }
  const baseline = Array.from({ length: IMPORTS_PER_FUNCTION }, () => {
    const t = performance.now();
    execFileSync(process.execPath, ['-e', '0']);
    return performance.now() - t;
  });
  console.log('\nCold start: bundle size and import time per function (fresh Node process each)');
  console.table(rows);
  console.log(
    `(baseline: an empty Node process starts in ${median(baseline).toFixed(0)} ms, not included above)`,
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await run();
