import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * `packages/verifier` is published on its own and runs in browsers and apps: it may import nothing outside
 * its folder and depends on no package. Only its Node entry may use Node's `crypto` and `zlib`.
 */
const root = fileURLToPath(new URL('../../..', import.meta.url));
const packageDir = join(root, 'packages', 'verifier');
const srcDir = join(packageDir, 'src');
/** The Node builtins the Node entry (`node.ts`) and what only it loads may import. */
const nodeBuiltins = new Set(['node:crypto', 'node:zlib']);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sourceFiles(join(dir, entry.name))
      : /\.(ts|tsx|js|mjs|cjs)$/.test(entry.name)
        ? [join(dir, entry.name)]
        : [],
  );
}

/** Every module specifier of a file: static imports and re-exports (type-only too), `import()`, `require`. */
function specifiersOf(file: string): string[] {
  return ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles.map((ref) => ref.fileName);
}

/** The file a relative specifier names (`./x.js` is written for `./x.ts`), or undefined if none exists. */
function resolveRelative(from: string, specifier: string): string | undefined {
  const target = resolve(dirname(from), specifier);
  return [target, target.replace(/\.js$/, '.ts'), `${target}.ts`, join(target, 'index.ts')].find(
    (candidate) => existsSync(candidate) && candidate.startsWith(`${srcDir}${sep}`),
  );
}

const isRelative = (specifier: string) => specifier.startsWith('./') || specifier.startsWith('../');
const files = sourceFiles(srcDir);
const name = (file: string) => relative(root, file);

/** The files `entry` loads, itself included, following relative imports only. */
function closure(entry: string): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const specifier of specifiersOf(file)) {
      const target = isRelative(specifier) ? resolveRelative(file, specifier) : undefined;
      if (target) visit(target);
    }
  };
  visit(entry);
  return seen;
}

describe('packages/verifier stands alone', () => {
  it('has source files (the scan below is not vacuous)', () => {
    expect(files.map(name)).toContain(join('packages', 'verifier', 'src', 'index.ts'));
    expect(files.map(name)).toContain(join('packages', 'verifier', 'src', 'node.ts'));
  });

  it('imports only its own files by relative path, and Node builtins only on the Node entry', () => {
    const browserFiles = closure(join(srcDir, 'index.ts'));
    const offending = files.flatMap((file) =>
      specifiersOf(file).flatMap((specifier) => {
        if (isRelative(specifier)) {
          return resolveRelative(file, specifier)
            ? []
            : [`${name(file)}: ${specifier} (outside the package)`];
        }
        if (nodeBuiltins.has(specifier) && !browserFiles.has(file)) return [];
        return [`${name(file)}: ${specifier}`];
      }),
    );
    expect(offending).toEqual([]);
  });

  it('keeps the Node builtins off the browser entry, and the Node entry to crypto and zlib', () => {
    const builtinsOf = (entry: string) =>
      [...closure(join(srcDir, entry))].flatMap((file) =>
        specifiersOf(file).filter((specifier) => !isRelative(specifier)),
      );
    expect(builtinsOf('index.ts')).toEqual([]);
    expect(new Set(builtinsOf('node.ts'))).toEqual(nodeBuiltins);
  });

  it('is a package of its own with no runtime dependencies', () => {
    const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(manifest).toMatchObject({
      name: '@elicence/verifier',
      type: 'module',
      exports: {
        '.': { types: './dist/index.d.ts', import: './dist/index.js' },
        './node': { types: './dist/node.d.ts', import: './dist/node.js' },
      },
    });
    for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies', 'bundleDependencies']) {
      expect(manifest[field] ?? {}, field).toEqual({});
    }
  });
});
