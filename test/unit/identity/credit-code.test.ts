import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ServiceError } from '../../../shared/errors.js';
import {
  creditCodeCheckCharacter,
  InvalidCreditCodeError,
  organisationCodeCheckCharacter,
  parseCreditCode,
} from '../../../shared/identifiers/credit-code.js';

const alphabet = '0123456789ABCDEFGHJKLMNPQRTUWXY';

const validCreditCode = fc
  .record({
    department: fc.constantFrom(...'159Y'),
    kind: fc.constantFrom(...'123'),
    region: fc.integer({ min: 100000, max: 899999 }),
    body: fc.string({ unit: fc.constantFrom(...alphabet), minLength: 8, maxLength: 8 }),
  })
  .map(({ department, kind, region, body }) => {
    const first17 = `${department}${kind}${region}${body}${organisationCodeCheckCharacter(body)}`;
    return first17 + creditCodeCheckCharacter(first17);
  });

describe('unified social credit code (GB 32100)', () => {
  it.each(['91330100716105852F', '9144030071526726XG', '91110000600037341L'])(
    'accepts the published code %s',
    (code) => expect(parseCreditCode(code)).toBe(code),
  );

  it('normalises lower case', () => {
    expect(parseCreditCode('91330100716105852f')).toBe('91330100716105852F');
  });

  it.each([
    ['9133010071610585', 'must be 18 characters, not 16'],
    ['91330100716105852I', 'character 18 (I) is not allowed'],
    ['913301A0716105852F', 'characters 3 to 8 must be a six-digit region code'],
    ['91330100716105862F', 'organisation code check character should be 0'],
    ['91330100716105852A', 'check character should be F'],
  ])('refuses %s: %s', (input, message) => {
    expect(() => parseCreditCode(input)).toThrow(InvalidCreditCodeError);
    expect(() => parseCreditCode(input)).toThrow(message);
  });

  it('accepts every generated valid code', () => {
    fc.assert(
      fc.property(validCreditCode, (code) => {
        expect(parseCreditCode(code)).toBe(code);
      }),
    );
  });

  it('refuses every single-character change of a valid code', () => {
    fc.assert(
      fc.property(
        validCreditCode,
        fc.nat(17),
        fc.constantFrom(...alphabet),
        (code, position, replacement) => {
          fc.pre(code[position] !== replacement);
          const changed = code.slice(0, position) + replacement + code.slice(position + 1);
          expect(() => parseCreditCode(changed)).toThrow(InvalidCreditCodeError);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('throws nothing but its own error on any input', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (input) => {
        try {
          parseCreditCode(input);
        } catch (error) {
          expect(error).toBeInstanceOf(ServiceError);
        }
      }),
    );
  });
});
