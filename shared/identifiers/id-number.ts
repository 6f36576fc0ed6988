import { InvalidInputError, type FieldError, type FieldErrorCode } from '../errors.js';
import { isForeignAlpha3, isForeignNumeric } from './nationality-codes.js';

const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const checkCharacters = '10X98765432';
/**
 * Province-level prefixes of mainland GB/T 2260 region codes: the first two digits of a resident ID
 * number's region, and the acceptance province of a foreigner's permanent residence ID card. Taiwan's
 * GB/T 2260 code 71 is not here: no ID number is issued under it (a Taiwan resident's residence permit
 * is 830000, below).
 */
const provinces = new Set([
  11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54, 61,
  62, 63, 64, 65,
]);

/**
 * The region codes of the residence permits for Hong Kong, Macao and Taiwan residents (港澳台居民居住证,
 * 2018): a number of the same form as a resident's, its region always one of these three.
 */
const residencePermitRegions = new Set(['810000', '820000', '830000']);

/**
 * Whether the first six characters of an 18-character number are a region an ID number can have: a
 * mainland province's, a residence permit's, or, for a foreigner's permanent residence ID card (外国人
 * 永久居留身份证, 2023 edition: `9`, the acceptance province, a three-digit nationality code), a `9` and
 * a province.
 */
function isIdRegion(first6: string): boolean {
  if (residencePermitRegions.has(first6)) return true;
  if (first6.startsWith('9'))
    return provinces.has(Number(first6.slice(1, 3))) && /^\d{3}$/.test(first6.slice(3));
  return /^\d{6}$/.test(first6) && provinces.has(Number(first6.slice(0, 2)));
}

/** Today's date in China (UTC+8, no daylight saving), `YYYYMMDD`: the day a birth date is compared with. */
function chinaToday(today: Date): string {
  return new Date(today.getTime() + 8 * 3_600_000).toISOString().slice(0, 10).replaceAll('-', '');
}

export type IdNumber = string & { readonly __brand: 'IdNumber' };

export class InvalidIdNumberError extends InvalidInputError {
  /** `fieldCode` says which rule failed, for pages to say it in their language (`errors[].code`). */
  constructor(
    message: string,
    fieldCode: FieldErrorCode = 'invalid_format',
    fieldParams?: FieldError['params'],
  ) {
    super(message, 'invalid_id_number', { fieldCode, ...(fieldParams ? { fieldParams } : {}) });
    this.name = 'InvalidIdNumberError';
  }
}

/** The ISO 7064 MOD 11-2 check character of the first 17 digits of a resident ID number. */
export function idNumberCheckCharacter(first17: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * (weights[i] ?? 0);
  return checkCharacters[sum % 11] ?? '';
}

/**
 * The 2017 edition's foreigner's permanent residence number (外国人永久居留证 / 外国人永久居留身份证, the
 * card issued 2017–2023 and still valid until its expiry; the 2004 card's number had the same form): 15
 * characters, three capital letters (the nationality, ISO 3166-1 alpha-3), four digits (the accepting
 * place, its first two the province, GB/T 2260), six digits (the birth date, `YYMMDD`), then two digits
 * (a sequence digit and a check digit).
 *
 * Sources (read 2026-12-08): the National Immigration Administration's adaptation notes for the 2023 card
 * (《新版外国人永久居留身份证适配性改造要点》, as republished at http://www.eastcoms.com/service/pro/840.html):
 * the number went "由 15 位（3 位拉丁字母+12 位数字）调整为 18 位", the three-letter country code becoming a
 * digit code; an insurer's 2017 specification (github.com/onlyliuxin/coding2017 issue 500): 15
 * characters, the birth date in characters 8–13 (`YY` then `MMDD`), only for non-Chinese nationals; the
 * sample `KAZ110090123105` quoted from the adaptation notes (blog.csdn.net/weixin_47180815/article/
 * details/134553563) and the layout of howardli/CredentialKit's ForeignerPermanentResidenceIdNumberProcessor
 * (letters, 4-digit place, `YYMMDD`, sex digit, check digit).
 *
 * The check digit is NOT verified: the only statement of its algorithm found is that library's (ICAO 9303
 * 7-3-1 weights, modulo 10, over the first 14 characters); the one published sample agrees, but no
 * official text was found, and a wrong algorithm would refuse nine real holders in ten.
 */
const foreign2017 = /^[A-Z]{3}\d{12}$/;

/** Whether `id` (canonical) is a 2017-edition foreigner's permanent residence number (15 characters). */
export function isForeign2017(id: string): boolean {
  return id.length === 15 && foreign2017.test(id);
}

