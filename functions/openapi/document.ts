import * as z from 'zod';
import { undocumentedFunctions, undocumentedRoutes, type Operation } from './operation.js';
import { routeKey, type Route } from '../routes.js';
import { parameterRules } from '../../shared/http/edge.js';
import { problemDocumentSchema } from '../../shared/http/response.js';
import { problemTitles as titles } from '../../shared/http/api-handler.js';
import { apiScopes, identityScopes } from '../../shared/sso/scopes.js';
import { dpopSigningAlgs } from '../../shared/http/dpop.js';

type Json = Record<string, unknown>;

/** What each scope of discovery's `scopes_supported` grants, for the security schemes. */
const scopeDescriptions: Record<(typeof apiScopes)[number] | (typeof identityScopes)[number], string> = {
  openid: 'Sign in (OpenID Connect)',
  offline_access:
    'A refresh token that outlives the sign-in session; ask with prompt=consent, without which the provider drops this scope (OpenID Connect Core 11)',
  profile: 'Name',
  idcard:
    'The resident ID number, in clear, at userinfo only (never in the ID token), to platforms registered for it, when the person ticks it on the consent page (a separate choice, off by default)',
  entity:
    'Act for an entity (法人): its credit code and who acts for it (act) as claims; a first-party app (the wallet) also manages its agents',
  admin: 'Operators: onboard issuers, register clients, read the audit trail (client credentials)',
  'licences:issue': 'Issuing agencies: issue, read and change their licences (client credentials)',
  'licences:verify': 'Verifier apps: see disclosed fields in verifications (client credentials)',
  licences:
    'A holder in a first-party app (the wallet) only: reads my licences (/me/licences), shows them, and manages presentations, passkeys and authorizations (authorization code). Platforms cannot register it: they ask for licences with licence_access (GET /shared/licences)',
  supervision:
    'The supervising office (电子监察): statistics, alerts, the chained audit trail and its checkpoints (client credentials)',
};

/** Whether the OpenAPI document describes `route` (not a page, not the OpenID provider's). */
export function isDocumented(route: Route): boolean {
  return (
    !(undocumentedFunctions as readonly string[]).includes(route.function) &&
    !(undocumentedRoutes as readonly string[]).includes(routeKey(route))
  );
}

/** A zod schema as JSON Schema 2020-12, without the `$schema` a document part must not repeat. */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Json {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { target: 'draft-2020-12', io }) as Json;
  return rest;
}

/**
 * The schemas of requests (`io: 'input'`) or responses (`output`) as `components.schemas`, each named
 * by its `title` (or the name given), nested named ones by `$ref`.
 */
class Components {
  private readonly registry = z.registry<{ id: string }>();
  private readonly names = new Map<string, z.ZodType>();

  constructor(private readonly io: 'input' | 'output') {}

  ref(schema: z.ZodType, fallback: string): Json {
    const existing = this.registry.get(schema)?.id;
    if (existing) return { $ref: `#/components/schemas/${existing}` };
    const title = z.globalRegistry.get(schema)?.title;
    const name = title && !this.names.has(title) ? title : fallback;
    if (this.names.has(name)) throw new Error(`Two schemas are named ${name}`);
    this.names.set(name, schema);
    this.registry.add(schema, { id: name });
    return { $ref: `#/components/schemas/${name}` };
  }

  /**
   * The referenced schemas as JSON Schema, by name; one nested in another is a `$ref` when it is
   * referenced itself, and inlined otherwise.
   */
  schemas(): Record<string, Json> {
    if (this.names.size === 0) return {};
    const { schemas } = z.toJSONSchema(this.registry, {
      target: 'draft-2020-12',
      io: this.io,
      uri: (id) => `#/components/schemas/${id}`,
    }) as { schemas: Record<string, Json> };
    return Object.fromEntries(
      Object.entries(schemas).map(([name, { $schema: _s, $id: _i, ...schema }]) => [name, schema]),
    );
  }
}

export interface DocumentOptions {
  /** The public origin (ISSUER_URL): the document's `servers` and the OAuth endpoints. */
  issuerUrl: string;
  /** The document's version (the API's). */
  version?: string;
}

/**
 * The `WWW-Authenticate` header every 401 answer carries (RFC 7235 §3.1, RFC 6750 §3, RFC 9449 §7.1),
 * once for every operation that can answer 401: `components.headers.WwwAuthenticate`.
 */
