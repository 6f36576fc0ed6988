import Provider, { type KoaContextWithOIDC } from 'oidc-provider';
import { get as providerInternals } from 'oidc-provider/lib/helpers/weak_cache.js';
import { epochSeconds, type Clock } from '../clock.js';

/** How far a proof's `iat` may be from now when it carries no nonce (oidc-provider's `CHALLENGE_OK_WINDOW`). */
export const proofIatWindowSeconds = 300;

interface ServerChallenge {
  checkChallenge(nonce: string): boolean;
}

/** The `iat` of the DPoP proof `ctx` carries, read from a proof the provider has verified already. */
function proofIat(ctx: KoaContextWithOIDC): number | undefined {
  const payload = ctx.get('DPoP').split('.')[1];
  if (!payload) return undefined;
  try {
    const { iat } = JSON.parse(Buffer.from(payload, 'base64url').toString()) as { iat?: unknown };
    return typeof iat === 'number' ? iat : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A stale nonce where no nonce is asked for is judged as no nonce (review R43 L1). The libraries keep the
 * token endpoint's last `DPoP-Nonce` per origin and put it in every proof to that origin: oauth4webapi
 * sends it to userinfo too, and a few minutes after the last token request it is stale, which the
 * provider answered `401 use_dpop_nonce` (openid-client retries; oauth4webapi throws). Userinfo asks for
 * no nonce ({@link requiresNonce}: its proofs name one short-lived access token, `ath`), and a proof
 * without one is fresh by its `iat` (within five minutes of now); so, at an endpoint that asks for none, a
 * proof whose nonce is not one of the provider's current ones passes when its `iat` is that fresh, and is
 * refused (`use_dpop_nonce`, with a new nonce) otherwise: exactly as the same proof without its nonce.
 * Nothing is taken that a proof without a nonce would not get. The token and pushed authorization
 * endpoints, which ask for a nonce, still refuse any nonce not current. oidc-provider checks a proof's nonce
 * with its `DPoPNonces` (a `ServerChallenge` kept in its private state) after the proof's signature; this
 * wraps that check, and throws at start when a new version keeps it elsewhere.
 *
 * @example
 * ```ts
 * staleNoncesJudgedByTheirIat(provider, dpopNonceRequired, deps.clock);
 * ```
 */
export function staleNoncesJudgedByTheirIat(
  provider: Provider,
  requiresNonce: (ctx: KoaContextWithOIDC) => boolean,
  clock: Clock,
): void {
  const internals = providerInternals(provider) as { DPoPNonces?: Partial<ServerChallenge> } | undefined;
  const nonces = internals?.DPoPNonces;
  if (typeof nonces?.checkChallenge !== 'function') {
    throw new Error('oidc-provider keeps no DPoP nonces where expected (features.dPoP.nonceSecret)');
  }
  const check = nonces.checkChallenge.bind(nonces);
  nonces.checkChallenge = (nonce: string) => {
    if (check(nonce)) return true;
    const ctx = Provider.ctx as KoaContextWithOIDC | undefined;
    if (!ctx || requiresNonce(ctx)) return false;
    const iat = proofIat(ctx);
    return iat !== undefined && Math.abs(epochSeconds(clock) - iat) <= proofIatWindowSeconds;
  };
}
