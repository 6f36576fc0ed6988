import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ServiceError } from '../../../shared/errors.js';
import {
  creditCodeCheckCharacter,
  organisationCodeCheckCharacter,
} from '../../../shared/identifiers/credit-code.js';
import {
  formatLicenceId,
  InvalidLicenceIdError,
  licenceIdRoot,
  mod3736CheckCharacter,
  parseLicenceId,
} from '../../../shared/identifiers/licence-id.js';

const alphanumeric = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const creditCodeAlphabet = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const issuer = '91330100716105852F';

const validCreditCode = fc
  .record({
    prefix: fc.constantFrom('11', '12', '51', '91', '92', '93'),
    region: fc.integer({ min: 110000, max: 659999 }),
    body: fc.string({ unit: fc.constantFrom(...creditCodeAlphabet), minLength: 8, maxLength: 8 }),
  })
  .map(({ prefix, region, body }) => {
    const first17 = `${prefix}${region}${body}${organisationCodeCheckCharacter(body)}`;
    return first17 + creditCodeCheckCharacter(first17);
  });

const validParts = fc.record({
  typeCode: fc.integer({ min: 0, max: 999 }).map((n) => String(n).padStart(3, '0')),
  issuerCreditCode: validCreditCode,
  serial: fc.oneof(fc.nat(100_000), fc.maxSafeNat()),
  version: fc.integer({ min: 1, max: 999 }),
});

/** The positions of an id's alphanumeric characters after the fixed root. */
const variablePositions = (id: string) =>
  [...id].flatMap((c, i) => (i > licenceIdRoot.length && c !== '.' ? [i] : []));

const refused = (input: string) => {
  try {
    parseLicenceId(input);
    return false;
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidLicenceIdError);
    return true;
  }
};

describe('ISO 7064 MOD 37,36', () => {
  it('gives the check character of the ISO 7064 example', () => {
    expect(mod3736CheckCharacter('A12425GABC1234002')).toBe('M');
  });

  // Identifiers issued under GB/T 36904 (national type codes of 21 characters): the check covers what
  // follows the root, dots skipped.
  it.each([
    ['11100000000013338W011.11430000006122244L.20230000403.002', 'S'],
    ['11100000000013338W011.11430000006122244L.20230000403.001', 'U'],
    ['11100000000013338W087.11370800MB28559184.37080001202411010001.001', '3'],
    ['11100000000013338W009.11330105002500287C.2025052201.002', '0'],
  ])('agrees with the published licence id %s.%s', (body, check) => {
    expect(mod3736CheckCharacter(body)).toBe(check);
    expect(mod3736CheckCharacter(body.toLowerCase())).toBe(check);
  });
});

