/**
 * A bench child: the baseline the service's sign-in is compared with, oidc-provider alone in a process of
 * its own: in memory, a local ES256 key, an interaction that signs in at once, and a grant for `openid`
 * found for every returning person, so that a second flow with the session cookie is single sign-on
 * with no page, like ours.
 */
import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';
import { serveBenchChild } from './child.js';
import { baselineRedirectUri } from './protocol.js';

const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const server = createServer();
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const client = { clientId: 'rp', clientSecret: 'bench-secret-long-enough' };
const provider = new Provider(baseUrl, {
  clients: [
    {
      client_id: client.clientId,
      client_secret: client.clientSecret,
      redirect_uris: [baselineRedirectUri],
      id_token_signed_response_alg: 'ES256',
    },
  ],
  jwks: { keys: [{ ...privateKey.export({ format: 'jwk' }), alg: 'ES256', use: 'sig' }] },
  cookies: { keys: ['bench'] },
  pkce: { required: () => true },
  findAccount: (_ctx, sub) => ({ accountId: sub, claims: () => ({ sub }) }),
  loadExistingGrant: async (ctx) => {
    // The documented pattern: the session's grant for this client when there is one, else a new one.
    const grantId = ctx.oidc.session!.grantIdFor(ctx.oidc.client!.clientId);
    if (grantId) {
      const found = await ctx.oidc.provider.Grant.find(grantId);
      if (found) return found;
    }
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client!.clientId,
      accountId: ctx.oidc.session!.accountId!,
    });
    grant.addOIDCScope('openid');
    await grant.save();
    return grant;
  },
  features: { devInteractions: { enabled: false } },
});
provider.use(async (ctx, next) => {
  if (!ctx.path.startsWith('/interaction/')) return next();
  await provider.interactionFinished(
    ctx.req,
    ctx.res,
    { login: { accountId: 'bench-user' } },
    { mergeWithLastSubmission: false },
  );
});
server.on('request', provider.callback());
serveBenchChild({
  baseUrl,
  credentials: { platform: { ...client, redirectUri: baselineRedirectUri } },
  close: () => new Promise<void>((resolve) => server.close(() => resolve())),
});
