import { createHash } from 'node:crypto';
import type { ClientMetadata } from 'oidc-provider';
import type { Clock } from '../clock.js';
import { signCompactJws } from '../crypto/compact-jws.js';
import type { Signer } from '../crypto/signer.js';
import { logger } from '../logger.js';

/**
 * The events a platform is told of (RFC 8417 Security Event Tokens): a share of licences (授权用证)
 * withdrawn, or the person's sign-in consent withdrawn. Both ask the platform to delete what it copied
 * under that consent (docs/integrating.md, "Withdrawal notices"). Stable identifiers: never change one.
 */
export const withdrawalEvents = {
  'share-withdrawn': 'https://elicence.example/events/share-withdrawn',
  'sign-in-withdrawn': 'https://elicence.example/events/sign-in-withdrawn',
} as const;
export type WithdrawalEvent = keyof typeof withdrawalEvents;

/**
 * A withdrawal a platform is to be told of, as queued: what the Security Event Token will say, and no
 * more. `subject` is the pairwise `sub` the platform knows the person (or the entity they acted for) by;
 * no ID number, name or internal account id is ever queued or sent.
 */
export interface WithdrawalNotice {
  /** The notice's id: the SET's `jti`, the same at every delivery attempt (platforms dedupe by it). */
  id: string;
  clientId: string;
  subject: string;
  event: WithdrawalEvent;
  /** The withdrawn grants: the share's id (as `GET /me/authorizations` listed it), or the sign-ins'. */
  grantIds: string[];
  /** The shared licence types (a share; none for a sign-in). */
  licenceTypes: string[];
  /** The OpenID scopes the grants held (a share's and a sign-in's alike), those refused left out. */
  scopes: string[];
  /** Epoch seconds. */
  withdrawnAt: number;
  /**
   * A sign-in's withdrawal that ends only the sign-ins made before this second (epoch seconds): the
   * reconciler finishing a reset's clean-up left owed (shared/identity/owed-cleanup.ts), which spares the
   * person's sign-ins since (review R54-2). The platform keeps its sessions of the person signed in at or
   * after it (the SET's `signed_in_before`, docs/integrating.md). Absent: every session of the `sub` ends.
   */
  signedInBefore?: number;
}

/** A queued notice with its delivery state. */
export interface PendingNotice extends WithdrawalNotice {
  /** Attempts made so far. */
  attempts: number;
  /** When it is next due (epoch ms). */
  dueAt: number;
  lastError?: string;
}

/**
 * The notices waiting to be delivered. Contract: `enqueue` stores a notice due at once; `due` answers up to
 * `limit` notices whose time has come at `now` (epoch ms), oldest due first; `delivered` removes one;
 * `retry` makes it due again at `dueAt` with one more attempt counted and the error kept; `abandon` takes it
 * out of the queue for good (kept for the operators to read, not delivered again). Each of `delivered`,
 * `retry` and `abandon` is a no-op for a notice another delivery already moved on.
 */
export interface NoticeQueue {
  enqueue(notice: WithdrawalNotice, now: number): Promise<void>;
  due(now: number, limit: number): Promise<PendingNotice[]>;
  delivered(notice: PendingNotice): Promise<void>;
  retry(notice: PendingNotice, dueAt: number, error: string): Promise<void>;
  abandon(notice: PendingNotice, error: string): Promise<void>;
}

/** Posts a signed notice to a platform's events endpoint; resolves when it was accepted (2xx), throws otherwise. */
export interface NoticeSender {
  send(eventsUri: string, token: string): Promise<void>;
}

/** The events endpoint a platform registered (`events_uri`), if any. */
export function eventsUriOf(metadata: ClientMetadata | undefined): string | undefined {
  const uri = (metadata as { events_uri?: unknown } | undefined)?.events_uri;
  return typeof uri === 'string' ? uri : undefined;
}

/** What preparing a withdrawal's notice needs. */
export interface NoticeQueueing {
  /** The pairwise `sub` the platform knows `accountId` by (the entity's, when the person acted for one). */
  subjectAt(accountId: string, clientId: string): Promise<string>;
  clientReader: { find(clientId: string): Promise<ClientMetadata | undefined> };
  clock: Clock;
}

/** A withdrawal a platform may have to be told of: whose, which platform, what it ended. */
export interface Withdrawal {
  clientId: string;
  accountId: string;
  event: WithdrawalEvent;
  grantIds: string[];
  licenceTypes: string[];
  scopes: string[];
  /** A sign-in's withdrawal of the grants made before this second only ({@link WithdrawalNotice.signedInBefore}). */
  signedInBefore?: number;
}

/**
 * The id of a withdrawal's notice (its SET's `jti`): derived from the platform, the event and the grants
 * withdrawn, so that asking again for the same withdrawal makes the same notice, never a second one.
 */
