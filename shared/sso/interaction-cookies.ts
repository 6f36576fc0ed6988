import { createCipheriv, createDecipheriv, createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { InvalidInputError } from '../errors.js';
import { parseCookies } from '../http/cookies.js';

/**
 * The state of one OpenID interaction (a sign-in under way: the authorization request, the prompt, the
 * result of a step) kept in the browser instead of the table: a cookie per interaction, sealed.
 *
 * What one request sees and changes of the interactions its browser holds; the storage adapter
 * (shared/adapters/dynamo/oidc-adapter.ts) reads and writes the provider's `Interaction` model through
 * it within the request scope the `oidc` function opens (`withRequestReads`).
 */
export interface InteractionCookieJar {
  /**
   * The payload sealed for `uid` in this request's cookie (or written earlier in this request), while
   * unexpired; undefined for none, one that does not open (altered, another uid, another key) or expired.
   */
  read(uid: string): Record<string, unknown> | undefined;
  /** Seals `payload` for `uid`, to expire at `expiresAt` (epoch seconds); throws if it cannot fit a cookie. */
  write(uid: string, payload: Record<string, unknown>, expiresAt: number): void;
  /** Removes the cookie of `uid` (the interaction ended). */
  clear(uid: string): void;
}

/** The version label bound into every seal (the associated data): a new format gets a new label. */
const VERSION = 'elicence/interaction-state/v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
/**
 * Browsers keep a cookie whose name and value together are at most 4096 bytes and silently drop a longer
 * one (RFC 6265 §6.1 asks for at least that much; Chromium and Firefox hold to exactly that). A sign-in
 * whose state would be dropped is refused with a clear error instead, a little under the limit.
 */
export const MAX_INTERACTION_COOKIE_BYTES = 4000;
/** The uids the provider makes (nanoid, 21 characters) and anything of its alphabet up to 64. */
const uidPattern = /^[A-Za-z0-9_-]{1,64}$/;
/** A browser's binding value: 32 random bytes, base64url. */
const BROWSER_BYTES = 32;
const browserPattern = /^[A-Za-z0-9_-]{43}$/;
/**
 * How long the browser keeps its binding cookie, renewed by every interaction it saves: much longer than
 * an interaction lives (an hour), so one started in another tab never outlives the binding it was sealed to.
 */
export const BROWSER_BINDING_SECONDS = 86_400;

/**
 * Seals interactions into cookies: AES-256-GCM under a key every container derives from the provider's
 * own interaction key (`interactionCookieKey`, shared/sso/derived-secrets.ts; only the `oidc` function may
 * use that KMS key), a random 96-bit nonce per seal, and as
 * associated data the version label and the interaction's uid, so a cookie opens only as the state of
 * the interaction it was sealed for. The expiry is inside the seal: the cookie's `Max-Age` is the
 * browser's business, the sealed expiry is the service's.
 *
 * One cookie per interaction (`interaction-<uid>`; `__Secure-` on https), so two sign-ins in two tabs do
 * not overwrite each other. It is set twice, with the paths of the interaction's pages
 * (`/interaction/<uid>`) and of the provider's resume (`/authorize/<uid>`), so the browser sends it
 * only there, never with other requests (a 4 KB cookie per open sign-in on every request would soon pass
 * the 10 KB of headers API Gateway accepts). HttpOnly, SameSite=Lax (the sign-in is entered by a
 * top-level navigation from the platform), Secure except on loopback http as the other cookies.
 *
 * Bound to the browser. A path-scoped cookie cannot be `__Host-`, and a `__Secure-` one can be set by a
 * sibling host for the whole parent domain: such a host could plant the attacker's own sealed sign-in
 * (its result their login) in a victim's browser, whose resume would sign the victim in as the attacker
 * (login CSRF). So every browser also holds one random binding value in a host-only cookie
 * (`__Host-sign-in-browser`, Path=/, which no other host can set; `sign-in-browser` on loopback http),
 * issued with its first interaction and reused by every later one, and each seal carries the SHA-256 of
 * that value: a sealed state opens only in the browser holding the value it was sealed for. One
 * cookie per browser, never one per interaction; no table call.
 *
 * @example
 * ```ts
 * const cookies = new InteractionCookies(await interactionCookieKey(interactionMac), {
 *   secure: true,
 *   paths: (uid) => [`/interaction/${uid}`, `/authorize/${uid}`],
 * });
 * const jar = cookies.jar(event.cookies ?? [], clock);
 * jar.write('Ab3…', { returnTo: '…' }, nowSeconds + 3600);
 * jar.setCookies(); // ['__Secure-interaction-Ab3…=…; Path=/interaction/Ab3…; …', …, '__Host-sign-in-browser=…; Path=/; …']
 * ```
 */
export class InteractionCookies {
  readonly #key: Buffer;

  constructor(
    key: Uint8Array,
    private readonly options: {
      secure: boolean;
      /** The paths the cookie of `uid` is set for: its pages and the provider's resume. */
      paths: (uid: string) => readonly string[];
    },
  ) {
    if (key.byteLength < 32) throw new Error('the interaction cookie key needs 32 bytes');
    this.#key = Buffer.from(key.subarray(0, 32));
  }

  /** The cookie's name for the interaction `uid`. */
  nameOf(uid: string): string {
    return interactionCookieName(uid, this.options.secure);
  }

  /**
   * The name of the browser's binding cookie: `__Host-` on https (host-only, Path=/, Secure: no sibling
   * host can set or overwrite it), unprefixed on loopback http where browsers refuse the prefix.
   */
  browserCookieName(): string {
    return `${this.options.secure ? '__Host-' : ''}sign-in-browser`;
  }

  /**
   * The sealed value of `payload` for `uid`, expiring at `expiresAt` (epoch seconds), for the browser
   * whose binding cookie holds `browser` (its SHA-256 is sealed, and must match when opened).
   */
  seal(uid: string, payload: Record<string, unknown>, expiresAt: number, browser: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(associatedData(uid));
    const plain = Buffer.from(
      JSON.stringify({ exp: expiresAt, browser: browserDigest(browser), payload }),
      'utf8',
    );
    return Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]).toString(
      'base64url',
    );
  }

  /**
   * The payload sealed for `uid` in `value` while unexpired at `nowSeconds`, if it was sealed for the
   * browser whose binding cookie holds `browser`; undefined otherwise (none, or another browser's).
   */
  open(
    uid: string,
    value: string,
    nowSeconds: number,
    browser: string | undefined,
  ): Record<string, unknown> | undefined {
    if (!uidPattern.test(uid) || !/^[A-Za-z0-9_-]+$/.test(value)) return undefined;
    // Fail closed: a browser without a well-formed binding opens no sign-in.
    if (browser === undefined || !browserPattern.test(browser)) return undefined;
    const bytes = Buffer.from(value, 'base64url');
    if (bytes.length <= IV_BYTES + TAG_BYTES) return undefined;
    let opened: unknown;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, bytes.subarray(0, IV_BYTES), {
        authTagLength: TAG_BYTES,
      });
      decipher.setAAD(associatedData(uid));
      decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
      const plain = Buffer.concat([
        decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)),
        decipher.final(),
      ]);
      opened = JSON.parse(plain.toString('utf8'));
    } catch {
      return undefined;
    }
    const {
      exp,
      payload,
      browser: sealedFor,
    } = (opened ?? {}) as {
      exp?: unknown;
      payload?: unknown;
      browser?: unknown;
    };
    if (typeof exp !== 'number' || exp <= nowSeconds) return undefined;
    if (typeof sealedFor !== 'string') return undefined;
    const expected = Buffer.from(browserDigest(browser), 'base64url');
    const sealed = Buffer.from(sealedFor, 'base64url');
    if (sealed.length !== expected.length || !timingSafeEqual(sealed, expected)) return undefined;
    if (!payload || typeof payload !== 'object' || Array.isArray(payload)) return undefined;
    return payload as Record<string, unknown>;
  }

  /**
   * The jar of one request: `cookies` are the request's (`name=value` pairs, as API Gateway passes them
   * in `event.cookies`, or one `Cookie` header split at `;`); `nowSeconds` the time.
   */
  jar(cookies: readonly string[], nowSeconds: () => number): RequestInteractionCookies {
    return new RequestInteractionCookies(this, this.options, cookies, nowSeconds);
  }
}

