import { defineConfig } from 'tsup';

/**
 * The published build: ES modules and their type declarations, one entry for browsers and apps
 * (`@elicence/verifier`, no Node API) and one for Node (`@elicence/verifier/node`), sharing chunks. Node's
 * built-ins stay imports (only the Node entry reaches them); nothing else is external, because nothing
 * else is imported.
 */
export default defineConfig({
  entry: { index: 'src/index.ts', node: 'src/node.ts' },
  format: ['esm'],
  target: 'es2022',
  platform: 'neutral',
  external: ['node:crypto', 'node:zlib'],
  dts: true,
  splitting: true,
  sourcemap: true,
  clean: true,
  // Keep `node:crypto`, not `crypto`: bundlers for browsers and Deno know the prefixed form for what it is.
  removeNodeProtocol: false,
  outDir: 'dist',
});
