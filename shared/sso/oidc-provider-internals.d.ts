/**
 * Types for the internal module of oidc-provider 9 that `stale-dpop-nonces.ts` imports: the reader of a
 * provider's private state (`instance(provider)` in its own source), where it keeps its DPoP nonces.
 */
declare module 'oidc-provider/lib/helpers/weak_cache.js' {
  export function get(provider: object): unknown;
}
