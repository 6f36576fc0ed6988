import { AesGcmSealer } from '../../crypto/aes-gcm-sealer.js';
import type * as z from 'zod';
import type { HttpEvent } from '../../http/types.js';
import { cookieName, readCookie, serializeCookie } from './cookies.js';

/**
 * Session state kept in the visitor's browser, sealed with AES-256-GCM: nobody can read or alter it
 * without the key, and a value sealed for one cookie name does not open under another (the name is
 * the additional data). The expiry travels inside the sealed payload, so an old cookie replayed after
 * its `Max-Age` is still refused.
 *
 * Stateless by design: the web pages keep no session table, so there is nothing to sweep (dynalite has
 * no TTL) and a Lambda needs no table permission for sessions. Signing out therefore revokes the OAuth
 * tokens at the provider as well as deleting the cookie.
 *
 * @example
 * ```ts
 * const sealer = new CookieSealer(() => derivedSecret(mac, 'web-session/v1'));
 * const value = await sealer.seal('wallet', { accessToken }, 3600, nowSeconds);
 * const session = await sealer.open('wallet', value, walletSession, nowSeconds); // undefined if forged or expired
 * ```
 */
export class CookieSealer {
  readonly #sealer: AesGcmSealer;

  constructor(keyMaterial: () => Promise<Uint8Array>) {
    this.#sealer = new AesGcmSealer(keyMaterial);
  }

  seal(name: string, data: unknown, lifetimeSeconds: number, nowSeconds: number): Promise<string> {
    return this.#sealer.seal(name, { exp: nowSeconds + lifetimeSeconds, data });
  }

  /** The sealed data if `value` was sealed by us for `name`, has not expired and matches `schema`. */
  async open<S extends z.ZodType>(
    name: string,
    value: string | undefined,
    schema: S,
    nowSeconds: number,
  ): Promise<z.output<S> | undefined> {
    if (!value || value.length > 4096) return undefined;
    let opened: unknown;
    try {
      opened = await this.#sealer.open(name, value);
    } catch {
      return undefined;
    }
    const { exp, data } = (opened ?? {}) as { exp?: unknown; data?: unknown };
    if (typeof exp !== 'number' || exp <= nowSeconds) return undefined;
    const parsed = schema.safeParse(data);
    return parsed.success ? parsed.data : undefined;
  }
}

/**
 * One sealed cookie of a page function: its name on the wire (`__Host-` on https, see `cookieName`), its
 * schema and lifetime. Reading opens and checks it; writing seals and serialises it; clearing expires it.
 * The logical name (without the prefix) is what the value is sealed for, so a value never opens under
 * another cookie's name.
 *
 * @example
 * ```ts
 * const login = new SealedCookie(sealer, 'wallet-login', pendingLogin, 600, secure);
 * const pending = await login.read(event, now);
 * return redirect(url, [await login.write(next, now)]);
 * ```
 */
export class SealedCookie<S extends z.ZodType> {
  /** The name the browser keeps it under. */
  readonly wireName: string;

  constructor(
    private readonly sealer: CookieSealer,
    readonly name: string,
    private readonly schema: S,
    private readonly lifetimeSeconds: number,
    private readonly secure: boolean,
  ) {
    this.wireName = cookieName(name, secure);
  }

  read(event: HttpEvent, nowSeconds: number): Promise<z.output<S> | undefined> {
    return this.sealer.open(this.name, readCookie(event, this.wireName), this.schema, nowSeconds);
  }

  /** The `Set-Cookie` value holding `data` for `lifetimeSeconds` (default: the cookie's own lifetime). */
  async write(
    data: z.output<S>,
    nowSeconds: number,
    lifetimeSeconds = this.lifetimeSeconds,
  ): Promise<string> {
    const value = await this.sealer.seal(this.name, data, lifetimeSeconds, nowSeconds);
    return serializeCookie(this.wireName, value, { maxAge: lifetimeSeconds, secure: this.secure });
  }

  /** The `Set-Cookie` value that deletes it. */
  clear(): string {
    return serializeCookie(this.wireName, '', { maxAge: 0, secure: this.secure });
  }
}
