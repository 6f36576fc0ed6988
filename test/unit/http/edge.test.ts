import { describe, expect, it } from 'vitest';
import { checkRequestLine, nonCanonical, routePath } from '../../../shared/http/edge.js';
import { NotFoundError } from '../../../shared/errors.js';
import type { HttpEvent } from '../../../shared/http/types.js';
import { webHandler } from '../../../shared/web/web-handler.js';
import { apiHandler } from '../../../shared/http/api-handler.js';
import { json } from '../../../shared/http/response.js';

/**
 * Review R35 F2: `POST /token/` was served as the token endpoint but not throttled as it, and
 * `/wallet/licences/{id}//qr` as the QR page but not recognised as it. No function sees a path in any
 * form but its canonical one: the edge of every handler refuses it (404) before it runs.
 */
const nonCanonicalPaths = [
  '/token/',
  '//token',
  '/token//introspection',
  '/wallet/licences/1.2.156/qr/',
  '/wallet/licences/1.2.156//qr',
  '/wallet/licences/1.2.156/./qr',
  '/wallet/licences/1.2.156/x/../qr',
  '/wallet/licences/1.2.156/%2e/qr',
  '/wallet/licences/1.2.156/%2E%2E/qr',
  '/wallet/licences/1.2.156%2Fqr',
  '/wallet/licences/1.2.156%2fqr',
  '/wallet\\licences',
  '/wallet/licences/1.2.156%5Cqr',
  'token',
];

const event = (rawPath: string, routeKey = 'GET /{path+}') =>
  ({
    version: '2.0',
    routeKey,
    rawPath,
    rawQueryString: '',
    headers: { accept: 'text/html' },
    requestContext: { requestId: 'r-1', http: { method: 'GET', path: rawPath } },
    isBase64Encoded: false,
  }) as unknown as HttpEvent;

describe('a request path in its canonical form only', () => {
  it.each([
    '/',
    '/token',
    '/wallet/licences/1.2.156.3005.2.003.1111.0.001.D/qr',
    '/assets/app.js',
    '/a/.b/c..',
  ])('takes %s', (path) => {
    expect(nonCanonical(path)).toBeUndefined();
    expect(() => checkRequestLine(event(path), undefined)).not.toThrow();
  });

  it.each(nonCanonicalPaths)('refuses %s with a 404', (path) => {
    expect(nonCanonical(path)).toBeDefined();
    expect(() => checkRequestLine(event(path), undefined)).toThrow(NotFoundError);
  });

  it('is refused before a page or an API handler runs', async () => {
    let ran = 0;
    const edge = { parametersOf: () => undefined, secure: () => false };
    const page = webHandler('home', async () => (ran++, { statusCode: 200, body: 'page' }), edge);
    const api = apiHandler(async () => (ran++, json(200, {})), edge);
    for (const path of nonCanonicalPaths) {
      expect((await page(event(path)))?.statusCode, path).toBe(404);
      expect((await api(event(path, 'ANY /token')))?.statusCode, path).toBe(404);
    }
    expect(ran).toBe(0);
  });
});

describe('the path of the route a request came by', () => {
  it('is the route key’s, whatever form the raw path had', () => {
    expect(routePath({ routeKey: 'ANY /token', rawPath: '/token/' })).toBe('/token');
    expect(routePath({ routeKey: 'GET /wallet/licences/{id}/qr', rawPath: '/x' })).toBe(
      '/wallet/licences/{id}/qr',
    );
    expect(routePath({ routeKey: '', rawPath: '/token' })).toBe('/token');
  });
});
