import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CborTag,
  cborToJson,
  decodeCbor,
  encodeCbor,
  maxCborDepth,
  type CborValue,
} from '../../../packages/verifier/src/cbor.js';
import { FormatError } from '../../../packages/verifier/src/errors.js';

const hex = (value: string) => Uint8Array.from(Buffer.from(value.replaceAll(' ', ''), 'hex'));
const toHex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

describe('the CBOR subset: deterministic encoding (RFC 8949 §4.2.1)', () => {
  it.each<[CborValue, string]>([
    [0, '00'],
    [23, '17'],
    [24, '1818'],
    [255, '18ff'],
    [256, '190100'],
    [65_536, '1a00010000'],
    [4_294_967_296, '1b0000000100000000'],
    [Number.MAX_SAFE_INTEGER, '1b001fffffffffffff'],
    [-1, '20'],
    [-25, '3818'],
    [-65_537, '3a00010000'],
    [1.5, 'fb3ff8000000000000'],
    ['', '60'],
    ['IETF', '6449455446'],
    ['水', '63e6b0b4'],
    [Uint8Array.of(1, 2, 3, 4), '4401020304'],
    [[1, [2, 3]], '8201820203'],
    [false, 'f4'],
    [true, 'f5'],
    [null, 'f6'],
    [new CborTag(18, []), 'd280'],
  ])('encodes %o as %s (RFC 8949 Appendix A) and decodes it back', (value, encoded) => {
    expect(toHex(encodeCbor(value))).toBe(encoded);
    expect(decodeCbor(hex(encoded))).toEqual(value);
  });

  it('sorts map keys by their encoded bytes, whatever order they were given in', () => {
    const map = new Map<number | string, CborValue>([
      ['b', 1],
      [-1, 2],
      [10, 3],
      ['a', 4],
      [100, 5],
    ]);
    // 10 (0a) < 100 (1864) < -1 (20) < "a" (6161) < "b" (6162)
    expect(toHex(encodeCbor(map))).toBe('a50a0318640520026161046162' + '01');
    expect(toHex(encodeCbor({ b: 1, a: 2 }))).toBe(toHex(encodeCbor({ a: 2, b: 1 })));
  });

  it('round-trips JSON-like data', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 5 }), (value) => {
        const normalised = JSON.parse(JSON.stringify(value)) as unknown;
        fc.pre(!JSON.stringify(normalised).includes('e+') && !hasUnsafeInteger(normalised));
        expect(cborToJson(decodeCbor(encodeCbor(normalised as never)))).toEqual(normalised);
      }),
    );
  });
});

function hasUnsafeInteger(value: unknown): boolean {
  if (typeof value === 'number') return Number.isInteger(value) && !Number.isSafeInteger(value);
  if (Array.isArray(value)) return value.some(hasUnsafeInteger);
  if (value && typeof value === 'object') return Object.values(value).some(hasUnsafeInteger);
  return false;
}

describe('the CBOR subset: strict decoding', () => {
  it.each([
    ['1817', 'a non-shortest integer'],
    ['5801ff', 'a non-shortest length'],
    ['9f01ff', 'an indefinite-length array'],
    ['5f41ffff', 'an indefinite-length byte string'],
    ['a2616201616101', 'unsorted map keys'],
    ['a2616101616102', 'a duplicate map key'],
    ['a1f401', 'a map key that is neither integer nor text'],
    ['0000', 'trailing bytes'],
    ['', 'nothing'],
    ['62c328', 'text that is not UTF-8'],
    ['f7', 'undefined'],
    ['f0', 'a simple value'],
    ['f93c00', 'a half float'],
    ['fa3fc00000', 'a single float'],
    ['fb3ff0000000000000', 'an integral float (1.0 must be 1)'],
    ['fb7ff8000000000000', 'NaN'],
    ['1b0020000000000000', 'an integer beyond 2^53'],
    ['9b00000000ffffffff', 'an array longer than the data'],
    ['5a7fffffff', 'a byte string longer than the data'],
    ['1c', 'a reserved head'],
  ])('refuses %s (%s)', (encoded) => {
    expect(() => decodeCbor(hex(encoded))).toThrow(FormatError);
  });

  it(`refuses nesting deeper than ${maxCborDepth}`, () => {
    const deep = new Uint8Array(maxCborDepth + 2).fill(0x81);
    deep[deep.length - 1] = 0x00;
    expect(() => decodeCbor(deep)).toThrow(FormatError);
    expect(() => decodeCbor(new Uint8Array(10_000).fill(0x81))).toThrow(FormatError);
  });

  it('gives each decodable byte string exactly one value and encodes it to the same bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (data) => {
        let value: CborValue;
        try {
          value = decodeCbor(data);
        } catch (error) {
          expect(error).toBeInstanceOf(FormatError);
          return;
        }
        expect(encodeCbor(value)).toEqual(data);
      }),
      { numRuns: 20_000 },
    );
  });

  it('keeps a "__proto__" key as data', () => {
    const value = cborToJson(decodeCbor(encodeCbor(new Map([['__proto__', 1]])))) as Record<string, unknown>;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.hasOwn(value, '__proto__')).toBe(true);
  });
});
