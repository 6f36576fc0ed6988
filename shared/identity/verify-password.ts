import type { Clock } from '../clock.js';
import type { Mac } from '../crypto/mac.js';
import { logger } from '../logger.js';
import type { AccountStore } from './account-store.js';
import { parseIdNumber, type IdNumber } from '../identifiers/id-number.js';
import { LoginThrottle, loginThrottleKeys, type LoginAttemptStore } from './login-throttle.js';
import { personLookupKey } from '../identifiers/lookup-key.js';
import { maxPasswordLength, type PasswordHasher } from './password-hasher.js';
import { idNumberEncryptionContext, type PersonAccount } from './person-account.js';
import type { PiiCipher } from './pii-cipher.js';

export interface VerifyPasswordInput {
  /** The ID number as typed (any case, surrounding spaces allowed). */
  idNumber: string;
  password: string;
  /** The client's address (API Gateway's `requestContext.http.sourceIp`), for per-source throttling. */
  source: string;
}

export type VerifyPasswordResult =
  | { ok: true; account: PersonAccount }
  | { ok: false; reason: 'invalid_credentials' | 'throttled'; retryAfterSeconds?: number };

export interface VerifyPasswordDependencies {
  accounts: AccountStore;
  passwords: PasswordHasher;
  loginAttempts: LoginAttemptStore;
  lookupMac: Mac;
  clock: Clock;
}

/** Longest typed ID number that is looked at at all (a real one has 18 characters). */
const maxTypedIdLength = 64;

/**
 * The lookup key of what was typed: the account's own key for a well-formed number, else a key of the
 * raw text in a separate domain, which no account has. Either way one MAC, so a malformed number takes
 * the same path, and the same time, as an unknown or a wrong one.
 */
async function attemptKey(mac: Mac, typed: string, today: Date): Promise<{ key: string; valid: boolean }> {
  let id: IdNumber;
  try {
    id = parseIdNumber(typed, today);
  } catch {
    const raw = typed.trim().toUpperCase().slice(0, maxTypedIdLength);
    const bytes = await mac.mac(new TextEncoder().encode(`elicence/login-attempt/malformed\0${raw}`));
    return { key: `malformed-${Buffer.from(bytes).toString('base64url')}`, valid: false };
  }
  return { key: await personLookupKey(mac, id), valid: true };
}

/**
 * Checks a person's password for the login page, with throttling, such that an unknown number, a
 * malformed one and a wrong password give the same answer (`invalid_credentials`) after the same work:
 * one MAC, the throttle counters, one account read, and one scrypt — against the account's hash, or
 * against a dummy hash of the same parameters when there is no account.
 *
 * Throttling counts per (typed number, source address) pair, per typed number (a high ceiling for a guess
 * spread over many addresses) and per source address (a loose one for a spray over many numbers); the
 * number by its lookup key, whether or not an account has it, the address by a keyed digest. See
 * {@link LoginThrottle} and {@link loginThrottleKeys}. A throttled attempt checks no password, so it cannot confirm a
 * guess; it answers `throttled` with the seconds to wait.
 *
 * @example
 * ```ts
 * const result = await verifyPassword({ idNumber: username, password, source: sourceIp }, deps);
 * if (result.ok) await interactionFinished({ login: { accountId: result.account.id } });
 * else showLoginError(result.reason === 'throttled' ? retryIn(result.retryAfterSeconds) : wrongCredentials);
 * ```
 */
export async function verifyPassword(
  input: VerifyPasswordInput,
  deps: VerifyPasswordDependencies,
): Promise<VerifyPasswordResult> {
  const { key, valid } = await attemptKey(deps.lookupMac, input.idNumber, new Date(deps.clock.now()));
  const throttle = new LoginThrottle(deps.loginAttempts, deps.clock);
  const admission = await throttle.admit(await loginThrottleKeys(deps.lookupMac, key, input.source));
  if (!admission.admitted) {
    logger.info('login throttled', { retryAfterSeconds: admission.retryAfterSeconds });
    return { ok: false, reason: 'throttled', retryAfterSeconds: admission.retryAfterSeconds };
  }

  const account = await deps.accounts.findByLookupKey(key);
  // An over-long password cannot be anyone's (registration refuses it); hash a bounded stand-in so
  // that neither its length nor its refusal shows in the time taken.
  const tooLong =
    input.password.length > 2 * maxPasswordLength || [...input.password].length > maxPasswordLength;
  const candidate = tooLong ? input.password.slice(0, maxPasswordLength) : input.password;
  const matches = await deps.passwords.verify(candidate, account?.passwordHash ?? deps.passwords.dummyHash());
  if (!matches || !account || !valid || tooLong) {
    logger.info('login failed', { reason: 'invalid_credentials' });
    return { ok: false, reason: 'invalid_credentials' };
  }

  await throttle.succeeded(admission.keys, admission.counted);
  logger.info('login succeeded', { accountId: account.id });
  return { ok: true, account: await rehashIfWeak(account, input.password, deps) };
}

/** After a good login, a hash made with weaker parameters is replaced; a lost race keeps the old one. */
async function rehashIfWeak(
  account: PersonAccount,
  password: string,
  deps: VerifyPasswordDependencies,
): Promise<PersonAccount> {
  if (!deps.passwords.needsRehash(account.passwordHash)) return account;
  try {
    return await deps.accounts.save({ ...account, passwordHash: await deps.passwords.hash(password) });
  } catch (error) {
    logger.warn('password rehash not saved', { accountId: account.id, error: String(error) });
    return account;
  }
}

/**
 * The account behind the provider's `accountId`, or undefined (unknown or not a person's id).
 *
 * @example
 * ```ts
 * const account = await findPersonById(ctx.oidc.session.accountId, deps);
 * ```
 */
export function findPersonById(
  id: string,
  deps: { accounts: AccountStore },
): Promise<PersonAccount | undefined> {
  return deps.accounts.findById(id);
}

/**
 * The person's ID number in clear, for the `id_number` claim only (one KMS Decrypt, which CloudTrail
 * records). Never log or store what it returns.
 *
 * @example
 * ```ts
 * if (entitled && scopes.has('idcard')) claims.id_number = await personIdNumber(account, deps);
 * ```
 */
export async function personIdNumber(
  account: Pick<PersonAccount, 'id' | 'idNumberEncrypted'>,
  deps: { pii: PiiCipher },
): Promise<IdNumber> {
  const clear = await deps.pii.decrypt(account.idNumberEncrypted, idNumberEncryptionContext(account.id));
  return clear as IdNumber;
}
