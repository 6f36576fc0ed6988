import type Provider from 'oidc-provider';
import { idNumberScope } from '../web/pages/consent-words.js';

type Grant = InstanceType<Provider['Grant']>;

/** The members of a stored grant this module rewrites (oidc-provider's Grant keeps them as such). */
interface GrantScopes {
  openid?: { scope?: string };
  resources?: Record<string, string | undefined>;
  rejected?: { openid?: { scope?: string }; resources?: Record<string, string | undefined> };
}

const without = (scope: string | undefined, removed: string) =>
  (scope ?? '')
    .split(' ')
    .filter((one) => one && one !== removed)
    .join(' ');

/**
 * Records on `grant` the person's separate choice about their ID number (scope `idcard`, PIPL Art. 29),
 * made on the consent page's own checkbox, when the request asked for it (`asked.scopes`); a request
 * that did not ask leaves the grant as it is.
 *
 * - Ticked: `idcard` is granted, as an OpenID scope and for each resource the request asks it of (the
 *   consent prompt's `missingResourceScopes`) or an earlier consent refused it for, and is no longer
 *   rejected, should an earlier consent have refused it.
 * - Unticked: `idcard` is taken out of what the grant grants and recorded as rejected (oidc-provider's
 *   `rejectOIDCScope`, `rejectResourceScope`), so the sign-in goes on without it rather than meeting the
 *   consent page again. The provider filters userinfo by the grant's scopes, so a token issued before,
 *   under a consent now changed, no longer releases the number either.
 *
 * @example
 * ```ts
 * addMissing(grant, details);
 * recordIdNumberChoice(grant, { scopes, missingResourceScopes }, form.get('idcard') === 'yes');
 * await grant.save();
 * ```
 */
export function recordIdNumberChoice(
  grant: Grant,
  asked: { scopes: readonly string[]; missingResourceScopes?: Record<string, readonly string[]> },
  allowed: boolean,
): void {
  if (!asked.scopes.includes(idNumberScope)) return;
  const stored = grant as unknown as GrantScopes;
  const holds = (scope: string | undefined) => (scope ?? '').split(' ').includes(idNumberScope);
  const askedOf = Object.entries(asked.missingResourceScopes ?? {})
    .filter(([, scopes]) => scopes.includes(idNumberScope))
    .map(([resource]) => resource);
  if (allowed) {
    const rejectedOf = Object.entries(stored.rejected?.resources ?? {})
      .filter(([, scope]) => holds(scope))
      .map(([resource]) => resource);
    if (stored.rejected?.openid?.scope !== undefined) {
      stored.rejected.openid.scope = without(stored.rejected.openid.scope, idNumberScope);
    }
    for (const resource of rejectedOf) {
      stored.rejected!.resources![resource] = without(stored.rejected!.resources![resource], idNumberScope);
    }
    grant.addOIDCScope(idNumberScope);
    for (const resource of new Set([...askedOf, ...rejectedOf]))
      grant.addResourceScope(resource, idNumberScope);
    return;
  }
  const grantedOf = Object.entries(stored.resources ?? {})
    .filter(([, scope]) => holds(scope))
    .map(([resource]) => resource);
  if (stored.openid?.scope !== undefined) stored.openid.scope = without(stored.openid.scope, idNumberScope);
  for (const resource of grantedOf) {
    stored.resources![resource] = without(stored.resources![resource], idNumberScope);
  }
  grant.rejectOIDCScope(idNumberScope);
  for (const resource of new Set([...askedOf, ...grantedOf]))
    grant.rejectResourceScope(resource, idNumberScope);
}
