import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  areaGraph,
  areaOf,
  cycles,
  fileGraph,
  importsOf,
  layers,
  repoRoot,
  sourceFiles,
} from '../../support/import-graph.js';

/**
 * The rules of the layout (docs/architecture.md), checked on every import of the source. A rule broken
 * here is a design decision to take on purpose, in the docs, not an accident found in review.
 */
const shared = sourceFiles('shared');
const everything = sourceFiles('shared', 'functions', 'infra', 'packages');

const awsSdk = /^@aws-sdk\/|^@smithy\//;

describe('the layout', () => {
  it('has no source file in an import cycle', () => {
    expect(cycles(fileGraph(everything))).toEqual([]);
  });

  it('has areas of shared/ that form a directed acyclic graph', () => {
    expect(cycles(areaGraph([...shared, ...sourceFiles('packages')]))).toEqual([]);
  });

  it('is the layering docs/architecture.md shows', () => {
    const doc = readFileSync(join(repoRoot, 'docs/architecture.md'), 'utf8');
    const block = /<!-- layers:start -->\s*```\n([^`]*)```/.exec(doc)?.[1] ?? '';
    const documented = block
      .trim()
      .split('\n')
      .map((line) => line.trim().split(/\s+/).slice(1));
    expect(documented).toEqual(layers(areaGraph([...shared, ...sourceFiles('packages')])));
  });

  it('imports the AWS SDK only under shared/adapters/ and infra/', () => {
    const outside = everything.filter(
      (file) =>
        !file.startsWith('shared/adapters/') &&
        !file.startsWith('infra/') &&
        importsOf(file).some((i) => awsSdk.test(i.target)),
    );
    expect(outside).toEqual([]);
  });

  it('keeps shared/ free of the entry points, the infrastructure and the tests', () => {
    const upward = shared.flatMap((file) =>
      importsOf(file)
        .filter((i) => i.relative && /^(functions|infra|test)\//.test(i.target))
        .map((i) => `${file} -> ${i.target}`),
    );
    expect(upward).toEqual([]);
  });

  it('imports adapters only from the composition root, the infrastructure and other adapters', () => {
    const domainToAdapter = [...shared, ...sourceFiles('functions')].flatMap((file) =>
      file.startsWith('shared/adapters/') || file.startsWith('functions/composition/')
        ? []
        : importsOf(file)
            .filter((i) => i.target.startsWith('shared/adapters/'))
            // The table's key prefixes (and the attributes some index queries ask for) are shared with the
            // grants, which must name the same keys and attributes.
            .filter(
              (i) =>
                !(
                  file === 'functions/grants.ts' &&
                  /^shared\/adapters\/dynamo\/(keys|table|projections)\.ts$/.test(i.target)
                ),
            )
            .map((i) => `${file} -> ${i.target}`),
    );
    expect(domainToAdapter).toEqual([]);
  });

  it('keeps the leaf areas leaves: identifiers and the HTML kit import no domain area', () => {
    const allowed: Record<string, RegExp> = {
      'shared/identifiers': /^shared\/(\(root\)|crypto)$|^packages\/verifier$/,
      'shared/web/kit': /^shared\/(\(root\)|crypto|http)$/,
    };
    const broken = shared.flatMap((file) => {
      const rule = allowed[areaOf(file)];
      if (!rule) return [];
      return importsOf(file)
        .filter((i) => i.relative && areaOf(i.target) !== areaOf(file) && !rule.test(areaOf(i.target)))
        .map((i) => `${file} -> ${i.target}`);
    });
    expect(broken).toEqual([]);
  });
});