/**
 * The last year a 2017-edition card was issued: the 2023 edition replaced it on 1 December 2023. Its
 * two-digit birth year is read as 20YY up to this year's `23`, else 19YY: no holder was born after 2023,
 * and one born 1900–1923 (103 or older) is the one read wrong, a century too young.
 */
const lastForeign2017Year = 23;

/**
 * The holder's birth date, `YYYYMMDD`, from a parsed number: characters 7 to 14 of an 18-character one;
 * of a 2017-edition foreigner's number its characters 8 to 13 (`YYMMDD`), the century as
 * {@link lastForeign2017Year} says.
 */
export function idNumberBirthDate(id: IdNumber | string): string {
  if (!isForeign2017(id)) return id.slice(6, 14);
  const yy = Number(id.slice(7, 9));
  return `${yy <= lastForeign2017Year ? '20' : '19'}${id.slice(7, 13)}`;
}

function refuseImpossibleBirthDate(birth: string, shown: string, today: Date): void {
  const year = Number(birth.slice(0, 4));
  const month = Number(birth.slice(4, 6));
  const day = Number(birth.slice(6, 8));
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) {
    throw new InvalidIdNumberError(`birth date ${shown} is not a date`, 'invalid_birth_date', {
      birthDate: shown,
    });
  }
  // Born on a day after today's in China: a number is issued on its holder's birth day there (review R60 F3).
  if (year < 1880 || birth > chinaToday(today)) {
    throw new InvalidIdNumberError(`birth date ${shown} is not a possible birth date`, 'invalid_birth_date', {
      birthDate: shown,
    });
  }
}

function refuseForeignNationality(code: string, valid: boolean): void {
  if (!valid)
    throw new InvalidIdNumberError(
      `nationality code ${code} is not an assigned ISO 3166-1 code of a country other than China`,
      'invalid_nationality',
      { nationality: code },
    );
}

/** Parses a 2017-edition foreigner's number (canonical, 15 characters): see {@link foreign2017}. */
function parseForeign2017(id: string, today: Date): IdNumber {
  if (!foreign2017.test(id)) {
    throw new InvalidIdNumberError(
      'a 15-character ID number (2017 foreigner’s permanent residence card) must be 3 letters followed by 12 digits',
    );
  }
  refuseForeignNationality(id.slice(0, 3), isForeignAlpha3(id.slice(0, 3)));
  if (!provinces.has(Number(id.slice(3, 5)))) {
    throw new InvalidIdNumberError(`region code ${id.slice(3, 7)} is not a region`, 'invalid_region', {
      region: id.slice(3, 7),
    });
  }
  refuseImpossibleBirthDate(idNumberBirthDate(id), id.slice(7, 13), today);
  return id as IdNumber;
}

/**
 * Parses a resident ID number (公民身份号码, GB 11643): a six-digit region code, a real calendar birth
 * date not after today's date in China, a three-digit sequence, and the ISO 7064 MOD 11-2 check
 * character (`x` is accepted and normalised to `X`). Each error names the rule that failed. Numbers of
 * the same form that serve as one (review R60 F2) are ID numbers too: the residence permits of Hong Kong,
 * Macao and Taiwan residents (810000, 820000, 830000) and the 2023 foreigner's permanent residence ID
 * card (`9`, a province, an ISO 3166-1 numeric nationality code other than China's, then birth date,
 * sequence and check as a resident's). So is the 2017 edition's 15-character number ({@link foreign2017}:
 * nationality letters, place, `YYMMDD`, two digits; lower-case letters normalised to capitals).
 *
 * @example
 * ```ts
 * parseIdNumber('11010519491231002x', new Date()); // '11010519491231002X'
 * parseIdNumber('kaz110090123105', new Date()); // 'KAZ110090123105'
 * ```
 */
export function parseIdNumber(input: string, today: Date): IdNumber {
  const id = input.trim().toUpperCase();
  // Letters first: a 2017 foreigner's card (a resident's number has digits only, but for its X).
  if (/^[A-Z]/.test(id)) {
    if (id.length !== 15)
      throw new InvalidIdNumberError(
        `ID number of a 2017 foreigner’s permanent residence card (letters first) must be 15 characters, not ${id.length}`,
        'invalid_length',
        { length: id.length, expected: 15 },
      );
    return parseForeign2017(id, today);
  }
  if (id.length !== 18)
    throw new InvalidIdNumberError(`ID number must be 18 characters, not ${id.length}`, 'invalid_length', {
      length: id.length,
    });
  if (!/^\d{17}[\dX]$/.test(id)) {
    throw new InvalidIdNumberError('ID number must be 17 digits followed by a digit or X');
  }
  if (!isIdRegion(id.slice(0, 6))) {
    throw new InvalidIdNumberError(`region code ${id.slice(0, 6)} is not a region`, 'invalid_region', {
      region: id.slice(0, 6),
    });
  }
  if (id.startsWith('9')) refuseForeignNationality(id.slice(3, 6), isForeignNumeric(id.slice(3, 6)));
  refuseImpossibleBirthDate(id.slice(6, 14), id.slice(6, 14), today);
  const check = idNumberCheckCharacter(id);
  if (id[17] !== check)
    throw new InvalidIdNumberError(`check character should be ${check}`, 'invalid_check_character', {
      expected: check,
    });
  return id as IdNumber;
}

