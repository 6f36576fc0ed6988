/** Scopes of our own API: held by machine clients (client credentials) or, for `licences`, by people. */
export const apiScopes = ['admin', 'licences:issue', 'licences:verify', 'licences', 'supervision'] as const;
export type ApiScope = (typeof apiScopes)[number];

/** OpenID scopes for people signing in to relying platforms. */
export const identityScopes = ['openid', 'offline_access', 'profile', 'idcard', 'entity'] as const;

export const allScopes: readonly string[] = [...identityScopes, ...apiScopes];
