import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, posix, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/** The repository's root folder. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** One import of a source file: a repository path when relative, else the bare specifier. */
export interface Import {
  /** `shared/licence/licence.ts` for a relative import, `@aws-sdk/client-kms` for a package. */
  target: string;
  relative: boolean;
}

/** Every TypeScript source under the given folders (repository-relative, `/`-separated). */
export function sourceFiles(...folders: string[]): string[] {
  const found: string[] = [];
  const walk = (folder: string) => {
    for (const name of readdirSync(join(repoRoot, folder))) {
      const path = posix.join(folder, name);
      if (statSync(join(repoRoot, path)).isDirectory()) walk(path);
      else if (/\.tsx?$/.test(name) && !name.endsWith('.d.ts')) found.push(path);
    }
  };
  for (const folder of folders) if (existsSync(join(repoRoot, folder))) walk(folder);
  return found.sort();
}

/**
 * The imports of one file, read by the TypeScript scanner (static, re-exports and dynamic `import()`;
 * type-only imports count too: they are design dependencies even though they are erased), relative ones
 * resolved to repository paths (`./x.js` → `x.ts`, as NodeNext resolution does).
 */
export function importsOf(file: string): Import[] {
  const source = readFileSync(join(repoRoot, file), 'utf8');
  const { importedFiles } = ts.preProcessFile(source, true, true);
  return importedFiles.map(({ fileName }) => {
    // The verifier package by its name (the pages import it so, as apps do) is its source here.
    if (fileName === '@elicence/verifier')
      return { target: 'packages/verifier/src/index.ts', relative: true };
    if (!fileName.startsWith('.')) return { target: fileName, relative: false };
    const path = posix.normalize(posix.join(posix.dirname(file), fileName)).replace(/\.js$/, '.ts');
    return { target: path, relative: true };
  });
}

/**
 * The area a file of `shared/` belongs to: its first folder (`shared/licence`), with `web/` and
 * `adapters/` split by their sub-folders (`shared/web/kit`, `shared/adapters/dynamo`), and the files at
 * the root of `shared/` (clock, config, errors, logger) as one area, `shared/(root)`.
 */
export function areaOf(file: string): string {
  const parts = file.split('/');
  if (parts[0] === 'packages') return parts.slice(0, 2).join('/');
  if (parts[0] !== 'shared') return parts[0]!;
  if (parts.length === 2) return 'shared/(root)';
  if ((parts[1] === 'web' || parts[1] === 'adapters') && parts.length > 3) return parts.slice(0, 3).join('/');
  return parts.slice(0, 2).join('/');
}

/** A graph as adjacency sets. */
export type Graph = Map<string, Set<string>>;

/** The file graph (relative imports only) of the given files. */
export function fileGraph(files: readonly string[]): Graph {
  const known = new Set(files);
  return new Map(
    files.map((file) => [
      file,
      new Set(importsOf(file).flatMap((i) => (known.has(i.target) ? [i.target] : []))),
    ]),
  );
}

/** The area graph: an edge where some file of one area imports a file of another. */
export function areaGraph(files: readonly string[]): Graph {
  const graph: Graph = new Map();
  for (const [file, targets] of fileGraph(files)) {
    const from = areaOf(file);
    const edges = graph.get(from) ?? new Set<string>();
    graph.set(from, edges);
    for (const target of targets) if (areaOf(target) !== from) edges.add(areaOf(target));
  }
  return graph;
}

/** The strongly connected components of more than one node, or with a self-loop (Tarjan). */
export function cycles(graph: Graph): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string) => {
    index.set(node, next);
    low.set(node, next);
    next += 1;
    stack.push(node);
    onStack.add(node);
    for (const target of graph.get(node) ?? []) {
      if (!index.has(target)) {
        visit(target);
        low.set(node, Math.min(low.get(node)!, low.get(target)!));
      } else if (onStack.has(target)) {
        low.set(node, Math.min(low.get(node)!, index.get(target)!));
      }
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1 || graph.get(node)?.has(node)) found.push(component.sort());
    }
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return found;
}

/**
 * The areas in layers: each area's layer is one more than the highest layer it imports, so layer 0
 * imports no other area. Only defined for a graph without cycles.
 */
export function layers(graph: Graph): string[][] {
  const depth = new Map<string, number>();
  const depthOf = (node: string): number => {
    const known = depth.get(node);
    if (known !== undefined) return known;
    depth.set(node, 0);
    const value = Math.max(-1, ...[...(graph.get(node) ?? [])].map(depthOf)) + 1;
    depth.set(node, value);
    return value;
  };
  for (const node of graph.keys()) depthOf(node);
  const result: string[][] = [];
  for (const [node, value] of depth) (result[value] ??= []).push(node);
  return result.map((layer) => layer.sort());
}
