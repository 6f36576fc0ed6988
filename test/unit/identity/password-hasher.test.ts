import { describe, expect, it } from 'vitest';
import { passwordProblem } from '../../../shared/identity/password-hasher.js';
import {
  InvalidPasswordHashError,
  ScryptPasswordHasher,
} from '../../../shared/adapters/scrypt/password-hasher.js';

const hasher = new ScryptPasswordHasher();
const pattern = /^\$scrypt\$ln=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

/** Replaces one base64 character of the hash part by another, so the bytes differ but the form holds. */
function tamperHash(encoded: string): string {
  const last = encoded.at(-2) === 'A' ? 'B' : 'A';
  return `${encoded.slice(0, -2)}${last}${encoded.at(-1)}`;
}

describe('scrypt password hashing', () => {
  it('writes its parameters into the hash: N = 2^15, r = 8, p = 1, a 16-byte salt, a 32-byte hash', async () => {
    const encoded = await hasher.hash('correct horse battery');
    const [, ln, r, p, salt, hash] = pattern.exec(encoded) ?? [];
    expect({ ln, r, p }).toEqual({ ln: '15', r: '8', p: '1' });
    expect(Buffer.from(salt!, 'base64')).toHaveLength(16);
    expect(Buffer.from(hash!, 'base64')).toHaveLength(32);
    expect(encoded).not.toContain('correct horse');
  });

  it('salts every hash anew: the same password twice gives two different hashes', async () => {
    const [a, b] = await Promise.all([hasher.hash('same password'), hasher.hash('same password')]);
    expect(a).not.toBe(b);
  });

  it('accepts the password and refuses any other', async () => {
    const encoded = await hasher.hash('Demo-2026!');
    expect(await hasher.verify('Demo-2026!', encoded)).toBe(true);
    expect(await hasher.verify('demo-2026!', encoded)).toBe(false);
    expect(await hasher.verify('Demo-2026', encoded)).toBe(false);
    expect(await hasher.verify('', encoded)).toBe(false);
  });

  it('matches a password typed in full-width forms (NFKC), as another input method may send it', async () => {
    const encoded = await hasher.hash('Abc12345!');
    expect(await hasher.verify('Ａｂｃ１２３４５！', encoded)).toBe(true);
  });

  it('refuses the right password against a hash whose bytes were altered', async () => {
    const encoded = await hasher.hash('Demo-2026!');
    expect(await hasher.verify('Demo-2026!', tamperHash(encoded))).toBe(false);
  });

  it('refuses the right password when the salt was swapped for another', async () => {
    const a = await hasher.hash('Demo-2026!');
    const b = await hasher.hash('Demo-2026!');
    const [, , , , saltB] = pattern.exec(b) ?? [];
    const [, , , , saltA] = pattern.exec(a) ?? [];
    expect(await hasher.verify('Demo-2026!', a.replace(saltA!, saltB!))).toBe(false);
  });

  it('throws on a hash that is not one, or asks for unbounded work, instead of answering either way', async () => {
    const encoded = await hasher.hash('Demo-2026!');
    await expect(hasher.verify('Demo-2026!', 'plain-text')).rejects.toThrow(InvalidPasswordHashError);
    await expect(hasher.verify('Demo-2026!', encoded.replace('ln=15', 'ln=30'))).rejects.toThrow(
      InvalidPasswordHashError,
    );
    await expect(hasher.verify('Demo-2026!', encoded.replace('r=8', 'r=64'))).rejects.toThrow(
      InvalidPasswordHashError,
    );
  });

  it('checks a hash by its own parameters, and says when they are weaker than the current ones', async () => {
    const weaker = new ScryptPasswordHasher({ logN: 14, r: 8, p: 1 });
    const old = await weaker.hash('Demo-2026!');
    expect(old).toContain('ln=14');
    expect(await hasher.verify('Demo-2026!', old)).toBe(true);
    expect(hasher.needsRehash(old)).toBe(true);
    expect(hasher.needsRehash(await hasher.hash('Demo-2026!'))).toBe(false);
  });

  it('has a dummy hash with the current parameters that no password matches', async () => {
    const dummy = hasher.dummyHash();
    expect(dummy).toMatch(/^\$scrypt\$ln=15,r=8,p=1\$/);
    expect(hasher.needsRehash(dummy)).toBe(false);
    expect(await hasher.verify('', dummy)).toBe(false);
    expect(await hasher.verify('Demo-2026!', dummy)).toBe(false);
  });

  it('refuses to be built with parameters below the floor', () => {
    expect(() => new ScryptPasswordHasher({ logN: 10, r: 8, p: 1 })).toThrow(RangeError);
  });
});

describe('password rules', () => {
  it.each([
    ['short', 'must be 8 to 128 characters'],
    ['x'.repeat(129), 'must be 8 to 128 characters'],
    [' '.repeat(8), 'must not be only spaces'],
    ['my110105199003071239', 'must not contain the ID number'],
    ['my110105199003071239'.toLowerCase(), 'must not contain the ID number'],
  ])('refuses %j: %s', (password, problem) => {
    expect(passwordProblem(password, '110105199003071239')).toBe(problem);
  });

  it('refuses a password holding a 2017 foreigner’s card’s number but its last digit, in any case', () => {
    // Made up: Canada, Guangdong, born 1985-06-15.
    expect(passwordProblem('pw-can44018506151-9', 'CAN440185061510')).toBe('must not contain the ID number');
    expect(passwordProblem('pw-CAN4401850615-9', 'CAN440185061510')).toBeUndefined();
  });

  it('counts characters, not bytes: eight Chinese characters are enough, 128 emoji not too many', () => {
    expect(passwordProblem('天地玄黄宇宙洪荒')).toBeUndefined();
    expect(passwordProblem('🔑'.repeat(128))).toBeUndefined();
    expect(passwordProblem('Demo-2026!', '110105199003071239')).toBeUndefined();
  });
});
