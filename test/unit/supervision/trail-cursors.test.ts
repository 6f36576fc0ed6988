import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Mac } from '../../../shared/crypto/mac.js';
import { trailCursors, type TrailListing } from '../../../shared/supervision/trail-cursors.js';

/** HMAC-SHA-256 under a fixed key, as KMS GenerateMac computes it; counts its calls. */
function hmacKey(key: string): Mac & { calls: number } {
  const mac = {
    calls: 0,
    async mac(data: Uint8Array) {
      mac.calls += 1;
      return createHmac('sha256', key).update(data).digest();
    },
  };
  return mac;
}

const licence: TrailListing = { listing: 'supervision-licence', licence: 'lic-1' };
const storeCursor = Buffer.from('2026-12-05T02:31:00.000Z#abcdefghijkl_0000000005').toString('base64url');

describe('trail cursors (R14 L2)', () => {
  it('opens what it sealed, for the same listing, with one MAC call per container', async () => {
    const key = hmacKey('k');
    const cursors = trailCursors(key);
    const sealed = await cursors.seal(licence, storeCursor);
    expect(sealed.startsWith(`${storeCursor}.`)).toBe(true);
    await expect(cursors.open(licence, sealed)).resolves.toBe(storeCursor);
    // Another instance on the same key (another container) takes it too.
    await expect(trailCursors(hmacKey('k')).open(licence, sealed)).resolves.toBe(storeCursor);
    await cursors.open(licence, sealed);
    expect(key.calls).toBe(1);
  });

  it('refuses the bare store cursor, another key’s, another listing’s or query’s, and any altered text', async () => {
    const cursors = trailCursors(hmacKey('k'));
    const sealed = await cursors.seal(licence, storeCursor);
    const tag = sealed.slice(sealed.indexOf('.') + 1);
    const refusals: Array<[TrailListing, string]> = [
      [licence, storeCursor],
      [licence, await trailCursors(hmacKey('other')).seal(licence, storeCursor)],
      [{ listing: 'supervision-licence', licence: 'lic-2' }, sealed],
      [{ listing: 'admin-licence', licence: 'lic-1' }, sealed],
      [{ listing: 'supervision-days', from: '2026-12-05', to: '2026-12-05', issuer: null }, sealed],
      // Another place under the same tag, a tag off by its last (spare-bit) character, a tag cut short.
      [
        licence,
        `${Buffer.from('2026-12-05T02:31:00.000Z#abcdefghijkl_0000000004').toString('base64url')}.${tag}`,
      ],
      [licence, `${sealed.slice(0, -1)}${sealed.endsWith('A') ? 'B' : 'A'}`],
      [licence, sealed.slice(0, -1)],
      [licence, `${sealed}.`],
      [licence, ''],
    ];
    for (const [listing, cursor] of refusals) {
      await expect(cursors.open(listing, cursor), cursor).rejects.toMatchObject({
        code: 'invalid_cursor',
        errors: [{ path: 'cursor' }],
      });
    }
    const days = { listing: 'supervision-days', from: '2026-12-05', to: '2026-12-06', issuer: null } as const;
    const ofDays = await cursors.seal(days, storeCursor);
    await expect(cursors.open({ ...days, issuer: 'iss_1' }, ofDays)).rejects.toMatchObject({
      code: 'invalid_cursor',
    });
    await expect(cursors.open({ ...days, to: '2026-12-05' }, ofDays)).rejects.toMatchObject({
      code: 'invalid_cursor',
    });
  });

  it('keeps the longest store cursor within the query’s 400 characters', async () => {
    const sealed = await trailCursors(hmacKey('k')).seal(licence, 'x'.repeat(340));
    expect(sealed.length).toBeLessThanOrEqual(400);
  });
});
