import { NotFoundError, UriTooLongError } from '../errors.js';
import type { HttpEvent, HttpResult } from './types.js';

/**
 * What every request and every answer of every function passes through, whichever boundary it has
 * (`apiHandler`, `webHandler`, the OpenID function): the bounds on the request line and its path
 * parameters, and the headers every answer carries.
 */

/**
 * The kinds of path parameter, each with a shape ({@link parameterRules}) that every function checks
 * before it reads a parameter, so that no id reaches a table or a library unbounded. The route table
 * (functions/routes.ts) gives each parameter of each route its kind.
 */
export type ParameterKind =
  | 'licenceId'
  | 'issuerId'
  | 'issuerKeyId'
  | 'licenceTypeCode'
  | 'listId'
  | 'creditCode'
  | 'agentId'
  | 'interactionUid'
  | 'interactionStep'
  | 'scanLoginCode'
  | 'assetFile'
  | 'passkeyId'
  | 'authorizationId'
  | 'peerId'
  | 'clientId'
  | 'unknownPath'
  | 'batchId';

/**
 * What the edge needs to know of the function it fronts, which the function knows from the route table
 * and its configuration (functions/dispatch.ts builds it).
 */
export interface Edge {
  /**
   * The kind of each path parameter of the route with this key; `undefined` for a route without
   * parameters or a key the function does not serve (then any parameter is refused).
   */
  parametersOf(routeKey: string): Readonly<Record<string, ParameterKind>> | undefined;
  /** Whether the public origin (ISSUER_URL) is https. */
  secure(): boolean;
  /**
   * The methods open to pages of any origin at the route key's path (a `cors` route of the table, or its
   * preflight: `./cors.ts`); `undefined` for every other route, whose answers carry no CORS header.
   */
  crossOriginMethods?(routeKey: string): readonly string[] | undefined;
}

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
  // An issuer key's `kid`: the RFC 7638 thumbprint of its public key (43 characters of base64url).
  issuerKeyId: { ...urlSafe(64), notFound: 'issuer_key_not_found' },
  // `peer_<random>` (shared/issuers/peers.ts).
  peerId: { ...urlSafe(100), notFound: 'peer_not_found' },
  // `cl_<random>` (shared/random-id.ts), or a demo client's id.
  clientId: { ...urlSafe(100), notFound: 'client_not_found' },
  // A licence type's kebab-case slug (shared/licence/catalogue.ts).
  licenceTypeCode: {
    pattern: /^[a-z0-9-]{1,64}$/,
    allows: '1 to 64 of a-z 0-9 -',
    notFound: 'licence_type_not_found',
  },
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
  // A scan-to-login code (256 bits in base64url); the wallet says "unknown" on a page for any other.
  scanLoginCode: { ...urlSafe(64), notFound: 'scan_login_unknown' },
  assetFile: {
    pattern: /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/,
    allows: '1 to 128 of A-Z a-z 0-9 . _ -',
    notFound: 'route_not_found',
  },
  // A WebAuthn credential id, base64url (shared/identity/passkeys.ts bounds enrolled ones alike).
  passkeyId: { ...urlSafe(1024), notFound: 'passkey_not_found' },
  // A share's id: the OpenID provider's grant id (shared/sharing/authorizations.ts).
  authorizationId: { ...urlSafe(64), notFound: 'authorization_not_found' },
  // The rest of a path no other route serves (`GET /{path+}`): the web function answers it a 404 either
  // way; the rule only bounds it (the path as a whole is bounded by `maxPathLength` already).
  unknownPath: {
    pattern: /^\P{Cc}{1,2048}$/u,
    allows: 'a path without control characters',
    notFound: 'route_not_found',
  },
  // A bulk issuance job (shared/licence/batches.ts `batchIdFor`: `bat_` and 22 of base64url).
  batchId: {
    pattern: /^bat_[A-Za-z0-9_-]{22}$/,
    allows: 'bat_ and 22 of A-Z a-z 0-9 _ -',
    notFound: 'batch_not_found',
  },
};

/**
 * Why a request path is not in its one canonical form, or `undefined` when it is: every route of the
 * table is `/` and segments, none empty, none `.` or `..`, and no segment holds a slash. API Gateway
 * matches routes leniently (it is reported to serve `/token/` as the route `/token`; its documentation
 * does not say what it does with a trailing, doubled or encoded slash or a dot segment, and the local
 * stand-in drops empty segments likewise), so the raw path a function gets may name its route in a form
 * that a check of the path (a throttle's, the wallet's return page) does not recognise.
 *
 * @example
 * ```ts
 * nonCanonical('/token'); // undefined
 * nonCanonical('/token/'); // 'a trailing or doubled slash'
 * ```
 */