export function noticeIdOf(withdrawal: Pick<Withdrawal, 'clientId' | 'event' | 'grantIds'>): string {
  const grants = [...withdrawal.grantIds].sort().join(' ');
  const digest = createHash('sha256').update(`${withdrawal.clientId}\n${withdrawal.event}\n${grants}`);
  return `evt_${digest.digest('base64url').slice(0, 27)}`;
}

/**
 * The notice of a withdrawal, to be queued by the very writes that withdraw (`SharingGrants.withdraw`:
 * the grants deleted and their notice put, all or nothing, each write with the notice of what it deleted,
 * {@link noticeOfPart}), or `undefined` when the platform registered no events endpoint. Made before
 * anything is withdrawn, and it throws (the platform's metadata or the pairwise subject unreadable): the
 * withdrawal is then refused whole and can be asked again, rather than done without its notice (which was
 * lost before: a notice queued after the withdrawal had committed failed on its own, logged only).
 *
 * @example
 * ```ts
 * const notice = await withdrawalNotice({ clientId, accountId, event: 'share-withdrawn', grantIds, licenceTypes, scopes }, { subjectAt, clientReader, clock });
 * await sharingGrants.withdraw(grantIds, notice && ((deleted) => noticeOfPart(notice, { grantIds: [...deleted], scopes })));
 * ```
 */
export async function withdrawalNotice(
  withdrawal: Withdrawal,
  deps: NoticeQueueing,
): Promise<WithdrawalNotice | undefined> {
  // 1. Only a platform that asked to be told (its registered `events_uri`).
  if (!eventsUriOf(await deps.clientReader.find(withdrawal.clientId))) return undefined;
  // 2. The notice names the person as the platform knows them, and nothing else about them.
  return {
    id: noticeIdOf(withdrawal),
    clientId: withdrawal.clientId,
    subject: await deps.subjectAt(withdrawal.accountId, withdrawal.clientId),
    event: withdrawal.event,
    grantIds: withdrawal.grantIds,
    licenceTypes: withdrawal.licenceTypes,
    scopes: withdrawal.scopes,
    withdrawnAt: Math.floor(deps.clock.now() / 1000),
    ...(withdrawal.event === 'sign-in-withdrawn' &&
      withdrawal.signedInBefore !== undefined && { signedInBefore: withdrawal.signedInBefore }),
  };
}

/**
 * The notice of what one write of a withdrawal deleted (`SharingGrants.withdraw`: past what one write
 * holds, each write deletes its share of the grants and queues its own notice): `whole`'s, made for every
 * grant meant to go, narrowed to `part`'s grants and the scopes they held, its id derived from them
 * ({@link noticeIdOf}). Every grant is deleted once (each only if still there), so each is named by exactly
 * one notice whatever fails, is retried or runs at once; a withdrawal done in one write, of every grant it
 * meant, keeps `whole`'s id.
 *
 * @example
 * ```ts
 * const told = noticeOfPart(whole, { grantIds: deleted, scopes: ['openid', 'profile'] });
 * ```
 */
export function noticeOfPart(
  whole: WithdrawalNotice,
  part: Pick<WithdrawalNotice, 'grantIds' | 'scopes'>,
): WithdrawalNotice {
  return { ...whole, id: noticeIdOf({ ...whole, grantIds: part.grantIds }), ...part };
}

/**
 * The Security Event Token of a notice (RFC 8417): `typ: secevent+jwt`, issued by the service, for the
 * platform (`aud` its client id), about the person as it knows them (`sub`, pairwise), one event.
 */
export function securityEventClaims(notice: WithdrawalNotice, issuerUrl: string, iat: number) {
  const event =
    notice.event === 'share-withdrawn'
      ? // The share's scopes too: its access token read the ID number (`idcard`) and the name
        // (`profile`) at userinfo, for the platform to delete with the licences (review R43 M2).
        { share_id: notice.grantIds[0], licence_types: notice.licenceTypes, scopes: notice.scopes }
      : {
          grant_ids: notice.grantIds,
          scopes: notice.scopes,
          // Only the sessions signed in before it end (review R54-2): the person signed in again since.
          ...(notice.signedInBefore !== undefined && { signed_in_before: notice.signedInBefore }),
        };
  return {
    iss: issuerUrl,
    aud: notice.clientId,
    sub: notice.subject,
    jti: notice.id,
    iat,
    toe: notice.withdrawnAt,
    events: { [withdrawalEvents[notice.event]]: { ...event, withdrawn_at: notice.withdrawnAt } },
  };
}

