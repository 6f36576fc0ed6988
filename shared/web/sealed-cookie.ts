import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type * as z from 'zod';
import type { HttpEvent } from '../http/types.js';
import { cookieName, readCookie, serializeCookie } from './cookies.js';

const ivBytes = 12;
const tagBytes = 16;

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
  #key: Promise<Buffer> | undefined;

  constructor(private readonly keyMaterial: () => Promise<Uint8Array>) {}

  async seal(name: string, data: unknown, lifetimeSeconds: number, nowSeconds: number): Promise<string> {
    const iv = randomBytes(ivBytes);
    const cipher = createCipheriv('aes-256-gcm', await this.key(), iv);
    cipher.setAAD(Buffer.from(name, 'utf8'));
    const plaintext = Buffer.from(JSON.stringify({ exp: nowSeconds + lifetimeSeconds, data }), 'utf8');
    const sealed = Buffer.concat([iv, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    return sealed.toString('base64url');
  }

  /** The sealed data if `value` was sealed by us for `name`, has not expired and matches `schema`. */
  async open<S extends z.ZodType>(
    name: string,
    value: string | undefined,
    schema: S,
    nowSeconds: number,
  ): Promise<z.output<S> | undefined> {
    if (!value || value.length > 4096) return undefined;
    const sealed = Buffer.from(value, 'base64url');
    if (sealed.length < ivBytes + tagBytes) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', await this.key(), sealed.subarray(0, ivBytes));
      decipher.setAAD(Buffer.from(name, 'utf8'));
      decipher.setAuthTag(sealed.subarray(sealed.length - tagBytes));
      const plaintext = Buffer.concat([
        decipher.update(sealed.subarray(ivBytes, sealed.length - tagBytes)),
        decipher.final(),
      ]);
      const { exp, data } = JSON.parse(plaintext.toString('utf8')) as { exp: unknown; data: unknown };
      if (typeof exp !== 'number' || exp <= nowSeconds) return undefined;
      const parsed = schema.safeParse(data);
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }

  private key(): Promise<Buffer> {
    this.#key ??= this.keyMaterial().then((bytes) => {
      if (bytes.length < 32) throw new Error('The session key material must be at least 32 bytes');
      return Buffer.from(bytes.subarray(0, 32));
    });
    this.#key.catch(() => (this.#key = undefined));
    return this.#key;
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
