import { isIP } from 'node:net';
import { epochSeconds, type Clock } from '../clock.js';

/** One throttle counter as stored: consecutive failed logins and when the last one was counted. */
export interface AttemptCounter {
  failures: number;
  /** Epoch seconds. */
  lastFailureAt: number;
}

/**
 * Where throttle counters live. Reads treat a counter past its `expiresAt` as absent (the local
 * DynamoDB has no TTL and AWS deletes late). Every write is one conditional or atomic write of one item.
 */
export interface LoginAttemptStore {
  read(key: string, nowSeconds: number): Promise<AttemptCounter | undefined>;
  /**
   * Writes `next` only if the counter is still `expected` (absent or expired when `expected` is
   * undefined); false when another attempt changed it first. `expiresAt` is in epoch seconds.
   */
  replace(
    key: string,
    expected: AttemptCounter | undefined,
    next: AttemptCounter,
    expiresAt: number,
    nowSeconds: number,
  ): Promise<boolean>;
  /** Takes one failure back, atomically, if the counter is live and above zero. */
  forgiveOne(key: string, nowSeconds: number): Promise<void>;
  /** Forgets the counter. */
  clear(key: string): Promise<void>;
}

/**
 * How one kind of counter throttles: `freeFailures` consecutive failures cost nothing; from then on each
 * failure makes the next attempt wait `2^(failures - freeFailures)` seconds, at most `maxDelaySeconds`.
 * A counter with no failure for `windowSeconds` is forgotten.
 */
export interface ThrottlePolicy {
  freeFailures: number;
  maxDelaySeconds: number;
  windowSeconds: number;
}

/** Per account (the typed ID number): a person mistypes a few times; a guesser gets ~4 tries an hour. */
export const accountThrottle: ThrottlePolicy = { freeFailures: 5, maxDelaySeconds: 900, windowSeconds: 3600 };
/**
 * Per source address: looser, since a service hall or a carrier NAT puts many people behind one address,
 * but it stops one address from spraying a common password over many accounts.
 */
export const sourceThrottle: ThrottlePolicy = { freeFailures: 50, maxDelaySeconds: 300, windowSeconds: 3600 };

/** The wait after `failures` consecutive failures, in seconds. */
export function delayAfter(failures: number, policy: ThrottlePolicy): number {
  if (failures < policy.freeFailures) return 0;
  return Math.min(2 ** (failures - policy.freeFailures), policy.maxDelaySeconds);
}

/** Until when (epoch seconds) a counter blocks new attempts; at or before `lastFailureAt` means not at all. */
export function blockedUntil(counter: AttemptCounter | undefined, policy: ThrottlePolicy): number {
  const delay = counter ? delayAfter(counter.failures, policy) : 0;
  // No delay, no block, even if another container's clock put the last failure a little ahead of ours.
  return counter && delay > 0 ? counter.lastFailureAt + delay : 0;
}

/** A counter key for a source address: an IPv6 address counts by its /64, which one subscriber holds whole. */
export function sourceKey(source: string): string {
  const address = source
    .trim()
    .toLowerCase()
    .slice(0, 64)
    .replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');
  if (isIP(address) !== 6) return address || 'unknown';
  const [head = '', tail = ''] = address.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = address.includes('::')
    ? [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((group) => group.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

export interface ThrottleKey {
  kind: 'account' | 'source';
  key: string;
}

/** The outcome of asking to try a password. */
export type Admission =
  { admitted: true; keys: readonly ThrottleKey[] } | { admitted: false; retryAfterSeconds: number };

/** Attempts that lose the race for a counter this many times are answered "throttled". */
const MAX_CLAIM_ROUNDS = 5;

/**
 * Login throttling per account and per source address, with counters in the store.
 *
 * An attempt is counted as a failure *before* its password is checked (a conditional write on the
 * counter as read), and taken back when it succeeds. Counting afterwards would let a burst of parallel
 * guesses all pass the check before the first failure is written; counting first serialises them, so at
 * most `freeFailures` guesses ever run without a wait. A failed attempt thus costs exactly one write per
 * counter; a successful one a second write to take it back.
 *
 * @example
 * ```ts
 * const throttle = new LoginThrottle(store, clock);
 * const admission = await throttle.admit([{ kind: 'account', key: lookupKey }, { kind: 'source', key: sourceKey(ip) }]);
 * if (!admission.admitted) return { ok: false, reason: 'throttled', retryAfterSeconds: admission.retryAfterSeconds };
 * if (passwordOk) await throttle.succeeded(admission.keys);
 * ```
 */
export class LoginThrottle {
  constructor(
    private readonly store: LoginAttemptStore,
    private readonly clock: Clock,
    private readonly policies: Record<ThrottleKey['kind'], ThrottlePolicy> = {
      account: accountThrottle,
      source: sourceThrottle,
    },
  ) {}

  /** Checks every counter and, when none blocks, counts this attempt on each of them. */
  async admit(keys: readonly ThrottleKey[]): Promise<Admission> {
    const outcomes = await Promise.all(keys.map((key) => this.#claim(key)));
    const waits = outcomes.filter((wait): wait is number => wait !== undefined);
    if (waits.length > 0) return { admitted: false, retryAfterSeconds: Math.max(...waits) };
    return { admitted: true, keys };
  }

  /** The password was right: the account's counter starts over; the source only gets this attempt back. */
  async succeeded(keys: readonly ThrottleKey[]): Promise<void> {
    const now = epochSeconds(this.clock);
    await Promise.all(
      keys.map((key) =>
        key.kind === 'account'
          ? this.store.clear(storageKey(key))
          : this.store.forgiveOne(storageKey(key), now),
      ),
    );
  }

  /** How long `key` blocks right now, in whole seconds (0: not blocked). */
  async retryAfter(key: ThrottleKey): Promise<number> {
    const now = epochSeconds(this.clock);
    const counter = await this.store.read(storageKey(key), now);
    return Math.max(0, blockedUntil(counter, this.policies[key.kind]) - now);
  }

  /** Counts one attempt on `key`; undefined when counted, else the seconds to wait. */
  async #claim(key: ThrottleKey): Promise<number | undefined> {
    const policy = this.policies[key.kind];
    const id = storageKey(key);
    for (let round = 0; round < MAX_CLAIM_ROUNDS; round++) {
      const now = epochSeconds(this.clock);
      const counter = await this.store.read(id, now);
      const until = blockedUntil(counter, policy);
      if (until > now) return until - now;
      const next = { failures: (counter?.failures ?? 0) + 1, lastFailureAt: now };
      if (await this.store.replace(id, counter, next, now + policy.windowSeconds, now)) return undefined;
    }
    // Contended this hard, the counter is being hammered: the attacker waits, not the store.
    return 1;
  }
}

function storageKey(key: ThrottleKey): string {
  return `${key.kind}#${key.key}`;
}