/** An interaction's cookies as one request reads and sets them ({@link InteractionCookieJar}). */
export class RequestInteractionCookies implements InteractionCookieJar {
  readonly #incoming: ReadonlyMap<string, string>;
  /** What this request wrote (a payload and its expiry) or cleared (null), by uid. */
  readonly #written = new Map<string, { payload: Record<string, unknown>; expiresAt: number } | null>();
  readonly #setCookies = new Map<string, string[]>();
  /** The browser's binding value: the one its cookie holds, or one issued by this request's first write. */
  #browser: string | undefined;
  /** Whether this request wrote an interaction, so the binding cookie is set (issued or renewed). */
  #bindingToSet = false;

  constructor(
    private readonly cookies: InteractionCookies,
    private readonly options: { secure: boolean; paths: (uid: string) => readonly string[] },
    pairs: readonly string[],
    private readonly nowSeconds: () => number,
  ) {
    // Names sent once, trimmed of spaces and tabs only: a sibling host's `\u3000__Host-sign-in-browser`
    // is not the binding, and a binding or interaction cookie sent twice is absent (fail closed).
    this.#incoming = parseCookies(pairs);
    const browser = this.#incoming.get(cookies.browserCookieName());
    if (browser !== undefined && browserPattern.test(browser)) this.#browser = browser;
  }

