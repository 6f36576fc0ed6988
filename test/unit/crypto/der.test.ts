import { generateKeyPairSync, randomBytes, sign, verify } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { derToJose, joseToDer } from '../../../shared/crypto/der.js';
import { ServiceError } from '../../../shared/errors.js';

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });

const hex = (text: string) => Uint8Array.from(Buffer.from(text.replaceAll(' ', ''), 'hex'));

/** Offsets of r and s inside a DER signature with short-form lengths (always so for P-256). */
function derIntegers(der: Uint8Array): { r: Uint8Array; s: Uint8Array } {
  const rLength = der[3] ?? 0;
  const sLength = der[5 + rLength] ?? 0;
  return { r: der.subarray(4, 4 + rLength), s: der.subarray(6 + rLength, 6 + rLength + sLength) };
}

function expectEncodingError(run: () => unknown): void {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ServiceError);
    expect((error as ServiceError).code).toBe('invalid_signature_encoding');
    return;
  }
  throw new Error('expected invalid_signature_encoding');
}

describe('derToJose on real OpenSSL signatures', () => {
  it('agrees with the ieee-p1363 encoding and round-trips byte for byte, including the edge cases', () => {
    const found = { rPadded: 0, sPadded: 0, rShort: 0, sShort: 0 };
    let checked = 0;
    // Short integers occur with probability 1/256 per coordinate: keep signing until both were seen.
    while ((found.rShort === 0 || found.sShort === 0 || checked < 500) && checked < 50_000) {
      const data = randomBytes(24);
      const der = sign('sha256', data, { key: privateKey, dsaEncoding: 'der' });
      const jose = derToJose(der);
      expect(jose).toHaveLength(64);
      expect(verify('sha256', data, { key: publicKey, dsaEncoding: 'ieee-p1363' }, jose)).toBe(true);
      // Byte equality pins r and s exactly; verification alone would also pass for (r, n - s).
      expect(Buffer.from(joseToDer(jose)).equals(der)).toBe(true);

      const { r, s } = derIntegers(der);
      const parts = [
        { der: r, jose: jose.subarray(0, 32), padded: 'rPadded', short: 'rShort' },
        { der: s, jose: jose.subarray(32), padded: 'sPadded', short: 'sShort' },
      ] as const;
      for (const part of parts) {
        if (part.der.length === 33) {
          expect(part.der[0]).toBe(0);
          expect((part.jose[0] ?? 0) & 0x80).toBe(0x80);
          expect(Buffer.from(part.jose).equals(part.der.subarray(1))).toBe(true);
          found[part.padded]++;
        } else if (part.der.length < 32) {
          expect(part.jose.subarray(0, 32 - part.der.length).every((byte) => byte === 0)).toBe(true);
          expect(Buffer.from(part.jose.subarray(32 - part.der.length)).equals(part.der)).toBe(true);
          found[part.short]++;
        } else {
          expect(Buffer.from(part.jose).equals(part.der)).toBe(true);
        }
      }
      checked++;
    }
    expect(found.rPadded).toBeGreaterThan(0);
    expect(found.sPadded).toBeGreaterThan(0);
    expect(found.rShort).toBeGreaterThan(0);
    expect(found.sShort).toBeGreaterThan(0);
  });

  it('turns JOSE signatures from OpenSSL into DER that OpenSSL accepts', () => {
    for (let i = 0; i < 300; i++) {
      const data = randomBytes(16);
      const jose = sign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
      const der = joseToDer(jose);
      expect(verify('sha256', data, { key: publicKey, dsaEncoding: 'der' }, der)).toBe(true);
      expect(Buffer.from(derToJose(der)).equals(jose)).toBe(true);
    }
  });
});

