import { describe, expect, it } from 'vitest';
import { offListFaults, type LicenceListPage } from '../../../shared/supervision/audit-chain-verify.js';

/** A licence's list of `count` entries (places `p000`, `p001`…), answered `size` a page; pages read counted. */
function list(count: number, size: number, without: number[] = []) {
  const entries = Array.from({ length: count }, (_, i) => ({
    place: `p${String(i).padStart(3, '0')}`,
    entry: {
      at: '2026-12-05T10:00:00.000Z',
      action: 'licence.verified',
      licenceId: 'L1',
      chain: 'c',
      seq: i + 1,
    },
  }));
  const listed = entries.filter((_, i) => !without.includes(i));
  const reads: Array<string | undefined> = [];
  const readPage = async (licence: string, cursor?: string): Promise<LicenceListPage> => {
    expect(licence).toBe('L1');
    reads.push(cursor);
    const start = cursor === undefined ? 0 : Number(cursor);
    const page = listed.slice(start, start + size);
    return {
      items: page.map(({ entry }) => entry),
      positions: page.map(({ place }) => place),
      ...(start + size < listed.length ? { cursor: String(start + size) } : {}),
    };
  };
  return { entries, readPage, reads };
}

describe('offListFaults', () => {
  it('reads the list page after page only up to the last place of the entries held to it', async () => {
    const { entries, readPage, reads } = list(100, 10);
    const range = entries.slice(20, 25);
    const faults = await offListFaults(
      range.map(({ entry }) => entry),
      range.map(({ place }) => place),
      readPage,
    );
    expect(faults).toEqual([]);
    expect(reads).toEqual([undefined, '10', '20']);
  });

  it('names an entry missing from the list, past its first page; with no place answered, reads to the end', async () => {
    const { entries, readPage, reads } = list(30, 10, [25]);
    const range = entries.slice(24, 27);
    const faults = await offListFaults(
      range.map(({ entry }) => entry),
      range.map(({ place }, i) => (i === 0 ? null : place)),
      readPage,
    );
    expect(faults).toEqual([
      { chain: 'c', seq: 26, problem: expect.stringContaining("missing from the licence's list") },
    ]);
    // Read twice (once again a moment later, the index being updated just after the table), each to the end.
    expect(reads).toEqual([undefined, '10', '20', undefined, '10', '20']);
  });

  it('holds no entry about no licence to any list', async () => {
    const readPage = () => Promise.reject(new Error('not read'));
    expect(
      await offListFaults([{ at: 'x', action: 'account.registered', redacted: true }], [null], readPage),
    ).toEqual([]);
  });
});
