import { createHash, randomBytes } from 'node:crypto';
import { constantTimeEqual } from '../crypto/constant-time.js';
import { epochSeconds, type Clock } from '../clock.js';
import { ConflictError, ForbiddenError, NotFoundError } from '../errors.js';

/**
 * Scan-to-login (扫码登录, API.md "Identity assurance (v2)"): the sign-in page shows a code as a QR code
 * and a link; a person signed in to the wallet at level 3 opens it, reads which platform asks and from
 * which browser, and confirms; the page that showed the code then completes the sign-in at level 3.
 *
 * A code is 256 bits: 128 naming its sign-in (a hash of the interaction's uid: the code's _slot_) and 128
 * random. It lives `lifetimeSeconds` (at most 120), is confirmed once and completes once. It is bound to
 * the browser that showed it by a second secret (the binding) that only that browser holds, in a cookie:
 * whoever learns the code (from the QR code, over a shoulder, relayed by an attacker) can confirm it, but
 * only that browser can complete it. The table holds the SHA-256 of both, never either, in one record per
 * sign-in (its slot): a newer code of the same sign-in replaces the record, so that however often a
 * sign-in page is shown anew, its sign-in keeps one record (security review R27).
 */

/** Where a code is: shown and waiting, confirmed in a wallet, refused there, or used up by its browser. */
export type ScanLoginState = 'pending' | 'confirmed' | 'cancelled' | 'completed';

/** What the wallet shows of the browser that asks: enough to recognise one's own, nothing precise. */
export interface ScanLoginBrowser {
  /** A summary of its user agent, e.g. `Chrome 131 · Windows`. */
  userAgent: string;
  /** The network it asked from, approximately (the /24 of an IPv4 address, the /48 of an IPv6 one). */
  address?: string;
}

export interface ScanLoginRecord {
  /** SHA-256 (base64url) of the code's slot (its first 128 bits, naming its sign-in): the record's key. */
  slotHash: string;
  /** SHA-256 (base64url) of the whole code: the slot's current code, the only one it answers for. */
  codeHash: string;
  /** SHA-256 (base64url) of the binding secret the showing browser holds in a cookie. */
  bindingHash: string;
  /** The sign-in (OpenID interaction) the code completes. */
  interactionUid: string;
  clientId: string;
  /** The platform's name as the person will read it on the wallet's page. */
  clientName: string;
  browser: ScanLoginBrowser;
  /** Epoch seconds. */
  shownAt: number;
  /** Epoch seconds: after this the code neither confirms nor completes. */
  codeExpiresAt: number;
  state: ScanLoginState;
  /** The person (account id) who confirmed. */
  personId?: string;
  /**
   * When the wallet sign-in that confirmed was made (its token's `auth_time`, epoch seconds): the sign-in
   * this code completes is that one, not a new one, so the ID token's `auth_time` is this (review R39 M1).
   */
  authTime?: number;
  /**
   * The version of the confirming person's account, as the wallet read it when they confirmed (review
   * R47 F2): the sign-in this code completes names it (`version`, sign-in-results.ts), so that a takeover or
   * a reset saved after the confirmation ends it, even in the same second (`signInEndedBy`). Absent on a
   * record confirmed before it was kept (two minutes at most): then its time alone.
   */
  accountVersion?: number;
  /**
   * How recent the platform asked the sign-in to be (from its request, when the code was stored; with
   * `prompt=login`, when that request began): the wallet tells a person whose wallet sign-in is older to
   * sign in again before confirming. The showing browser checks the request itself again when completing.
   */
  recency?: SignInRecency;
}

/**
 * How recent a sign-in a platform asked for: `max_age` (seconds), and whether it sent `prompt=login`, with
 * when its sign-in request began (`requestedAt`).
 */
export interface SignInRecency {
  maxAge?: number;
  loginPrompted?: boolean;
  /**
   * With `loginPrompted`: when the sign-in request began (the OpenID interaction was made, epoch
   * seconds), the same for every code the sign-in shows. A wallet sign-in made then or later is one made
   * for this request (review R41 L2).
   */
  requestedAt?: number;
}

