import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  allocationFor,
  LIST_SIZE,
  parseListId,
  statusListUri,
} from '../../../shared/licence/status-list-store.js';

describe('status list allocation', () => {
  it('maps serials from 0 onto lists of LIST_SIZE entries', () => {
    expect(LIST_SIZE).toBe(131_072);
    expect(allocationFor('iss_x', 0)).toEqual({ serial: 0, listId: 'iss_x.0', idx: 0 });
    expect(allocationFor('iss_x', LIST_SIZE - 1)).toEqual({
      serial: LIST_SIZE - 1,
      listId: 'iss_x.0',
      idx: LIST_SIZE - 1,
    });
    expect(allocationFor('iss_x', LIST_SIZE + 1)).toEqual({
      serial: LIST_SIZE + 1,
      listId: 'iss_x.1',
      idx: 1,
    });
  });

  it('gives every serial its own (list, idx), and list ids parse back (property)', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^iss_[A-Za-z0-9_-]{16}$/),
        fc.integer({ min: 0, max: 2 ** 45 }),
        (issuerId, serial) => {
          const { listId, idx } = allocationFor(issuerId, serial);
          const parsed = parseListId(listId);
          expect(parsed?.issuerId).toBe(issuerId);
          expect((parsed?.list ?? -1) * LIST_SIZE + idx).toBe(serial);
          expect(encodeURIComponent(listId)).toBe(listId);
        },
      ),
    );
  });

  it('refuses ids that are not issuer ids and serials that are not counts', () => {
    for (const issuerId of ['', 'a.b', 'iss/1', 'x'.repeat(101)]) {
      expect(() => allocationFor(issuerId, 0)).toThrow(RangeError);
    }
    for (const serial of [-1, 0.5, Number.NaN, 2 ** 53])
      expect(() => allocationFor('iss_x', serial)).toThrow();
  });

  it('parses only list ids', () => {
    for (const listId of ['', 'iss_x', 'iss_x.', 'iss_x.01', 'iss_x.-1', 'iss.x.1', '../x.1', 'iss_x.1e3']) {
      expect(parseListId(listId)).toBeUndefined();
    }
    expect(parseListId('iss_A-b_9.12')).toEqual({ issuerId: 'iss_A-b_9', list: 12 });
  });

  it('names a list by URI under the public base URL', () => {
    expect(statusListUri('https://id.example.gov.cn', 'iss_x.0')).toBe(
      'https://id.example.gov.cn/status-lists/iss_x.0',
    );
  });
});
