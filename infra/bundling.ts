import { join } from 'node:path';
import type { BuildOptions } from 'esbuild';
import type { FunctionName } from '../functions/routes.js';

/** Gives CommonJS dependencies the `require` that an ESM bundle lacks. */
export const requireBanner =
  "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);";

/**
 * Modules replaced in Lambda bundles, relative to the repository root: the SDK's default credential chain
 * becomes the environment provider (`infra/lambda-credentials.ts`), which is all Lambda uses. It keeps
 * the STS, SSO and instance-metadata clients out of every bundle (about 140 KB of the licence function).
 * And one media-type database instead of two.
 */
export const lambdaAliases = {
  '@aws-sdk/credential-provider-node': './infra/lambda-credentials.ts',
  // koa's own mime-types and its `accepts` pin different versions of the same JSON database of media
  // types (1.54 and 1.52); one copy of the newer serves both, 136 KB less in `oidc`.
  'mime-db': './node_modules/mime-db/index.js',
} as const;

/**
 * How every Lambda function is bundled, here and in the CDK stack: ESM for Node 22, minified, with
 * source maps. `keepNames` because oidc-provider looks its models up by class name. Code splitting: what a
 * function loads with a dynamic `import()` (pdfkit and fontkit for the printable licence, the WebAuthn
 * library for passkeys, parts of the SDK) is a chunk file of its own under `chunks/`, read and compiled on
 * first use instead of at every cold start (docs/benchmarks.md, "Cold start"). The code a function loads at
 * start that it shares with a lazy chunk is a chunk too, imported statically by `index.mjs`.
 */
export const bundling = {
  format: 'esm',
  platform: 'node',
  target: 'node22',
  minify: true,
  keepNames: true,
  sourcemap: true,
  mainFields: ['module', 'main'],
  banner: { js: requireBanner },
  alias: { ...lambdaAliases },
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  outExtension: { '.js': '.mjs' },
} as const satisfies Partial<BuildOptions>;

/**
 * The esbuild build of one function, as Lambda loads it: `outdir/index.mjs` (the handler `index.handler`)
 * and its chunks in `outdir/chunks/`, each with its source map. The CDK stack, the cold-start bench and the
 * bundle tests all build with this, so what they measure and run is what is deployed.
 *
 * @example
 * ```ts
 * await build(functionBuild('licences', 'out/licences'));
 * const { handler } = await import(pathToFileURL('out/licences/index.mjs').href);
 * ```
 */
export function functionBuild(name: FunctionName, outdir: string, rootDir = process.cwd()) {
  return {
    ...bundling,
    absWorkingDir: rootDir,
    entryPoints: { index: join(rootDir, 'functions', `${name}.ts`) },
    bundle: true,
    outdir,
    logLevel: 'error',
  } as const satisfies BuildOptions;
}