export function nonCanonical(path: string): string | undefined {
  if (path === '/') return undefined;
  if (!path.startsWith('/')) return 'no leading slash';
  if (/%(?:2f|5c)|\\/i.test(path)) return 'an encoded slash or a backslash';
  const segments = path.slice(1).split('/');
  if (segments.includes('')) return 'a trailing or doubled slash';
  if (segments.some((segment) => /^(?:\.|%2e){1,2}$/i.test(segment))) return 'a "." or ".." segment';
  return undefined;
}

/**
 * The path of the route the request came by: the route key's (`ANY /token` gives `/token`), which names
 * the endpoint whatever form the raw path had; the raw path for an event without a route key.
 *
 * @example
 * ```ts
 * routePath({ routeKey: 'ANY /token', rawPath: '/token/' } as HttpEvent); // '/token'
 * ```
 */
export function routePath(event: Pick<HttpEvent, 'routeKey' | 'rawPath'>): string {
  const key = event.routeKey ?? '';
  const space = key.indexOf(' ');
  return space > 0 ? key.slice(space + 1) : (event.rawPath ?? '');
}

/**
 * Refuses a request line the service will not read: a path or query string over its bound (414), a path
 * not in its canonical form ({@link nonCanonical}: 404, so that no function ever sees `/token/` or
 * `/wallet//qr`), or a path parameter outside the shape of its kind (404, naming the parameter). `kinds` are those the route
 * table gives the event's route ({@link Edge.parametersOf}); a parameter without one is refused too, so a
 * route added without one fails closed.
 *
 * @example
 * ```ts
 * checkRequestLine(event, { id: 'licenceId' }); // throws UriTooLongError (414) or NotFoundError (404)
 * ```
 */
export function checkRequestLine(
  event: HttpEvent,
  kinds: Readonly<Partial<Record<string, ParameterKind>>> | undefined,
): void {
  const path = event.rawPath ?? '';
  const query = event.rawQueryString ?? '';
  if (path.length > maxPathLength || query.length > maxQueryLength) {
    throw new UriTooLongError(
      `The request path is limited to ${maxPathLength} characters and the query to ${maxQueryLength}`,
      'uri_too_long',
    );
  }
  const flaw = nonCanonical(path);
  if (flaw !== undefined) {
    throw new NotFoundError(`There is no such path: it has ${flaw}`, 'route_not_found', {
      errors: [
        {
          path: '(path)',
          message: 'must be / and segments, none empty, "." or "..", with no trailing or encoded slash',
          code: 'invalid_format',
        },
      ],
    });
  }
  for (const [name, value] of Object.entries(event.pathParameters ?? {})) {
    const kind = kinds?.[name];
    const rule = kind ? parameterRules[kind] : undefined;
    if (!rule) {
      throw new NotFoundError(`The path parameter ${name} is not one this route takes`, 'not_found', {
        errors: [{ path: name, message: 'not a parameter of this route', code: 'unknown_field' }],
      });
    }
    if (value === undefined || !rule.pattern.test(value)) {
      throw new NotFoundError(`There is no such ${name}: it must be ${rule.allows}`, rule.notFound, {
        errors: [{ path: name, message: `must be ${rule.allows}`, code: 'invalid_format' }],
      });
    }
  }
}

/**
 * A year. Not `includeSubDomains`: the service owns its public host, not the domain's other hosts, and
 * its cookies are `__Host-` prefixed, so a sibling host cannot plant them anyway.
 */
const hsts = 'max-age=31536000';

/**
 * An answer with the headers every answer carries: `Strict-Transport-Security` when the public origin
 * (ISSUER_URL) is https (`secure`), so that a browser never again speaks plain http to it; none on the
 * local runtime's http, where it would pin `localhost` to a TLS it does not have.
 *
 * @example
 * ```ts
 * return withEdgeHeaders(await handle(event), edge.secure());
 * ```
 */
export function withEdgeHeaders(result: HttpResult, secure: boolean): HttpResult {
  if (!secure) return result;
  return { ...result, headers: { ...result.headers, 'strict-transport-security': hsts } };
}
