import { describe, expect, it } from 'vitest';
import { routes, type Route } from '../../../functions/routes.js';
import { routeMatcher } from '../../../infra/local/route-matcher.js';

const table: Route[] = [
  { method: 'GET', path: '/licences', function: 'admin', auth: 'public' },
  { method: 'GET', path: '/licences/{id}', function: 'admin', auth: 'public' },
  { method: 'POST', path: '/licences/{id}/status', function: 'admin', auth: 'public' },
  { method: 'ANY', path: '/licences/{id}/status', function: 'oidc', auth: 'public' },
  { method: 'GET', path: '/static/{path+}', function: 'health', auth: 'public' },
  { method: 'GET', path: '/static/app.js', function: 'oidc', auth: 'public' },
];

describe('route matching as API Gateway does it', () => {
  const match = routeMatcher(table);

  it('matches a literal path and no other method', () => {
    expect(match('GET', '/licences')?.route.path).toBe('/licences');
    expect(match('DELETE', '/licences')).toBeUndefined();
  });

  it('extracts and decodes path parameters', () => {
    const found = match('GET', '/licences/1.2.156.3005%2F2');
    expect(found?.pathParameters).toEqual({ id: '1.2.156.3005/2' });
  });

  it('prefers the exact method over ANY, and ANY serves the other methods', () => {
    expect(match('POST', '/licences/x/status')?.route.function).toBe('admin');
    expect(match('PUT', '/licences/x/status')?.route.function).toBe('oidc');
  });

  it('prefers a literal route over a greedy one, and greedy takes the rest of the path', () => {
    expect(match('GET', '/static/app.js')?.route.function).toBe('oidc');
    expect(match('GET', '/static/img/logo.png')?.pathParameters).toEqual({ path: 'img/logo.png' });
    expect(match('GET', '/static')).toBeUndefined();
  });

  it('matches nothing for a path that is longer, shorter or malformed', () => {
    expect(match('GET', '/licences/a/b')).toBeUndefined();
    expect(match('GET', '/')).toBeUndefined();
    expect(match('GET', '/licences/%E0%A4%A')).toBeUndefined();
  });
});

describe('the route table', () => {
  it('lists each method and path once', () => {
    const keys = routes.map((r) => `${r.method} ${r.path}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('routes every OpenID endpoint of the provider to the OpenID function', () => {
    const match = routeMatcher(routes);
    for (const path of [
      '/.well-known/openid-configuration',
      '/.well-known/jwks.json',
      '/token',
      '/token/introspection',
      '/token/revocation',
      '/authorize',
      '/userinfo',
      '/session/end',
    ]) {
      expect(match('GET', path)?.route.function, path).toBe('oidc');
    }
  });
});
