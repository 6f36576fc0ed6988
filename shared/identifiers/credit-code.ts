import { InvalidInputError, type FieldError, type FieldErrorCode } from '../errors.js';

/** The 31 characters of GB 32100 (no I, O, S, V, Z), in the order of their values 0..30. */
const alphabet = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
/** GB 11714 weights of the eight body characters of the embedded organisation code. */
const organisationWeights = [3, 7, 9, 10, 5, 8, 4, 2];

export type CreditCode = string & { readonly __brand: 'CreditCode' };

export class InvalidCreditCodeError extends InvalidInputError {
  /** `fieldCode` says which rule failed, for pages to say it in their language (`errors[].code`). */
  constructor(
    message: string,
    fieldCode: FieldErrorCode = 'invalid_format',
    fieldParams?: FieldError['params'],
  ) {
    super(message, 'invalid_credit_code', { fieldCode, ...(fieldParams ? { fieldParams } : {}) });
    this.name = 'InvalidCreditCodeError';
  }
}

/** The GB 32100 check character of the first 17 characters. */
export function creditCodeCheckCharacter(first17: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += alphabet.indexOf(first17[i] ?? '') * (weights[i] ?? 0);
  return alphabet[(31 - (sum % 31)) % 31] ?? '';
}

/** The GB 11714 check character of an organisation code's eight body characters. */
export function organisationCodeCheckCharacter(body: string): string {
  let sum = 0;
  for (let i = 0; i < 8; i++) sum += parseInt(body[i] ?? '', 36) * (organisationWeights[i] ?? 0);
  const check = 11 - (sum % 11);
  return check === 10 ? 'X' : check === 11 ? '0' : String(check);
}

/**
 * Parses a unified social credit code (统一社会信用代码, GB 32100): 18 characters of
 * `0-9A-HJ-NPQRTUWXY`, a six-digit region code, the embedded organisation code (GB 11714) with its own
 * check digit, and the MOD 31 check character. Lower case is accepted and normalised.
 *
 * @example
 * ```ts
 * parseCreditCode('91330100716105852f'); // '91330100716105852F'
 * parseCreditCode('91330100716105852A'); // throws: check character should be F
 * ```
 */
export function parseCreditCode(input: string): CreditCode {
  const code = input.trim().toUpperCase();
  if (code.length !== 18)
    throw new InvalidCreditCodeError(
      `credit code must be 18 characters, not ${code.length}`,
      'invalid_length',
      {
        length: code.length,
      },
    );
  for (const [i, c] of [...code].entries()) {
    if (!alphabet.includes(c)) {
      throw new InvalidCreditCodeError(`character ${i + 1} (${c}) is not allowed in a credit code`);
    }
  }
  if (!/^\d{6}$/.test(code.slice(2, 8))) {
    throw new InvalidCreditCodeError('characters 3 to 8 must be a six-digit region code', 'invalid_region');
  }
  const organisationCheck = organisationCodeCheckCharacter(code.slice(8, 16));
  if (code[16] !== organisationCheck) {
    throw new InvalidCreditCodeError(
      `organisation code check character should be ${organisationCheck}`,
      'invalid_check_character',
    );
  }
  const check = creditCodeCheckCharacter(code);
  if (code[17] !== check)
    throw new InvalidCreditCodeError(`check character should be ${check}`, 'invalid_check_character', {
      expected: check,
    });
  return code as CreditCode;
}
