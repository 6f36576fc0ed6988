import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { providerRoutes, routes } from '../../../functions/routes.js';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.js';

/**
 * The provider is given its endpoints' paths from the route table (functions/routes.ts), not from a list
 * of its own: what it publishes in its discovery document is where API Gateway sends each endpoint.
 */

let runtime: TestRuntime;
beforeAll(async () => {
  runtime = await startTestRuntime();
});
afterAll(() => runtime?.close());

/** The discovery member that publishes each endpoint the table places (OpenID Discovery, RFC 8414, 9126). */
const published = {
  authorization: 'authorization_endpoint',
  token: 'token_endpoint',
  userinfo: 'userinfo_endpoint',
  jwks: 'jwks_uri',
  introspection: 'introspection_endpoint',
  revocation: 'revocation_endpoint',
  end_session: 'end_session_endpoint',
  pushed_authorization_request: 'pushed_authorization_request_endpoint',
} as const;

describe('the provider serves its endpoints where the route table routes them', () => {
  it('publishes exactly the paths of the oidc routes that place an endpoint', async () => {
    const response = await fetch(`${runtime.baseUrl}/.well-known/openid-configuration`);
    expect(response.status).toBe(200);
    const discovery = (await response.json()) as Record<string, unknown>;

    const placing = routes.filter((route) => route.function === 'oidc' && route.endpoint);
    const discovered = Object.fromEntries(
      Object.entries(published).map(([endpoint, member]) => [
        endpoint,
        String(discovery[member]).slice(runtime.baseUrl.length),
      ]),
    );
    expect(discovered).toEqual(
      Object.fromEntries(placing.map((route) => [route.endpoint as string, route.path])),
    );
    expect(discovered).toEqual(providerRoutes());
    for (const [endpoint, member] of Object.entries(published)) {
      expect(String(discovery[member]), endpoint).toMatch(new RegExp(`^${runtime.baseUrl}/`));
    }
  });
});
