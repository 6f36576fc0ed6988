import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  BROWSER_BINDING_SECONDS,
  InteractionCookies,
  MAX_INTERACTION_COOKIE_BYTES,
  MAX_INTERACTION_STATE_BYTES,
  sealedInteractionBytes,
} from '../../../shared/sso/interaction-cookies.js';
import { InMemorySpilledInteractions } from '../../support/in-memory-spilled-interactions.js';

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

  it('sets one cookie per interaction for its pages and its resume, and clears it there', async () => {
    const sealing = cookies();
    const jar = sealing.jar([], () => now);
    await jar.write(uid, { step: 1 }, now + 3600);
    await jar.write('OtherTab', { step: 1 }, now + 3600);
    const set = jar.setCookies();
    // Two interactions, each for its two paths, and the browser's one binding.
    expect(set).toHaveLength(5);
    const mine = set.filter((line) => line.startsWith(`__Secure-interaction-${uid}=`));
    expect(mine.map((line) => /Path=([^;]+)/.exec(line)?.[1])).toEqual(paths(uid));
    for (const line of mine) {
      expect(line).toMatch(/; Max-Age=3600; HttpOnly; SameSite=Lax; Secure$/);
    }
    // Read back within the request; the next request reads it from its cookie.
    expect(await jar.read(uid)).toEqual({ step: 1 });
    const value = mine[0]!.split(';')[0]!.slice(`__Secure-interaction-${uid}=`.length);
    const binding = set.find((line) => line.startsWith('__Host-sign-in-browser='))!.split(';')[0]!;
    const next = sealing.jar([`__Secure-interaction-${uid}=${value}`, binding], () => now + 10);
    expect(await next.read(uid)).toEqual({ step: 1 });
    expect(await next.read('OtherTab')).toBeUndefined();
    await next.clear(uid);
    expect(await next.read(uid)).toBeUndefined();
    // A clear alone neither issues nor renews the binding.
    expect(next.setCookies().every((line) => /=; Path=[^;]+; Max-Age=0;/.test(line))).toBe(true);
    // Plain http on loopback: neither `Secure` nor the prefix, which browsers refuse there.
    const local = cookies(false).jar([], () => now);
    await local.write(uid, {}, now + 60);
    expect(local.setCookies()[0]).toMatch(new RegExp(`^interaction-${uid}=[^;]+; Path=/interaction/${uid};`));
    expect(local.setCookies()[0]).not.toMatch(/Secure/);
    expect(local.setCookies().at(-1)).toMatch(
      /^sign-in-browser=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=\d+; HttpOnly; SameSite=Lax$/,
    );
  });

  it("opens a state only in the browser it was sealed for: another's planted cookie opens nothing", async () => {
    const sealing = cookies();
    const attackers = sealing.jar([], () => now);
    await attackers.write(uid, { result: { login: { accountId: 'attacker' } } }, now + 3600);
    const set = attackers.setCookies();
    const planted = set.find((line) => line.startsWith(`__Secure-interaction-${uid}=`))!.split(';')[0]!;
    const attackersBinding = set.find((line) => line.startsWith('__Host-sign-in-browser='))!;
    // Host-only, for the whole host, Secure: the prefix browsers enforce, so no sibling host can set it.
    expect(attackersBinding).toMatch(
      /^__Host-sign-in-browser=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=\d+; HttpOnly; SameSite=Lax; Secure$/,
    );
    expect(attackersBinding).not.toMatch(/Domain=/i);

    // The victim's browser: with no binding, with its own, with a malformed one: nothing opens.
    expect(await sealing.jar([planted], () => now).read(uid)).toBeUndefined();
    expect(
      await sealing.jar([planted, `__Host-sign-in-browser=${browser}`], () => now).read(uid),
    ).toBeUndefined();
    expect(await sealing.jar([planted, '__Host-sign-in-browser=short'], () => now).read(uid)).toBeUndefined();
    // Nor under the unprefixed name a sibling host could set.
    const binding = attackersBinding.split(';')[0]!;
    expect(
      await sealing.jar([planted, binding.slice('__Host-'.length)], () => now).read(uid),
    ).toBeUndefined();
    // The attacker's own browser opens it: only the binding made the difference.
    expect(await sealing.jar([planted, binding], () => now).read(uid)).toEqual({
      result: { login: { accountId: 'attacker' } },
    });
  });

  describe('a binding planted by a sibling host under a look-alike or repeated name', () => {
    /** The attacker's sealed sign-in and binding, and the victim's own binding. */
    async function planted() {
      const sealing = cookies();
      const attackers = sealing.jar([], () => now);
      await attackers.write(uid, { result: { login: { accountId: 'attacker' } } }, now + 3600);
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
    ])(
      'a name starting with %s is not the binding: the planted sign-in opens nothing',
      async (_what, space) => {
        const { sealing, interaction, attackerBinding, victimBinding } = await planted();
        // Browsers apply the `__Host-` rules only to a name starting with it, so they take this one with
        // Domain=<parent> from a sibling host; sent after the victim's own binding.
        const header = `${victimBinding}; ${interaction}; ${space}${attackerBinding}`;
        expect(await jarOf(sealing, header).read(uid)).toBeUndefined();
      },
    );

    it('a binding sent twice is no binding: fail closed, whichever comes last', async () => {
      const { sealing, interaction, attackerBinding, victimBinding } = await planted();
      expect(
        await jarOf(sealing, `${victimBinding}; ${interaction}; ${attackerBinding}`).read(uid),
      ).toBeUndefined();
      expect(
        await jarOf(sealing, `${attackerBinding}; ${interaction}; ${victimBinding}`).read(uid),
      ).toBeUndefined();
      // The attacker's binding alone opens it: only the duplicate made the difference.
      expect(await jarOf(sealing, `${interaction}; ${attackerBinding}`).read(uid)).toEqual({
        result: { login: { accountId: 'attacker' } },
      });
    });

    it('an interaction cookie sent twice is no interaction', async () => {
      const { sealing, interaction, attackerBinding } = await planted();
      expect(
        await jarOf(sealing, `${interaction}; ${attackerBinding}; ${interaction}`).read(uid),
      ).toBeUndefined();
    });

    it('still trims the spaces and tabs around a name and value (RFC 6265 OWS)', async () => {
      const { sealing, interaction, attackerBinding } = await planted();
      expect(await jarOf(sealing, ` \t${interaction} ;\t${attackerBinding}\t `).read(uid)).toEqual({
        result: { login: { accountId: 'attacker' } },
      });
    });
  });

  it('keeps one binding per browser: a later interaction reuses and renews it', async () => {
    const sealing = cookies();
    const binding = `__Host-sign-in-browser=${browser}`;
    const jar = sealing.jar([binding], () => now);
    await jar.write(uid, { step: 1 }, now + 3600);
    await jar.write('OtherTab', { step: 1 }, now + 3600);
    const bindings = jar.setCookies().filter((line) => line.startsWith('__Host-sign-in-browser='));
    expect(bindings).toEqual([
      `${binding}; Path=/; Max-Age=${BROWSER_BINDING_SECONDS}; HttpOnly; SameSite=Lax; Secure`,
    ]);
    // Renewed for much longer than an interaction lives.
    expect(BROWSER_BINDING_SECONDS).toBeGreaterThan(3600 * 2);
  });

  it('refuses, clearly, a state a browser would drop when there is no table to keep it', async () => {
    const jar = cookies().jar([], () => now);
    await expect(jar.write(uid, { state: 'x'.repeat(3000) }, now + 60)).rejects.toThrow(/too large/);
    expect(jar.setCookies()).toEqual([]);
    await jar.write(uid, { state: 'x'.repeat(2000) }, now + 60);
    for (const line of jar.setCookies()) {
      expect(line.split(';')[0]!.length).toBeLessThanOrEqual(MAX_INTERACTION_COOKIE_BYTES);
    }
  });

  it('knows the size of a seal without sealing: the same as the value it sets', async () => {
    for (const secure of [true, false]) {
      // Every remainder of the base64 groups, and characters of three bytes.
      for (const state of ['', 'x', 'xy', 'xyz', '办'.repeat(101), 'S'.repeat(2500)]) {
        const payload = { returnTo: '/authorize/x', params: { state } };
        const jar = cookies(secure).jar([], () => now);
        await jar.write(uid, payload, now + 3600);
        const set = jar.setCookies().find((line) => line.includes(`interaction-${uid}=`))!;
        const value = set.split(';')[0]!.split('=')[1]!;
        expect(sealedInteractionBytes(payload, now + 3600)).toBe(value.length);
      }
    }
  });

  describe('a state too large for its cookie, kept in the table', () => {
    /** The contract's longest purpose (200 characters) in Chinese, in a share's request. */
    const purpose = '为办理营业执照变更登记核验'.repeat(16).slice(0, 200);
    /** The step after the sign-in: the provider's session carries the signed-in account. */
    const large = {
      session: { accountId: 'person#0b4c2f1e', uid: 'SessionUid', acr: 'urn:elicence:loa:2' },
      returnTo: `https://id.example.gov.cn/authorize/${uid}`,
      params: {
        authorization_details: JSON.stringify([
          { type: 'licence_access', licence_types: ['business-licence'], purpose },
        ]),
        state: 'S'.repeat(3000),
      },
    };
    /** Sealing with a store; the answer's interaction cookie and binding after `large` was written. */
    async function spilled(secure = true) {
      const store = new InMemorySpilledInteractions();
      const sealing = new InteractionCookies(randomBytes(32), { secure, paths, spilled: store });
      const jar = sealing.jar([], () => now);
      await jar.write(uid, large, now + 3600);
      const set = jar.setCookies();
      const pointer = set.find((line) => line.includes(`interaction-${uid}=`))!.split(';')[0]!;
      const binding = set.find((line) => line.includes('sign-in-browser='))!.split(';')[0]!;
      return { store, sealing, pointer, binding };
    }
    const valueOf = (pair: string) => pair.slice(pair.indexOf('=') + 1);

    it('keeps the seal in the table, its expiry the item’s, the cookie a short pointer; read back once a request', async () => {
      const { store, sealing, pointer, binding } = await spilled();
      const item = store.items.get(uid)!;
      expect(item.expiresAt).toBe(now + 3600);
      expect(item.sealed.length).toBe(sealedInteractionBytes(large, now + 3600));
      expect(item.sealed.length).toBeGreaterThan(MAX_INTERACTION_COOKIE_BYTES);
      expect(pointer.length).toBeLessThan(300);
      // The item is the same seal a cookie would hold: opened by the same checks.
      expect(sealing.open(uid, item.sealed, now, valueOf(binding))).toEqual(large);
      const next = sealing.jar([pointer, binding], () => now + 10);
      store.calls.length = 0;
      expect(await next.read(uid)).toEqual(large);
      expect(await next.read(uid)).toEqual(large);
      expect(store.calls).toEqual([['get', uid]]);
    });

    it('opens nothing in another browser, with one byte of the pointer changed, or expired: no table call', async () => {
      const { store, sealing, pointer, binding } = await spilled();
      store.calls.length = 0;
      const bytes = Buffer.from(valueOf(pointer), 'base64url');
      for (let at = 0; at < bytes.length; at += 1) {
        const changed = Buffer.from(bytes);
        changed[at]! ^= 0x01;
        const tampered = `${pointer.split('=')[0]}=${changed.toString('base64url')}`;
        expect(await sealing.jar([tampered, binding], () => now).read(uid)).toBeUndefined();
      }
      expect(await sealing.jar([pointer], () => now).read(uid)).toBeUndefined();
      expect(
        await sealing.jar([pointer, `__Host-sign-in-browser=${browser}`], () => now).read(uid),
      ).toBeUndefined();
      expect(await sealing.jar([pointer, binding], () => now + 3600).read(uid)).toBeUndefined();
      expect(store.calls).toEqual([]);
      // Another interaction's pointer opens nothing for this uid either.
      const other = sealing.jar([binding], () => now);
      await other.write('OtherTab', large, now + 3600);
      const otherPointer = other.setCookies()[0]!.split(';')[0]!;
      const moved = `${pointer.split('=')[0]}=${valueOf(otherPointer)}`;
      expect(await sealing.jar([moved, binding], () => now).read(uid)).toBeUndefined();
      // Only those made the difference.
      expect(await sealing.jar([pointer, binding], () => now).read(uid)).toEqual(large);
    });

    it('opens only the seal its pointer names: an item replaced, another browser’s, or gone opens nothing', async () => {
      const { store, sealing, pointer, binding } = await spilled();
      const kept = store.items.get(uid)!;
      const read = () => sealing.jar([pointer, binding], () => now).read(uid);
      // Another seal of the same uid for this browser (an older step, say), put in the item's place.
      const browserValue = valueOf(binding);
      store.items.set(uid, {
        ...kept,
        sealed: sealing.seal(uid, { ...large, result: {} }, now + 3600, browserValue),
      });
      expect(await read()).toBeUndefined();
      // The same state sealed for another browser.
      store.items.set(uid, { ...kept, sealed: sealing.seal(uid, large, now + 3600, browser) });
      expect(await read()).toBeUndefined();
      store.items.delete(uid);
      expect(await read()).toBeUndefined();
      store.items.set(uid, kept);
      expect(await read()).toEqual(large);
    });

    it('deletes the item when the interaction ends, or when its state fits its cookie again', async () => {
      const { store, sealing, pointer, binding } = await spilled();
      const ending = sealing.jar([pointer, binding], () => now);
      expect(await ending.read(uid)).toEqual(large);
      await ending.clear(uid);
      expect(store.items.has(uid)).toBe(false);
      expect(ending.setCookies().every((line) => /=; Path=[^;]+; Max-Age=0;/.test(line))).toBe(true);

      const again = await spilled();
      const smaller = again.sealing.jar([again.pointer, again.binding], () => now);
      await smaller.write(uid, { returnTo: large.returnTo }, now + 3600);
      expect(again.store.items.has(uid)).toBe(false);
      expect(await smaller.read(uid)).toEqual({ returnTo: large.returnTo });
    });

    it('a state that fits its cookie costs no call, and a clear of one none', async () => {
      const store = new InMemorySpilledInteractions();
      const sealing = new InteractionCookies(randomBytes(32), { secure: true, paths, spilled: store });
      const jar = sealing.jar([], () => now);
      await jar.write(uid, { step: 1 }, now + 3600);
      const set = jar.setCookies().map((line) => line.split(';')[0]!);
      const next = sealing.jar([set[0]!, set.at(-1)!], () => now);
      expect(await next.read(uid)).toEqual({ step: 1 });
      await next.write(uid, { step: 2 }, now + 3600);
      await next.clear(uid);
      expect(store.calls).toEqual([]);
    });

    it('refuses, keeping nothing, a state too large for its cookie before anyone signed in; a sign-in’s result may spill', async () => {
      const store = new InMemorySpilledInteractions();
      const sealing = new InteractionCookies(randomBytes(32), { secure: true, paths, spilled: store });
      const { session, ...anonymous } = large;
      expect(session.accountId).toBeTruthy();
      // The authorization request's state, and a pre-sign-in step's (an error result, an empty session).
      for (const payload of [
        anonymous,
        { ...anonymous, result: { error: 'access_denied' } },
        { ...anonymous, session: { accountId: '' }, result: { login: {} } },
      ]) {
        const jar = sealing.jar([], () => now);
        await expect(jar.write(uid, payload, now + 3600)).rejects.toMatchObject({
          code: 'interaction_too_large',
          message: expect.stringMatching(/before the person signed in/),
        });
        expect(jar.setCookies()).toEqual([]);
      }
      expect(store.calls).toEqual([]);
      // The step that checked the password saves the sign-in's result: kept in the table.
      const signedIn = { ...anonymous, result: { login: { accountId: 'person#0b4c2f1e', amr: ['pwd'] } } };
      await sealing.jar([], () => now).write(uid, signedIn, now + 3600);
      expect(store.calls).toEqual([['put', uid]]);
    });

    it('refuses a state past the hard bound, clearly, keeping nothing', async () => {
      const store = new InMemorySpilledInteractions();
      const jar = new InteractionCookies(randomBytes(32), { secure: true, paths, spilled: store }).jar(
        [],
        () => now,
      );
      const huge = { ...large, params: { state: 'S'.repeat(MAX_INTERACTION_STATE_BYTES) } };
      await expect(jar.write(uid, huge, now + 60)).rejects.toMatchObject({ code: 'interaction_too_large' });
      expect(jar.setCookies()).toEqual([]);
      expect(store.items.size).toBe(0);
    });
  });
});
