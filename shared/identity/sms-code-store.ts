/** One pending SMS code as stored: never the code itself, only its keyed hash. */
export interface StoredSmsCode {
  /** Keyed hash (HMAC) of the code, bound to the code's key. */
  codeMac: string;
  /** Tries counted so far, this one included when returned by {@link SmsCodeStore.countTry}. */
  tries: number;
  /** Epoch seconds after which the code is dead. */
  expiresAt: number;
  /** When the code was asked for (epoch seconds; 0 for a code stored without it), kept by `consume`. */
  requestedAt: number;
}

/**
 * Where pending SMS codes live, one per key (a keyed digest of purpose, person and phone: no ID number or
 * phone number in clear). Contract: `put` replaces the code of the key (its tries start over) unless that
 * code was requested later than this one (`requestedAt`, epoch seconds; a code stored without it counts as
 * earlier), and says whether it did, one conditional write under concurrency; each stored code has tries
 * of its own, so a replacing code starts at none (even one requested in the same second);
 * `countTry` counts one try atomically on a live code that has tries left and returns it as counted, or
 * nothing (absent, expired, or out of tries): so concurrent guesses never get more than `maxTries` between
 * them; `consume` deletes the code only if it is still the one `countTry` returned (its hash and request
 * time) and live, exactly once under concurrency, and from then on `put` refuses a code requested before
 * the one used or with it (a job of an earlier request, run late, must not leave a working code once the
 * proof is done); a used code's request time that no real use leaves (one not before its own expiry, or an
 * expiry later than the code being put's by more than a minute) is ignored, so that whoever can write it
 * blocks no code for good. Reads treat a code past its `expiresAt` as absent.
 * Given `whenNone`, a `countTry` with no
 * code to count on (absent, expired, out of tries) counts the try on a placeholder counter of the key
 * instead (expiring at `whenNone.expiresAt`, as many tries at most), so that it does the same work as a try
 * on a live code and a guess cannot tell by its cost whether a code was stored; it still returns nothing.
 *
 * Who calls what: `put` is the sender's alone (the `sms-codes` function); the code check (`countTry`,
 * `consume`) neither creates nor changes a code, so an adapter must not need the right to write one for
 * it (the DynamoDB adapter counts tries on an item apart, docs/security.md).
 */
export interface SmsCodeStore {
  put(key: string, code: { codeMac: string; expiresAt: number; requestedAt: number }): Promise<boolean>;
  countTry(
    key: string,
    maxTries: number,
    nowSeconds: number,
    whenNone?: { expiresAt: number },
  ): Promise<StoredSmsCode | undefined>;
  consume(key: string, code: Omit<StoredSmsCode, 'tries'>, nowSeconds: number): Promise<boolean>;
}
