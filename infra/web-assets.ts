import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));

/** The browser files the pages load, by the name they are served under (`/assets/<name>`). */
export const webAssetEntries: Readonly<Record<string, string>> = {
  'app.css': 'shared/web/browser/app.css',
  'verifier.js': 'shared/web/browser/verifier.ts',
  'wallet.js': 'shared/web/browser/wallet.ts',
  'wallet-passkeys.js': 'shared/web/browser/wallet-passkeys.ts',
  'wallet-export.js': 'shared/web/browser/wallet-export.ts',
  'passkey-sign-in.js': 'shared/web/browser/passkey-sign-in.ts',
  'sms-countdown.js': 'shared/web/browser/sms-countdown.ts',
  'scan-login-timer.js': 'shared/web/browser/scan-login-timer.ts',
  'sw.js': 'shared/web/browser/service-worker.ts',
};

/** Files served as they are. */
export const staticWebAssets: Readonly<Record<string, string>> = {
  'icon.svg': 'shared/web/browser/icon.svg',
};

/**
 * Bundles the browser code with esbuild (ES2022 modules, minified, nothing fetched from elsewhere at run
 * time): the verifier page runs the same `@elicence/verifier` package as Node and apps do. Used by the local
 * runtime (in memory) and by the CDK bundling of the `web` function (written beside its code).
 */
export async function buildWebAssets(): Promise<Map<string, Uint8Array>> {
  const result = await build({
    absWorkingDir: root,
    entryPoints: Object.entries(webAssetEntries).map(([name, source]) => ({
      in: source,
      out: name.replace(/\.(js|css)$/, ''),
    })),
    outdir: 'web-assets',
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: ['es2022', 'chrome100', 'safari15', 'firefox100'],
    minify: true,
    legalComments: 'none',
    logLevel: 'silent',
    // The pages import the verifier by its package name, as an outside app does; here the name is its
    // source, the same code `npm pack` builds for apps (test/integration/verifier-package.test.ts).
    alias: { '@elicence/verifier': './packages/verifier/src/index.ts' },
  });
  const files = new Map(result.outputFiles.map((file) => [basename(file.path), file.contents]));
  for (const [name, source] of Object.entries(staticWebAssets)) {
    files.set(name, new Uint8Array(await readFile(join(root, source))));
  }
  return files;
}

let built: Promise<Map<string, Uint8Array>> | undefined;

/** {@link buildWebAssets} once per process (every local runtime in a test run shares one build). */
export function webAssetsOnce(): Promise<Map<string, Uint8Array>> {
  built ??= buildWebAssets();
  built.catch(() => (built = undefined));
  return built;
}

/** Writes the assets into `dir` (the `web` function's CDK bundling runs this file, infra/constructs/service-function.ts). */
export async function writeWebAssets(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const [name, bytes] of await buildWebAssets()) await writeFile(join(dir, name), bytes);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const dir = process.argv[2];
  if (!dir) throw new Error('usage: tsx infra/web-assets.ts <output folder>');
  await writeWebAssets(dir);
}
