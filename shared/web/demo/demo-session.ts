import { decodeJwt } from 'jose';
import * as z from 'zod';

/** The demo platform's client id, seeded by `infra/local/seed.ts` (not first-party: consent is asked). */
export { demoPlatformClientId as demoClientId } from '../../identifiers/client-ids.js';

/** Sealed cookie of a sign-in under way (state, nonce, PKCE verifier): ten minutes to finish it. */
export const demoLoginCookie = 'demo-login';
export const demoLoginSeconds = 600;

/** Sealed cookie of the signed-in demo session. */
export const demoSessionCookie = 'demo';
export const demoSessionSeconds = 3600;

/** The scopes a visitor may add to `openid`; the form's checkboxes. */
export const optionalScopes = ['profile', 'idcard', 'entity'] as const;
export type OptionalScope = (typeof optionalScopes)[number];

/**
 * What the demo platform keeps of a sign-in: the ID token (its claims are what the page shows; logout
 * names the platform by `client_id`, not by this token, which a URL would leak), the userinfo answer
 * (the only place of `id_number`), and the scopes asked. No access or refresh token: it reads userinfo
 * once and revokes the access token.
 */
export const demoSession = z.strictObject({
  idToken: z.string().min(1).max(3000),
  userinfo: z.record(z.string(), z.unknown()),
  scope: z.string().max(200),
});
export type DemoSession = z.output<typeof demoSession>;

/**
 * The scopes asked for from the form's `scope` checkboxes (repeated query parameters): `openid` always,
 * then the known optional ones in a fixed order; anything else is ignored.
 *
 * @example
 * ```ts
 * requestedScope(new URLSearchParams('scope=idcard&scope=profile&scope=admin')); // 'openid profile idcard'
 * ```
 */
export function requestedScope(query: URLSearchParams): string {
  const asked = new Set(query.getAll('scope').flatMap((s) => s.split(/[\s,]+/)));
  return ['openid', ...optionalScopes.filter((scope) => asked.has(scope))].join(' ');
}

/** A claim as the page shows it: its name, value, and where it came from. */
export interface ShownClaim {
  name: string;
  value: unknown;
  source: 'id_token' | 'userinfo' | 'both';
}

/** The claims of each scope (OpenID Connect Core 5.4, and ours: API.md "Scopes and claims"). */
const claimsOfScope: Record<string, readonly string[]> = {
  openid: ['sub', 'acr', 'amr', 'auth_time'],
  profile: ['name'],
  idcard: ['id_number'],
  entity: ['subject_type', 'credit_code', 'act'],
};

/** Protocol claims of the ID token: about the token, not the person. */
const tokenClaims = [
  'iss',
  'aud',
  'azp',
  'exp',
  'iat',
  'nbf',
  'nonce',
  'sid',
  'at_hash',
  'c_hash',
  'jti',
  's_hash',
];

export interface ClaimGroup {
  scope: string;
  claims: ShownClaim[];
}

/**
 * The ID token's and userinfo's claims grouped by the scope that releases them (openid, profile,
 * idcard, entity), then the token's own protocol claims (`token`), then anything else (`other`).
 * A claim both carry is shown once, marked `both`.
 *
 * @example
 * ```ts
 * claimsByScope({ sub: 'x', acr: 'urn:…', iss: '…' }, { sub: 'x', name: '王小明' });
 * // [{ scope: 'openid', claims: [{ name: 'sub', source: 'both', … }, { name: 'acr', … }] },
 * //  { scope: 'profile', claims: [{ name: 'name', source: 'userinfo', … }] }, { scope: 'token', … }]
 * ```
 */
export function claimsByScope(
  idToken: Record<string, unknown>,
  userinfo: Record<string, unknown>,
): ClaimGroup[] {
  const names = [...new Set([...Object.keys(idToken), ...Object.keys(userinfo)])];
  const shown = (name: string): ShownClaim => {
    const inToken = name in idToken;
    const inUserinfo = name in userinfo;
    return {
      name,
      value: inToken ? idToken[name] : userinfo[name],
      source: inToken && inUserinfo ? 'both' : inToken ? 'id_token' : 'userinfo',
    };
  };
  const scoped = new Set(Object.values(claimsOfScope).flat());
  const groups: ClaimGroup[] = Object.entries(claimsOfScope).map(([scope, claims]) => ({
    scope,
    claims: claims.filter((name) => names.includes(name)).map(shown),
  }));
  groups.push({ scope: 'token', claims: tokenClaims.filter((name) => name in idToken).map(shown) });
  groups.push({
    scope: 'other',
    claims: names.filter((name) => !scoped.has(name) && !tokenClaims.includes(name)).map(shown),
  });
  return groups.filter((group) => group.claims.length > 0);
}

/**
 * The claims of an ID token the platform itself received from the token endpoint and checked then
 * (issuer, audience, nonce, expiry), kept sealed since: decoding it again needs no new check.
 */
export function idTokenClaims(idToken: string): Record<string, unknown> {
  return decodeJwt(idToken) as Record<string, unknown>;
}
