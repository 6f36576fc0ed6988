import { describe, expect, it } from 'vitest';
import {
  PdfSignatureCache,
  pdfSignatureCacheEntries,
  pdfSignatureLifetimeMs,
} from '../../../shared/licence/pdf-signature-cache.js';
import { TestClock } from '../../support/in-memory-identity.js';

/** A signer that counts its calls and names each signature by its number. */
function counting() {
  let calls = 0;
  const sign = () => Promise.resolve(`jws-${++calls}`);
  return { sign, calls: () => calls };
}

describe('the printable licences’ signature cache', () => {
  it('serves a signature again for its lifetime, then signs anew', async () => {
    const clock = new TestClock();
    const cache = new PdfSignatureCache(clock);
    const signer = counting();
    expect(await cache.get('a', signer.sign)).toBe('jws-1');
    clock.advanceSeconds(pdfSignatureLifetimeMs / 1000 - 1);
    expect(await cache.get('a', signer.sign)).toBe('jws-1');
    clock.advanceSeconds(1);
    expect(await cache.get('a', signer.sign)).toBe('jws-2');
    expect(await cache.get('b', signer.sign)).toBe('jws-3');
    expect(signer.calls()).toBe(3);
  });

  it('keeps at most its bound, dropping the least recently served first', async () => {
    const cache = new PdfSignatureCache(new TestClock());
    const signer = counting();
    for (let i = 0; i < pdfSignatureCacheEntries; i++) await cache.get(`key-${i}`, signer.sign);
    // key-0 served again: key-1 is now the least recently served, and goes when one more comes.
    expect(await cache.get('key-0', signer.sign)).toBe('jws-1');
    await cache.get('one-more', signer.sign);
    expect(cache.size).toBe(pdfSignatureCacheEntries);
    expect(await cache.get('key-0', signer.sign)).toBe('jws-1');
    expect(await cache.get('key-1', signer.sign)).toBe(`jws-${pdfSignatureCacheEntries + 2}`);
  });

  it('shares a signature being made with requests meanwhile, and forgets one that failed', async () => {
    const cache = new PdfSignatureCache(new TestClock());
    let release!: (jws: string) => void;
    let calls = 0;
    const slow = () => {
      calls++;
      return new Promise<string>((resolve) => (release = resolve));
    };
    const both = Promise.all([cache.get('a', slow), cache.get('a', slow)]);
    release('jws-slow');
    expect(await both).toEqual(['jws-slow', 'jws-slow']);
    expect(calls).toBe(1);

    await expect(cache.get('b', () => Promise.reject(new Error('KMS throttled')))).rejects.toThrow('KMS');
    expect(await cache.get('b', () => Promise.resolve('jws-retry'))).toBe('jws-retry');
  });
});
