import type { AdapterPayload, KoaContextWithOIDC } from 'oidc-provider';
import type { AuditEntry } from '../audit/audit-trail.js';
import { ConflictError } from '../errors.js';
import { logger } from '../logger.js';
import {
  grantEndAuditPrefix,
  saveWithTrace,
  type CarriedAuditDependencies,
} from '../pending-work/pending-work.js';
import { grantedLicenceTypes, licenceAccessDetails } from '../sharing/licence-access.js';
import { destroyedWithTrace } from './traced-grant.js';

/**
 * Why the provider ended a grant itself, its whole family of tokens with it (oidc-provider's `revoke`):
 *
 * - `refresh_token_reused`: a refresh token presented again after it was rotated (the OAuth 2.0 Security
 *   BCP, RFC 9700 §4.14.2: one of the two holders is not the platform, so every token of the grant goes);
 * - `code_replayed`: an authorization code presented again (RFC 6749 §4.1.2);
 * - `token_revoked`: the platform revoked a refresh token of it at the revocation endpoint (RFC 7009 §2.1).
 */
export type GrantEndCause = 'refresh_token_reused' | 'code_replayed' | 'token_revoked';

const causeWords: Record<GrantEndCause, string> = {
  refresh_token_reused: 'a refresh token used again after its rotation',
  code_replayed: 'an authorization code used again',
  token_revoked: 'the platform revoked its refresh token',
};

/**
 * The cause of a grant's deletion by the provider during the request `ctx` (oidc-provider's
 * `Provider.ctx`), or undefined for an end the person asked for themselves: a logout (`end_session`),
 * which ends only the grants bound to the session (no `offline_access`, no share), as the session's end
 * was always their end; the person's own withdrawal goes through the wallet, traced there.
 */
export function grantEndCause(ctx: KoaContextWithOIDC | undefined): GrantEndCause | undefined {
  const route = ctx?.oidc?.route;
  if (route === 'revocation') return 'token_revoked';
  if (route !== 'token') return undefined;
  const grantType = ctx?.oidc?.params?.grant_type;
  if (grantType === 'refresh_token') return 'refresh_token_reused';
  if (grantType === 'authorization_code') return 'code_replayed';
  return undefined;
}

/** The scopes of a stored grant's `openid` member, those it rejected left out. */
function grantedScopes(stored: AdapterPayload): string[] {
  const scope = (member: unknown) => {
    const value = (member as { scope?: unknown } | undefined)?.scope;
    return typeof value === 'string' ? value.split(' ').filter(Boolean) : [];
  };
  const rejected = new Set(scope((stored.rejected as { openid?: unknown } | undefined)?.openid));
  return scope(stored.openid).filter((one) => one === 'openid' || !rejected.has(one));
}

/**
 * The audit entry of a grant the provider ended: the platform as the actor (it presented the token), the
 * person's account, the grant, the cause (`reasonCode`, in words in `reason`) and what it held (the
 * licence types of a share, the scopes of a sign-in), as `authorization.withdrawn` names them.
 */
export function grantEndEntry(
  grantId: string,
  stored: AdapterPayload,
  cause: GrantEndCause,
  at: Date,
): AuditEntry {
  const details = licenceAccessDetails(stored.rar);
  const held =
    details.length > 0
      ? `types ${grantedLicenceTypes(details).join(' ')}`
      : `scopes ${grantedScopes(stored).join(' ')}`;
  return {
    at: at.toISOString(),
    action: 'authorization.ended',
    actor: String(stored.clientId),
    reason: `account ${String(stored.accountId)}, grant ${grantId}, ${held}: ${causeWords[cause]}`,
    reasonCode: cause,
  };
}

/**
 * Ends a grant the provider is deleting itself (`cause`), with its trace (review R34 L1: a share ended
 * by a refresh token used twice, a replayed code or the platform's revocation vanished from the wallet
 * with no entry): the grant's deletion and the pointer that carries `authorization.ended` in one
 * transaction (`saveWithTrace`, the provider's pending work `authorization-ended#<grant id>`), then the
 * entry written once. A grant gone already (a withdrawal or another end took it, with its own entry) is
 * left alone, nothing written (also when the two ends' transactions met: the storage reads the grant again,
 * and sends its own once more while the grant is there; review R37 L1). An entry not written at once stays
 * saved for the reconciler; a failed transaction throws (contended twice: `end_contended`), and the grant
 * stays, listed in the wallet, for the person to withdraw.
 *
 * @example
 * ```ts
 * await endGrantWithTrace(id, stored, 'refresh_token_reused', () => super.destroy(id), { ...proofs, pendingAudit: proofs.providerAudit });
 * ```
 */
export async function endGrantWithTrace(
  grantId: string,
  stored: AdapterPayload,
  cause: GrantEndCause,
  destroy: () => Promise<void>,
  deps: CarriedAuditDependencies,
): Promise<void> {
  try {
    await saveWithTrace(
      `${grantEndAuditPrefix}${grantId}`,
      grantEndEntry(grantId, stored, cause, new Date(deps.clock.now())),
      (trace) => destroyedWithTrace('Grant', grantId, trace, destroy),
      deps,
    );
  } catch (error) {
    if (error instanceof ConflictError && error.code === 'ended_already') return;
    throw error;
  }
  logger.info('grant ended by the provider', { clientId: stored.clientId, grantId, cause });
}
