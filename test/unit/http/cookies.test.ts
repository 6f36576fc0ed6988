import { describe, expect, it } from 'vitest';
import { parseCookies } from '../../../shared/http/cookies.js';
import type { HttpEvent } from '../../../shared/http/types.js';
import { readCookie, servedOverHttps } from '../../../shared/web/kit/cookies.js';

/**
 * The page functions' cookie reader (wallet, console, demo sessions, the language): a sibling host may
 * set cookies for the parent domain, but browsers refuse it any name starting with `__Host-`. It must not
 * get one in by a look-alike name (a Unicode space before the prefix, which `String.prototype.trim`
 * would remove) nor by sending a second cookie of the name: a name sent twice is read as absent.
 */

const withHeader = (cookie: string) => ({ headers: { cookie } }) as unknown as HttpEvent;
const withCookies = (cookies: string[]) => ({ headers: {}, cookies }) as unknown as HttpEvent;

describe('reading a cookie', () => {
  it('reads a name sent once, around spaces and tabs (RFC 6265 OWS), from a header or API Gateway', () => {
    expect(readCookie(withHeader('a=1; __Host-wallet=v.w.x;\tb=2'), '__Host-wallet')).toBe('v.w.x');
    expect(readCookie(withHeader(' \t__Host-wallet = v \t'), '__Host-wallet')).toBe('v');
    expect(readCookie(withCookies(['a=1', '__Host-wallet=v']), '__Host-wallet')).toBe('v');
    expect(readCookie(withCookies(['a=1']), '__Host-wallet')).toBeUndefined();
  });

  it.each(['\u3000', '\u00a0', '\ufeff', '\u2028', '\u000b'])(
    'does not read `%j__Host-wallet` as `__Host-wallet`',
    (space) => {
      expect(readCookie(withHeader(`${space}__Host-wallet=attacker`), '__Host-wallet')).toBeUndefined();
      expect(readCookie(withCookies([`${space}__Host-wallet=attacker`]), '__Host-wallet')).toBeUndefined();
      expect(
        readCookie(withHeader(`${space}__Host-wallet=attacker; __Host-wallet=victim`), '__Host-wallet'),
      ).toBe('victim');
    },
  );

  it('reads a name sent twice as absent, in either order (fail closed)', () => {
    expect(readCookie(withHeader('__Host-wallet=victim; __Host-wallet=attacker'), '__Host-wallet')).toBe(
      undefined,
    );
    expect(readCookie(withCookies(['__Host-wallet=attacker', '__Host-wallet=victim']), '__Host-wallet')).toBe(
      undefined,
    );
  });

  it('reads the first copy of a name the caller says points at guarded state, and only of that name', () => {
    const pointer = (name: string) => name === '_interaction_resume';
    const cookies = parseCookies(
      ['_interaction_resume=real', 'x=1', '_interaction_resume=planted', 'x=2'],
      pointer,
    );
    expect(cookies.get('_interaction_resume')).toBe('real');
    expect(cookies.get('x')).toBeUndefined();
  });

  it('decides https by the parsed scheme (review finding: `HTTPS://` dropped every __Host- name)', () => {
    expect(servedOverHttps('HTTPS://id.example.gov.cn')).toBe(true);
    expect(servedOverHttps('https://id.example.gov.cn')).toBe(true);
    expect(servedOverHttps('http://localhost:3000')).toBe(false);
  });
});
