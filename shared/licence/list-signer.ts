import * as z from 'zod';
import { canonicalJson } from '../canonical-json.js';
import { epochSeconds, type Clock } from '../clock.js';
import type { Signer } from '../crypto/signer.js';
import { BusyError, invalidRequest, NotFoundError, UnavailableError } from '../errors.js';
import { logger } from '../logger.js';
import { statusListUri, type StatusListStore } from './status-list-store.js';
import {
  STATUS_LIST_TTL_SECONDS,
  statusListToken,
  type StatusListTokenDependencies,
  type StatusListTokenResult,
} from './status-list-token.js';
import { TRUST_LIST_TTL_SECONDS, trustListToken, type TrustListDependencies } from './trust-list-token.js';

/**
 * Which list to sign, and nothing else: the signer computes the content itself from the table, so a
 * caller (a compromised public function included) can at most have a correct list signed again.
 */
export const listRequest = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('trust-list') }),
  // A list id's own shape (`<issuer id>.<n>`) is checked by `statusListToken`, which answers not found.
  z.strictObject({ kind: z.literal('status-list'), listId: z.string().min(1).max(64) }),
]);
export type ListRequest = z.infer<typeof listRequest>;

/**
 * Signs the trust list or a status list away from the public path (the `list-signer` function, which
 * alone holds kms:Sign on the platform key and the issuer keys for them): the public functions that serve
 * the lists ask it only when the stored token is stale.
 *
 * Contract: `sign` answers the list's current token, signed now or stored by a concurrent call (the
 * `{ jws, ttl }` of `trustListToken` / `statusListToken`); a list that does not exist is
 * {@link NotFoundError} `status_list_not_found`; a signer that cannot be reached, refuses or fails is
 * {@link ListSignerUnavailableError}.
 */
export interface ListSigner {
  sign(request: ListRequest): Promise<StatusListTokenResult>;
}

/** `Retry-After` of a 503 while the signer cannot be reached and no stored token is still valid. */
export const LIST_SIGNER_RETRY_AFTER_SECONDS = 30;

/** The signer could not be reached or failed: the list is served from the store if it can be, else 503. */
export class ListSignerUnavailableError extends UnavailableError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'list_signer_unavailable', {
      ...(options?.cause !== undefined && { cause: options.cause }),
      retryAfterSeconds: LIST_SIGNER_RETRY_AFTER_SECONDS,
    });
    this.name = 'ListSignerUnavailableError';
  }
}

/**
 * Thrown by the public functions' stand-in signer when the stored token is stale: the list is to be signed
 * by the {@link ListSigner}. Never leaves this module.
 */
class SignedElsewhere extends Error {
  constructor(
    /** What the use case would have had signed: `header.payload`, to compare with the stored token's. */
    readonly signingInput?: Uint8Array,
  ) {
    super('signed elsewhere');
  }
}

/** A compact JWS's (or a signing input's) payload, `iat` and `exp` left out: what it says, not when. */
function statement(jwsOrSigningInput: string): string | undefined {
  try {
    const encoded = jwsOrSigningInput.split('.')[1] ?? '';
    const {
      iat: _iat,
      exp: _exp,
      ...rest
    } = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8')) as Record<string, unknown>;
    return canonicalJson(rest);
  } catch {
    return undefined;
  }
}

/**
 * A {@link Signer} that signs nothing: `kid` and `publicJwk` from `publicKey` when given (the trust list
 * hashes the platform key's kid into its content, a GetPublicKey), and `sign` stops the use case before it
 * signs or stores anything. This is how the public functions run `trustListToken` and `statusListToken`
 * unchanged for their freshness checks, without any kms:Sign.
 */
function signedElsewhere(publicKey?: Pick<Signer, 'kid' | 'publicJwk'>): Signer {
  return {
    alg: 'ES256',
    // Without a public key (a status list's issuer key), the header's kid is a placeholder: nothing is
    // signed, and only the payload of the signing input is read (to compare with the stored token's).
    kid: publicKey ? () => publicKey.kid() : () => Promise.resolve('signed-elsewhere'),
    publicJwk: publicKey ? () => publicKey.publicJwk() : () => Promise.reject(new SignedElsewhere()),
    sign: (data) => Promise.reject(new SignedElsewhere(data)),
  };
}

export type ServedTrustListDependencies = Omit<TrustListDependencies, 'platformSigner'> & {
  /** The platform key's public half: its kid is part of the list's content. */
  platformKey: Pick<Signer, 'kid' | 'publicJwk'>;
  listSigner: ListSigner;
};

/**
 * The trust list as `GET /trust-list` serves it: the stored token while it is fresh (no call to the
 * signer: the hot path is what it was), else the {@link ListSigner}'s. When the signer cannot be reached,
 * the stored token while its `exp` is ahead (verifiers judge freshness by its `iat` and `ttl`, and anyone
 * could replay it until then), with `ttl` what is left of its freshness (0 when none); else 503
 * `list_signer_unavailable` with `Retry-After`.
 *
 * @example
 * ```ts
 * const { jws, ttl } = await servedTrustList(dependencies());
 * ```
 */
export async function servedTrustList(
  deps: ServedTrustListDependencies,
): Promise<{ jws: string; ttl: number }> {
  // 1. Fresh: served as stored, exactly as before.
  let due: SignedElsewhere;
  try {
    return await trustListToken({ ...deps, platformSigner: signedElsewhere(deps.platformKey) });
  } catch (error) {
    if (!(error instanceof SignedElsewhere)) throw error;
    due = error;
  }
  // 2. Stale: signed by the signer, or 3. the stored token while it is still valid and says what a new
  // one would (stale by age alone).
  return signedOrStored(deps.listSigner, { kind: 'trust-list' }, deps.clock, due, async () => {
    const stored = await deps.trustList.find();
    return stored && { ...stored, ttl: TRUST_LIST_TTL_SECONDS };
  });
}