const wwwAuthenticateRef = '#/components/headers/WwwAuthenticate';
const wwwAuthenticateHeader = {
  description:
    'The challenge of the refusal: in the `DPoP` scheme when the request used it or the token is bound to a ' +
    'DPoP key, with the algorithms a proof may use (`DPoP error="invalid_dpop_proof", error_description="…", ' +
    `algs="${dpopSigningAlgs.join(' ')}"\`), else in the \`Bearer\` scheme (\`Bearer error="invalid_token", ` +
    'error_description="…"`); the scheme alone (`Bearer`, `DPoP`) when no token was sent',
  required: true,
  schema: { type: 'string' },
} as const;

/**
 * The OpenAPI 3.1 document of the API: every documented route of `routes` with its operation, its path
 * parameters (their shapes from `parameterRules`), its security, its answers (schemas from zod) and the
 * RFC 9457 problems it can answer. Pure: the same input gives the same document. Throws when a
 * documented route has no operation or an operation no route.
 *
 * @example
 * ```ts
 * const document = openApiDocument(routes, operations, { issuerUrl: 'https://id.example.gov.cn' });
 * document.paths['/licences'].post.operationId; // 'issueLicence'
 * ```
 */
export function openApiDocument(
  routes: readonly Route[],
  operations: Readonly<Record<string, Operation>>,
  options: DocumentOptions,
): Json {
  const requests = new Components('input');
  const responses = new Components('output');
  const problem = responses.ref(problemDocumentSchema, 'Problem');
  const paths: Record<string, Record<string, Json>> = {};
  const seen = new Set<string>();

  for (const route of routes.filter(isDocumented)) {
    const key = routeKey(route);
    const operation = operations[key];
    if (!operation) throw new Error(`No OpenAPI operation for ${key}`);
    seen.add(key);
    const problems = new Map<number, Set<string>>();
    const can = (status: number, ...codes: string[]) => {
      const set = problems.get(status) ?? new Set<string>();
      codes.forEach((code) => set.add(code));
      problems.set(status, set);
    };

    const parameters: Json[] = [];
    for (const [name, kind] of Object.entries(route.parameters ?? {})) {
      const rule = parameterRules[kind];
      parameters.push({
        name,
        in: 'path',
        required: true,
        description: rule.allows,
        schema: { type: 'string', pattern: rule.pattern.source },
      });
      can(404, rule.notFound);
    }
    if (operation.query) {
      const schema = jsonSchema(operation.query, 'input') as {
        properties?: Record<string, Json>;
        required?: string[];
      };
      for (const [name, property] of Object.entries(schema.properties ?? {})) {
        parameters.push({
          name,
          in: 'query',
          required: schema.required?.includes(name) ?? false,
          schema: property,
        });
      }
      can(400, 'invalid_request');
    }
    for (const [name, header] of Object.entries(operation.headers ?? {})) {
      parameters.push({
        name,
        in: 'header',
        required: header.required,
        description: header.description,
        schema: jsonSchema(header.schema, 'input'),
      });
    }

    let security: Json[] = [];
    const scope = typeof route.auth === 'object' ? route.auth.scope : operation.optionalScope;
    if (scope) {
      security = [{ oauth2: [scope] }, { bearer: [scope] }, { dpop: [scope] }];
      // A route serving a second kind of caller (`GET /licences/{id}`: the issuer, or the holder).
      const also = typeof route.auth === 'object' ? route.auth.alsoScope : undefined;
      if (also) security.push({ oauth2: [also] }, { bearer: [also] }, { dpop: [also] });
      if (typeof route.auth !== 'object') security.unshift({});
      can(401, 'invalid_request', 'invalid_token', 'invalid_dpop_proof');
      can(403, 'insufficient_scope');
    }

    let requestBody: Json | undefined;
    if (operation.body) {
      const name = `${operation.operationId[0]!.toUpperCase()}${operation.operationId.slice(1)}Request`;
      requestBody = {
        required: true,
        content: { 'application/json': { schema: requests.ref(operation.body, name) } },
      };
      can(400, 'invalid_request', 'malformed_json');
      can(413, 'payload_too_large');
      can(415, 'unsupported_media_type', 'unsupported_charset');
    }
    can(414, 'uri_too_long');
    for (const [status, codes] of Object.entries(operation.problems ?? {}))
      can(Number(status), ...(codes ?? []));

    const answers: Record<string, Json> = {};
    for (const [status, answer] of Object.entries(operation.responses)) {
      if (!answer) continue;
      const headers = Object.fromEntries(
        Object.entries(answer.headers ?? {}).map(([name, description]) => [
          name,
          { description, schema: { type: 'string' } },
        ]),
      );
      const name = `${operation.operationId[0]!.toUpperCase()}${operation.operationId.slice(1)}Response`;
      answers[status] = {
        description: answer.description,
        ...(Object.keys(headers).length > 0 ? { headers } : {}),
        ...(answer.schema
          ? {
              content: {
                [answer.mediaType ?? 'application/json']: {
                  schema: answer.mediaType
                    ? jsonSchema(answer.schema, 'output')
                    : responses.ref(answer.schema, name),
                },
              },
            }
          : {}),
      };
    }
    for (const [status, codes] of [...problems].sort(([a], [b]) => a - b)) {
      const list = [...codes];
      const title = titles[status] ?? 'Refused';
      answers[String(status)] = {
        description: `${title}: \`code\` is one of ${list.map((c) => `\`${c}\``).join(', ')}`,
        // Every 401 carries its challenge (RFC 7235 §3.1; shared/http/api-handler.ts `challengeOf`).
        ...(status === 401 ? { headers: { 'WWW-Authenticate': { $ref: wwwAuthenticateRef } } } : {}),
        content: {
          'application/problem+json': {
            schema: problem,
            // One example per code: what a client can expect, and what the tests check answers against.
            examples: Object.fromEntries(
              list.map((code) => [
                code,
                {
                  summary: code,
                  value: {
                    type: `urn:elicence:problem:${code}`,
                    title,
                    status,
                    detail: `Refused: ${code}`,
                    code,
                  },
                },
              ]),
            ),
          },
        },
      };
    }
    answers.default = {
      description:
        'A fault: `server_error` (500) or `temporarily_unavailable` (503, retry); quote `requestId`',
      content: { 'application/problem+json': { schema: problem } },
    };

    const method = route.method.toLowerCase();
    paths[route.path] ??= {};
    paths[route.path]![method] = {
      operationId: operation.operationId,
      summary: operation.summary,
      ...(operation.description ? { description: operation.description } : {}),
      tags: [operation.tag],
      security,
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(requestBody ? { requestBody } : {}),
      responses: answers,
    };
  }
  for (const key of Object.keys(operations)) {
    if (!seen.has(key)) throw new Error(`The OpenAPI operation ${key} has no route`);
  }

  const base = options.issuerUrl.replace(/\/+$/, '');
  const scopes = Object.fromEntries([...identityScopes, ...apiScopes].map((s) => [s, scopeDescriptions[s]]));
  return {
    openapi: '3.1.0',
    info: {
      title: '电子证照与统一身份认证 API (e-licence and unified identity)',
      version: options.version ?? '1.0.0',
      description:
        'Licences (issue, read, change status, verify) and the holder’s and entities’ APIs. Sign-in is ' +
        'OpenID Connect: see `/.well-known/openid-configuration`. Refusals are RFC 9457 problems.',
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    servers: [{ url: base }],
    paths,
    components: {
      schemas: { ...requests.schemas(), ...responses.schemas() },
      headers: { WwwAuthenticate: wwwAuthenticateHeader },
      securitySchemes: {
        oauth2: {
          type: 'oauth2',
          description:
            'Tokens from the OpenID provider (discovery: /.well-known/openid-configuration). A client-' +
            'credentials request without `scope` gets every API scope the client is registered with ' +
            '(`admin`, `licences:issue`, `licences:verify`, `supervision`: those it holds), as the token ' +
            'response’s `scope` says; ask for fewer to narrow the token (docs/api.md, "Machine clients")',
          flows: {
            clientCredentials: { tokenUrl: `${base}/token`, scopes },
            authorizationCode: { authorizationUrl: `${base}/authorize`, tokenUrl: `${base}/token`, scopes },
          },
        },
        bearer: { type: 'http', scheme: 'bearer', description: 'An opaque access token of ours' },
        dpop: {
          type: 'http',
          scheme: 'DPoP',
          description:
            'An access token bound to a key (RFC 9449), with a `DPoP` proof header for each request; a ' +
            'token bound to a key is refused as Bearer. Our API asks for no DPoP nonce; the token ' +
            'endpoint does (`400 use_dpop_nonce` with a `DPoP-Nonce` header: send the request again ' +
            'with that nonce in a new proof; docs/integrating.md)',
        },
      },
    },
  };
}
