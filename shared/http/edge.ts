import { routes, type ParameterKind } from '../../functions/routes.js';
import { composition } from '../../functions/composition/dependencies.js';
import { NotFoundError, UriTooLongError } from '../errors.js';
import type { HttpEvent, HttpResult } from './types.js';

/**
 * What every request and every answer of every function passes through, whichever boundary it has
 * (`apiHandler`, `webHandler`, the OpenID function): the bounds on the request line and its path
 * parameters, and the headers every answer carries.
 */

/** Longest request path the service reads; each parameter in it is bounded far lower (below). */
export const maxPathLength = 4096;
/** Longest query string: room for an authorization request with a request object. */
export const maxQueryLength = 8192;

interface ParameterRule {
  pattern: RegExp;
  /** What the pattern allows, for the problem's `errors`. */
  allows: string;
  /** The code of the 404 a value outside the pattern gets: the one the function gives an unknown one. */
  notFound: string;
}

const urlSafe = (max: number) => ({
  pattern: new RegExp(`^[A-Za-z0-9_-]{1,${max}}$`),
  allows: `1 to ${max} of A-Z a-z 0-9 _ -`,
});

/**
 * The shape of each kind of path parameter. A value outside it names nothing the service has, so it is a
 * 404 before any function reads a table with it (DynamoDB refuses keys over 2 KB, with an error that
 * would otherwise be a 500) or hands it to a library.
 */
export const parameterRules: Record<ParameterKind, ParameterRule> = {
  // `1.2.156.3005.2.<type>.<credit code>.<serial>.<version>.<check>`; case is not significant.
  licenceId: {
    pattern: /^[A-Za-z0-9._-]{1,128}$/,
    allows: '1 to 128 of A-Z a-z 0-9 . _ -',
    notFound: 'licence_not_found',
  },
  issuerId: { ...urlSafe(100), notFound: 'issuer_not_found' },
  // `<issuer id>.<list number>` (shared/licence/status-list-store.ts).
  listId: {
    pattern: /^[A-Za-z0-9_-]{1,100}\.(?:0|[1-9]\d{0,14})$/,
    allows: '<issuer id>.<list number>',
    notFound: 'status_list_not_found',
  },
  // A unified social credit code is 18 characters; the functions check it further.
  creditCode: {
    pattern: /^[0-9A-Za-z]{1,32}$/,
    allows: '1 to 32 of 0-9 A-Z a-z',
    notFound: 'not_found',
  },
  agentId: { ...urlSafe(64), notFound: 'agent_not_found' },
  // The OpenID provider's interaction and pushed-request handles.
  interactionUid: { ...urlSafe(64), notFound: 'not_found' },
  interactionStep: { pattern: /^[a-z]{1,16}$/, allows: '1 to 16 of a-z', notFound: 'not_found' },
  assetFile: {
    pattern: /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/,
    allows: '1 to 128 of A-Z a-z 0-9 . _ -',
    notFound: 'route_not_found',
  },
};

const parametersOf = new Map(
  routes.map((route) => [`${route.method} ${route.path}`, route.parameters ?? {}]),
);

/**
 * Refuses a request line the service will not read: a path or query string over its bound (414), or a
 * path parameter outside the shape of its kind (404, naming the parameter). A parameter that the route
 * table gives no kind is refused too, so a route added without one fails closed.
 *
 * @example
 * ```ts
 * checkRequestLine(event); // throws UriTooLongError (414) or NotFoundError (404)
 * ```
 */
export function checkRequestLine(event: HttpEvent): void {
  const path = event.rawPath ?? '';
  const query = event.rawQueryString ?? '';
  if (path.length > maxPathLength || query.length > maxQueryLength) {
    throw new UriTooLongError(
      `The request path is limited to ${maxPathLength} characters and the query to ${maxQueryLength}`,
      'uri_too_long',
    );
  }
  const kinds: Partial<Record<string, ParameterKind>> = parametersOf.get(event.routeKey) ?? {};
  for (const [name, value] of Object.entries(event.pathParameters ?? {})) {
    const kind = kinds[name];
    const rule = kind ? parameterRules[kind] : undefined;
    if (!rule) {
      throw new NotFoundError(`The path parameter ${name} is not one this route takes`, 'not_found', {
        errors: [{ path: name, message: 'not a parameter of this route' }],
      });
    }
    if (value === undefined || !rule.pattern.test(value)) {
      throw new NotFoundError(`There is no such ${name}: it must be ${rule.allows}`, rule.notFound, {
        errors: [{ path: name, message: `must be ${rule.allows}` }],
      });
    }
  }
}

/** The configuration of the function (only its public origin is read here). */
const configuration = composition({});

/**
 * A year. Not `includeSubDomains`: the service owns its public host, not the domain's other hosts, and
 * its cookies are `__Host-` prefixed, so a sibling host cannot plant them anyway.
 */
const hsts = 'max-age=31536000';

/**
 * An answer with the headers every answer carries: `Strict-Transport-Security` when the public origin
 * (ISSUER_URL) is https, so that a browser never again speaks plain http to it; none on the local
 * runtime's http, where it would pin `localhost` to a TLS it does not have.
 */
export function withEdgeHeaders(result: HttpResult): HttpResult {
  if (!configuration().config.issuerUrl.startsWith('https:')) return result;
  return { ...result, headers: { ...result.headers, 'strict-transport-security': hsts } };
}