/** How often a notice is tried, and how long between tries. */
export interface RetryPolicy {
  /** The wait after the first failed attempt, doubled after each further one (up to `maxDelaySeconds`). */
  baseDelaySeconds: number;
  maxDelaySeconds: number;
  /** After this many failed attempts the notice is abandoned. */
  maxAttempts: number;
}

/** The wait before attempt `attempts + 1`, after `attempts` failed ones. */
export function retryDelaySeconds(attempts: number, policy: RetryPolicy): number {
  return Math.min(policy.baseDelaySeconds * 2 ** Math.max(0, attempts - 1), policy.maxDelaySeconds);
}

/** What delivering needs: the queue, the platforms' metadata, the notice key, the sender. */
export interface NoticeDelivery {
  notices: NoticeQueue;
  clientReader: { find(clientId: string): Promise<ClientMetadata | undefined> };
  /**
   * The notice key (ES256), published at `/.well-known/notices-jwks.json` and never in the OpenID JWKS:
   * platforms verify notices against that JWKS, and no ID token signed with it verifies (review R31 L1).
   */
  signer: Signer;
  sender: NoticeSender;
  issuerUrl: string;
  clock: Clock;
  retry: RetryPolicy;
}

/**
 * Delivers the notices that are due: each signed afresh (`iat` now, the same `jti`) and posted to its
 * platform's events endpoint; accepted ones leave the queue, the others are tried again later with a
 * doubling wait, and abandoned after `retry.maxAttempts`. Each attempt is counted before the notice is
 * posted, so a round the function's time limit cuts short still moves the notice on. A platform that no longer has an events endpoint
 * (or is gone) is not told. One platform's failure never holds up another's notice.
 *
 * @example
 * ```ts
 * const { delivered, retried, abandoned } = await deliverDueNotices({ notices, clientReader, signer, sender, issuerUrl, clock, retry });
 * ```
 */
export async function deliverDueNotices(
  deps: NoticeDelivery,
  // A round must end within its schedule's minute: each attempt may take the sender's time limit.
  limit = 10,
): Promise<{ delivered: number; retried: number; abandoned: number }> {
  const counts = { delivered: 0, retried: 0, abandoned: 0 };
  const due = await deps.notices.due(deps.clock.now(), limit);
  for (const notice of due) {
    // 1. Tried as often as allowed: the last attempt was counted when it began, and its round ended
    // (the function's time limit) before the platform answered.
    if (notice.attempts >= deps.retry.maxAttempts) {
      await abandonNotice(deps, notice, notice.lastError ?? unanswered, counts);
      continue;
    }
    // 2. Where to: the endpoint registered now (a platform may have changed or dropped it).
    const eventsUri = eventsUriOf(await deps.clientReader.find(notice.clientId));
    if (!eventsUri) {
      await deps.notices.abandon(notice, 'the platform has no events endpoint');
      counts.abandoned += 1;
      continue;
    }
    // 3. The attempt is counted before it is made: the notice moves to when it would next be due, so a
    // round cut short by a platform that answers too slowly still moves it on, and the next round starts
    // with the other platforms' notices instead of the same one.
    const attempts = notice.attempts + 1;
    const dueAt = deps.clock.now() + retryDelaySeconds(attempts, deps.retry) * 1000;
    await deps.notices.retry(notice, dueAt, unanswered);
    const attempted: PendingNotice = { ...notice, attempts, dueAt, lastError: unanswered };
    try {
      // 4. Signed with the notice key, then posted (RFC 8935 push delivery).
      const token = await signCompactJws(
        { typ: 'secevent+jwt' },
        securityEventClaims(notice, deps.issuerUrl, Math.floor(deps.clock.now() / 1000)),
        deps.signer,
      );
      await deps.sender.send(eventsUri, token);
      await deps.notices.delivered(attempted);
      counts.delivered += 1;
    } catch (error) {
      // 5. Not accepted: it is already due again later (step 3), unless this was the last attempt.
      const message = String(error instanceof Error ? error.message : error).slice(0, 300);
      if (attempts >= deps.retry.maxAttempts) {
        await abandonNotice(deps, attempted, message, counts);
      } else {
        counts.retried += 1;
        logger.warn('withdrawal notice to retry', { client: notice.clientId, id: notice.id, error: message });
      }
    }
  }
  return counts;
}

/** What a notice's attempt left when its round ended before the platform answered. */
const unanswered = 'no answer: the delivery round ended before the events endpoint answered';

/** Gives up on a notice, for the operators to read. */
async function abandonNotice(
  deps: NoticeDelivery,
  notice: PendingNotice,
  error: string,
  counts: { abandoned: number },
): Promise<void> {
  await deps.notices.abandon(notice, error);
  counts.abandoned += 1;
  logger.error('withdrawal notice abandoned', { client: notice.clientId, id: notice.id, error });
}
