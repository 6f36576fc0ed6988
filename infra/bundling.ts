import type { BuildOptions } from 'esbuild';

/** Gives CommonJS dependencies the `require` that an ESM bundle lacks. */
export const requireBanner =
  "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);";

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
} as const satisfies Partial<BuildOptions>;