/**
 * Whether `text`, which is no valid ID number, was most likely meant for one (rather than a credit code):
 * digits up to its 18th character (and throughout when longer), a province's region code first and, at 18
 * characters, a real birth date from 1880 in characters 7 to 14 (a foreigner's permanent residence
 * number, `9` first, only in full: 18 characters, a province after the 9 and such a date). A credit code
 * starts with its registering authority and kind (`91`, `Y1`, …), most of which are no province, and has
 * no date there. Judges the form only; {@link parseIdNumber} says what is wrong.
 *
 * @example
 * ```ts
 * meantAsIdNumber('11010519491231002Z'); // true: a Z typed for an X
 * meantAsIdNumber('91330100716105852Z'); // false: a credit code's 91, no province
 * ```
 */
export function meantAsIdNumber(text: string): boolean {
  const value = text.trim().toUpperCase();
  // Three letters and twelve digits: a 2017 foreigner's card's shape, which no credit code (18) has.
  if (isForeign2017(value)) return true;
  if (!/^\d+$/.test(value.length > 18 ? value : value.slice(0, 17))) return false;
  // A credit code often starts with 9 (its authority, 9 for the market regulator): a 9 is taken for a
  // foreigner's permanent residence number only in full, with its province and a birth date.
  if (value.startsWith('9')) {
    if (value.length !== 18 || !isIdRegion(value.slice(0, 6))) return false;
  } else {
    const first2 = Number(value.slice(0, 2));
    if (!provinces.has(first2) && ![81, 82, 83].includes(first2)) return false;
    if (value.length !== 18) return true;
  }
  const [year, month, day] = [value.slice(6, 10), value.slice(10, 12), value.slice(12, 14)].map(Number) as [
    number,
    number,
    number,
  ];
  const date = new Date(Date.UTC(year, month - 1, day));
  return year >= 1880 && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

/**
 * Whether the holder of `id` is younger than `years` on `today` (by the calendar date in China, UTC+8):
 * born on a date after the same day `years` years before. Someone born on 29 February comes of age on
 * 1 March in a common year. A 2017-edition foreigner's number's `YYMMDD` is read as {@link idNumberBirthDate} says.
 *
 * @example
 * ```ts
 * isYoungerThan(parseIdNumber('110105201501010012', today), 14, new Date('2026-12-06T00:00:00Z')); // true
 * ```
 */
export function isYoungerThan(id: IdNumber, years: number, today: Date): boolean {
  const china = new Date(today.getTime() + 8 * 3_600_000);
  const threshold = `${String(china.getUTCFullYear() - years).padStart(4, '0')}${String(china.getUTCMonth() + 1).padStart(2, '0')}${String(china.getUTCDate()).padStart(2, '0')}`;
  return idNumberBirthDate(id) > threshold;
}

/**
 * The display form, as signed into credentials (`hol.m`) and shown by every page and verifier: the region
 * code and the last four characters, e.g. `110105********002X`. A foreigner's permanent residence number
 * (`9`, the accepting province, a three-digit nationality code, …) keeps only `9` and the province,
 * `931***********0012`: its next three digits would tell every verifier the holder's nationality
 * (review R64-3). The province is what its division needs (`holderDivision`); 18 characters either way.
 * A 2017-edition foreigner's number (15 characters) keeps only its province, after three stars for the
 * letters, and its last two: `***11********05`.
 *
 * @example
 * ```ts
 * maskIdNumber(parseIdNumber('11010519491231002X', today)); // '110105********002X'
 * maskIdNumber(parseIdNumber('931840199001010012', today)); // '931***********0012'
 * maskIdNumber(parseIdNumber('KAZ110090123105', today)); // '***11********05'
 * ```
 */
export function maskIdNumber(id: IdNumber): string {
  // 2017 card: the province only (not the nationality letters, not the rest of the place), then the last
  // two (sequence and check; the last four would show the birth day). 15 characters.
  if (isForeign2017(id)) return `***${id.slice(3, 5)}********${id.slice(13)}`;
  const kept = id.startsWith('9') ? 3 : 6;
  return `${id.slice(0, kept)}${'*'.repeat(14 - kept)}${id.slice(14)}`;
}