/**
 * Whether a wallet sign-in made at `authTime` meets `recency` at `nowSeconds`: no older than `maxAge`,
 * and with `prompt=login` made once the sign-in request began (`recency.requestedAt`; for a record
 * stored without it, once the code was shown, `shownAt`): an authentication for this sign-in, not one
 * from before it.
 *
 * Not "once this code was shown" (review R41 L2): a person sent to sign in to the wallet again takes the
 * time it takes, the code may run out meanwhile, and the next code is shown after that new sign-in; it
 * would then never do. Both times are whole seconds, and a sign-in made in the very second the request
 * began counts as made for it (`>=`): the seconds cannot order the two, and refusing it would refuse a
 * sign-in made at once; one made a second or more before the request is refused.
 */
export function recentEnough(
  recency: SignInRecency | undefined,
  shownAt: number,
  authTime: number,
  nowSeconds: number,
): boolean {
  if (recency?.maxAge !== undefined && nowSeconds - authTime > recency.maxAge) return false;
  return !(recency?.loginPrompted && authTime < (recency.requestedAt ?? shownAt));
}

/**
 * The recency a platform's authorization request asks for, from its `max_age` and `prompt`; with
 * `prompt=login`, `requestedAt`: when the request began (the interaction's `iat`, epoch seconds).
 */
export function recencyAsked(
  params: { max_age?: unknown; prompt?: unknown },
  requestedAt?: number,
): SignInRecency {
  const maxAge = Number(params.max_age);
  const loginPrompted = String(params.prompt ?? '')
    .split(' ')
    .includes('login');
  return {
    ...(params.max_age !== undefined && Number.isInteger(maxAge) && maxAge >= 0 ? { maxAge } : {}),
    ...(loginPrompted ? { loginPrompted } : {}),
    ...(loginPrompted && requestedAt !== undefined && Number.isInteger(requestedAt) ? { requestedAt } : {}),
  };
}

/**
 * Storage of scan-to-login codes, one record per sign-in, by the hash of the code's slot. Records outlive
 * their code for a while (so a late visitor is told the code expired rather than that it never existed),
 * never for long.
 */
export interface ScanLoginStore {
  /**
   * Stores the record in its slot, replacing the slot's record of another code unless that one was used
   * (`completed`); a ConflictError (and nothing written) when the slot holds this same code already, or a
   * used one. One conditional write: a sign-in has one record however many codes it was shown.
   */
  place(record: ScanLoginRecord, nowSeconds: number): Promise<void>;
  /** The slot's record, its code expired or not, while it is kept; nothing once it is gone or never was. */
  find(slotHash: string, nowSeconds: number): Promise<ScanLoginRecord | undefined>;
  /**
   * Moves the slot's record from `from` to `to` in one conditional write, only while it is still the
   * record of the code `codeHash` and that code is unexpired at `nowSeconds`, recording `personId` when
   * given: the record as written, or nothing when it was not at `from` (already confirmed, cancelled,
   * used), has expired or was replaced. Of two racing callers one wins. `authTime`, given with
   * `personId`, is recorded with it (when the confirming wallet's sign-in was made), and so is
   * `accountVersion` (the version of that person's account the confirmation read).
   */
  advance(
    slotHash: string,
    codeHash: string,
    from: ScanLoginState,
    to: ScanLoginState,
    nowSeconds: number,
    personId?: string,
    authTime?: number,
    accountVersion?: number,
  ): Promise<ScanLoginRecord | undefined>;
}

/** How long a code lives at most (API.md). */
export const maxScanLoginSeconds = 120;

/** The shape of a code in a URL: 256 bits in base64url. */
export const scanLoginCodePattern = /^[A-Za-z0-9_-]{43}$/;

const digest = (value: string | Uint8Array) => createHash('sha256').update(value).digest('base64url');

/** How many of a code's 32 bytes name its sign-in (its slot); the rest are random. */
const slotBytes = 16;
/** Bound into every slot's hash: a new way of deriving slots gets a new label. */
const slotLabel = 'elicence/scan-login-slot/v1';

/** The first bytes of every code of the sign-in `interactionUid`: a hash of its uid. */
function slotOfSignIn(interactionUid: string): Buffer {
  return createHash('sha256').update(`${slotLabel}\n${interactionUid}`).digest().subarray(0, slotBytes);
}

/** The key of a (well-formed) code's record: the SHA-256 of its slot bytes. */
function slotHashOf(code: string): string {
  return digest(Buffer.from(code, 'base64url').subarray(0, slotBytes));
}

/**
 * Whether `code` (well-formed) is one of the sign-in `interactionUid`'s: its slot names that sign-in. A
 * code of an older format, or of another sign-in, is not.
 */
