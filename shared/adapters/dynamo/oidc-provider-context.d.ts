/**
 * Types for the one internal module of oidc-provider 9 that `oidc-adapter.ts` imports: the
 * AsyncLocalStorage that holds the koa context of the request the provider is serving, which is what its
 * `Provider.ctx` returns. Importing it instead of `Provider` keeps oidc-provider, koa and their media-type
 * database (about 500 KB) out of the functions that only read clients or tokens through the adapter.
 */
declare module 'oidc-provider/lib/helpers/als.js' {
  import type { AsyncLocalStorage } from 'node:async_hooks';

  const providerContext: AsyncLocalStorage<object>;
  export default providerContext;
}
