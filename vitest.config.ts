import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // The pages import the verifier by its package name, as an app does (see tsconfig.json's `paths`).
  resolve: {
    alias: {
      '@elicence/verifier': fileURLToPath(new URL('packages/verifier/src/index.ts', import.meta.url)),
    },
  },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default', ['json', { outputFile: 'test-results/vitest.json' }]],
  },
});
