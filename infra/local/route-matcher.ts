import type { Route } from '../../functions/routes.js';

export interface RouteMatch {
  route: Route;
  pathParameters: Record<string, string>;
}

type Segment = { literal: string } | { param: string } | { greedy: string };

function segments(path: string): Segment[] {
  return path
    .split('/')
    .filter(Boolean)
    .map((part) => {
      const variable = /^\{([A-Za-z0-9_]+)(\+?)\}$/.exec(part);
      if (!variable) return { literal: part };
      return variable[2] ? { greedy: variable[1] ?? '' } : { param: variable[1] ?? '' };
    });
}

function match(template: Segment[], parts: string[]): Record<string, string> | undefined {
  const parameters: Record<string, string> = {};
  for (let i = 0; i < template.length; i++) {
    const segment = template[i]!;
    if ('greedy' in segment) {
      if (i >= parts.length) return undefined;
      parameters[segment.greedy] = parts.slice(i).join('/');
      return parameters;
    }
    const part = parts[i];
    if (part === undefined) return undefined;
    if ('literal' in segment) {
      if (segment.literal !== part) return undefined;
    } else {
      parameters[segment.param] = decodeURIComponent(part);
    }
  }
  return template.length === parts.length ? parameters : undefined;
}

/** More literal segments first, greedy last, an exact method before `ANY`: API Gateway's precedence. */
function specificity(template: Segment[], route: Route): number[] {
  const literals = template.filter((s) => 'literal' in s).length;
  const greedy = template.some((s) => 'greedy' in s) ? 1 : 0;
  return [-greedy, literals, template.length, route.method === 'ANY' ? 0 : 1];
}

/**
 * Selects the route API Gateway (HTTP API) would select for a request, with its path parameters.
 *
 * @example
 * ```ts
 * const matchRoute = routeMatcher(routes);
 * matchRoute('GET', '/licences/1.2.156'); // { route, pathParameters: { id: '1.2.156' } }
 * ```
 */
export function routeMatcher(routes: readonly Route[]) {
  // Each route's template and precedence worked out once, not per request (issue 16: the local runtime's
  // own cost per request). A template without a greedy segment matches only paths of its length.
  const compiled = routes.map((route) => {
    const template = segments(route.path);
    const greedy = template.some((segment) => 'greedy' in segment);
    return {
      route,
      template,
      exactLength: greedy ? undefined : template.length,
      score: specificity(template, route),
    };
  });
  return (method: string, path: string): RouteMatch | undefined => {
    // Empty segments are dropped: `/token/` and `//token` match `ANY /token`. API Gateway's documentation
    // does not say how an HTTP API matches a trailing or doubled slash; it is reported to serve `/x/` as
    // the route `/x`, so the stand-in matches as leniently, and the event keeps the path as sent. No
    // handler sees such a path either way: the edge of every function refuses it (shared/http/edge.ts,
    // `nonCanonical`, 404).
    const parts = path.split('/').filter(Boolean);
    let best: { match: RouteMatch; score: number[] } | undefined;
    for (const { route, template, exactLength, score } of compiled) {
      if (route.method !== 'ANY' && route.method !== method) continue;
      if (exactLength !== undefined && exactLength !== parts.length) continue;
      let pathParameters: Record<string, string> | undefined;
      try {
        pathParameters = match(template, parts);
      } catch {
        continue; // a malformed percent-encoding matches no route
      }
      if (!pathParameters) continue;
      if (!best || compare(score, best.score) > 0) best = { match: { route, pathParameters }, score };
    }
    return best?.match;
  };
}

function compare(a: number[], b: number[]): number {
  for (let i = 0; i < a.length; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
