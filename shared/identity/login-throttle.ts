import { createHmac } from 'node:crypto';
import { isIP } from 'node:net';
import { epochSeconds, type Clock } from '../clock.js';
import type { Mac } from '../crypto/mac.js';

/** One throttle counter as stored: consecutive failed logins and when the last one was counted. */
export interface AttemptCounter {
  failures: number;
  /** Epoch seconds. */
  lastFailureAt: number;
}

/** One counter of a {@link LoginAttemptStore.claimAll}: written as `next` only if still `expected`. */
export interface CounterClaim {
  key: string;
  /** The counter as this attempt believes it is; undefined: absent or expired. */
  expected: AttemptCounter | undefined;
  next: AttemptCounter;
  /** Epoch seconds. */
  expiresAt: number;
}

/**
 * What a {@link LoginAttemptStore.claimAll} did: every counter written, or none, and then what each counter
 * that was not as expected is now (by its index in the claims; undefined: absent or expired). A counter
 * missing from `current` was as expected, or its claim lost to a concurrent write it cannot see.
 */
export type ClaimOutcome =
  { claimed: true } | { claimed: false; current: ReadonlyMap<number, AttemptCounter | undefined> };

/**
 * One counter a success settles in {@link LoginAttemptStore.forgiveAll}: cleared (`clear`), or one failure
 * taken back as {@link LoginAttemptStore.forgiveOne} does. `failures` is what the caller last knew the
 * counter to hold (the attempt's own claim), a hint that saves a round; unknown is taken as one.
 */
export interface CounterForgiveness {
  key: string;
  clear: boolean;
  failures?: number;
}

/**
 * Where throttle counters live. Reads treat a counter past its `expiresAt` as absent (the local
 * DynamoDB has no TTL and AWS deletes late). Every write is one conditional or atomic write: of one item,
 * or of several at once, all or none ({@link claimAll}, {@link forgiveAll}; a DynamoDB transaction).
 */
export interface LoginAttemptStore {
  read(key: string, nowSeconds: number): Promise<AttemptCounter | undefined>;
  /**
   * {@link replace} on every claim at once, all or none: one round trip however many counters. On refusal,
   * says what the refusing counters hold now, so that the next round needs no read.
   */
  claimAll(claims: readonly CounterClaim[], nowSeconds: number): Promise<ClaimOutcome>;
  /**
   * After a success, clears or forgives (as {@link forgiveOne}) each counter, atomically per counter, in
   * one round trip when the hints are right (they are, unless another attempt counted in between).
   */
  forgiveAll(entries: readonly CounterForgiveness[], nowSeconds: number): Promise<void>;
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
  /**
   * Takes one failure back, atomically, if the counter is live and above zero; a counter left with no
   * failure is removed (it blocks nothing and counts nothing, and the next attempt can then claim it with
   * one write, see {@link LoginThrottle.admit}).
   */
  forgiveOne(key: string, nowSeconds: number): Promise<void>;
  /** Forgets the counter. */
  clear(key: string): Promise<void>;
  /**
   * Adds one failure at `nowSeconds`, atomically, however many add at once: a live counter goes up by
   * one (its expiry moved to `expiresAt`), an absent or expired one starts at one. For counters without a
   * leak, counted after the fact (client authentication).
   */
  countFailure(key: string, nowSeconds: number, expiresAt: number): Promise<void>;
  /**
   * Adds `amount` (0 or more) failures, atomically, in one unconditional write whatever the amount and
   * whether the counter exists: an absent one is created with `amount` (its `lastFailureAt` and
   * `expiresAt` set once, at creation). For counters of a fixed period (the key names it) that a caller
   * writes the same way whether or not there is a failure to count, so that the write tells nothing.
   */
  addFailures(key: string, amount: number, nowSeconds: number, expiresAt: number): Promise<void>;
}

/**
 * How one kind of counter throttles: `freeFailures` failures cost nothing; from then on each failure
 * makes the next attempt wait `2^(failures - freeFailures)` seconds, at most `maxDelaySeconds`.
 *
 * Without `leakSeconds` the failures are consecutive: a counter with no failure for `windowSeconds` is
 * forgotten. With it the counter is a leaky bucket: one failure drains away every `leakSeconds`, so a
 * steady trickle below that rate never adds up (many people's typos behind one address, or a patient
 * attacker's few guesses a day), and `windowSeconds` only bounds how long the item is kept.
 */
export interface ThrottlePolicy {
  freeFailures: number;
  maxDelaySeconds: number;
  windowSeconds: number;
  leakSeconds?: number;
}

