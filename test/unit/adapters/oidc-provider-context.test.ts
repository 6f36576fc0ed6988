import Provider from 'oidc-provider';
import providerContext from 'oidc-provider/lib/helpers/als.js';
import { describe, expect, it } from 'vitest';

/**
 * `shared/adapters/dynamo/oidc-adapter.ts` reads the request under way from oidc-provider's internal
 * AsyncLocalStorage instead of `Provider.ctx`, so that importing the adapter does not bundle the provider.
 * If an oidc-provider upgrade moves or replaces that module, this fails (and the build, if it is gone),
 * instead of the token endpoint's batched reads silently falling back to one read each.
 */
describe("oidc-provider's request context", () => {
  it('is the store Provider.ctx reads', () => {
    const ctx = { request: 'under way' };
    expect(Provider.ctx).toBeUndefined();
    providerContext.run(ctx, () => expect(Provider.ctx).toBe(ctx));
    expect(Provider.ctx).toBeUndefined();
  });
});
