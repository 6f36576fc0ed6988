import {
  errors,
  type AuthorizationDetail,
  type AuthorizationDetailsForIntrospection,
  type KoaContextWithOIDC,
  type RichAuthorizationRequestsActiveConfiguration,
} from 'oidc-provider';
import type { Clock } from '../clock.js';
import type { AssuranceLevel } from '../identity/assurance.js';
import {
  accessSeconds,
  LicenceAccessProblem,
  licenceAccessDetails,
  licenceAccessType,
  levelToShare,
  parseLicenceAccess,
} from '../sharing/licence-access.js';

type RarFeature = RichAuthorizationRequestsActiveConfiguration & {
  authorizationDetailsForIntrospection: AuthorizationDetailsForIntrospection;
};
type Details = readonly AuthorizationDetail[] | undefined;

/**
 * The `licence_access` details of a request's `authorization_details` parameter. The provider has parsed
 * and validated the parameter (each detail through {@link licenceAccessRar}'s `validate`) before any
 * interaction runs; this only reads that validated JSON again, for the assurance level it needs.
 */
function askedDetails(parameter: unknown) {
  if (typeof parameter !== 'string') return [];
  try {
    return licenceAccessDetails(JSON.parse(parameter));
  } catch {
    return [];
  }
}

/**
 * The level a request's licence access needs (1 when it asks for none): the login prompt steps a
 * person up to it before the consent page.
 *
 * @example
 * ```ts
 * licenceAccessAsked(ctx.oidc.params.authorization_details); // 3 for a driving licence
 * ```
 */
export function licenceAccessAsked(parameter: unknown): AssuranceLevel {
  return levelToShare(askedDetails(parameter));
}

/**
 * oidc-provider's Rich Authorization Requests (RFC 9396) for `licence_access`:
 *
 * - `validate` checks each detail (shared/sharing/licence-access.ts) and refuses with the OAuth error
 *   `invalid_authorization_details`, naming the member at fault. The provider itself refuses a type
 *   the client is not registered for (`authorization_details_types`, empty by default).
 * - A code carries the details of the grant the person approved (the consent step records them with
 *   `addRar`), only when the request asked for them: a later plain sign-in under the same grant gets
 *   tokens that read no licence.
 * - Access and refresh tokens carry their source's details, so a refresh keeps the same grant; the token
 *   response and introspection echo them.
 *
 * @example
 * ```ts
 * features: { richAuthorizationRequests: licenceAccessRar.feature(clock) }
 * ```
 */
export const licenceAccessRar = {
  feature(clock: Clock): RarFeature {
    return {
      enabled: true,
      types: {
        [licenceAccessType]: {
          validate(_ctx, detail) {
            try {
              parseLicenceAccess(detail, new Date(clock.now()));
            } catch (error) {
              if (error instanceof LicenceAccessProblem) {
                throw new errors.InvalidAuthorizationDetails(error.message);
              }
              throw error;
            }
          },
        },
      },
      authorizationDetailsForGrantSource(ctx: KoaContextWithOIDC) {
        if (ctx.oidc.params?.authorization_details === undefined) return undefined;
        return (ctx.oidc.grant as { rar?: Details } | undefined)?.rar;
      },
      authorizationDetailsForAccessToken(_ctx, _token, source) {
        return (source as { rar?: Details } | undefined)?.rar;
      },
      authorizationDetailsForIntrospection(_ctx, token) {
        return (token as { rar?: Details }).rar;
      },
    };
  },

  /**
   * Whether a code or token carries licence access (its `rar`): a share, whose tokens live by the grant
   * the person approved, not by the sign-in session.
   */
  carriedBy(source: { rar?: unknown }): boolean {
    return licenceAccessDetails(source.rar).length > 0;
  },

  /**
   * Whether the code the authorization endpoint is about to make will carry licence access: the rule of
   * `authorizationDetailsForGrantSource` above (the grant's details, when the request asked for any),
   * read before the provider copies them onto the code, as `expiresWithSession` is asked first.
   *
   * @example
   * ```ts
   * expiresWithSession: (ctx, code) => !licenceAccessRar.codeWillCarry(ctx) && !code.scopes.has('offline_access'),
   * ```
   */
  codeWillCarry(ctx: KoaContextWithOIDC): boolean {
    if (ctx.oidc?.params?.authorization_details === undefined) return false;
    return licenceAccessDetails((ctx.oidc.grant as { rar?: Details } | undefined)?.rar).length > 0;
  },

  /** How long a grant carrying licence access lasts (seconds), or undefined for any other grant. */
  grantSeconds(grant: { rar?: unknown }, now: Date): number | undefined {
    const details = licenceAccessDetails(grant.rar);
    return details.length > 0 ? accessSeconds(details, now) : undefined;
  },
};