/**
 * Per (account, source address) pair, the main counter: a person mistypes a few times; a guesser from one
 * address gets 5 free tries, then 1, 2, 4… s waits up to 15 minutes (about 15 tries in the first hour,
 * then 4 an hour). It blocks only that pair: the owner signing in from elsewhere is not affected.
 */
export const pairThrottle: ThrottlePolicy = { freeFailures: 5, maxDelaySeconds: 900, windowSeconds: 3600 };

/**
 * Per account (the typed number's lookup key) whatever the address: the ceiling on a guess spread over
 * many addresses. It drains 12 failures an hour (one per 5 minutes), faster than the 4 an hour a
 * single address keeps up past its pair's first burst of about 15, so no single address ever fills its
 * 50 free failures and locks the owner out; only many addresses together do, and then the waits grow
 * to 15 minutes for everyone using a password on that account (see docs/security.md: stronger factors).
 */
export const accountThrottle: ThrottlePolicy = {
  freeFailures: 50,
  maxDelaySeconds: 900,
  windowSeconds: 6 * 3600,
  leakSeconds: 300,
};

/**
 * Per source address, whatever the account: slows a password spray (one address, many accounts, each
 * pair fresh). Loose, since a service hall or a carrier NAT puts many people behind one address: it
 * drains 60 failures an hour on top of 100 free, and its wait never exceeds a minute, so a shared
 * address is at worst slowed, never locked. A sprayer keeps about 60 guesses an hour per address.
 */
export const sourceThrottle: ThrottlePolicy = {
  freeFailures: 100,
  maxDelaySeconds: 60,
  windowSeconds: 3 * 3600,
  leakSeconds: 60,
};

/**
 * Registrations per source address: each answers whether a number has an account (409), so an address
 * gets 50 an hour, then a growing wait up to 5 minutes.
 */
export const registrationThrottle: ThrottlePolicy = {
  freeFailures: 50,
  maxDelaySeconds: 300,
  windowSeconds: 3600,
};

/**
 * Appointments checked against the population registry per legal representative (their number's lookup
 * key): each says whether a name goes with an ID number (`registry_mismatch` or 201), so a representative
 * gets 30 free, drained one per 10 minutes, then a growing wait up to an hour. An agency appointing its
 * clerks is never slowed; testing a list of names against numbers is.
 */
export const appointmentThrottle: ThrottlePolicy = {
  freeFailures: 30,
  maxDelaySeconds: 3600,
  windowSeconds: 24 * 3600,
  leakSeconds: 600,
};

/**
 * Failed client authentications per (client id, source address) at the token, introspection and
 * revocation endpoints: a client's software that got its secret wrong a few times is not stopped; a
 * guesser waits as on the login page. Per pair only: a ceiling per client would let anyone stop a
 * platform's sign-ins, and a generated secret (256 bits) is not guessed anyway.
 */
export const clientThrottle: ThrottlePolicy = { freeFailures: 5, maxDelaySeconds: 900, windowSeconds: 3600 };

/** The wait after `failures` failures, in seconds. */
export function delayAfter(failures: number, policy: ThrottlePolicy): number {
  const whole = Math.floor(failures + 1e-9);
  if (whole < policy.freeFailures) return 0;
  return Math.min(2 ** (whole - policy.freeFailures), policy.maxDelaySeconds);
}

/** The failures a counter holds at `now`: as stored, or less what has leaked away since. */
export function liveFailures(
  counter: AttemptCounter | undefined,
  policy: ThrottlePolicy,
  now: number,
): number {
  if (!counter) return 0;
  if (!policy.leakSeconds) return counter.failures;
  const leaked = Math.max(0, now - counter.lastFailureAt) / policy.leakSeconds;
  // Rounded to a thousandth, so that the stored value (a DynamoDB number) reads back exactly.
  return Math.max(0, Math.round((counter.failures - leaked) * 1000) / 1000);
}

/**
 * Until when (epoch seconds) a counter blocks new attempts: its last failure plus the wait that failure
 * earned; at or before `lastFailureAt` means not at all.
 */
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

/**
 * A source address as a counter key: a keyed digest (HMAC-SHA-256) of its {@link sourceKey}, since an
 * address is personal data too and the table should not list who tried to sign in from where. The HMAC
 * key is derived from the lookup MAC key once per container, so a login costs no extra KMS call.
 */
export async function sourceDigest(mac: Mac, source: string): Promise<string> {
  let key = digestKeys.get(mac);
  if (!key) {
    key = mac.mac(new TextEncoder().encode('elicence/throttle/source-digest-key')).then(Buffer.from);
    key.catch(() => digestKeys.delete(mac));
    digestKeys.set(mac, key);
  }
  return createHmac('sha256', await key)
    .update(sourceKey(source))
    .digest()
    .subarray(0, 16)
    .toString('base64url');
}

