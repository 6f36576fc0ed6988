import { epochSeconds, type Clock } from '../clock.js';
import { signCompactJws } from '../crypto/compact-jws.js';
import type { Signer } from '../crypto/signer.js';
import { BusyError, NotFoundError } from '../errors.js';
import { statusListTokenType } from '../../packages/verifier/src/claims.js';
import type { IssuerStore } from '../issuers/issuer-store.js';
import { MAX_IAT_LEAD_SECONDS, nextIat } from './signed-at.js';
import { LIST_SIZE, parseListId, statusListUri, type StatusListStore } from './status-list-store.js';

/** Its media type, the `Content-Type` it is served with (draft §8.2). */
export const statusListMediaType = 'application/statuslist+jwt';

/** `ttl`: verifiers fetch a fresh list at most five minutes after a revocation. */
export const STATUS_LIST_TTL_SECONDS = 300;
/** `exp`: two days, so that an offline verifier can go on using a list it fetched. */
export const STATUS_LIST_LIFETIME_SECONDS = 2 * 86_400;
/**
 * A cached token is re-signed once less than this remains before its `exp`, so every token served is good
 * for at least a day.
 */
export const STATUS_LIST_REFRESH_SECONDS = 86_400;
/**
 * A cached token is re-signed once it is this old: verifiers count a list's freshness from its `iat` (an
 * old token replayed must not pass for news), so every token served has at least half its `ttl` of
 * freshness left. An unchanged list that is being read costs one signature per 150 s.
 */
export const STATUS_LIST_RESIGN_AGE_SECONDS = STATUS_LIST_TTL_SECONDS / 2;

export interface StatusListTokenDependencies {
  statusLists: StatusListStore;
  issuers: Pick<IssuerStore, 'findById'>;
  signerFor(keyId: string): Signer;
  clock: Clock;
  config: { issuerUrl: string };
}

export interface StatusListTokenResult {
  /** The compact JWS, served as is. */
  jws: string;
  /**
   * Seconds a consumer may cache it: what is left of its `ttl` counted from its `iat` (the `ttl` claim
   * itself for a token signed now), so that no cache hands out a token verifiers would find stale.
   */
  ttl: number;
}

const notFound = (listId: string) =>
  new NotFoundError(`There is no status list ${JSON.stringify(listId)}`, 'status_list_not_found');

/**
 * The Status List Token of a list (draft §5.1), signed by the key of the issuer that owns it, and signed
 * lazily: the token stored with the list is served while it is for the list's current revision and URI,
 * younger than {@link STATUS_LIST_RESIGN_AGE_SECONDS} and far enough from its `exp`; otherwise a new one is signed (one KMS call) and stored, a conditional
 * write so that concurrent requests never overwrite a newer token (a request that loses that race serves
 * the token it signed, which is just as current).
 *
 * A list changed so often that a new token would be dated more than {@link MAX_IAT_LEAD_SECONDS} ahead
 * of the clock (signed-at.ts) is {@link BusyError} `status_list_busy`, a 503 with `Retry-After`
 * (a second or so): the last token predates a change, and served it would be held as fresh for its `ttl`.
 *
 * A list that was allocated but never changed answers all valid; an unknown issuer, a list id that is not
 * one, or a list beyond what the issuer allocated is a 404 `status_list_not_found`.
 *
 * Payload: `iss` (the issuer id, as in its credentials), `sub` (the list's URI), `iat`, `exp`, `ttl` and
 * `status_list: { bits: 2, lst }`.
 *
 * @example
 * ```ts
 * const { jws, ttl } = await statusListToken('iss_4Zq0bS0e6jyU2KQ1.0', dependencies());
 * ```
 */
