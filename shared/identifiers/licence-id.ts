import { licenceIdRoot } from '../../packages/verifier/src/licence-id.js';
import { InvalidInputError } from '../errors.js';
import { parseCreditCode, type CreditCode } from './credit-code.js';

/**
 * The OID arc of electronic licences (GB/T 36904): every licence identifier starts with it. Defined by
 * the verifier package, which reads ids and may import nothing of the service's.
 */
export { licenceIdRoot };

/** ISO 7064 MOD 37,36 works over these 36 characters, in the order of their values 0..35. */
const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const modulus = 36;

/** Our type codes are three digits: see {@link formatLicenceId}. */
const typeCodePattern = /^\d{3}$/;
/** Decimal without leading zeros, so each serial has exactly one spelling (the id is a table key). */
const serialPattern = /^(0|[1-9]\d*)$/;
const versionPattern = /^\d{3}$/;
const maxVersion = 999;

export type LicenceId = string & { readonly __brand: 'LicenceId' };

export interface LicenceIdParts {
  /** The licence type's three-digit code from the catalogue, e.g. `001`. */
  typeCode: string;
  /** The issuing agency's unified social credit code. */
  issuerCreditCode: string;
  /** The issuer's serial number for this licence: a non-negative safe integer. */
  serial: number;
  /** The edition of the licence, from 1 (a re-issue after a change gets the next version). */
  version: number;
}

export interface ParsedLicenceId extends LicenceIdParts {
  id: LicenceId;
  issuerCreditCode: CreditCode;
  check: string;
}

export class InvalidLicenceIdError extends InvalidInputError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'invalid_licence_id', options);
    this.name = 'InvalidLicenceIdError';
  }
}

/**
 * The ISO 7064 MOD 37,36 check character (hybrid system, alphabet `0-9A-Z`) of `chars`. Characters
 * outside the alphabet, such as the dots of a licence identifier, are skipped; lower case counts as
 * upper case. A string followed by its check character has the hybrid checksum 1.
 *
 * Hybrid systems catch every single-character substitution and most, but not all, transpositions of
 * adjacent characters (whether a swap is caught depends on the running state, not on the pair alone).
 *
 * @example
 * ```ts
 * mod3736CheckCharacter('A12425GABC1234002'); // 'M' (the ISO 7064 example)
 * ```
 */
export function mod3736CheckCharacter(chars: string): string {
  // Hybrid system (ISO 7064 §10): P starts at M; for each character S = (P + a) mod M, with 0 read
  // as M, and P = 2S mod (M + 1). The check character a makes the final (P + a) mod M equal 1.
  let p = modulus;
  for (const c of chars.toUpperCase()) {
    const value = alphabet.indexOf(c);
    if (value < 0) continue;
    const s = (p + value) % modulus || modulus;
    p = (s * 2) % (modulus + 1);
  }
  return alphabet[(modulus + 1 - p) % modulus] ?? '';
}

/**
 * Writes a licence identifier in the GB/T 36904 shape
 * `1.2.156.3005.2.<type code>.<issuer credit code>.<serial>.<version>.<check>`.
 *
 * - The national type code is the defining authority's credit code followed by a three-digit
 *   sequence; this platform is the only defining authority of its catalogue, so the type code is the
 *   three-digit sequence alone (`typeCode` of the catalogue entry).
 * - The serial is written in decimal **without padding**: unbounded by a width, and with one spelling
 *   per number, so parsing and formatting round-trip exactly.
 * - The version is three digits (`001`..`999`).
 * - The check character is ISO 7064 MOD 37,36 over the alphanumeric characters after the fixed root
 *   `1.2.156.3005.2`, as identifiers issued under GB/T 36904 compute it (the root is the same in every
 *   identifier, so it adds nothing to the check).
 *
 * @example
 * ```ts
 * formatLicenceId({ typeCode: '001', issuerCreditCode: '91330100716105852F', serial: 42, version: 1 });
 * // '1.2.156.3005.2.001.91330100716105852F.42.001.D'
 * ```
 */
