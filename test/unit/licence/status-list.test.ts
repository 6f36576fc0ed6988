import fc from 'fast-check';
import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  createStatusBytes,
  decodeStatusList,
  encodeStatusList,
  readStatus,
  statusCapacity,
  statusListByteLength,
  StatusListError,
  StatusType,
  statusValueFor,
  writeStatus,
  type Compression,
  type StatusBits,
} from '../../../packages/verifier/src/status-list.js';
import { streamCompression } from '../../../packages/verifier/src/status-list-streams.js';
import { inflateStatusBytes, zlibCompression } from '../../../packages/verifier/src/status-list-zlib.js';

// Test vectors of draft-ietf-oauth-status-list (§4.1, §4.2 and appendix "Test vectors"): Node's zlib at
// level 9 reproduces the draft's `lst` byte for byte.
const oneBitExample = {
  bytes: [0xb9, 0xa3],
  statuses: [1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1],
  json: { bits: 1, lst: 'eNrbuRgAAhcBXQ' },
} as const;
const twoBitExample = {
  bytes: [0xc9, 0x44, 0xf9],
  statuses: [1, 2, 0, 3, 0, 1, 0, 1, 1, 2, 3, 3],
  json: { bits: 2, lst: 'eNo76fITAAPfAgc' },
} as const;
/** The 2-bit test vector: 2^20 entries, all VALID but these. */
const longTwoBitExample = {
  size: 2 ** 20,
  set: new Map([
    [0, 1],
    [1993, 2],
    [25460, 1],
    [159495, 3],
    [495669, 1],
    [554353, 1],
    [645645, 2],
    [723232, 1],
    [854545, 1],
    [934534, 2],
    [1000345, 3],
  ]),
  lst: 'eNrt2zENACEQAEEuoaBABP5VIO01fCjIHTMStt9ovGVIAAAAAABAbiEBAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAEB5WwIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAID0ugQAAAAAAAAAAAAAAAAAQG12SgAAAAAAAAAAAAAAAAAAAAAAAAAAAOCSIQEAAAAAAAAAAAAAAAAAAAAAAAD8ExIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAwJEuAQAAAAAAAAAAAAAAAAAAAAAAAMB9SwIAAAAAAAAAAAAAAAAAAACoYUoAAAAAAAAAAAAAAEBqH81gAQw',
};

const compressions: Array<[string, Compression]> = [
  ['node:zlib', zlibCompression],
  ['Compression Streams', streamCompression],
];

describe('the byte array (draft §4.1)', () => {
  it('packs the 1-bit example least significant bit first', () => {
    const bytes = createStatusBytes(16, 1);
    oneBitExample.statuses.forEach((status, idx) => writeStatus(bytes, idx, status, 1));
    expect([...bytes]).toEqual(oneBitExample.bytes);
  });

  it('packs the 2-bit example: entry i at bits (i % 4) * 2 of byte floor(i / 4)', () => {
    const bytes = createStatusBytes(12);
    twoBitExample.statuses.forEach((status, idx) => writeStatus(bytes, idx, status));
    expect([...bytes]).toEqual(twoBitExample.bytes);
    expect(twoBitExample.statuses.map((_, idx) => readStatus(bytes, idx))).toEqual(twoBitExample.statuses);
  });

  it('records licence statuses as the draft’s Status Types', () => {
    expect(statusValueFor('valid')).toBe(0);
    expect(statusValueFor('revoked')).toBe(1);
    expect(statusValueFor('suspended')).toBe(2);
  });

  it('sizes lists by bits per entry', () => {
    expect(statusListByteLength(131_072)).toBe(32_768);
    expect(statusListByteLength(1_000_000)).toBe(250_000);
    expect(statusListByteLength(9, 1)).toBe(2);
    expect(statusCapacity(new Uint8Array(3))).toBe(12);
  });

  it('refuses indexes outside the list and values that do not fit the bits', () => {
    const bytes = createStatusBytes(8);
    for (const idx of [-1, 8, 1.5, Number.NaN]) {
      expect(() => readStatus(bytes, idx)).toThrow(StatusListError);
    }
    expect(() => writeStatus(bytes, 0, 4)).toThrow(RangeError);
    expect(() => writeStatus(bytes, 0, 2, 1)).toThrow(RangeError);
    expect(() => createStatusBytes(8, 3 as StatusBits)).toThrow(RangeError);
  });

  it('reads back what was written and leaves every other entry alone (property)', () => {
    const bitsArb = fc.constantFrom<StatusBits>(1, 2, 4, 8);
    fc.assert(
      fc.property(
        bitsArb.chain((bits) =>
          fc.tuple(
            fc.constant(bits),
            fc.array(fc.integer({ min: 0, max: 2 ** bits - 1 }), { minLength: 1, maxLength: 200 }),
            fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 2 ** bits - 1 })), { maxLength: 50 }),
          ),
        ),
        ([bits, initial, writes]) => {
          const bytes = createStatusBytes(initial.length, bits);
          initial.forEach((status, idx) => writeStatus(bytes, idx, status, bits));
          const expected = [...initial];
          for (const [at, status] of writes) {
            const idx = at % initial.length;
            writeStatus(bytes, idx, status, bits);
            expected[idx] = status;
          }
          expect(expected.map((_, idx) => readStatus(bytes, idx, bits))).toEqual(expected);
        },
      ),
    );
  });
});

