import { execFileSync } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type Metafile } from 'esbuild';
import { functionNames } from '../../functions/routes.js';
import { functionBuild } from '../../infra/bundling.js';

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
 * What `index.mjs` loads at import: itself and the chunks it imports statically, transitively (the dynamic
 * imports' chunks are read on first use only), from esbuild's metafile.
 */
function loadedAtStart(outputs: Metafile['outputs'], entry: string): string[] {
  const loaded = new Set<string>();
  const visit = (file: string) => {
    if (loaded.has(file)) return;
    loaded.add(file);
    for (const dependency of outputs[file]?.imports ?? []) {
      if (dependency.kind === 'import-statement' && !dependency.external) visit(dependency.path);
    }
  };
  visit(entry);
  return [...loaded];
}

/**
 * Bundles each function as the CDK stack does (`functionBuild`: esbuild, ESM, minified, code splitting)
 * and measures what Lambda would load, the median import time of `index.mjs` over fresh processes on this
 * machine, and the size of the files read at import and of all the code files.
 */
export default async function run(): Promise<void> {
  const outdir = join('node_modules', '.cache', 'elicence-bench');
  await rm(outdir, { recursive: true, force: true });
  await mkdir(outdir, { recursive: true });
  const rows = [];
  for (const name of functionNames) {
    const functionDir = join(outdir, name);
    const { metafile } = await build({ ...functionBuild(name, functionDir), metafile: true });
    const outputs = metafile.outputs;
    const entry = relative(process.cwd(), join(functionDir, 'index.mjs'));
    const kilobytes = (files: string[]) =>
      Math.round(files.reduce((sum, file) => sum + (outputs[file]?.bytes ?? 0), 0) / 1024);
    const times = Array.from({ length: IMPORTS_PER_FUNCTION }, () => importMilliseconds(entry));
    rows.push({
      function: name,
      'loaded at import KB': kilobytes(loadedAtStart(outputs, entry)),
      'all code KB': kilobytes(Object.keys(outputs).filter((file) => file.endsWith('.mjs'))),
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
