import { describe, expect, expectTypeOf, it } from 'vitest';
import { handledAbove, routesOf, type RouteHandlers } from '../../../functions/dispatch.js';
import { providerRoutes, routeKey, routes, type RouteKey } from '../../../functions/routes.js';
import { NotFoundError } from '../../../shared/errors.js';
import { httpStatusOf } from '../../../shared/http/error-mapping.js';
import type { HttpEvent, HttpResult } from '../../../shared/http/types.js';

/**
 * Route keys come from the table (functions/routes.ts), so a handler map that misspells a key, leaves
 * one out or names another function's fails to compile. `npm test` runs tsc over the tests: each
 * `@ts-expect-error` below is a check that fails the build if the line it marks ever compiles.
 */

const ok = (body: string) => (): HttpResult => ({ statusCode: 200, body });
/** The `me` function's passkey routes, beside the licence routes these tests are about. */
const passkeyHandlers = {
  'GET /me/passkeys': ok('passkeys'),
  'POST /me/passkeys/options': ok('options'),
  'POST /me/passkeys': ok('enrol'),
  'DELETE /me/passkeys/{id}': ok('remove'),
  // Not a passkey route: the usage record, carried along so that each map below stays complete.
  'GET /me/usage': ok('usage'),
  // Sharing licences with platforms (授权用证) is served by `me` too.
  'GET /me/authorizations': ok('authorizations'),
  'DELETE /me/authorizations/{id}': ok('withdraw'),
  'GET /shared/licences': ok('shared'),
  // The printable licence and its signature (docs/printable-licence.md).
  'GET /me/licences/{id}/pdf': ok('pdf'),
  'GET /me/licences/{id}/pdf.jws': ok('pdf.jws'),
  // The person's copy of their data.
  'GET /me/export': ok('export'),
} as const;
const event = (key: string) => ({ routeKey: key }) as HttpEvent;

describe('route keys are the table’s', () => {
  it('are exactly the "METHOD /path" of each route of the function', () => {
    expectTypeOf<RouteKey<'admin'>>().toEqualTypeOf<
      | 'POST /admin/issuers'
      | 'POST /admin/issuers/{id}/keys'
      | 'POST /admin/issuers/{id}/keys/{kid}/withdraw'
      | 'POST /admin/issuers/{id}/withdraw'
      | 'POST /admin/clients'
      | 'PATCH /admin/clients/{id}'
      | 'POST /admin/clients/{id}/secret'
      | 'GET /admin/audit'
      | 'POST /admin/peers'
      | 'GET /admin/peers'
      | 'POST /admin/peers/{id}/refresh'
      | 'DELETE /admin/peers/{id}'
    >();
    expectTypeOf<RouteKey<'health'>>().toEqualTypeOf<'GET /healthz'>();
    // Each method with its own path only: no `GET /me/licences/{id}/presentations` from a cross product.
    expectTypeOf<RouteKey<'me'>>().toEqualTypeOf<
      'GET /me/licences' | 'POST /me/licences/{id}/presentations' | keyof typeof passkeyHandlers
    >();
    for (const fn of ['admin', 'health', 'me'] as const) {
      const keys = routes.filter((route) => route.function === fn).map(routeKey);
      expect(keys.length, fn).toBeGreaterThan(0);
    }
  });

  it('refuse a misspelled key, or one of another function, at compile time', () => {
    const good: RouteKey<'licences'> = 'GET /licences/{id}';
    // @ts-expect-error: misspelled (the table says `{id}`)
    const misspelled: RouteKey<'licences'> = 'GET /licences/{licenceId}';
    // @ts-expect-error: the method is part of the key
    const wrongMethod: RouteKey<'licences'> = 'PUT /licences';
    // @ts-expect-error: a route of the `me` function, not of `licences`
    const elsewhere: RouteKey<'licences'> = 'GET /me/licences';
    expect([good, misspelled, wrongMethod, elsewhere]).toHaveLength(4);
  });

  it('make a handler map name every route of its function, and only those', () => {
    const complete: RouteHandlers<'me'> = {
      'GET /me/licences': ok('list'),
      'POST /me/licences/{id}/presentations': ok('present'),
      ...passkeyHandlers,
    };
    // @ts-expect-error: `POST /me/licences/{id}/presentations` is missing
    const missing: RouteHandlers<'me'> = { 'GET /me/licences': ok('list'), ...passkeyHandlers };
    const misspelled: RouteHandlers<'me'> = {
      'GET /me/licences': ok('list'),
      'POST /me/licences/{id}/presentations': ok('present'),
      ...passkeyHandlers,
      // @ts-expect-error: no such route
      'POST /me/licence/{id}/presentations': ok('typo'),
    };
    const served = routesOf('me');
    // @ts-expect-error: dispatch checks the map against the function's routes too
    void served.dispatch(event('GET /me/licences'), { 'GET /me/licences': ok('list') });
    // @ts-expect-error: `is` takes only the function's own keys
    expect(served.is(event('GET /me/licences'), 'GET /licences')).toBe(false);
    expect([complete, missing, misspelled]).toHaveLength(3);
  });
});

