import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * Domain errors carry a kind and a stable code; only the edges (`shared/http`, `shared/web`, the
 * functions) know HTTP. This reads the source of every other area of `shared/` and refuses an error
 * built with an HTTP status (a three-digit number among its arguments) and a decision taken on an
 * error's `status`.
 */
const root = join(import.meta.dirname, '../../..');
const edges = ['shared/http/', 'shared/web/'];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** The index just past the parenthesis that closes the one at `open`, skipping strings and comments. */
function closing(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const c = text[i];
    if (c === '"' || c === "'" || c === '`') {
      for (i++; i < text.length && text[i] !== c; i++) if (text[i] === '\\') i++;
    } else if (c === '/' && text[i + 1] === '/') {
      i = text.indexOf('\n', i);
      if (i < 0) return text.length;
    } else if (c === '/' && text[i + 1] === '*') {
      i = text.indexOf('*/', i) + 1;
    } else if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return text.length;
}

/** The top-level arguments of the call whose parenthesis opens at `open`, as source text. */
function argumentsAt(text: string, open: number): string[] {
  const end = closing(text, open);
  const args: string[] = [];
  let start = open + 1;
  for (let i = open + 1; i < end - 1; i++) {
    const c = text[i];
    if (c === '(' || c === '[' || c === '{' || c === '"' || c === "'" || c === '`') {
      i = c === '"' || c === "'" || c === '`' ? skipString(text, i) : closing(text, i) - 1;
    } else if (c === ',') {
      args.push(text.slice(start, i));
      start = i + 1;
    }
  }
  args.push(text.slice(start, end - 1));
  return args.map((arg) => arg.trim()).filter((arg) => arg.length > 0);
}

function skipString(text: string, at: number): number {
  const quote = text[at];
  let i = at + 1;
  for (; i < text.length && text[i] !== quote; i++) if (text[i] === '\\') i++;
  return i;
}

const lineOf = (text: string, index: number) => text.slice(0, index).split('\n').length;

/** Each construction of an error (or `super` call of an error class) given an HTTP status. */
function statusesGivenToErrors(path: string): string[] {
  const text = readFileSync(path, 'utf8');
  const name = relative(root, path);
  const found: string[] = [];
  const calls = /\bnew\s+[A-Z]\w*Error\s*\(|\bServiceError\s*\(|\bsuper\s*\(/g;
  for (const call of text.matchAll(calls)) {
    if (call[0].startsWith('super')) {
      const enclosing = [...text.slice(0, call.index).matchAll(/\bclass\s+\w+\s+extends\s+(\w+)/g)].at(-1);
      if (!enclosing?.[1]?.endsWith('Error')) continue;
    }
    const open = call.index + call[0].length - 1;
    if (argumentsAt(text, open).some((arg) => /^[1-5]\d\d$/.test(arg))) {
      found.push(`${name}:${lineOf(text, call.index)}: ${call[0]}… with an HTTP status`);
    }
  }
  for (const read of text.matchAll(/\b(?:error|err|e|cause|reason)\.status\b/g)) {
    found.push(`${name}:${lineOf(text, read.index)}: reads ${read[0]}`);
  }
  return found;
}

describe('domain errors', () => {
  const files = sourceFiles(join(root, 'shared')).filter(
    (path) => !edges.some((edge) => relative(root, path).replaceAll('\\', '/').startsWith(edge)),
  );

  it('reads the domain, not only the edges', () => {
    expect(files.map((path) => relative(root, path))).toEqual(
      expect.arrayContaining([join('shared', 'errors.ts'), join('shared', 'licence', 'issue-licence.ts')]),
    );
  });

  it('never carry an HTTP status outside the edges, nor are told apart by one', () => {
    expect(files.flatMap(statusesGivenToErrors)).toEqual([]);
  });

  it('reads the arguments of a call across lines, strings and nested calls', () => {
    // The scanner itself, so that the test above cannot pass by reading nothing.
    const probe = (text: string) => {
      const calls = /\bnew\s+[A-Z]\w*Error\s*\(|\bServiceError\s*\(/g;
      return [...text.matchAll(calls)].map((call) => argumentsAt(text, call.index + call[0].length - 1));
    };
    expect(
      probe("throw new ServiceError(\n  'issuer_withdrawn',\n  409,\n  `Issuer ${id} (x, y)`,\n);"),
    ).toEqual([["'issuer_withdrawn'", '409', '`Issuer ${id} (x, y)`']]);
    expect(probe("new ConflictError('a, b', 'code', { cause: f(1, 2) })")).toEqual([
      ["'a, b'", "'code'", '{ cause: f(1, 2) }'],
    ]);
  });
});