export function codeOfSignIn(code: string, interactionUid: string): boolean {
  if (!scanLoginCodePattern.test(code)) return false;
  const slot = Buffer.from(code, 'base64url').subarray(0, slotBytes);
  return slot.length === slotBytes && slot.equals(slotOfSignIn(interactionUid));
}

/**
 * Why a code cannot be used: each gets its own clear page. `taken`: confirmed by another person's wallet
 * (the wallet says so to whoever comes second); `stale`: the wallet that confirmed signed in longer ago
 * than the platform accepts (`max_age`, `prompt=login`); `disowned`: the showing browser's person said
 * "not me" to the name it would be signed in as.
 */
export type ScanLoginProblem =
  'unknown' | 'expired' | 'used' | 'taken' | 'cancelled' | 'other_browser' | 'stale' | 'disowned';

const problemCode = (problem: ScanLoginProblem) => `scan_login_${problem}`;

/** The error of a code that cannot be used, by kind, with `problem` for the page. */
export function scanLoginError(problem: ScanLoginProblem): Error & { problem: ScanLoginProblem } {
  const message = {
    unknown: 'The scan-to-login code is not known',
    expired: 'The scan-to-login code has expired',
    used: 'The scan-to-login code has already been used',
    taken: 'The scan-to-login code was confirmed by another wallet',
    stale: 'The wallet that confirmed signed in longer ago than the platform accepts: sign in to it again',
    disowned: 'The scan-to-login sign-in was abandoned in the browser that showed it',
    cancelled: 'The scan-to-login request was refused in the wallet',
    other_browser: 'The scan-to-login code was shown in another browser',
  }[problem];
  const error =
    problem === 'unknown'
      ? new NotFoundError(message, problemCode(problem))
      : problem === 'other_browser' || problem === 'stale'
        ? new ForbiddenError(message, problemCode(problem))
        : new ConflictError(message, problemCode(problem));
  return Object.assign(error, { problem });
}

/** The problem a scan-to-login error stands for, or nothing for any other error. */
export function scanLoginProblemOf(error: unknown): ScanLoginProblem | undefined {
  const problem = (error as { problem?: unknown } | undefined)?.problem;
  return typeof problem === 'string' &&
    error instanceof Error &&
    /^scan_login_/.test(String((error as { code?: unknown }).code))
    ? (problem as ScanLoginProblem)
    : undefined;
}

/** What the showing browser keeps: the code (for the QR code and lookups) and the binding secret. */
export interface ShownCode {
  code: string;
  binding: string;
  /** Epoch seconds. */
  expiresAt: number;
}

/** Who confirmed a code: the person, and when their wallet sign-in was made (epoch seconds). */
export interface ScanApproval {
  personId: string;
  authTime: number;
  /** The version of their account the confirmation read (review R47 F2); absent on an older record. */
  accountVersion?: number;
}

/** What completing a sign-in finds: still waiting, or confirmed by `personId` (now used up). */
export type Redeemed = { state: 'pending'; expiresAt: number } | ({ state: 'confirmed' } & ScanApproval);

/** The showing browser's code as it stands, without using it up: waiting, or confirmed and by whom. */
export type Peeked =
  | { state: 'pending'; expiresAt: number }
  | ({ state: 'confirmed'; expiresAt: number; shownAt: number } & ScanApproval);

/**
 * The scan-to-login use cases, over a {@link ScanLoginStore}.
 *
 * @example
 * ```ts
 * const scan = new ScanLogins(store, clock, 120);
 * const shown = await scan.begin({ interactionUid, clientId, clientName, browser });
 * // the wallet, for a person at level 3:
 * await scan.confirm(code, personId, authTime); // authTime: the wallet token's auth_time
 * // the browser that showed it: who confirmed (peek), then, the person agreeing, used up (redeem)
 * const outcome = await scan.redeem({ code, binding, interactionUid }); // { state: 'confirmed', personId, authTime }
 * ```
 */
export class ScanLogins {
  readonly lifetimeSeconds: number;

  constructor(
    private readonly records: ScanLoginStore,
    private readonly clock: Clock,
    lifetimeSeconds: number = maxScanLoginSeconds,
  ) {
    this.lifetimeSeconds = Math.min(Math.max(1, Math.floor(lifetimeSeconds)), maxScanLoginSeconds);
  }

