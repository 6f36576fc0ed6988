import type { Clock } from '../clock.js';
import type { Mac } from '../crypto/mac.js';
import { ForbiddenError, TooManyRequestsError } from '../errors.js';
import { logger } from '../logger.js';
import { acrOf, assuranceLevelOf, signedInLevel } from './assurance.js';
import { LoginThrottle, loginThrottleKeys, type LoginAttemptStore } from './login-throttle.js';
import { maxPasswordLength, type PasswordHasher } from './password-hasher.js';
import type { PersonAccount } from './person-account.js';

/**
 * What a change that opens or closes a way into an account asks beyond a token (closing the account,
 * enrolling or removing a passkey): a sign-in made just now at the account's level, and the password typed
 * again in the request itself. A token left in a browser, a refresh token, or a session someone walked
 * away from does neither.
 */

/**
 * How recent the sign-in behind the token must be to close the account: ten minutes after `auth_time`,
 * time to read the confirmation page, not enough for a token left in a browser, a stolen refresh token
 * (a refreshed token keeps its sign-in's `auth_time`) or a session someone walked away from.
 */
export const closureFreshSeconds = 600;

/** The sign-in behind the caller's token: its `acr` and `auth_time` (epoch seconds), as the token carries them. */
export interface SignInProof {
  acr: string | undefined;
  authTime: number | undefined;
}

/**
 * Whether `proof` is a fresh sign-in at the account's own level: `auth_time` within
 * {@link closureFreshSeconds}, and an `acr` at least the level the account reached. Anything less is
 * 403 `fresh_sign_in_required`, which says how to get one (`acr_values` and `max_age=0`: the provider then
 * asks for the password, and the step-up, again).
 */
export function requireFreshSignIn(
  account: PersonAccount,
  proof: SignInProof,
  nowSeconds: number,
  /** What the fresh sign-in is for, as the refusal names it. */
  action = 'Closing the account',
): void {
  const level = assuranceLevelOf(account);
  const fresh =
    proof.authTime !== undefined &&
    proof.authTime <= nowSeconds + 60 &&
    nowSeconds - proof.authTime <= closureFreshSeconds;
  if (!fresh || signedInLevel(account, proof.acr) < level) {
    throw new ForbiddenError(
      `${action} needs a sign-in of the last ${closureFreshSeconds / 60} minutes at ${acrOf(level)}: ` +
        `sign in again with acr_values=${acrOf(level)} and max_age=0`,
      'fresh_sign_in_required',
    );
  }
}

/** What checking a password typed again needs: the hasher and the sign-in's throttle. */
export interface PasswordAgainDependencies {
  passwords: PasswordHasher;
  loginAttempts: LoginAttemptStore;
  lookupMac: Mac;
  clock: Clock;
}

/**
 * The password typed again, checked against the account's hash under the sign-in's own counters per number
 * and per (number, address) pair: a stolen token must not become a way round the sign-in's limit on
 * guessing. Not the per-address counter: closures come from the wallet's servers, so that counter would be
 * one for every wallet user, and a few accounts of an attacker's failing on purpose would keep everyone
 * from closing theirs (review R12); a guess at a closure needs a fresh sign-in of that very account, so
 * no spray over many accounts is left for it to slow. Wrong: 403 `wrong_password` (`refusal` says what
 * was not done); too many: 429. Closing an account and enrolling or removing a passkey ask it alike.
 */
export async function requirePasswordAgain(
  account: PersonAccount,
  proof: { password: string; source: string },
  deps: PasswordAgainDependencies,
  refusal = 'nothing was closed',
): Promise<void> {
  const throttle = new LoginThrottle(deps.loginAttempts, deps.clock);
  const keys = await loginThrottleKeys(deps.lookupMac, account.lookupKey, proof.source);
  const admission = await throttle.admit(keys.filter((key) => key.kind !== 'source'));
  if (!admission.admitted) {
    throw new TooManyRequestsError(
      `Too many wrong passwords; try again in ${admission.retryAfterSeconds} seconds`,
      admission.retryAfterSeconds,
    );
  }
  const long = [...proof.password].length > maxPasswordLength;
  if (long || !(await deps.passwords.verify(proof.password, account.passwordHash))) {
    logger.info('password typed again refused', { accountId: account.id });
    throw new ForbiddenError(`The password is not the account’s: ${refusal}`, 'wrong_password');
  }
  await throttle.succeeded(admission.keys, admission.counted);
}