export type ServedStatusListDependencies = Omit<StatusListTokenDependencies, 'signerFor'> & {
  statusLists: StatusListStore;
  listSigner: ListSigner;
};

/**
 * A status list as `GET /status-lists/{listId}` serves it, as {@link servedTrustList} does the trust list.
 * An unknown list is {@link NotFoundError} without a call to the signer.
 *
 * @example
 * ```ts
 * const { jws, ttl } = await servedStatusList('iss_4Zq0bS0e6jyU2KQ1.0', dependencies());
 * ```
 */
export async function servedStatusList(
  listId: string,
  deps: ServedStatusListDependencies,
): Promise<StatusListTokenResult> {
  // 1. Fresh: served as stored; unknown: not found.
  let due: SignedElsewhere;
  try {
    return await statusListToken(listId, { ...deps, signerFor: () => signedElsewhere() });
  } catch (error) {
    if (!(error instanceof SignedElsewhere)) throw error;
    due = error;
  }
  // 2. Stale: signed by the signer, or 3. the stored token while it is still valid (for this list's URI)
  // and says what a new one would.
  return signedOrStored(deps.listSigner, { kind: 'status-list', listId }, deps.clock, due, async () => {
    const { token } = await deps.statusLists.find(listId);
    const uri = statusListUri(deps.config.issuerUrl, listId);
    return token && token.uri === uri ? { ...token, ttl: STATUS_LIST_TTL_SECONDS } : undefined;
  });
}

async function signedOrStored(
  signer: ListSigner,
  request: ListRequest,
  clock: Clock,
  due: SignedElsewhere,
  stored: () => Promise<{ jws: string; iat: number; exp: number; ttl: number } | undefined>,
): Promise<StatusListTokenResult> {
  try {
    return await signer.sign(request);
  } catch (error) {
    if (!(error instanceof ListSignerUnavailableError)) throw error;
    const now = epochSeconds(clock);
    const token = await stored();
    if (!token || token.exp <= now) throw error;
    // A list whose content changed (an issuer withdrawn, a key rotated, a licence revoked) is not served
    // from before the change: that would hide the change exactly while it cannot be signed (review R10).
    // Only a list stale by age alone is, as anyone could replay it until its `exp` anyway.
    const wouldSay = due.signingInput && statement(Buffer.from(due.signingInput).toString('ascii'));
    if (wouldSay === undefined || statement(token.jws) !== wouldSay) throw error;
    logger.warn('list signer unavailable: serving the stored token', {
      list: request.kind,
      iat: token.iat,
      error: { name: error.name, message: error.message },
    });
    return { jws: token.jws, ttl: Math.max(0, token.iat + token.ttl - now) };
  }
}

/** What the signer answers: the token, or the code of a refusal (never an exception across the invoke). */
export const listSignerAnswer = z.union([
  z.strictObject({ jws: z.string().min(1), ttl: z.number().int().min(0) }),
  z.strictObject({ error: z.enum(['status_list_not_found', 'status_list_busy', 'invalid_request']) }),
]);
export type ListSignerAnswer = z.infer<typeof listSignerAnswer>;

export type ListSigningDependencies = TrustListDependencies & StatusListTokenDependencies;

/**
 * The signer's use case (`functions/list-signer.ts`): 1. validates the request (which list, nothing
 * more); 2. computes, signs and stores that list as `trustListToken` / `statusListToken` do (a fresh stored
 * token is answered as is, so concurrent callers cause one signature); 3. answers `{ jws, ttl }`, or the
 * code of a refusal. A malformed request is {@link InvalidInputError} `invalid_request`.
 *
 * @example
 * ```ts
 * const { jws, ttl } = await signList({ kind: 'status-list', listId: 'iss_4Zq0bS0e6jyU2KQ1.0' }, deps);
 * ```
 */
export async function signList(
  input: unknown,
  deps: ListSigningDependencies,
): Promise<StatusListTokenResult> {
  // 1. Which list.
  const parsed = listRequest.safeParse(input);
  if (!parsed.success) {
    const errors = parsed.error.issues.map((issue) => ({
      path: issue.path.length > 0 ? issue.path.join('.') : '(body)',
      message: issue.message,
    }));
    throw invalidRequest(errors, 'Invalid list signing request');
  }
  const request = parsed.data;
  // 2. Its content, from the table; signed if the stored token is stale.
  if (request.kind === 'trust-list') return trustListToken(deps);
  return statusListToken(request.listId, deps);
}

/**
 * A status list changed faster than it can be dated (`status_list_busy`, status-list-token.ts), as the
 * signer's answer carries it back: a 503 with `Retry-After: 1`, not the signer being unavailable (whose
 * `Retry-After` is {@link LIST_SIGNER_RETRY_AFTER_SECONDS}).
 */
export const listBusy = (request: ListRequest) =>
  new BusyError(
    `Status list ${JSON.stringify(request.kind === 'status-list' ? request.listId : request.kind)} changed faster than it can be dated; retry shortly`,
    'status_list_busy',
    { retryAfterSeconds: 1 },
  );

/** A {@link NotFoundError} as the signer's answer carries it back. */
export const listNotFound = (request: ListRequest) =>
  new NotFoundError(
    `There is no status list ${JSON.stringify(request.kind === 'status-list' ? request.listId : request.kind)}`,
    'status_list_not_found',
  );
