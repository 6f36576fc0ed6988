import { composition } from './composition/dependencies.js';
import { crossOriginMethods, gatewayRoutes, routeKey, type FunctionName, type RouteKey } from './routes.js';
import { NotFoundError } from '../shared/errors.js';
import type { Edge, ParameterKind } from '../shared/http/edge.js';
import type { HttpEvent, HttpResult } from '../shared/http/types.js';
import { servedOverHttps } from '../shared/web/kit/cookies.js';

/**
 * Marks a route of the handler map that the function answers before it dispatches (a sign-in form that
 * needs no session, say): the map still names every route, so none is forgotten, and one that reaches
 * the dispatch anyway is refused like an unknown one.
 */
export const handledAbove: unique symbol = Symbol('handled above');

/** What answers one route: a closure over what the handler has read of the request so far. */
export type RouteHandler = () => HttpResult | Promise<HttpResult>;

/**
 * A handler for each route of function `F`, by route key: a key missing, misspelled or of another
 * function does not compile.
 */
export type RouteHandlers<F extends FunctionName> = {
  readonly [K in RouteKey<F>]: RouteHandler | typeof handledAbove;
};

/** A function's routes, from the table: what its boundary checks, and the dispatch among them. */
export interface FunctionRoutes<F extends FunctionName> {
  /** For `apiHandler` and `webHandler`: the parameter kinds of the function's routes, and https or not. */
  readonly edge: Edge;
  /** Whether the event came by one of these routes. */
  is(event: HttpEvent, ...keys: ReadonlyArray<RouteKey<F>>): boolean;
  /**
   * Runs the handler of the event's route; a route key without one (or marked {@link handledAbove}) is
   * a 404 `route_not_found`.
   */
  dispatch(event: HttpEvent, handlers: RouteHandlers<F>): Promise<HttpResult>;
}

/** The configuration, for the edge's one question (is the public origin https?). */
const configuration = composition({});

/**
 * The routes of function `fn` as the table lists them: the edge of its handler (each route's parameter
 * kinds, and whether the public origin is https, for HSTS) and a dispatch by route key that must name
 * every route of the function, in place of a `switch` over hand-typed keys.
 *
 * @example
 * ```ts
 * const served = routesOf('admin');
 * export const handler = apiHandler(async (event) => {
 *   return served.dispatch(event, {
 *     'POST /admin/issuers': async () => json(201, …),
 *     // … every other route of `admin`, or tsc refuses
 *   });
 * }, served.edge);
 * ```
 */
export function routesOf<F extends FunctionName>(fn: F): FunctionRoutes<F> {
  // The table's routes and their preflights (an `OPTIONS` route has its path's parameters too).
  const kinds = new Map<string, Readonly<Record<string, ParameterKind>> | undefined>(
    gatewayRoutes
      .filter((route) => route.function === fn)
      .map((route) => [routeKey(route), route.parameters]),
  );
  return {
    edge: {
      parametersOf: (key) => kinds.get(key),
      secure: () => servedOverHttps(configuration().config.issuerUrl),
      crossOriginMethods: (key) => (kinds.has(key) ? crossOriginMethods(key) : undefined),
    },
    is: (event, ...keys) => keys.some((key) => key === event.routeKey),
    dispatch: async (event, handlers) => {
      const key = event.routeKey;
      const handle = Object.hasOwn(handlers, key) ? handlers[key as RouteKey<F>] : undefined;
      if (typeof handle !== 'function') throw new NotFoundError(`No route ${key}`, 'route_not_found');
      return handle();
    },
  };
}