export function formatLicenceId(parts: LicenceIdParts): LicenceId {
  if (!typeCodePattern.test(parts.typeCode)) {
    throw new InvalidLicenceIdError('type code must be three digits');
  }
  const issuer = issuerCode(parts.issuerCreditCode);
  if (!Number.isSafeInteger(parts.serial) || parts.serial < 0) {
    throw new InvalidLicenceIdError('serial must be a non-negative safe integer');
  }
  if (!Number.isInteger(parts.version) || parts.version < 1 || parts.version > maxVersion) {
    throw new InvalidLicenceIdError(`version must be an integer from 1 to ${maxVersion}`);
  }
  const body = `${parts.typeCode}.${issuer}.${parts.serial}.${String(parts.version).padStart(3, '0')}`;
  return `${licenceIdRoot}.${body}.${mod3736CheckCharacter(body)}` as LicenceId;
}

/**
 * Parses a licence identifier written by {@link formatLicenceId}: the root, a three-digit type code, a
 * valid issuer credit code, an unpadded decimal serial, a three-digit version from `001`, and the MOD
 * 37,36 check character. Surrounding space is ignored and lower case normalised. Each error names the
 * rule that failed.
 *
 * @example
 * ```ts
 * parseLicenceId('1.2.156.3005.2.001.91330100716105852f.42.001.d');
 * // { id: '1.2.156.3005.2.001.91330100716105852F.42.001.D', typeCode: '001', serial: 42, version: 1, … }
 * parseLicenceId('1.2.156.3005.2.001.91330100716105852F.42.001.A'); // throws: check character should be D
 * ```
 */
export function parseLicenceId(input: string): ParsedLicenceId {
  const id = input.trim().toUpperCase();
  // Bounded before splitting: root 14 + type 3 + credit code 18 + serial 16 + version 3 + check 1 + dots.
  if (id.length > 64) throw new InvalidLicenceIdError('licence id must be at most 64 characters');
  if (!id.startsWith(`${licenceIdRoot}.`)) {
    throw new InvalidLicenceIdError(`licence id must start with ${licenceIdRoot}.`);
  }
  const segments = id.slice(licenceIdRoot.length + 1).split('.');
  if (segments.length !== 5) {
    throw new InvalidLicenceIdError(
      'licence id must have five parts after the root: type code, issuer credit code, serial, version, check',
    );
  }
  const [typeCode = '', issuer = '', serialText = '', versionText = '', check = ''] = segments;
  if (!typeCodePattern.test(typeCode)) throw new InvalidLicenceIdError('type code must be three digits');
  const issuerCreditCode = issuerCode(issuer);
  if (!serialPattern.test(serialText)) {
    throw new InvalidLicenceIdError('serial must be decimal digits without leading zeros');
  }
  const serial = Number(serialText);
  if (!Number.isSafeInteger(serial)) throw new InvalidLicenceIdError('serial must be a safe integer');
  if (!versionPattern.test(versionText) || versionText === '000') {
    throw new InvalidLicenceIdError('version must be three digits from 001');
  }
  if (!/^[0-9A-Z]$/.test(check)) throw new InvalidLicenceIdError('check must be one character of 0-9A-Z');
  const expected = mod3736CheckCharacter(`${typeCode}${issuerCreditCode}${serialText}${versionText}`);
  if (check !== expected) throw new InvalidLicenceIdError(`check character should be ${expected}`);
  return {
    id: id as LicenceId,
    typeCode,
    issuerCreditCode,
    serial,
    version: Number(versionText),
    check,
  };
}

/** The issuer part must itself be a valid credit code; its own error becomes ours, naming the part. */
function issuerCode(input: string): CreditCode {
  try {
    return parseCreditCode(input);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new InvalidLicenceIdError(`issuer credit code: ${reason}`, { cause: error });
  }
}
