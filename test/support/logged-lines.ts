import { vi } from 'vitest';

/** The JSON lines the shared logger writes while `run` runs (Powertools: stdout, and stderr from WARN up). */
export async function loggedLines(run: () => Promise<unknown>): Promise<string[]> {
  const written: string[] = [];
  const capture = (chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  };
  const spies = [
    vi.spyOn(process.stdout, 'write').mockImplementation(capture),
    vi.spyOn(process.stderr, 'write').mockImplementation(capture),
  ];
  try {
    await run();
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
  return written
    .join('')
    .split('\n')
    .filter((line) => line.startsWith('{'));
}

/** A bare API event for `routeKey`, and an edge that takes every request, for calling `apiHandler` directly. */
export function bareApiEvent(routeKey: string) {
  const [, rawPath = '/'] = routeKey.split(' ');
  return {
    event: { routeKey, rawPath, rawQueryString: '', headers: {}, requestContext: { requestId: 'req-1' } },
    edge: { parametersOf: () => ({}), secure: () => true },
  };
}

/**
 * The subset of CloudWatch Logs' JSON filter patterns the stack uses: `{ A || B || … }` where each term is
 * `$.a.b = "value"` (or `($.a.b = "value")`), a value that may end with the `*` wildcard. A term on a field
 * that is absent, or not a string, does not match (as CloudWatch: an object is not equal to a string).
 * Anything else is refused, so a filter the stack comes to use beyond this subset fails here loudly.
 */
export function filterPatternMatches(pattern: string, line: string): boolean {
  const body = /^\{\s*(.*?)\s*\}$/.exec(pattern)?.[1];
  if (body === undefined) throw new Error(`not a JSON filter pattern: ${pattern}`);
  const event = JSON.parse(line) as unknown;
  return body.split('||').some((term) => {
    const parsed = /^\(?\s*\$((?:\.[A-Za-z_][A-Za-z0-9_]*)+)\s*=\s*"([^"]*)"\s*\)?$/.exec(term.trim());
    if (!parsed) throw new Error(`term outside the evaluated subset: ${term}`);
    const [, path, expected] = parsed as unknown as [string, string, string];
    let value: unknown = event;
    for (const key of path.slice(1).split('.')) {
      value = value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
    }
    if (typeof value !== 'string') return false;
    return expected.endsWith('*') ? value.startsWith(expected.slice(0, -1)) : value === expected;
  });
}