describe('the JSON status list (draft §4.2)', () => {
  it('encodes the draft examples exactly with node:zlib at level 9', async () => {
    expect(await encodeStatusList(Uint8Array.from(oneBitExample.bytes), zlibCompression, 1)).toEqual(
      oneBitExample.json,
    );
    expect(await encodeStatusList(Uint8Array.from(twoBitExample.bytes), zlibCompression)).toEqual(
      twoBitExample.json,
    );
  });

  it('encodes the 2^20-entry 2-bit test vector exactly', async () => {
    const bytes = createStatusBytes(longTwoBitExample.size);
    for (const [idx, status] of longTwoBitExample.set) writeStatus(bytes, idx, status);
    expect(await encodeStatusList(bytes, zlibCompression)).toEqual({ bits: 2, lst: longTwoBitExample.lst });
  });

  describe.each(compressions)('decoding with %s', (_name, compression) => {
    it('decodes the draft examples', async () => {
      const one = await decodeStatusList(oneBitExample.json, compression);
      expect(one.bits).toBe(1);
      expect([...one.bytes]).toEqual(oneBitExample.bytes);
      const two = await decodeStatusList(twoBitExample.json, compression);
      expect(twoBitExample.statuses.map((_, idx) => readStatus(two.bytes, idx, two.bits))).toEqual(
        twoBitExample.statuses,
      );
    });

    it('decodes the 2^20-entry test vector', async () => {
      const list = await decodeStatusList({ bits: 2, lst: longTwoBitExample.lst }, compression);
      expect(statusCapacity(list.bytes, list.bits)).toBe(longTwoBitExample.size);
      for (const [idx, status] of longTwoBitExample.set) expect(readStatus(list.bytes, idx)).toBe(status);
      let nonZero = 0;
      for (let idx = 0; idx < longTwoBitExample.size; idx++) if (readStatus(list.bytes, idx) !== 0) nonZero++;
      expect(nonZero).toBe(longTwoBitExample.set.size);
    });

    it('round-trips any list (property)', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.constantFrom(StatusType.VALID, StatusType.INVALID, StatusType.SUSPENDED), {
            maxLength: 2_000,
          }),
          async (statuses) => {
            const bytes = createStatusBytes(statuses.length);
            statuses.forEach((status, idx) => writeStatus(bytes, idx, status));
            const json = await encodeStatusList(bytes, compression);
            expect(json.lst).toMatch(/^[A-Za-z0-9_-]*$/);
            const decoded = await decodeStatusList(JSON.parse(JSON.stringify(json)), compression);
            expect(decoded.bytes).toEqual(bytes);
          },
        ),
        { numRuns: 60 },
      );
    });

    it('refuses a zip bomb: 32 MiB of zeros in ~32 KB never inflates past the bound', async () => {
      const bomb = deflateSync(new Uint8Array(32 * 1024 * 1024), { level: 9 });
      expect(bomb.length).toBeLessThan(40_000);
      const lst = bomb.toString('base64url');
      const refused = decodeStatusList({ bits: 2, lst }, compression, { maxBytes: 1024 * 1024 });
      await expect(refused).rejects.toBeInstanceOf(StatusListError);
      await expect(refused).rejects.toMatchObject({ code: 'status_list_too_large' });
      // The default bound (4 MiB) refuses it too.
      await expect(decodeStatusList({ bits: 2, lst }, compression)).rejects.toMatchObject({
        code: 'status_list_too_large',
      });
    });

    it('accepts a list of exactly the bound', async () => {
      const bytes = new Uint8Array(4096).fill(0x55);
      const json = await encodeStatusList(bytes, compression);
      expect((await decodeStatusList(json, compression, { maxBytes: 4096 })).bytes).toEqual(bytes);
      await expect(decodeStatusList(json, compression, { maxBytes: 4095 })).rejects.toMatchObject({
        code: 'status_list_too_large',
      });
    });

    it('throws only StatusListError, whatever the input (property)', async () => {
      const anything = fc.oneof(
        fc.anything(),
        fc.record({ bits: fc.constantFrom(1, 2, 3, 4, 8, '2'), lst: fc.string() }),
        fc.record({
          bits: fc.constant(2),
          lst: fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes).toString('base64url')),
        }),
        fc.uint8Array({ maxLength: 64 }).map((noise) => ({
          bits: 2,
          lst: Buffer.concat([deflateSync(new Uint8Array(64)).subarray(0, 4), noise]).toString('base64url'),
        })),
      );
      await fc.assert(
        fc.asyncProperty(anything, async (value) => {
          try {
            const decoded = await decodeStatusList(value, compression, { maxBytes: 1024 });
            expect(decoded.bytes.length).toBeLessThanOrEqual(1024);
          } catch (error) {
            expect(error).toBeInstanceOf(StatusListError);
          }
        }),
        { numRuns: 300 },
      );
    });
  });

  it('refuses an lst too long to inflate within the bound before decoding it', async () => {
    const lst = 'A'.repeat(2_000);
    await expect(
      decodeStatusList({ bits: 2, lst }, zlibCompression, { maxBytes: 1000 }),
    ).rejects.toMatchObject({ code: 'status_list_too_large' });
  });

  it('refuses malformed claims', async () => {
    for (const value of [
      null,
      'x',
      { bits: 2 },
      { bits: 3, lst: 'eNo76fITAAPfAgc' },
      { bits: 2, lst: 'a+b/' },
    ]) {
      await expect(decodeStatusList(value, zlibCompression)).rejects.toMatchObject({
        code: 'malformed_status_list',
      });
    }
    await expect(decodeStatusList({ bits: 2, lst: 'AAAA' }, zlibCompression)).rejects.toMatchObject({
      code: 'malformed_status_list',
    });
  });

  it('bounds the store’s own inflation too', () => {
    const bomb = deflateSync(new Uint8Array(1024 * 1024));
    expect(() => inflateStatusBytes(bomb, 32_768)).toThrow(StatusListError);
  });
});
