import type { FieldError } from '../errors.js';
/**
 * Hashes and checks passwords with a deliberately slow, memory-hard function. Encoded hashes carry
 * their own parameters, so the cost can be raised later without invalidating stored hashes.
 */
export interface PasswordHasher {
  /** A new encoded hash with a fresh random salt and the current parameters. */
  hash(password: string): Promise<string>;
  /**
   * True when `password` matches `encoded`, compared in constant time. Throws when `encoded` is not a
   * hash this hasher can check (a corrupted or tampered record), rather than answering either way.
   */
  verify(password: string, encoded: string): Promise<boolean>;
  /** True when `encoded` uses weaker parameters than the current ones (rehash after a good login). */
  needsRehash(encoded: string): boolean;
  /**
   * An encoded hash with the current parameters that no password matches: checked when there is no
   * account, so that a missing account costs the same work as a wrong password.
   */
  dummyHash(): string;
}

/** Shortest password accepted (NIST SP 800-63B §3.1.1.2). */
export const minPasswordLength = 8;
/** Longest password accepted: bounds the work an attacker can make one hash cost. */
export const maxPasswordLength = 128;

/**
 * Why a password is refused for a new account, or undefined when it is acceptable. Length counts
 * Unicode code points. No composition rules (they make passwords worse); only the ID number itself is
 * refused, being the one secret-looking value an attacker already has.
 *
 * @example
 * ```ts
 * passwordProblem('short', idNumber); // 'must be 8 to 128 characters'
 * ```
 */
export function passwordProblem(password: string, idNumber?: string): string | undefined {
  return passwordRuleBroken(password, idNumber)?.message;
}

/**
 * {@link passwordProblem} with the stable code of the rule broken (`errors[].code`), for pages to say it
 * in their language.
 *
 * @example
 * ```ts
 * passwordRuleBroken('short'); // { message: 'must be 8 to 128 characters', code: 'too_short', params: { minimum: 8, maximum: 128 } }
 * ```
 */
export function passwordRuleBroken(
  password: string,
  idNumber?: string,
): Omit<FieldError, 'path'> | undefined {
  const length = [...password].length;
  if (length < minPasswordLength || length > maxPasswordLength) {
    return {
      message: `must be ${minPasswordLength} to ${maxPasswordLength} characters`,
      code: length < minPasswordLength ? 'too_short' : 'too_long',
      params: { minimum: minPasswordLength, maximum: maxPasswordLength },
    };
  }
  if (password.trim().length === 0) return { message: 'must not be only spaces', code: 'required' };
  if (idNumber && password.toUpperCase().includes(idNumber.slice(0, -1))) {
    return { message: 'must not contain the ID number', code: 'contains_id_number' };
  }
  return undefined;
}
