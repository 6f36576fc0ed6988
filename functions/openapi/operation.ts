import type * as z from 'zod';
import type { FunctionName, RouteKey } from '../routes.js';

/**
 * The functions whose routes are pages (HTML for people) or the OpenID provider's (which its discovery
 * document describes): the OpenAPI document leaves them out.
 */
export const undocumentedFunctions = ['oidc', 'web', 'wallet', 'demo-platform', 'console'] as const;
/** Pages of functions that otherwise serve the API. */
export const undocumentedRoutes = ['GET /register', 'POST /register'] as const;

/** Every route the OpenAPI document must describe: a mapped type over these makes a missing one fail to compile. */
export type DocumentedRouteKey = Exclude<
  RouteKey<Exclude<FunctionName, (typeof undocumentedFunctions)[number]>>,
  (typeof undocumentedRoutes)[number]
>;

/** One successful answer of an operation. */
export interface SuccessResponse {
  description: string;
  /** The body's schema (the one the code that builds the body is typed by); none for an empty body. */
  schema?: z.ZodType;
  /** `application/json` unless said. */
  mediaType?: string;
  /** Response headers worth knowing, by name: their description. */
  headers?: Readonly<Record<string, string>>;
}

/**
 * What the OpenAPI document says of one route beyond what the route table says (method, path, who may
 * call, path parameters): its request schemas (the very ones the function validates with), its answers,
 * and the problem codes of its own. The generator adds the problems every route of its kind can answer
 * (bad token, bad body, unknown path parameter, server error).
 */
export interface Operation {
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  /** The JSON body's schema, as `parseJsonBody` validates it. */
  body?: z.ZodType;
  /** The query's schema, as `parseQuery` validates it (a strict object: each property is one parameter). */
  query?: z.ZodObject;
  /** Request headers the function reads, by name. */
  headers?: Readonly<Record<string, { schema: z.ZodType; required: boolean; description: string }>>;
  /**
   * For a public route that also takes a token (`POST /verify`): the scope that shows more. A token
   * sent must then be good (401/403), as on other routes.
   */
  optionalScope?: string;
  responses: Readonly<Partial<Record<number, SuccessResponse>>>;
  /** Problem codes of this route's own, by status, besides those the generator adds. */
  problems?: Readonly<Partial<Record<number, readonly string[]>>>;
}

/** The operations of every documented route, by route key: one left out does not compile. */
export type Operations = { readonly [K in DocumentedRouteKey]: Operation };