export async function statusListToken(
  listId: string,
  deps: StatusListTokenDependencies,
): Promise<StatusListTokenResult> {
  const parsed = parseListId(listId);
  if (!parsed) throw notFound(listId);
  const issuer = await deps.issuers.findById(parsed.issuerId);
  // A withdrawn issuer's lists stay served: verdicts on its licences still need them.
  if (!issuer || issuer.status === 'provisioning' || !issuer.keyId) throw notFound(listId);

  const snapshot = await deps.statusLists.find(listId);
  if (!snapshot.stored && parsed.list * LIST_SIZE >= (await deps.statusLists.allocated(issuer.id))) {
    throw notFound(listId);
  }

  const uri = statusListUri(deps.config.issuerUrl, listId);
  const now = epochSeconds(deps.clock);
  const cached = snapshot.token;
  // Signed by the issuer's current key: after a rotation or a withdrawn key, verifiers would refuse it.
  const current = cached && cached.uri === uri && signedBy(cached.jws) === issuer.kid;
  // Strictly after the token signed before (R32 M1): a list re-signed in the same second is dated a
  // second later, so that verifiers can tell it from the earlier one (signed-at.ts).
  const previous = Math.max(cached?.iat ?? -Infinity, snapshot.lastIat ?? -Infinity);
  const iat = nextIat(now, Number.isFinite(previous) ? previous : undefined);
  // The stored token says the list as it is now (a status change drops it), signed by the current key.
  const upToDate = cached && current && cached.revision === snapshot.revision;
  if (
    upToDate &&
    // A token dated ahead of the clock to follow its predecessor is served as any other; and one so far
    // ahead that the next could not follow it within the lead is served in place of a new one.
    (iat === undefined ||
      (cached.iat <= now + MAX_IAT_LEAD_SECONDS &&
        now - cached.iat < STATUS_LIST_RESIGN_AGE_SECONDS &&
        cached.exp - now > STATUS_LIST_REFRESH_SECONDS))
  ) {
    return {
      jws: cached.jws,
      ttl: Math.min(cached.iat + STATUS_LIST_TTL_SECONDS - now, STATUS_LIST_TTL_SECONDS),
    };
  }
  if (iat === undefined) {
    // A burst of changes used up the lead (review R33 H1): the list cannot be dated after the last one
    // without being dated further ahead than verifiers accept, and the last one predates a change, so it
    // must not be served as news (verifiers would hold it for its whole `ttl`). A 503: retry in the
    // second(s) it takes the clock to catch up; verifiers keep the copy they hold meanwhile.
    throw new BusyError(
      `Status list ${listId} changed faster than it can be dated; retry shortly`,
      'status_list_busy',
      { retryAfterSeconds: Math.max(1, previous - MAX_IAT_LEAD_SECONDS - now) },
    );
  }
  const signedAt = iat;

  const exp = signedAt + STATUS_LIST_LIFETIME_SECONDS;
  const jws = await signCompactJws(
    { typ: statusListTokenType },
    {
      iss: issuer.id,
      sub: uri,
      iat: signedAt,
      exp,
      ttl: STATUS_LIST_TTL_SECONDS,
      status_list: snapshot.statusList,
    },
    deps.signerFor(issuer.keyId),
  );
  const saved = await deps.statusLists.saveToken(
    listId,
    { jws, revision: snapshot.revision, uri, iat: signedAt, exp },
    snapshot,
  );
  // Unsaved because the list changed meanwhile, and dated ahead (review R33 L1): the change dates the
  // next token after its own second only (status-list-store.ts), and that token could share this one's
  // `iat` with other claims, which verifiers holding this one would refuse as rolled back. Not served.
  if (!saved && signedAt > now && (await deps.statusLists.find(listId)).revision !== snapshot.revision) {
    throw new BusyError(
      `Status list ${listId} changed while it was signed; retry shortly`,
      'status_list_busy',
      {
        retryAfterSeconds: 1,
      },
    );
  }
  return { jws, ttl: STATUS_LIST_TTL_SECONDS };
}

/** The `kid` in a compact JWS's protected header. */
function signedBy(jws: string): string | undefined {
  try {
    const header = JSON.parse(Buffer.from(jws.slice(0, jws.indexOf('.')), 'base64url').toString('utf8')) as {
      kid?: unknown;
    };
    return typeof header.kid === 'string' ? header.kid : undefined;
  } catch {
    return undefined;
  }
}