describe('routesOf(fn).dispatch', () => {
  const served = routesOf('me');
  const handlers: RouteHandlers<'me'> = {
    'GET /me/licences': ok('list'),
    'POST /me/licences/{id}/presentations': ok('present'),
    ...passkeyHandlers,
  };

  it('runs the handler of the event’s route', async () => {
    expect((await served.dispatch(event('GET /me/licences'), handlers)).body).toBe('list');
    expect((await served.dispatch(event('POST /me/licences/{id}/presentations'), handlers)).body).toBe(
      'present',
    );
  });

  it.each([
    ['a key of another function', 'GET /licences'],
    ['an unknown key', 'GET /nowhere'],
    ['a key that is a property of every object', 'constructor'],
    ['a prototype key', '__proto__'],
  ])('answers %s with the 404 route_not_found', async (_what, key) => {
    const refused = await served.dispatch(event(key), handlers).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(NotFoundError);
    expect(refused).toMatchObject({ code: 'route_not_found' });
    expect(httpStatusOf(refused as NotFoundError)).toBe(404);
  });

  it('refuses a route marked handledAbove like an unknown one', async () => {
    const refused = await served
      .dispatch(event('POST /me/licences/{id}/presentations'), {
        ...handlers,
        'POST /me/licences/{id}/presentations': handledAbove,
      })
      .catch((error: unknown) => error);
    expect(refused).toMatchObject({ code: 'route_not_found' });
  });

  it('tells whether an event came by one of the given routes', () => {
    expect(served.is(event('GET /me/licences'), 'GET /me/licences')).toBe(true);
    expect(served.is(event('GET /me/licences'), 'POST /me/licences/{id}/presentations')).toBe(false);
    expect(
      served.is(event('GET /me/licences'), 'POST /me/licences/{id}/presentations', 'GET /me/licences'),
    ).toBe(true);
  });
});

describe('routesOf(fn).edge', () => {
  it('gives each route of the function its parameter kinds from the table', () => {
    for (const route of routes) {
      expect(routesOf(route.function).edge.parametersOf(routeKey(route)), routeKey(route)).toEqual(
        route.parameters,
      );
    }
    expect(routesOf('me').edge.parametersOf('POST /me/licences/{id}/presentations')).toEqual({
      id: 'licenceId',
    });
  });

  it('gives none for a route of another function, so that its parameters are refused', () => {
    expect(routesOf('me').edge.parametersOf('GET /licences/{id}')).toBeUndefined();
  });
});

describe('the OpenID provider’s paths', () => {
  const oidcPaths = routes.filter((route) => route.function === 'oidc').map((route) => route.path);

  it('are the paths of the oidc function’s routes that place an endpoint', () => {
    const placing = routes.filter((route) => route.function === 'oidc' && route.endpoint);
    expect(Object.values(providerRoutes()).sort()).toEqual(placing.map((route) => route.path).sort());
    for (const route of placing) {
      expect(providerRoutes()[route.endpoint as keyof ReturnType<typeof providerRoutes>]).toBe(route.path);
    }
  });

  it('place every endpoint the provider lets us place', () => {
    expect(Object.keys(providerRoutes()).sort()).toEqual(
      [
        'authorization',
        'end_session',
        'introspection',
        'jwks',
        'pushed_authorization_request',
        'revocation',
        'token',
        'userinfo',
      ].sort(),
    );
  });

  it('account for every route of the oidc function: a placed endpoint, or a path the provider derives', () => {
    const placed = providerRoutes();
    const derived = [
      '/.well-known/openid-configuration',
      // RFC 8414: answered by the discovery endpoint (shared/sso/provider.ts).
      '/.well-known/oauth-authorization-server',
      `${placed.authorization}/{uid}`,
      `${placed.end_session}/confirm`,
      `${placed.end_session}/success`,
      '/interaction/{uid}',
      '/interaction/{uid}/{step}',
    ];
    expect([...oidcPaths].sort()).toEqual([...Object.values(placed), ...derived].sort());
  });
});