const digestKeys = new WeakMap<Mac, Promise<Buffer>>();

/**
 * The counters of a password sign-in: the (account, source) pair, the account's ceiling and the source's
 * spray counter. `lookupKey` is the typed number's lookup key, never the number.
 */
export async function loginThrottleKeys(mac: Mac, lookupKey: string, source: string): Promise<ThrottleKey[]> {
  const from = await sourceDigest(mac, source);
  return [
    { kind: 'pair', key: `${lookupKey}.${from}` },
    { kind: 'account', key: lookupKey },
    { kind: 'source', key: from },
  ];
}

/** What a counter counts; each kind has its own policy and its own key prefix in the table. */
export type ThrottleKind = 'pair' | 'account' | 'source' | 'registration' | 'client' | 'appointment';

export interface ThrottleKey {
  kind: ThrottleKind;
  key: string;
}

/** One counter an admitted attempt was counted on, as the attempt wrote it (what `succeeded` gives back). */
export interface CountedAttempt {
  key: ThrottleKey;
  after: AttemptCounter;
}

/** The outcome of asking to try a password. */
export type Admission =
  | { admitted: true; keys: readonly ThrottleKey[]; counted: readonly CountedAttempt[] }
  | { admitted: false; retryAfterSeconds: number };

const defaultPolicies: Record<ThrottleKind, ThrottlePolicy> = {
  pair: pairThrottle,
  account: accountThrottle,
  source: sourceThrottle,
  registration: registrationThrottle,
  client: clientThrottle,
  appointment: appointmentThrottle,
};

/** Counters that a success starts over; the others (shared with other people) only get it back. */
const clearedOnSuccess: ReadonlySet<ThrottleKind> = new Set(['pair', 'client']);

/** Attempts that lose the race for a counter this many times are answered "throttled". */
const MAX_CLAIM_ROUNDS = 5;

/**
 * Login throttling on several counters at once (for a password: the pair, the account and the source;
 * see {@link loginThrottleKeys}), kept in the store.
 *
 * An attempt is counted as a failure *before* its password is checked (a conditional write on each
 * counter as known), and taken back when it succeeds. Counting afterwards would let a burst of parallel
 * guesses all pass the check before the first failure is written; counting first serialises them, so at
 * most `freeFailures` guesses ever run without a wait. The counters are claimed together, in one
 * transaction (all or none), and taken back together in another: a failed attempt that met no counter
 * costs one call, a successful one two, however many counters.
 *
 * An attempt refused by any counter is counted on none (the transaction writes nothing): otherwise an
 * attacker whose own pair is blocked would keep filling the account's ceiling with refused attempts, and
 * lock its owner out after all.
 *
 * @example
 * ```ts
 * const throttle = new LoginThrottle(store, clock);
 * const admission = await throttle.admit(await loginThrottleKeys(mac, lookupKey, sourceIp));
 * if (!admission.admitted) return { ok: false, reason: 'throttled', retryAfterSeconds: admission.retryAfterSeconds };
 * if (passwordOk) await throttle.succeeded(admission.keys, admission.counted);
 * ```
 */
export class LoginThrottle {
  readonly #policies: Record<ThrottleKind, ThrottlePolicy>;

  constructor(
    private readonly store: LoginAttemptStore,
    private readonly clock: Clock,
    policies: Partial<Record<ThrottleKind, ThrottlePolicy>> = {},
  ) {
    this.#policies = { ...defaultPolicies, ...policies };
  }

