import type { BuildOptions } from 'esbuild';

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
 * source maps. `keepNames` because oidc-provider looks its models up by class name.
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
} as const satisfies Partial<BuildOptions>;
