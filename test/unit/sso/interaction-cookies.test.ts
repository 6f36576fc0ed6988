import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { InteractionCookies, MAX_INTERACTION_COOKIE_BYTES } from '../../../shared/sso/interaction-cookies.js';

const paths = (uid: string) => [`/interaction/${uid}`, `/authorize/${uid}`];
const cookies = (secure = true, key = randomBytes(32)) => new InteractionCookies(key, { secure, paths });
const uid = 'Vx3kq9ZyT1aB2cD3eF4gH';
const now = 1_800_000_000;

describe('InteractionCookies', () => {
  it('opens what it sealed, for that uid, until its expiry', () => {
    const sealing = cookies();
    const sealed = sealing.seal(uid, { returnTo: '/authorize/x', params: { login_hint: '110…' } }, now + 60);
    expect(sealing.open(uid, sealed, now)).toEqual({
      returnTo: '/authorize/x',
      params: { login_hint: '110…' },
    });
    expect(sealing.open(uid, sealed, now + 60)).toBeUndefined();
    expect(sealing.open('AnotherUid', sealed, now)).toBeUndefined();
    // Nothing of the payload is readable in the value.
    expect(Buffer.from(sealed, 'base64url').toString('latin1')).not.toContain('login_hint');
  });

  it('opens nothing with any one byte changed, or under another key', () => {
    const sealing = cookies();
    const sealed = sealing.seal(uid, { a: 1 }, now + 60);
    const bytes = Buffer.from(sealed, 'base64url');
    for (let at = 0; at < bytes.length; at += 1) {
      const changed = Buffer.from(bytes);
      changed[at]! ^= 0x80;
      expect(sealing.open(uid, changed.toString('base64url'), now)).toBeUndefined();
    }
    expect(cookies().open(uid, sealed, now)).toBeUndefined();
    expect(sealing.open(uid, 'not base64url!', now)).toBeUndefined();
    expect(sealing.open(uid, '', now)).toBeUndefined();
  });

  it('sets one cookie per interaction for its pages and its resume, and clears it there', () => {
    const sealing = cookies();
    const jar = sealing.jar([], () => now);
    jar.write(uid, { step: 1 }, now + 3600);
    jar.write('OtherTab', { step: 1 }, now + 3600);
    const set = jar.setCookies();
    expect(set).toHaveLength(4);
    const mine = set.filter((line) => line.startsWith(`__Secure-interaction-${uid}=`));
    expect(mine.map((line) => /Path=([^;]+)/.exec(line)?.[1])).toEqual(paths(uid));
    for (const line of mine) {
      expect(line).toMatch(/; Max-Age=3600; HttpOnly; SameSite=Lax; Secure$/);
    }
    // Read back within the request; the next request reads it from its cookie.
    expect(jar.read(uid)).toEqual({ step: 1 });
    const value = mine[0]!.split(';')[0]!.slice(`__Secure-interaction-${uid}=`.length);
    const next = sealing.jar([`__Secure-interaction-${uid}=${value}`], () => now + 10);
    expect(next.read(uid)).toEqual({ step: 1 });
    expect(next.read('OtherTab')).toBeUndefined();
    next.clear(uid);
    expect(next.read(uid)).toBeUndefined();
    expect(next.setCookies().every((line) => /=; Path=[^;]+; Max-Age=0;/.test(line))).toBe(true);
    // Plain http on loopback: neither `Secure` nor the prefix, which browsers refuse there.
    const local = cookies(false).jar([], () => now);
    local.write(uid, {}, now + 60);
    expect(local.setCookies()[0]).toMatch(new RegExp(`^interaction-${uid}=[^;]+; Path=/interaction/${uid};`));
    expect(local.setCookies()[0]).not.toMatch(/Secure/);
  });

  it('refuses, clearly, a state a browser would drop', () => {
    const jar = cookies().jar([], () => now);
    expect(() => jar.write(uid, { state: 'x'.repeat(3000) }, now + 60)).toThrow(/too large/);
    expect(jar.setCookies()).toEqual([]);
    jar.write(uid, { state: 'x'.repeat(2000) }, now + 60);
    for (const line of jar.setCookies()) {
      expect(line.split(';')[0]!.length).toBeLessThanOrEqual(MAX_INTERACTION_COOKIE_BYTES);
    }
  });
});