describe('licence identifier (GB/T 36904 shape)', () => {
  it('writes the root, the parts, an unpadded serial, a three-digit version and the check', () => {
    expect(formatLicenceId({ typeCode: '001', issuerCreditCode: issuer, serial: 42, version: 1 })).toBe(
      '1.2.156.3005.2.001.91330100716105852F.42.001.D',
    );
    expect(formatLicenceId({ typeCode: '003', issuerCreditCode: issuer, serial: 0, version: 12 })).toMatch(
      /^1\.2\.156\.3005\.2\.003\.91330100716105852F\.0\.012\.[0-9A-Z]$/,
    );
  });

  it('parses, normalising case and surrounding space', () => {
    expect(parseLicenceId(' 1.2.156.3005.2.001.91330100716105852f.42.001.d ')).toEqual({
      id: '1.2.156.3005.2.001.91330100716105852F.42.001.D',
      typeCode: '001',
      issuerCreditCode: issuer,
      serial: 42,
      version: 1,
      check: 'D',
    });
  });

  it.each([
    ['1.2.156.3005.1.001.91330100716105852F.42.001.D', 'must start with 1.2.156.3005.2.'],
    ['1.2.156.3005.2.001.91330100716105852F.42.D', 'must have five parts after the root'],
    ['1.2.156.3005.2.01.91330100716105852F.42.001.D', 'type code must be three digits'],
    ['1.2.156.3005.2.001.91330100716105852A.42.001.D', 'issuer credit code: check character should be F'],
    ['1.2.156.3005.2.001.9133010071610585.42.001.D', 'issuer credit code: credit code must be 18 characters'],
    [
      '1.2.156.3005.2.001.91330100716105852F.042.001.D',
      'serial must be decimal digits without leading zeros',
    ],
    ['1.2.156.3005.2.001.91330100716105852F.4A.001.D', 'serial must be decimal digits'],
    ['1.2.156.3005.2.001.91330100716105852F.9007199254740992.001.D', 'serial must be a safe integer'],
    ['1.2.156.3005.2.001.91330100716105852F.42.000.D', 'version must be three digits from 001'],
    ['1.2.156.3005.2.001.91330100716105852F.42.1.D', 'version must be three digits from 001'],
    ['1.2.156.3005.2.001.91330100716105852F.42.001.*', 'check must be one character of 0-9A-Z'],
    ['1.2.156.3005.2.001.91330100716105852F.42.001.E', 'check character should be D'],
    [`1.2.156.3005.2.001.91330100716105852F.${'1'.repeat(40)}.001.D`, 'at most 64 characters'],
  ])('refuses %s: %s', (input, message) => {
    expect(() => parseLicenceId(input)).toThrow(InvalidLicenceIdError);
    expect(() => parseLicenceId(input)).toThrow(message);
  });

  it.each([
    [{ typeCode: '1', serial: 1, version: 1 }, 'type code must be three digits'],
    [{ typeCode: '001', serial: -1, version: 1 }, 'serial must be a non-negative safe integer'],
    [{ typeCode: '001', serial: 1.5, version: 1 }, 'serial must be a non-negative safe integer'],
    [{ typeCode: '001', serial: 1, version: 0 }, 'version must be an integer from 1 to 999'],
    [{ typeCode: '001', serial: 1, version: 1000 }, 'version must be an integer from 1 to 999'],
  ])('refuses to format %o: %s', (parts, message) => {
    expect(() => formatLicenceId({ issuerCreditCode: issuer, ...parts })).toThrow(message);
  });

  it('round-trips every generated identifier', () => {
    fc.assert(
      fc.property(validParts, (parts) => {
        const id = formatLicenceId(parts);
        expect(parseLicenceId(id)).toEqual({ id, ...parts, check: id.slice(-1) });
        expect(parseLicenceId(id.toLowerCase()).id).toBe(id);
      }),
    );
  });

  it('refuses every single-character change after the root', () => {
    fc.assert(
      fc.property(validParts, fc.nat(), fc.constantFrom(...alphanumeric), (parts, pick, replacement) => {
        const id = formatLicenceId(parts);
        const positions = variablePositions(id);
        const position = positions[pick % positions.length]!;
        fc.pre(id[position] !== replacement);
        expect(refused(id.slice(0, position) + replacement + id.slice(position + 1))).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });

  it('catches nearly all transpositions of adjacent distinct characters', () => {
    // A hybrid ISO 7064 system catches every substitution but not every transposition: whether a swap
    // is caught depends on the running check state. Swaps inside the issuer code also meet its own check.
    const swaps = fc.sample(
      fc.tuple(validParts, fc.nat()).map(([parts, pick]) => {
        const id = formatLicenceId(parts);
        const pairs = variablePositions(id).filter((i) => id[i + 1] !== '.' && i + 1 < id.length);
        const i = pairs[pick % pairs.length]!;
        return { id, swapped: id.slice(0, i) + id[i + 1] + id[i] + id.slice(i + 2) };
      }),
      { numRuns: 8_000, seed: 36 },
    );
    const distinct = swaps.filter(({ id, swapped }) => id !== swapped);
    const missed = distinct.filter(({ swapped }) => !refused(swapped));
    expect(distinct.length).toBeGreaterThan(6_000);
    expect(missed.length / distinct.length).toBeLessThan(0.005);
  });

  it('documents a transposition the check misses', () => {
    // Version 1 and version 10 of serial 102 share a check character: versions stay sequential per
    // licence, and the store, not the check, decides which versions exist.
    const id = formatLicenceId({ typeCode: '003', issuerCreditCode: issuer, serial: 102, version: 1 });
    const swapped = formatLicenceId({ typeCode: '003', issuerCreditCode: issuer, serial: 102, version: 10 });
    expect(id.slice(-1)).toBe(swapped.slice(-1));
  });

  it('throws nothing but its own error on any input', () => {
    const nearlyIds = fc
      .array(fc.string({ unit: fc.constantFrom(...'0123456789.AFXz '), maxLength: 20 }), { maxLength: 7 })
      .map((parts) => `${licenceIdRoot}.${parts.join('.')}`);
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 80 }), nearlyIds), (input) => {
        try {
          parseLicenceId(input);
        } catch (error) {
          expect(error).toBeInstanceOf(ServiceError);
          expect((error as ServiceError).code).toBe('invalid_licence_id');
        }
      }),
    );
  });
});
