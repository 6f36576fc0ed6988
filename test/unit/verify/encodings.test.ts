import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { base45Decode, base45Encode } from '../../../packages/verifier/src/base45.js';
import { base64urlDecode, base64urlEncode } from '../../../packages/verifier/src/base64url.js';
import { FormatError } from '../../../packages/verifier/src/errors.js';
import { nodeCodec } from '../../../packages/verifier/src/node.js';

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const bytes = (value: string) => new TextEncoder().encode(value);

describe('base45 (RFC 9285)', () => {
  it.each([
    ['AB', 'BB8'],
    ['Hello!!', '%69 VD92EX0'],
    ['base-45', 'UJCLQE7W581'],
    ['ietf!', 'QED8WEX0'],
    ['', ''],
  ])('encodes %j as %j and back (RFC 9285 §4.3 and §4.4)', (plain, encoded) => {
    expect(base45Encode(bytes(plain))).toBe(encoded);
    expect(text(base45Decode(encoded))).toBe(plain);
  });

  it.each([
    ['GGW', 'a triple worth 65536'],
    [':::', 'a triple worth 91124'],
    ['::', 'a pair worth 2024'],
    ['A', 'a dangling character'],
    ['ab8', 'lower case'],
    ['BB#', 'a character outside the alphabet'],
    ['BB8\u00e9', 'a non-ASCII character'],
  ])('refuses %j (%s)', (encoded) => {
    expect(() => base45Decode(encoded)).toThrow(FormatError);
  });

  it('round-trips any bytes, and each text decodes to exactly one byte string and back', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (data) => {
        const encoded = base45Encode(data);
        expect(encoded).toMatch(/^[0-9A-Z $%*+\-./:]*$/);
        expect(base45Decode(encoded)).toEqual(data);
      }),
    );
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom(...'0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:') }),
        (encoded) => {
          let decoded: Uint8Array;
          try {
            decoded = base45Decode(encoded);
          } catch (error) {
            expect(error).toBeInstanceOf(FormatError);
            return;
          }
          expect(base45Encode(decoded)).toBe(encoded);
        },
      ),
    );
  });
});

describe('base45Decode from an offset', () => {
  it('decodes and refuses exactly what it does on the text cut at that offset, with the same message (after any room)', () => {
    const outcome = (run: () => Uint8Array): { bytes?: Uint8Array; error?: string } => {
      try {
        return { bytes: run() };
      } catch (error) {
        return { error: error instanceof FormatError ? `${error.code}: ${error.message}` : String(error) };
      }
    };
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom(...'EL1:0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:é\u0100') }),
        fc.nat({ max: 8 }),
        (text, cut) => {
          const start = Math.min(cut, text.length);
          expect(outcome(() => base45Decode(text, start))).toEqual(
            outcome(() => base45Decode(text.slice(start))),
          );
          const room = cut % 3;
          expect(outcome(() => base45Decode(text, start, room).subarray(room))).toEqual(
            outcome(() => base45Decode(text.slice(start))),
          );
          const roomy = outcome(() => base45Decode(text, start, room));
          if (roomy.bytes) expect([...roomy.bytes.subarray(0, room)]).toEqual(new Array(room).fill(0));
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('base64url (RFC 4648 §5), strict', () => {
  it('agrees with Buffer on any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (data) => {
        const encoded = base64urlEncode(data);
        expect(encoded).toBe(Buffer.from(data).toString('base64url'));
        expect(base64urlDecode(encoded)).toEqual(data);
      }),
    );
  });

  it('refuses padding, foreign characters, impossible lengths and non-zero unused bits', () => {
    for (const bad of ['aGk=', 'aG+k', 'aG/k', 'a', 'aGl', 'aGm', 'AB', 'AAB']) {
      expect(() => base64urlDecode(bad), bad).toThrow(FormatError);
    }
    expect(base64urlDecode('aGk')).toEqual(bytes('hi'));
    expect(base64urlDecode('AA')).toEqual(Uint8Array.of(0));
  });

  it('gives every byte string exactly one text (a changed last character never decodes the same)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 70 }),
        fc.integer({ min: 0, max: 63 }),
        (data, k) => {
          const encoded = base64urlEncode(data);
          const last = encoded.at(-1);
          const replacement = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'[k] ?? 'A';
          fc.pre(replacement !== last);
          const changed = encoded.slice(0, -1) + replacement;
          let decoded: Uint8Array | undefined;
          try {
            decoded = base64urlDecode(changed);
          } catch {
            return;
          }
          expect(decoded).not.toEqual(data);
        },
      ),
    );
  });
});

describe('nodeCodec (Buffer), the Node fast path', () => {
  const outcome = (decode: (text: string) => Uint8Array, text: string) => {
    try {
      return Buffer.from(decode(text)).toString('hex');
    } catch (error) {
      expect(error).toBeInstanceOf(FormatError);
      return 'refused';
    }
  };

  it('accepts and refuses exactly what the portable decoder does', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: fc.constantFrom(...'AQgwBCDaz09-_=+/. '), maxLength: 12 }),
          fc.uint8Array({ maxLength: 40 }).map((data) => Buffer.from(data).toString('base64url')),
          fc.string({ maxLength: 12 }),
        ),
        (text) => {
          expect(outcome(nodeCodec.base64url, text)).toBe(outcome(base64urlDecode, text));
        },
      ),
      { numRuns: 5_000 },
    );
    for (const bad of ['aGk=', 'aG+k', 'a', 'aGl', 'AB'])
      expect(outcome(nodeCodec.base64url, bad)).toBe('refused');
  });

  it('gives the bytes of ASCII text', () => {
    expect(nodeCodec.ascii('eyJ.abc')).toEqual(new TextEncoder().encode('eyJ.abc'));
  });
});
