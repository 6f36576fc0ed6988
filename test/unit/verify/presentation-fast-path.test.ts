import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { base45Encode } from '../../../packages/verifier/src/base45.js';
import { coseSigStructure, encodeCoseSign1 } from '../../../packages/verifier/src/cose.js';
import { FormatError } from '../../../packages/verifier/src/errors.js';
import {
  presentationPrefix,
  presentationToBeSigned,
  envelopeRoom,
  readCanonicalClaims,
  readCanonicalEnvelope,
  readClaims,
  readEnvelope,
  readPresentationClaims,
  readPresentationEnvelope,
  type PresentationClaims,
} from '../../../packages/verifier/src/presentation-format.js';

// The offline verifier reads presentations through a fast path for the layout our signers write and
// falls back to the general reader for anything else. These tests hold the two to one behaviour: every
// input gives the general reader's value, in the same member order, or its error.

const KID = 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs';
const NOW = 1_767_225_600;

function claims(overrides: Partial<PresentationClaims['licence']> = {}): PresentationClaims {
  return {
    id: 'AAECAwQFBgcICQoL',
    issuedAt: NOW,
    expiresAt: NOW + 300,
    licence: {
      id: '1.2.156.3005.2.003.11110000000013223T.12345.001.7',
      type: 'driving-licence',
      holder: { kind: 'person', name: '王小明', masked: '110105********1239' },
      status: 'valid',
      validFrom: NOW - 86_400,
      validUntil: NOW + 5 * 365 * 86_400,
      fields: { vehicleClass: 'C1', firstIssuedOn: '2012-05-04' },
      statusList: { list: 0, idx: 12_345 },
      ...overrides,
    },
  };
}

type Outcome = { value: string } | { error: string };

/** A reader's result with its member order (JSON keeps it), or its error's code and message. */
function outcome(read: () => unknown): Outcome {
  try {
    return {
      value: JSON.stringify(read(), (_key, value: unknown) =>
        value instanceof Uint8Array ? Buffer.from(value).toString('hex') : value,
      ),
    };
  } catch (error) {
    return { error: error instanceof FormatError ? `${error.code}: ${error.message}` : String(error) };
  }
}

const message = (payload: Uint8Array, protectedBytes: Uint8Array) =>
  encodeCoseSign1(protectedBytes, payload, new Uint8Array(64).fill(7));

function expectSameClaims(payload: Uint8Array): void {
  expect(outcome(() => readPresentationClaims(payload))).toEqual(outcome(() => readClaims(payload)));
}

function expectSameEnvelope(bytes: Uint8Array): void {
  const text = presentationPrefix + base45Encode(bytes);
  expect(outcome(() => readPresentationEnvelope(text))).toEqual(outcome(() => readEnvelope(bytes)));
}

describe('the presentation fast path', () => {
  it('reads what our signers write, exactly as the general reader does', () => {
    const licence = fc.record({
      type: fc.string({ minLength: 1, maxLength: 64 }),
      holder: fc.record({
        kind: fc.constantFrom('person' as const, 'entity' as const),
        name: fc.string({ minLength: 1, maxLength: 200 }),
        masked: fc.string({ minLength: 1, maxLength: 64 }),
      }),
      status: fc.constantFrom('valid' as const, 'revoked' as const, 'suspended' as const),
      validFrom: fc.nat(),
      validUntil: fc.option(fc.maxSafeNat(), { nil: undefined }),
      fields: fc.dictionary(
        fc.string({ maxLength: 20 }),
        fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.array(fc.string(), { maxLength: 3 })),
        { maxKeys: 4 },
      ),
      statusList: fc.option(fc.record({ list: fc.nat(), idx: fc.maxSafeNat() }), { nil: undefined }),
    });
    fc.assert(
      fc.property(licence, (overrides) => {
        const { payload, protectedBytes } = presentationToBeSigned(claims(overrides), KID);
        // The fast path itself takes it (else it would be no faster), and agrees with the general one.
        expect(() => readCanonicalClaims(payload)).not.toThrow();
        const bytes = message(payload, protectedBytes);
        const buffer = new Uint8Array(envelopeRoom + bytes.length);
        buffer.set(bytes, envelopeRoom);
        const envelope = readCanonicalEnvelope(buffer);
        // The signed bytes, made in place over the message, are the Sig_structure; nothing else moved.
        expect(envelope.signedBytes).toEqual(coseSigStructure(protectedBytes, payload));
        expect(envelope.payload).toEqual(payload);
        expect(envelope.signature).toEqual(new Uint8Array(64).fill(7));
        expectSameClaims(payload);
        expectSameEnvelope(message(payload, protectedBytes));
      }),
      { numRuns: 300 },
    );
  });

  it('gives the general reader’s value or error for every byte of a claims set changed to every value', () => {
    for (const variant of [claims(), claims({ validUntil: undefined, statusList: undefined, fields: {} })]) {
      const { payload } = presentationToBeSigned(variant, KID);
      for (let i = 0; i < payload.length; i++) {
        for (let value = 0; value < 256; value++) {
          if (value === payload[i]) continue;
          const changed = payload.slice();
          changed[i] = value;
          expectSameClaims(changed);
        }
        expectSameClaims(payload.subarray(0, i));
        expectSameClaims(Uint8Array.of(...payload.subarray(0, i), 0, ...payload.subarray(i)));
      }
    }
  });

  it('gives the general reader’s envelope or error for every byte of a COSE_Sign1 changed to every value', () => {
    const { payload, protectedBytes } = presentationToBeSigned(claims(), KID);
    const bytes = message(payload, protectedBytes);
    for (let i = 0; i < bytes.length; i++) {
      // Every value for the framing and the protected header, a few inside payload and signature.
      const values = i < 24 || i >= bytes.length - 66 ? 256 : 4;
      for (let step = 0; step < values; step++) {
        const value = values === 256 ? step : (bytes[i]! + 1 + step * 61) % 256;
        if (value === bytes[i]) continue;
        const changed = bytes.slice();
        changed[i] = value;
        expectSameEnvelope(changed);
      }
      expectSameEnvelope(bytes.subarray(0, i));
    }
  });

  it('gives the general reader’s outcome on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        expectSameClaims(bytes);
        expectSameEnvelope(bytes);
      }),
      { numRuns: 2000 },
    );
  });
});