describe('derToJose on hand-written encodings', () => {
  it('left-pads small integers and strips the sign byte', () => {
    const jose = derToJose(hex('30 07 02 01 01 02 02 00 80'));
    expect(jose.subarray(0, 31).every((byte) => byte === 0)).toBe(true);
    expect(jose[31]).toBe(1);
    expect(jose[63]).toBe(0x80);
    expect(jose.subarray(32, 63).every((byte) => byte === 0)).toBe(true);
  });

  it('supports other part lengths (P-384) and checks the JOSE length', () => {
    const der = joseToDer(new Uint8Array(96).fill(0xff), 48);
    expect(der[1]).toBe(2 * (2 + 49));
    expect(derToJose(der, 48)).toEqual(new Uint8Array(96).fill(0xff));
    expectEncodingError(() => joseToDer(new Uint8Array(63)));
    expectEncodingError(() => joseToDer(new Uint8Array(64)));
    expectEncodingError(() => derToJose(der, 0));
  });

  const full = '00' + 'ff'.repeat(32);
  const malformed: Record<string, string> = {
    empty: '',
    'wrong outer tag': '31 06 02 01 01 02 01 01',
    'outer length too long': '30 07 02 01 01 02 01 01',
    'outer length too short': '30 05 02 01 01 02 01 01',
    'trailing bytes after the sequence': '30 06 02 01 01 02 01 01 00',
    'trailing bytes inside the sequence': '30 08 02 01 01 02 01 01 05 00',
    'missing s': '30 03 02 01 01',
    'wrong integer tag': '30 06 03 01 01 02 01 01',
    'empty integer': '30 05 02 00 02 01 01',
    'integer overruns': '30 06 02 05 01 02 01 01',
    'negative r': '30 06 02 01 81 02 01 01',
    'negative s': '30 06 02 01 01 02 01 ff',
    'non-minimal r': '30 07 02 02 00 01 02 01 01',
    'zero r': '30 06 02 01 00 02 01 01',
    'zero s': '30 06 02 01 01 02 01 00',
    '33 bytes without a leading zero': `30 26 02 21 ${'01'.repeat(33)} 02 01 01`,
    '34-byte integer': `30 27 02 22 00 ${'ff'.repeat(33)} 02 01 01`,
    'indefinite length': '30 80 02 01 01 02 01 01 00 00',
    'non-minimal long-form length': '30 81 06 02 01 01 02 01 01',
    'two-byte long-form length': '30 82 00 06 02 01 01 02 01 01',
    'long-form integer length': '30 07 02 81 01 01 02 01 01',
  };
  it.each(Object.entries(malformed))('rejects %s', (_name, encoded) => {
    expectEncodingError(() => derToJose(hex(encoded)));
  });

  it('accepts the longest valid integers', () => {
    expect(derToJose(hex(`30 46 02 21 ${full} 02 21 ${full}`))).toEqual(new Uint8Array(64).fill(0xff));
  });
});

describe('derToJose properties', () => {
  it('throws nothing but ServiceError on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
        try {
          expect(derToJose(bytes)).toHaveLength(64);
        } catch (error) {
          expect(error).toBeInstanceOf(ServiceError);
          expect((error as ServiceError).code).toBe('invalid_signature_encoding');
        }
      }),
      { numRuns: 5_000 },
    );
  });

  it('throws nothing but ServiceError on mutated valid signatures', () => {
    const der = sign('sha256', Buffer.from('x'), { key: privateKey, dsaEncoding: 'der' });
    fc.assert(
      fc.property(fc.nat({ max: der.length - 1 }), fc.integer({ min: 0, max: 255 }), (index, value) => {
        const mutated = Uint8Array.from(der);
        mutated[index] = value;
        try {
          derToJose(mutated);
        } catch (error) {
          expect(error).toBeInstanceOf(ServiceError);
        }
      }),
    );
  });

  it('round-trips any non-zero r and s', () => {
    const part = fc
      .uint8Array({ minLength: 32, maxLength: 32 })
      .filter((bytes) => bytes.some((byte) => byte !== 0));
    fc.assert(
      fc.property(part, part, (r, s) => {
        const jose = Uint8Array.from([...r, ...s]);
        expect(derToJose(joseToDer(jose))).toEqual(jose);
      }),
    );
  });
});
