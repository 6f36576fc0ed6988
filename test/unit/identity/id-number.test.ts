import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ServiceError } from '../../../shared/errors.js';
import {
  idNumberCheckCharacter,
  InvalidIdNumberError,
  maskIdNumber,
  parseIdNumber,
} from '../../../shared/identifiers/id-number.js';

const today = new Date('2026-11-22T00:00:00Z');

/** Valid resident ID numbers: a real province, a real date before today, any sequence, the right check. */
const validIdNumber = fc
  .record({
    province: fc.constantFrom('11', '31', '44', '51', '65', '81'),
    rest: fc.integer({ min: 0, max: 9999 }),
    birth: fc.date({
      min: new Date('1900-01-01T00:00:00Z'),
      max: new Date('2026-11-21T00:00:00Z'),
      noInvalidDate: true,
    }),
    sequence: fc.integer({ min: 0, max: 999 }),
  })
  .map(({ province, rest, birth, sequence }) => {
    const date = birth.toISOString().slice(0, 10).replaceAll('-', '');
    const first17 = `${province}${String(rest).padStart(4, '0')}${date}${String(sequence).padStart(3, '0')}`;
    return first17 + idNumberCheckCharacter(first17);
  });

describe('resident ID number (GB 11643)', () => {
  it('accepts a valid number and normalises a lower-case x', () => {
    expect(parseIdNumber('11010519491231002x', today)).toBe('11010519491231002X');
    expect(parseIdNumber(' 110105199003071239 ', today)).toBe('110105199003071239');
  });

  it.each([
    ['11010519491231002', 'must be 18 characters, not 17'],
    ['1101051949123100XX', 'must be 17 digits followed by a digit or X'],
    ['990105194912310021', 'region code 990105 is not a region'],
    ['110105194913310020', 'birth date 19491331 is not a date'],
    ['110105190002290020', 'birth date 19000229 is not a date'],
    ['110105203001010020', 'birth date 20300101 is not a possible birth date'],
    ['110105194912310021', 'check character should be X'],
  ])('refuses %s: %s', (input, message) => {
    expect(() => parseIdNumber(input, today)).toThrow(InvalidIdNumberError);
    expect(() => parseIdNumber(input, today)).toThrow(message);
  });

  it('masks all but the region code and the last four characters', () => {
    expect(maskIdNumber(parseIdNumber('11010519491231002X', today))).toBe('110105********002X');
  });

  it('accepts every generated valid number', () => {
    fc.assert(
      fc.property(validIdNumber, (id) => {
        expect(parseIdNumber(id, today)).toBe(id);
      }),
    );
  });

  it('refuses every single-character change of a valid number', () => {
    fc.assert(
      fc.property(
        validIdNumber,
        fc.nat(17),
        fc.constantFrom(...'0123456789X'),
        (id, position, replacement) => {
          fc.pre(id[position] !== replacement);
          const changed = id.slice(0, position) + replacement + id.slice(position + 1);
          expect(() => parseIdNumber(changed, today)).toThrow(InvalidIdNumberError);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('throws nothing but its own error on any input', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (input) => {
        try {
          parseIdNumber(input, today);
        } catch (error) {
          expect(error).toBeInstanceOf(ServiceError);
        }
      }),
    );
  });
});
