import { Validator } from '@seriousme/openapi-schema-validator';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { isDocumented, openApiDocument } from '../../../functions/openapi/document.js';
import { operations } from '../../../functions/openapi/operations.js';
import { routes, type Route } from '../../../functions/routes.js';
import { compileDocument } from '../../support/openapi-responses.js';

const issuerUrl = 'https://id.example.gov.cn';
const document = openApiDocument(routes, operations, { issuerUrl }) as {
  servers: Array<{ url: string }>;
  paths: Record<
    string,
    Record<
      string,
      {
        responses: Record<string, unknown>;
        security: unknown[];
        parameters?: Array<{ name: string; in: string; schema: { pattern?: string } }>;
      }
    >
  >;
  components: {
    schemas: Record<string, { examples?: unknown[] }>;
    securitySchemes: Record<string, unknown>;
    headers?: Record<string, { required?: boolean; description?: string }>;
  };
};

describe('the OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    const result = await new Validator().validate(document);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('documents every route that is not a page or the OpenID provider’s, with its method, and no other', () => {
    const documented = routes.filter(isDocumented);
    expect(documented.length).toBeGreaterThan(25);
    for (const route of documented) {
      expect(
        document.paths[route.path]?.[route.method.toLowerCase()],
        `${route.method} ${route.path}`,
      ).toBeDefined();
    }
    const listed = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(listed.sort()).toEqual(documented.map((r) => `${r.method} ${r.path}`).sort());
    expect(listed).not.toContain('GET /register');
    expect(listed.some((key) => key.includes('/wallet') || key.includes('/token'))).toBe(false);
  });

  it('refuses a documented route without an operation, and an operation without a route', () => {
    const extra: Route = { method: 'GET', path: '/new', function: 'catalogue', auth: 'public' };
    expect(() => openApiDocument([...routes, extra], operations, { issuerUrl })).toThrow(
      'No OpenAPI operation for GET /new',
    );
    const fewer = routes.filter((route) => route.path !== '/healthz');
    expect(() => openApiDocument(fewer, operations, { issuerUrl })).toThrow('GET /healthz has no route');
  });

  it('names ISSUER_URL as its server and in its OAuth flows, and the scopes', () => {
    expect(document.servers).toEqual([{ url: issuerUrl }]);
    const text = JSON.stringify(document);
    expect(text).toContain(`"tokenUrl":"${issuerUrl}/token"`);
    expect(text).toContain('"licences:issue"');
  });

  it('gives each route its security, path parameter shapes and problems', () => {
    const get = document.paths['/licences/{id}']!.get!;
    // Its issuer's client, or its holder's token.
    expect(get.security).toEqual([
      { oauth2: ['licences:issue'] },
      { bearer: ['licences:issue'] },
      { dpop: ['licences:issue'] },
      { oauth2: ['licences'] },
      { bearer: ['licences'] },
      { dpop: ['licences'] },
    ]);
    expect(get.parameters).toEqual([
      expect.objectContaining({
        name: 'id',
        in: 'path',
        schema: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,128}$' },
      }),
    ]);
    expect(Object.keys(get.responses)).toEqual(
      expect.arrayContaining(['200', '401', '403', '404', 'default']),
    );
    expect(document.paths['/verify']!.post!.security).toEqual([
      {},
      { oauth2: ['licences:verify'] },
      { bearer: ['licences:verify'] },
      { dpop: ['licences:verify'] },
    ]);
    // The DPoP scheme (RFC 9449) beside Bearer, and its refusal of a bad proof (review R25).
    expect(document.components.securitySchemes.dpop).toMatchObject({ type: 'http', scheme: 'DPoP' });
    expect(JSON.stringify(document.paths['/verify']!.post!.responses['401'])).toContain('invalid_dpop_proof');
    expect(document.paths['/healthz']!.get!.security).toEqual([]);
    const conflict = JSON.stringify(document.paths['/admin/issuers']!.post!.responses['409']);
    expect(conflict).toContain('"issuer_exists"');
    // No holder's number in a URL: the search by holder is posted (privacy review L1).
    expect(document.paths['/licences']!.get!.parameters?.map((p) => `${p.in}:${p.name}`)).toEqual([
      'query:status',
      'query:type',
      'query:number',
      'query:issuedFrom',
      'query:issuedTo',
      'query:sort',
      'query:keyWithdrawn',
      'query:total',
      'query:limit',
      'query:cursor',
    ]);
    expect(JSON.stringify(document.paths['/licences']!.get!.responses['400'])).toContain('holder_not_in_url');
    expect(document.paths['/licences/search']!.post!.security).toEqual([
      { oauth2: ['licences:issue'] },
      { bearer: ['licences:issue'] },
      { dpop: ['licences:issue'] },
    ]);
  });

  it('lists the WWW-Authenticate header, one shared component, on every 401 answer', () => {
    const answers401 = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.entries(methods)
        .filter(([, operation]) => operation.responses['401'] !== undefined)
        .map(([method, operation]) => ({
          route: `${method.toUpperCase()} ${path}`,
          headers: (operation.responses['401'] as { headers?: unknown }).headers,
        })),
    );
    // Every route behind a scope can answer 401: dozens, none left without the header.
    expect(answers401.length).toBeGreaterThan(30);
    for (const { route, headers } of answers401) {
      expect({ route, headers }).toEqual({
        route,
        headers: { 'WWW-Authenticate': { $ref: '#/components/headers/WwwAuthenticate' } },
      });
    }
    const header = document.components.headers?.['WwwAuthenticate'];
    expect(header).toMatchObject({ required: true, schema: { type: 'string' } });
    expect(header?.description).toContain('algs="ES256 Ed25519 EdDSA"');
    // No other answer claims it.
    const others = Object.values(document.paths).flatMap((methods) =>
      Object.values(methods).flatMap((operation) =>
        Object.entries(operation.responses).filter(
          ([status, answer]) => status !== '401' && JSON.stringify(answer).includes('WwwAuthenticate'),
        ),
      ),
    );
    expect(others).toEqual([]);
  });

  it('takes its request schemas from the zod schemas the functions validate with', () => {
    const issueRequest = z.toJSONSchema(operations['POST /licences'].body as z.ZodType, {
      target: 'draft-2020-12',
      io: 'input',
    });
    const { $schema: _, ...expected } = issueRequest;
    expect((document.components.schemas as Record<string, unknown>).IssueLicenceRequest).toEqual(expected);
  });

  it('tells a generated client that registration needs consent: true, though the shape has it optional', () => {
    const body = (document.paths['/accounts']!.post as unknown as { requestBody: unknown }).requestBody as {
      content: Record<
        string,
        { schema: { $ref?: string; properties?: Record<string, { description?: string }> } }
      >;
    };
    const schema = body.content['application/json']!.schema;
    const resolved = schema.$ref
      ? (document.components.schemas as Record<string, typeof schema>)[schema.$ref.split('/').pop()!]!
      : schema;
    expect(resolved.properties?.consent?.description).toMatch(/must be true.*consent_required/);
  });

  it('tells a platform that a share lasts without offline_access, as the provider issues it (review R25, L5)', () => {
    // shared/sso/provider.ts: a share's code gets a refresh token and session-free tokens whatever the
    // request's scope (issueRefreshToken, expiresWithSession); docs/sharing.md says the same.
    const description = (document.paths['/shared/licences']!.get as unknown as { description: string })
      .description;
    expect(description).toContain('without `offline_access` or `prompt=consent`');
    expect(description).not.toMatch(/by also asking for `offline_access`/);
  });

  it('has examples that validate against their own schemas (each schema’s and each problem’s)', () => {
    const check = compileDocument(document);
    let checked = 0;
    for (const [name, schema] of Object.entries(document.components.schemas)) {
      for (const example of schema.examples ?? []) {
        expect(check.schema(name, example), `${name}: ${JSON.stringify(example)}`).toEqual([]);
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThan(8);
    // And the check can fail: a Licence without its credential is not one.
    const { credential: _c, ...broken } = document.components.schemas.Licence!.examples![0] as Record<
      string,
      unknown
    >;
    expect(check.schema('Licence', broken)).not.toEqual([]);
  });
});
