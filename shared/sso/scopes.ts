/** Scopes of our own API: held by machine clients (client credentials) or, for `licences`, by people. */
export const apiScopes = ['admin', 'licences:issue', 'licences:verify', 'licences', 'supervision'] as const;
export type ApiScope = (typeof apiScopes)[number];

/**
 * The API scopes a machine client's token (client credentials) can carry: every API scope but `licences`,
 * which stands for a signed-in person. A client-credentials request without `scope` gets those of them
 * the client is registered with (RFC 6749 §3.3's documented default; shared/sso/provider.ts).
 */
export const machineScopes = [
  'admin',
  'licences:issue',
  'licences:verify',
  'supervision',
] as const satisfies readonly ApiScope[];

/** OpenID scopes for people signing in to relying platforms. */
export const identityScopes = ['openid', 'offline_access', 'profile', 'idcard', 'entity'] as const;

export const allScopes: readonly string[] = [...identityScopes, ...apiScopes];
