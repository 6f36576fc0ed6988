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