  /**
   * Checks every counter and, when none blocks, counts this attempt on each of them, all in one
   * transaction ({@link LoginAttemptStore.claimAll}). Most attempts meet no counter (a success clears or
   * forgives it away): the first round claims each by creating it, which only an absent (or expired)
   * counter lets through, so such an attempt costs one call and no read. A counter that exists, blocked or
   * not, refuses the whole claim and comes back with the refusal (nothing is written); when one blocks, the
   * attempt is refused, counted nowhere; otherwise the next round claims from what came back (a parallel
   * attempt in between only costs another round, and past {@link MAX_CLAIM_ROUNDS} the attempt waits).
   */
  async admit(keys: readonly ThrottleKey[]): Promise<Admission> {
    const known: Array<AttemptCounter | undefined> = keys.map(() => undefined);
    for (let round = 0; round < MAX_CLAIM_ROUNDS; round++) {
      const now = epochSeconds(this.clock);
      const waiting = keys
        .map((key, i) => Math.max(0, blockedUntil(known[i], this.#policies[key.kind]) - now))
        .filter((wait) => wait > 0);
      if (waiting.length > 0) return { admitted: false, retryAfterSeconds: Math.max(...waiting) };
      const claims = keys.map((key, i): CounterClaim => {
        const policy = this.#policies[key.kind];
        return {
          key: storageKey(key),
          expected: known[i],
          next: { failures: liveFailures(known[i], policy, now) + 1, lastFailureAt: now },
          expiresAt: now + policy.windowSeconds,
        };
      });
      const outcome = await this.store.claimAll(claims, now);
      if (outcome.claimed) {
        return {
          admitted: true,
          keys,
          counted: keys.map((key, i) => ({ key, after: claims[i]!.next })),
        };
      }
      for (const [i, current] of outcome.current) known[i] = current;
    }
    // Contended this hard, the counters are being hammered: the attacker waits, not the store.
    return { admitted: false, retryAfterSeconds: 1 };
  }

  /**
   * Checks `key` without counting anything: for credentials no one can guess online (client secrets are
   * 256-bit MACs), whose failures are counted after the fact by {@link failed}. One read; `hadFailures`
   * says whether a success has a counter to clear.
   */
  async check(key: ThrottleKey): Promise<{ retryAfterSeconds: number; hadFailures: boolean }> {
    const now = epochSeconds(this.clock);
    const counter = await this.store.read(storageKey(key), now);
    return {
      retryAfterSeconds: Math.max(0, blockedUntil(counter, this.#policies[key.kind]) - now),
      hadFailures: counter !== undefined,
    };
  }

  /**
   * Counts one failure on `key` after the fact (see {@link check}): an atomic add for a counter that does
   * not leak, so a burst of parallel failures counts every one (security review: a read-and-replace gave
   * up under contention and undercounted); a leaking counter is claimed as usual.
   */
  async failed(key: ThrottleKey): Promise<void> {
    const policy = this.#policies[key.kind];
    if (!policy.leakSeconds) {
      const now = epochSeconds(this.clock);
      await this.store.countFailure(storageKey(key), now, now + policy.windowSeconds);
      return;
    }
    await this.#claim(key, undefined, { evenIfBlocked: true });
  }

  /**
   * The credential was right: a pair's (or client's) counter starts over; counters shared with other
   * people (the account's ceiling, the source's) only get this attempt back. One transaction
   * ({@link LoginAttemptStore.forgiveAll}); `counted` (the admission's) tells it what each counter holds.
   */
  async succeeded(keys: readonly ThrottleKey[], counted: readonly CountedAttempt[] = []): Promise<void> {
    const now = epochSeconds(this.clock);
    const left = new Map(counted.map(({ key, after }) => [storageKey(key), after.failures]));
    await this.store.forgiveAll(
      keys.map((key) => {
        const id = storageKey(key);
        const failures = left.get(id);
        return {
          key: id,
          clear: clearedOnSuccess.has(key.kind),
          ...(failures === undefined ? {} : { failures }),
        };
      }),
      now,
    );
  }

  /** How long `key` blocks right now, in whole seconds (0: not blocked). */
  async retryAfter(key: ThrottleKey): Promise<number> {
    const now = epochSeconds(this.clock);
    const counter = await this.store.read(storageKey(key), now);
    return Math.max(0, blockedUntil(counter, this.#policies[key.kind]) - now);
  }

  /**
   * Counts one attempt on `key`: the counter as written, or else the seconds to wait. `first` is
   * the counter as just read, for the first round.
   */
  async #claim(
    key: ThrottleKey,
    first?: { counter: AttemptCounter | undefined; now: number },
    options: { evenIfBlocked?: boolean } = {},
  ): Promise<CountedAttempt | number> {
    const policy = this.#policies[key.kind];
    const id = storageKey(key);
    for (let round = 0; round < MAX_CLAIM_ROUNDS; round++) {
      const now = round === 0 && first ? first.now : epochSeconds(this.clock);
      const counter = round === 0 && first ? first.counter : await this.store.read(id, now);
      const until = blockedUntil(counter, policy);
      if (until > now && !options.evenIfBlocked) return until - now;
      const next = { failures: liveFailures(counter, policy, now) + 1, lastFailureAt: now };
      if (await this.store.replace(id, counter, next, now + policy.windowSeconds, now)) {
        return { key, after: next };
      }
    }
    // Contended this hard, the counter is being hammered: the attacker waits, not the store.
    return 1;
  }
}

function storageKey(key: ThrottleKey): string {
  return `${key.kind}#${key.key}`;
}

/**
 * The store's id of a throttle counter (what {@link LoginAttemptStore.read} is asked for), for a caller
 * that reads the counter ahead together with other items of the request (the token endpoint's).
 *
 * @example
 * ```ts
 * counterId({ kind: 'client', key: 'demo.3fa…' }); // 'client#demo.3fa…'
 * ```
 */
export const counterId = storageKey;
