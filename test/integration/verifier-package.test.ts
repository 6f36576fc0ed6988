import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dependencies } from '../../functions/composition/dependencies.js';
import { createPresentation } from '../../shared/licence/presentation.js';
import { repoRoot } from '../support/import-graph.js';
import { startTestRuntime, type TestRuntime } from '../support/runtime.js';
import { changeStatus, demoTokens, issueDrivingLicence } from './verify/helpers.js';

/**
 * The verifier as an app developer gets it: packed by `npm pack` (which builds it), installed from the
 * tarball into an empty app with no access to this repository, run by plain `node` (no tsx), type-checked
 * against its declarations, and bundled for a browser.
 */
const run = promisify(execFile);
const packageDir = join(repoRoot, 'packages/verifier');

let app: string;
let tarball: string;
let runtime: TestRuntime;

beforeAll(async () => {
  const work = await mkdtemp(join(tmpdir(), 'verifier-app-'));
  // The tarball is the one file `npm pack` leaves in an empty folder (its output mixes the build's log in).
  await run('npm', ['pack', '--pack-destination', work], { cwd: packageDir });
  const [packed] = (await readdir(work)).filter((name) => name.endsWith('.tgz'));
  if (!packed) throw new Error('npm pack left no tarball');
  tarball = join(work, packed);
  app = join(work, 'app');
  await run('mkdir', ['-p', app]);
  await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  await run('npm', ['install', '--offline', '--no-audit', '--no-fund', tarball], { cwd: app });
  runtime = await startTestRuntime();
}, 180_000);
afterAll(() => runtime?.close());

describe('the verifier package, installed from its tarball', () => {
  it('holds the built modules, their declarations and its README, and depends on nothing', async () => {
    const installed = join(app, 'node_modules/@elicence/verifier');
    const manifest = JSON.parse(await readFile(join(installed, 'package.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(manifest).not.toHaveProperty('dependencies');
    expect(manifest).not.toHaveProperty('peerDependencies');
    expect(manifest).not.toHaveProperty('private');
    const files = await readdir(join(installed, 'dist'));
    expect(files).toEqual(expect.arrayContaining(['index.js', 'index.d.ts', 'node.js', 'node.d.ts']));
    expect(files.filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))).toEqual([]);
    expect(await readdir(installed)).toEqual(expect.arrayContaining(['README.md', 'CHANGELOG.md']));
    expect(await readdir(join(app, 'node_modules'))).toEqual(['.package-lock.json', '@elicence']);
  });

  it('verifies a valid and a revoked credential and a presentation with plain node, synced from the service', async () => {
    const tokens = await demoTokens(runtime);
    const valid = await issueDrivingLicence(runtime, tokens.issuer);
    const revoked = await issueDrivingLicence(runtime, tokens.issuer);
    await changeStatus(runtime, tokens.issuer, revoked.id, 'revoked');
    const deps = dependencies();
    const record = await deps.licences.get(valid.id);
    const { token: presentation } = await createPresentation(
      valid.id,
      { disclose: ['vehicleClass'], ttlSeconds: 120 },
      { holderLookupKeys: [record!.holder.lookupKey], level: 3, actor: 'test-holder' },
      deps,
    );

    // What an app developer writes, in plain JavaScript.
    await writeFile(
      join(app, 'verify.mjs'),
      `import { createNodeVerifier, nodeEs256, OfflineTrustStore, zlibCompression } from '@elicence/verifier/node';
const [baseUrl, ...scans] = process.argv.slice(2);
const store = new OfflineTrustStore({ baseUrl, crypto: nodeEs256, compression: zlibCompression });
const report = await store.sync();
const verifier = createNodeVerifier({ trust: store, status: store });
const results = [];
for (const scan of scans) {
  const { verdict, reason, format, licence } = await verifier.verify(scan);
  results.push({ verdict, reason, format, id: licence?.id });
}
console.log(JSON.stringify({ report, results }));
`,
    );
    const { stdout } = await run(
      process.execPath,
      ['verify.mjs', runtime.baseUrl, valid.credential, revoked.credential, presentation, 'not a licence'],
      { cwd: app },
    );
    const { report, results } = JSON.parse(stdout) as {
      report: { failures: unknown[] };
      results: Array<{ verdict: string; reason: string; format?: string; id?: string }>;
    };
    expect(report.failures).toEqual([]);
    expect(results).toEqual([
      expect.objectContaining({ verdict: 'valid', format: 'credential', id: valid.id }),
      expect.objectContaining({ verdict: 'revoked', reason: 'status_revoked', id: revoked.id }),
      expect.objectContaining({ verdict: 'valid', format: 'presentation', id: valid.id }),
      expect.objectContaining({ verdict: 'malformed' }),
    ]);
  });

  it('type-checks an app against its declarations, with no Node types for the browser entry', async () => {
    await writeFile(
      join(app, 'check.ts'),
      `import { createVerifier, OfflineTrustStore, webCryptoEs256, type Verdict } from '@elicence/verifier';
const crypto = webCryptoEs256();
const store = new OfflineTrustStore({ baseUrl: 'https://elicence.example.gov.cn', crypto });
const verifier = createVerifier({ crypto, trust: store, status: store });
export async function verdictOf(scan: string): Promise<Verdict> {
  return (await verifier.verify(scan)).verdict;
}
// @ts-expect-error: a verdict the package does not have
export const wrong: Verdict = 'approved';
`,
    );
    // No `types`: the browser entry must type-check without Node's declarations.
    const compilerOptions = {
      strict: true,
      noEmit: true,
      module: 'nodenext',
      moduleResolution: 'nodenext',
      types: [],
      lib: ['es2023', 'dom'],
    };
    await writeFile(join(app, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['check.ts'] }));
    const tsc = join(repoRoot, 'node_modules/typescript/bin/tsc');
    const result = await run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: app }).catch(
      (error: { stdout: string }) => error,
    );
    expect(result.stdout).toBe('');
  });

  it('bundles the browser entry under 44 KB minified, with no Node built-in', async () => {
    await writeFile(
      join(app, 'browser.js'),
      `import { createVerifier, OfflineTrustStore, webCryptoEs256 } from '@elicence/verifier';
const crypto = webCryptoEs256();
const store = new OfflineTrustStore({ baseUrl: location.origin, crypto });
globalThis.verifier = createVerifier({ crypto, trust: store, status: store });
`,
    );
    const bundle = await build({
      entryPoints: [join(app, 'browser.js')],
      bundle: true,
      minify: true,
      format: 'esm',
      platform: 'browser',
      write: false,
      absWorkingDir: app,
    });
    const code = bundle.outputFiles[0]!.text;
    expect(code).not.toMatch(/node:|require\(/);
    // 41 KB since the offline status precedence and the clock-skew refusal of lists (review R20); 43 KB by
    // 0.5.0, 44.4 KB with 0.6.0's checks of what ports hand back, same-second lists and request deadlines
    // (review R32).
    expect(code.length).toBeLessThan(46 * 1024);
    console.log(`the verifier's browser bundle: ${code.length} bytes minified; tarball ${tarball}`);
  });
});