  /** A new code for a sign-in page, bound to the browser that will hold `binding`, stored at once. */
  async begin(input: {
    interactionUid: string;
    clientId: string;
    clientName: string;
    browser: ScanLoginBrowser;
  }): Promise<ShownCode> {
    const { code, binding } = this.fresh(input.interactionUid);
    const { expiresAt } = await this.store({ code, binding, ...input });
    return { code, binding, expiresAt };
  }

  /**
   * A new code of the sign-in `interactionUid` (its slot, then 128 random bits) and a binding, stored
   * nowhere yet: the sign-in page shows the code's link and sets the cookie; the code is stored
   * ({@link store}) only when its QR code is fetched, so a sign-in page costs no table write for a way of
   * signing in that most people do not use.
   */
  fresh(interactionUid: string): { code: string; binding: string } {
    const code = Buffer.concat([slotOfSignIn(interactionUid), randomBytes(32 - slotBytes)]);
    return { code: code.toString('base64url'), binding: randomBytes(32).toString('base64url') };
  }

  /**
   * Stores a {@link fresh} code for the sign-in `interactionUid`, its lifetime starting now, in that
   * sign-in's one record (replacing an earlier code of it, which then neither confirms nor completes);
   * the same code stored already for the same browser and sign-in (the QR code fetched again) is left as
   * it is. A code of another sign-in, or stored for another binding, used, refused or expired fails with
   * its problem.
   */
  async store(input: {
    code: string;
    binding: string;
    interactionUid: string;
    clientId: string;
    clientName: string;
    browser: ScanLoginBrowser;
    recency?: SignInRecency;
  }): Promise<{ state: 'pending' | 'confirmed'; expiresAt: number }> {
    if (!codeOfSignIn(input.code, input.interactionUid) || !scanLoginCodePattern.test(input.binding)) {
      throw scanLoginError('other_browser');
    }
    const now = epochSeconds(this.clock);
    const expiresAt = now + this.lifetimeSeconds;
    try {
      await this.records.place(
        {
          slotHash: slotHashOf(input.code),
          codeHash: digest(input.code),
          bindingHash: digest(input.binding),
          interactionUid: input.interactionUid,
          clientId: input.clientId,
          clientName: input.clientName.slice(0, 200),
          browser: {
            userAgent: input.browser.userAgent.slice(0, 120),
            ...(input.browser.address ? { address: input.browser.address.slice(0, 64) } : {}),
          },
          shownAt: now,
          codeExpiresAt: expiresAt,
          state: 'pending',
          ...(input.recency && (input.recency.maxAge !== undefined || input.recency.loginPrompted)
            ? { recency: input.recency }
            : {}),
        },
        now,
      );
      return { state: 'pending', expiresAt };
    } catch (error) {
      if (!(error instanceof ConflictError) || scanLoginProblemOf(error)) throw error;
      return this.peek(input);
    }
  }

  /**
   * The request a wallet is asked to confirm: a waiting, unexpired code, or the problem with it. A code
   * another person's wallet confirmed (or used) is `taken` for the person `personId`: they are told that
   * another wallet used it, not only that it was used (review R39 L1).
   */
  async pending(code: string, personId?: string): Promise<ScanLoginRecord> {
    const now = epochSeconds(this.clock);
    const record = await this.#find(code, now);
    if (record.state === 'cancelled') throw scanLoginError('cancelled');
    if (record.state !== 'pending') {
      const other = personId !== undefined && record.personId !== undefined && record.personId !== personId;
      throw scanLoginError(other ? 'taken' : 'used');
    }
    if (record.codeExpiresAt <= now) throw scanLoginError('expired');
    return record;
  }

