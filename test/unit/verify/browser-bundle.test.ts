import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

describe('the verifier package export', () => {
  it('bundles for a browser with no Node API on its path', async () => {
    const result = await build({
      entryPoints: ['packages/verifier/src/index.ts'],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      minify: true,
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(
      inputs.filter((file) => file.startsWith('node:') || /status-list-zlib|verify\/node\.ts/.test(file)),
    ).toEqual([]);
    const code = result.outputFiles[0]?.text ?? '';
    expect(code).not.toMatch(/\bBuffer\b|node:/);
    expect(code.length).toBeLessThan(200_000);
  });

  it('is exported from package.json for Node and for browsers', async () => {
    const { default: pkg } = await import('../../../package.json', { with: { type: 'json' } });
    expect(pkg.exports).toMatchObject({
      './verifier': './packages/verifier/src/index.ts',
      './verifier/node': './packages/verifier/src/node.ts',
    });
    const node = await import('../../../packages/verifier/src/node.js');
    expect(typeof node.createVerifier).toBe('function');
    expect(typeof node.nodeEs256.verify).toBe('function');
  });
});