  read(uid: string): Record<string, unknown> | undefined {
    if (!uidPattern.test(uid)) return undefined;
    const now = this.nowSeconds();
    if (this.#written.has(uid)) {
      const written = this.#written.get(uid);
      return written && written.expiresAt > now ? structuredClone(written.payload) : undefined;
    }
    const value = this.#incoming.get(this.cookies.nameOf(uid));
    return value === undefined ? undefined : this.cookies.open(uid, value, now, this.#browser);
  }

  write(uid: string, payload: Record<string, unknown>, expiresAt: number): void {
    if (!uidPattern.test(uid))
      throw new InvalidInputError('the interaction id is malformed', 'invalid_request');
    const name = this.cookies.nameOf(uid);
    // The browser's binding: the one it holds, else a new one (its first sign-in here, or it lost it).
    const browser = (this.#browser ??= randomBytes(BROWSER_BYTES).toString('base64url'));
    const value = this.cookies.seal(uid, payload, expiresAt, browser);
    const bytes = Buffer.byteLength(name) + 1 + value.length;
    if (bytes > MAX_INTERACTION_COOKIE_BYTES) {
      throw new InvalidInputError(
        `the sign-in's state would take ${bytes} bytes, more than a browser keeps in a cookie ` +
          `(${MAX_INTERACTION_COOKIE_BYTES}): the authorization request is too large`,
        'interaction_too_large',
      );
    }
    this.#written.set(uid, { payload: structuredClone(payload), expiresAt });
    const maxAge = Math.max(0, expiresAt - this.nowSeconds());
    this.#setCookies.set(uid, this.#serialized(uid, `${name}=${value}`, maxAge));
    this.#bindingToSet = true;
  }

  clear(uid: string): void {
    if (!uidPattern.test(uid)) return;
    this.#written.set(uid, null);
    this.#setCookies.set(uid, this.#serialized(uid, `${this.cookies.nameOf(uid)}=`, 0));
  }

  /**
   * The `Set-Cookie` values the answer must carry: the last write or clear of each interaction, and, when
   * an interaction was written, the browser's binding cookie (issued, or renewed with the same value).
   */
  setCookies(): string[] {
    const interactions = [...this.#setCookies.values()].flat();
    if (!this.#bindingToSet || this.#browser === undefined) return interactions;
    return [
      ...interactions,
      [
        `${this.cookies.browserCookieName()}=${this.#browser}`,
        'Path=/',
        `Max-Age=${BROWSER_BINDING_SECONDS}`,
        'HttpOnly',
        'SameSite=Lax',
        ...(this.options.secure ? ['Secure'] : []),
      ].join('; '),
    ];
  }

  #serialized(uid: string, pair: string, maxAge: number): string[] {
    return this.options
      .paths(uid)
      .map((path) =>
        [
          pair,
          `Path=${path}`,
          `Max-Age=${maxAge}`,
          'HttpOnly',
          'SameSite=Lax',
          ...(this.options.secure ? ['Secure'] : []),
        ].join('; '),
      );
  }
}

function interactionCookieName(uid: string, secure: boolean): string {
  return `${secure ? '__Secure-' : ''}interaction-${uid}`;
}

/**
 * The bytes the cookie of `payload` sealed for `uid` (expiring at `expiresAt`) takes, name and value, as
 * {@link RequestInteractionCookies.write} counts them against {@link MAX_INTERACTION_COOKIE_BYTES}: the
 * length of a seal follows from the length of what it seals (AES-GCM adds the nonce and the tag, base64url
 * a third), so no key is needed to know it.
 *
 * @example
 * ```ts
 * interactionCookieBytes(uid, { returnTo: '…', params: { … } }, nowSeconds + 3600, { secure: true }); // 1268
 * ```
 */
export function interactionCookieBytes(
  uid: string,
  payload: Record<string, unknown>,
  expiresAt: number,
  options: { secure: boolean },
): number {
  // A binding's digest is always 43 characters (SHA-256, base64url).
  const sealed = { exp: expiresAt, browser: 'x'.repeat(43), payload };
  const bytes = IV_BYTES + Buffer.byteLength(JSON.stringify(sealed), 'utf8') + TAG_BYTES;
  const base64url = Math.floor(bytes / 3) * 4 + [0, 2, 3][bytes % 3]!;
  return Buffer.byteLength(interactionCookieName(uid, options.secure)) + 1 + base64url;
}

/** What a seal holds of a browser's binding value: its SHA-256, base64url. */
function browserDigest(browser: string): string {
  return createHash('sha256').update(browser, 'utf8').digest('base64url');
}

function associatedData(uid: string): Buffer {
  return Buffer.from(`${VERSION}\u0000${uid}`, 'utf8');
}
