import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  BROWSER_BINDING_SECONDS,
  InteractionCookies,
  interactionCookieBytes,
  MAX_INTERACTION_COOKIE_BYTES,
} from '../../../shared/sso/interaction-cookies.js';

const paths = (uid: string) => [`/interaction/${uid}`, `/authorize/${uid}`];
const cookies = (secure = true, key = randomBytes(32)) => new InteractionCookies(key, { secure, paths });
const uid = 'Vx3kq9ZyT1aB2cD3eF4gH';
const now = 1_800_000_000;
/** A browser's binding value, as its `__Host-sign-in-browser` cookie holds it. */
const browser = 'b'.repeat(43);

describe('InteractionCookies', () => {
  it('opens what it sealed, for that uid, until its expiry', () => {
    const sealing = cookies();
    const sealed = sealing.seal(
      uid,
      { returnTo: '/authorize/x', params: { login_hint: '110…' } },
      now + 60,
      browser,
    );
    expect(sealing.open(uid, sealed, now, browser)).toEqual({
      returnTo: '/authorize/x',
      params: { login_hint: '110…' },
    });
    expect(sealing.open(uid, sealed, now + 60, browser)).toBeUndefined();
    expect(sealing.open('AnotherUid', sealed, now, browser)).toBeUndefined();
    // Nothing of the payload is readable in the value.
    expect(Buffer.from(sealed, 'base64url').toString('latin1')).not.toContain('login_hint');
  });

  it('opens nothing with any one byte changed, or under another key', () => {
    const sealing = cookies();
    const sealed = sealing.seal(uid, { a: 1 }, now + 60, browser);
    const bytes = Buffer.from(sealed, 'base64url');
    for (let at = 0; at < bytes.length; at += 1) {
      const changed = Buffer.from(bytes);
      changed[at]! ^= 0x80;
      expect(sealing.open(uid, changed.toString('base64url'), now, browser)).toBeUndefined();
    }
    expect(cookies().open(uid, sealed, now, browser)).toBeUndefined();
    expect(sealing.open(uid, 'not base64url!', now, browser)).toBeUndefined();
    expect(sealing.open(uid, '', now, browser)).toBeUndefined();
  });

  it('sets one cookie per interaction for its pages and its resume, and clears it there', () => {
    const sealing = cookies();
    const jar = sealing.jar([], () => now);
    jar.write(uid, { step: 1 }, now + 3600);
    jar.write('OtherTab', { step: 1 }, now + 3600);
    const set = jar.setCookies();
    // Two interactions, each for its two paths, and the browser's one binding.
    expect(set).toHaveLength(5);
    const mine = set.filter((line) => line.startsWith(`__Secure-interaction-${uid}=`));
    expect(mine.map((line) => /Path=([^;]+)/.exec(line)?.[1])).toEqual(paths(uid));
    for (const line of mine) {
      expect(line).toMatch(/; Max-Age=3600; HttpOnly; SameSite=Lax; Secure$/);
    }
    // Read back within the request; the next request reads it from its cookie.
    expect(jar.read(uid)).toEqual({ step: 1 });
    const value = mine[0]!.split(';')[0]!.slice(`__Secure-interaction-${uid}=`.length);
    const binding = set.find((line) => line.startsWith('__Host-sign-in-browser='))!.split(';')[0]!;
    const next = sealing.jar([`__Secure-interaction-${uid}=${value}`, binding], () => now + 10);
    expect(next.read(uid)).toEqual({ step: 1 });
    expect(next.read('OtherTab')).toBeUndefined();
    next.clear(uid);
    expect(next.read(uid)).toBeUndefined();
    // A clear alone neither issues nor renews the binding.
    expect(next.setCookies().every((line) => /=; Path=[^;]+; Max-Age=0;/.test(line))).toBe(true);
    // Plain http on loopback: neither `Secure` nor the prefix, which browsers refuse there.
    const local = cookies(false).jar([], () => now);
    local.write(uid, {}, now + 60);
    expect(local.setCookies()[0]).toMatch(new RegExp(`^interaction-${uid}=[^;]+; Path=/interaction/${uid};`));
    expect(local.setCookies()[0]).not.toMatch(/Secure/);
    expect(local.setCookies().at(-1)).toMatch(
      /^sign-in-browser=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=\d+; HttpOnly; SameSite=Lax$/,
    );
  });

  it("opens a state only in the browser it was sealed for: another's planted cookie opens nothing", () => {
    const sealing = cookies();
    const attackers = sealing.jar([], () => now);
    attackers.write(uid, { result: { login: { accountId: 'attacker' } } }, now + 3600);
    const set = attackers.setCookies();
    const planted = set.find((line) => line.startsWith(`__Secure-interaction-${uid}=`))!.split(';')[0]!;
    const attackersBinding = set.find((line) => line.startsWith('__Host-sign-in-browser='))!;
    // Host-only, for the whole host, Secure: the prefix browsers enforce, so no sibling host can set it.
    expect(attackersBinding).toMatch(
      /^__Host-sign-in-browser=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=\d+; HttpOnly; SameSite=Lax; Secure$/,
    );
    expect(attackersBinding).not.toMatch(/Domain=/i);

    // The victim's browser: with no binding, with its own, with a malformed one: nothing opens.
    expect(sealing.jar([planted], () => now).read(uid)).toBeUndefined();
    expect(sealing.jar([planted, `__Host-sign-in-browser=${browser}`], () => now).read(uid)).toBeUndefined();
    expect(sealing.jar([planted, '__Host-sign-in-browser=short'], () => now).read(uid)).toBeUndefined();
    // Nor under the unprefixed name a sibling host could set.
    const binding = attackersBinding.split(';')[0]!;
    expect(sealing.jar([planted, binding.slice('__Host-'.length)], () => now).read(uid)).toBeUndefined();
    // The attacker's own browser opens it: only the binding made the difference.
    expect(sealing.jar([planted, binding], () => now).read(uid)).toEqual({
      result: { login: { accountId: 'attacker' } },
    });
  });

  describe('a binding planted by a sibling host under a look-alike or repeated name', () => {
    /** The attacker's sealed sign-in and binding, and the victim's own binding. */
    function planted() {
      const sealing = cookies();
      const attackers = sealing.jar([], () => now);
      attackers.write(uid, { result: { login: { accountId: 'attacker' } } }, now + 3600);
      const set = attackers.setCookies();
      const interaction = set.find((line) => line.startsWith(`__Secure-interaction-${uid}=`))!.split(';')[0]!;
      const attackerBinding = set.find((line) => line.startsWith('__Host-sign-in-browser='))!.split(';')[0]!;
      return { sealing, interaction, attackerBinding, victimBinding: `__Host-sign-in-browser=${browser}` };
    }
    /** The jar of a request with the `Cookie` header `header`, split as functions/oidc.ts splits it. */
    const jarOf = (sealing: InteractionCookies, header: string) => sealing.jar(header.split(';'), () => now);

    it.each([
      ['U+3000', '\u3000'],
      ['U+00A0', '\u00a0'],
      ['U+FEFF', '\ufeff'],
      ['U+2028', '\u2028'],
    ])('a name starting with %s is not the binding: the planted sign-in opens nothing', (_what, space) => {
      const { sealing, interaction, attackerBinding, victimBinding } = planted();
      // Browsers apply the `__Host-` rules only to a name starting with it, so they take this one with
      // Domain=<parent> from a sibling host; sent after the victim's own binding.
      const header = `${victimBinding}; ${interaction}; ${space}${attackerBinding}`;
      expect(jarOf(sealing, header).read(uid)).toBeUndefined();
    });

    it('a binding sent twice is no binding: fail closed, whichever comes last', () => {
      const { sealing, interaction, attackerBinding, victimBinding } = planted();
      expect(
        jarOf(sealing, `${victimBinding}; ${interaction}; ${attackerBinding}`).read(uid),
      ).toBeUndefined();
      expect(
        jarOf(sealing, `${attackerBinding}; ${interaction}; ${victimBinding}`).read(uid),
      ).toBeUndefined();
      // The attacker's binding alone opens it: only the duplicate made the difference.
      expect(jarOf(sealing, `${interaction}; ${attackerBinding}`).read(uid)).toEqual({
        result: { login: { accountId: 'attacker' } },
      });
    });

    it('an interaction cookie sent twice is no interaction', () => {
      const { sealing, interaction, attackerBinding } = planted();
      expect(jarOf(sealing, `${interaction}; ${attackerBinding}; ${interaction}`).read(uid)).toBeUndefined();
    });

    it('still trims the spaces and tabs around a name and value (RFC 6265 OWS)', () => {
      const { sealing, interaction, attackerBinding } = planted();
      expect(jarOf(sealing, ` \t${interaction} ;\t${attackerBinding}\t `).read(uid)).toEqual({
        result: { login: { accountId: 'attacker' } },
      });
    });
  });

  it('keeps one binding per browser: a later interaction reuses and renews it', () => {
    const sealing = cookies();
    const binding = `__Host-sign-in-browser=${browser}`;
    const jar = sealing.jar([binding], () => now);
    jar.write(uid, { step: 1 }, now + 3600);
    jar.write('OtherTab', { step: 1 }, now + 3600);
    const bindings = jar.setCookies().filter((line) => line.startsWith('__Host-sign-in-browser='));
    expect(bindings).toEqual([
      `${binding}; Path=/; Max-Age=${BROWSER_BINDING_SECONDS}; HttpOnly; SameSite=Lax; Secure`,
    ]);
    // Renewed for much longer than an interaction lives.
    expect(BROWSER_BINDING_SECONDS).toBeGreaterThan(3600 * 2);
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

  it('knows the size of a cookie without sealing it: the same as the cookie it sets', () => {
    for (const secure of [true, false]) {
      // Every remainder of the base64 groups, and characters of three bytes.
      for (const state of ['', 'x', 'xy', 'xyz', '办'.repeat(101), 'S'.repeat(2500)]) {
        const payload = { returnTo: '/authorize/x', params: { state } };
        const jar = cookies(secure).jar([], () => now);
        jar.write(uid, payload, now + 3600);
        const set = jar.setCookies().find((line) => line.includes(`interaction-${uid}=`))!;
        expect(interactionCookieBytes(uid, payload, now + 3600, { secure })).toBe(set.split(';')[0]!.length);
      }
    }
  });
});