  /**
   * The person `personId`, signed in to the wallet at level 3 (the caller's check) at `authTime` (their
   * wallet token's `auth_time`), confirms. Once. The sign-in it completes carries that `authTime`; a
   * wallet sign-in older than the platform asked for is `stale` (and the code stays waiting).
   * `accountVersion`, the version of the person's account the caller's check read, is recorded with it:
   * the sign-in it completes names it (review R47 F2).
   */
  async confirm(
    code: string,
    personId: string,
    authTime: number,
    accountVersion?: number,
  ): Promise<ScanLoginRecord> {
    return this.#advance(code, 'confirmed', {
      personId,
      authTime,
      ...(accountVersion !== undefined && { accountVersion }),
    });
  }

  /** The person refuses in the wallet: the code is dead, and the showing browser is told so. */
  async cancel(code: string, personId?: string): Promise<ScanLoginRecord> {
    return this.#advance(code, 'cancelled', personId);
  }

  /**
   * The showing browser asks how its code stands: still waiting, or confirmed (and then used up, so that
   * it completes one sign-in only). Anyone else, whatever code they present, learns nothing but
   * `other_browser`, and a code the wallet refused, that expired or was used fails with its problem.
   */
  async redeem(input: { code: string; binding: string; interactionUid: string }): Promise<Redeemed> {
    const now = epochSeconds(this.clock);
    const record = await this.#held(input, now);
    if (record.state === 'pending') return { state: 'pending', expiresAt: record.codeExpiresAt };
    const completed = await this.records.advance(
      record.slotHash,
      record.codeHash,
      'confirmed',
      'completed',
      now,
    );
    if (!completed?.personId || completed.authTime === undefined) throw scanLoginError('used');
    return {
      state: 'confirmed',
      personId: completed.personId,
      authTime: completed.authTime,
      ...(completed.accountVersion !== undefined && { accountVersion: completed.accountVersion }),
    };
  }

  /**
   * The showing browser's person says "not me" to whom a confirmed code would sign them in as: the code is
   * refused (`cancelled`), completes nothing, and the sign-in page can show a new one.
   */
  async disown(input: { code: string; binding: string; interactionUid: string }): Promise<void> {
    const now = epochSeconds(this.clock);
    const record = await this.#held(input, now);
    if (record.state !== 'confirmed') return;
    await this.records.advance(record.slotHash, record.codeHash, 'confirmed', 'cancelled', now);
  }

  /**
   * The showing browser's code as {@link redeem} would find it, without using it up: its state and
   * expiry, or the same problems.
   */
  async peek(input: { code: string; binding: string; interactionUid: string }): Promise<Peeked> {
    const record = await this.#held(input, epochSeconds(this.clock));
    if (record.state === 'pending') return { state: 'pending', expiresAt: record.codeExpiresAt };
    if (!record.personId || record.authTime === undefined) throw scanLoginError('used');
    return {
      state: 'confirmed',
      expiresAt: record.codeExpiresAt,
      shownAt: record.shownAt,
      personId: record.personId,
      authTime: record.authTime,
    };
  }

  /** The record of the showing browser's code, waiting or confirmed and unexpired, or its problem. */
  async #held(
    input: { code: string; binding: string; interactionUid: string },
    now: number,
  ): Promise<ScanLoginRecord> {
    const record = await this.#find(input.code, now);
    if (
      !constantTimeEqual(record.bindingHash, digest(input.binding)) ||
      record.interactionUid !== input.interactionUid
    ) {
      throw scanLoginError('other_browser');
    }
    if (record.state === 'cancelled') throw scanLoginError('cancelled');
    if (record.state === 'completed') throw scanLoginError('used');
    if (record.codeExpiresAt <= now) throw scanLoginError('expired');
    return record;
  }

  async #find(code: string, now: number): Promise<ScanLoginRecord> {
    if (!scanLoginCodePattern.test(code)) throw scanLoginError('unknown');
    const record = await this.records.find(slotHashOf(code), now);
    if (!record) throw scanLoginError('unknown');
    // The slot holds another code: a newer one of the same sign-in (its page was shown anew), or this is
    // no code at all, only a guess at the slot. Either way "unknown": answering "expired" would tell a
    // prober which sign-ins fetched a QR code, knowing only their uid (review R39, info).
    if (!constantTimeEqual(record.codeHash, digest(code))) throw scanLoginError('unknown');
    return record;
  }

  async #advance(
    code: string,
    to: 'confirmed' | 'cancelled',
    /** Who answers; confirming records them, with when their wallet signed in. */
    by?: string | ScanApproval,
  ): Promise<ScanLoginRecord> {
    const now = epochSeconds(this.clock);
    const personId = typeof by === 'string' ? by : by?.personId;
    const approval = typeof by === 'object' ? by : undefined;
    const record = await this.pending(code, personId);
    if (approval && !recentEnough(record.recency, record.shownAt, approval.authTime, now)) {
      throw scanLoginError('stale');
    }
    const moved = await this.records.advance(
      record.slotHash,
      record.codeHash,
      'pending',
      to,
      now,
      approval?.personId,
      approval?.authTime,
      approval?.accountVersion,
    );
    if (moved) return moved;
    // Lost a race, or expired in between: say which.
    return Promise.reject(
      await this.pending(code, personId).then(
        () => scanLoginError('used'),
        (error: unknown) => error,
      ),
    );
  }
}
