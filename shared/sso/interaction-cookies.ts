import { createCipheriv, createDecipheriv, createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { InvalidInputError } from '../errors.js';
import { parseCookies } from '../http/cookies.js';
import { logger } from '../logger.js';

/**
 * The state of one OpenID interaction (a sign-in under way: the authorization request, the prompt, the
 * result of a step) kept in the browser instead of the table: a cookie per interaction, sealed; a state
 * too large for a cookie is kept in the table, sealed the same way, and its cookie points at it.
 *
 * What one request sees and changes of the interactions its browser holds; the storage adapter
 * (shared/adapters/dynamo/oidc-adapter.ts) reads and writes the provider's `Interaction` model through
 * it within the request scope the `oidc` function opens (`withRequestReads`). Asynchronous, as the
 * adapter is: a state that fits its cookie costs no call, one kept in the table one call per read (once a
 * request), save or end.
 */
export interface InteractionCookieJar {
  /**
   * The payload sealed for `uid` in this request's cookie, or in the table where that cookie points (or
   * written earlier in this request), while unexpired; undefined for none, one that does not open
   * (altered, another uid, another key, another browser) or expired.
   */
  read(uid: string): Promise<Record<string, unknown> | undefined>;
  /**
   * Seals `payload` for `uid`, to expire at `expiresAt` (epoch seconds): in its cookie, or in the table
   * when the cookie could not hold it and it carries a signed-in account. Throws `InvalidInputError`
   * `interaction_too_large` past {@link MAX_INTERACTION_STATE_BYTES}, or past the cookie's limit before
   * the sign-in or with no table to spill to.
   */
  write(uid: string, payload: Record<string, unknown>, expiresAt: number): Promise<void>;
  /** Removes the cookie of `uid` (the interaction ended), and what the table kept of it. */
  clear(uid: string): Promise<void>;
}

/**
 * Where the sealed states too large for a cookie are kept (the `oidc` function's table:
 * `interaction-state#<uid>`, with the state's expiry as its TTL). It holds the seal only: what opens it,
 * and for which browser, is the jar's business, so the store can neither read nor vouch for a state.
 */
export interface SpilledInteractionStore {
  /** Keeps `sealed` for the interaction `uid` until `expiresAt` (epoch seconds), replacing what it kept. */
  put(uid: string, sealed: string, expiresAt: number): Promise<void>;
  /** What is kept for `uid`, while unexpired at `nowSeconds`; undefined for nothing. */
  get(uid: string, nowSeconds: number): Promise<string | undefined>;
  /** Forgets what is kept for `uid` (nothing to forget is no error). */
  delete(uid: string): Promise<void>;
}

/** The version label bound into every seal (the associated data): a new format gets a new label. */
const VERSION = 'elicence/interaction-state/v1';
/**
 * The label of a pointer: what a cookie holds for a state kept in the table. A label of its own, so that
 * a pointer never opens as a state, nor a state as a pointer.
 */
const POINTER_VERSION = 'elicence/interaction-pointer/v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
/**
 * Browsers keep a cookie whose name and value together are at most 4096 bytes and silently drop a longer
 * one (RFC 6265 §6.1 asks for at least that much; Chromium and Firefox hold to exactly that). A state
 * whose cookie would be longer than this, a little under the limit, is kept in the table instead.
 */
export const MAX_INTERACTION_COOKIE_BYTES = 4000;
/**
 * The most a sealed state may take, in the table (the hard outer bound; a save past it is refused with
 * `interaction_too_large`). Far above any sign-in a platform asks for (a share with the longest purpose
 * the contract allows, two licence types, acting for an enterprise, seals to 4,120 bytes at its largest
 * step, the consent: interaction-cookies.test.ts), and far below DynamoDB's 400 KB item limit, which
 * would otherwise fail the save with a 5xx. Only a state with a signed-in account is kept in the table
 * ({@link carriesSignedInAccount}): an unauthenticated `/authorize` makes the service write nothing.
 */
export const MAX_INTERACTION_STATE_BYTES = 64 * 1024;
/**
 * The most the state of a new interaction may take when the authorization request first saves it for a
 * browser already signed in (before anyone signed in it must fit its cookie; shared/sso/provider.ts
 * refuses a larger one with `invalid_request` at the platform's redirect URI):
 * a quarter of {@link MAX_INTERACTION_STATE_BYTES}, so that the sign-in's later steps, which add the
 * session and each step's result and repeat part of the request on the consent page (the scopes and
 * `authorization_details`, once), cannot reach the hard bound after the person typed their password: a
 * bound with room to spare, not an estimate of the steps. A GET's query is at most 8,192 characters
 * (shared/http/edge.ts), whose state seals to about 10 KB (9,943 bytes measured for the longest, of
 * printable text): only a pushed request (PAR; the provider reads up to 56 KB of body) is refused here.
 */
export const MAX_AUTHORIZATION_STATE_BYTES = 16 * 1024;
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
 * Too large for a cookie (over {@link MAX_INTERACTION_COOKIE_BYTES} with its name: the consent of a share
 * with a long purpose), once it carries a signed-in account ({@link carriesSignedInAccount}; before that
 * it is refused, so anonymous requests cannot fill the table), the same seal is kept in the table ({@link SpilledInteractionStore}, under
 * the uid, its expiry the item's TTL) and the cookie holds a pointer instead: sealed the same way under a
 * label of its own ({@link InteractionCookies.pointTo}), bound to the uid, the browser and the expiry,
 * with the SHA-256 of the seal it points at. A pointer that does not open (altered, another browser,
 * expired) costs no table call; one that opens reads the item and opens its seal with the same checks,
 * so a state in the table opens only in its browser, for its uid, unexpired, and only the version the
 * pointer names (an item replaced by another opens nothing). A state that fits its cookie costs no call,
 * as before.
 *
 * @example
 * ```ts
 * const cookies = new InteractionCookies(await interactionCookieKey(interactionMac), {
 *   secure: true,
 *   paths: (uid) => [`/interaction/${uid}`, `/authorize/${uid}`],
 *   spilled: deps.spilledInteractions,
 * });
 * const jar = cookies.jar(event.cookies ?? [], clock);
 * await jar.write('Ab3…', { returnTo: '…' }, nowSeconds + 3600);
 * jar.setCookies(); // ['__Secure-interaction-Ab3…=…; Path=/interaction/Ab3…; …', …, '__Host-sign-in-browser=…; Path=/; …']
 * ```
 */
export class InteractionCookies {
  readonly #key: Buffer;

  constructor(
    key: Uint8Array,
    private readonly options: InteractionCookieOptions,
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
    return this.#seal(VERSION, uid, { exp: expiresAt, browser: browserDigest(browser), payload });
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
    const payload = this.#open(VERSION, uid, value, nowSeconds, browser)?.payload;
    if (!payload || typeof payload !== 'object' || Array.isArray(payload)) return undefined;
    return payload as Record<string, unknown>;
  }

  /**
   * The pointer a cookie holds for the state `sealed` (a {@link seal} of `uid`'s) kept in the table: the
   * SHA-256 of that seal, sealed for `uid`, the browser and `expiresAt` under the pointer's own label.
   */
  pointTo(uid: string, sealed: string, expiresAt: number, browser: string): string {
    return this.#seal(POINTER_VERSION, uid, {
      exp: expiresAt,
      browser: browserDigest(browser),
      state: sealedDigest(sealed),
    });
  }

  /**
   * The digest of the seal a pointer for `uid` names, if `value` is one, unexpired at `nowSeconds`, made
   * for the browser whose binding cookie holds `browser`; undefined otherwise (a state's cookie too).
   */
  openPointer(
    uid: string,
    value: string,
    nowSeconds: number,
    browser: string | undefined,
  ): string | undefined {
    const state = this.#open(POINTER_VERSION, uid, value, nowSeconds, browser)?.state;
    return typeof state === 'string' ? state : undefined;
  }

  /**
   * The jar of one request: `cookies` are the request's (`name=value` pairs, as API Gateway passes them
   * in `event.cookies`, or one `Cookie` header split at `;`); `nowSeconds` the time.
   */
  jar(cookies: readonly string[], nowSeconds: () => number): RequestInteractionCookies {
    return new RequestInteractionCookies(this, this.options, cookies, nowSeconds);
  }

  #seal(label: string, uid: string, body: { exp: number; browser: string } & Record<string, unknown>) {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(associatedData(label, uid));
    const plain = Buffer.from(JSON.stringify(body), 'utf8');
    return Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]).toString(
      'base64url',
    );
  }

  /** What `value` seals under `label` for `uid`, if it opens, is unexpired and is the browser's. */
  #open(
    label: string,
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
      decipher.setAAD(associatedData(label, uid));
      decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
      const plain = Buffer.concat([
        decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)),
        decipher.final(),
      ]);
      opened = JSON.parse(plain.toString('utf8'));
    } catch {
      return undefined;
    }
    if (!opened || typeof opened !== 'object' || Array.isArray(opened)) return undefined;
    const body = opened as Record<string, unknown>;
    if (typeof body.exp !== 'number' || body.exp <= nowSeconds) return undefined;
    if (typeof body.browser !== 'string' || !sameDigest(body.browser, browserDigest(browser)))
      return undefined;
    return body;
  }
}

/** How the jar sets its cookies, and where it keeps the states too large for them. */
export interface InteractionCookieOptions {
  secure: boolean;
  /** The paths the cookie of `uid` is set for: its pages and the provider's resume. */
  paths: (uid: string) => readonly string[];
  /**
   * Where a state too large for its cookie is kept. Without it (a composition that only seals and opens)
   * such a state is refused (`interaction_too_large`), never set in a cookie a browser would drop.
   */
  spilled?: SpilledInteractionStore;
}

/** An interaction's cookies as one request reads and sets them ({@link InteractionCookieJar}). */
export class RequestInteractionCookies implements InteractionCookieJar {
  readonly #incoming: ReadonlyMap<string, string>;
  /** What this request wrote (a payload and its expiry) or cleared (null), by uid. */
  readonly #written = new Map<string, { payload: Record<string, unknown>; expiresAt: number } | null>();
  /** What this request read of each interaction from its cookie (and the table): one read each. */
  readonly #read = new Map<string, Promise<Record<string, unknown> | undefined>>();
  /**
   * The interactions of this browser kept in the table as far as this request knows: pointed at by the
   * cookie it received (the pointer opened) or by the one it sets. Saving one that fits its cookie again,
   * or ending it, deletes the item.
   */
  readonly #spilled = new Set<string>();
  readonly #setCookies = new Map<string, string[]>();
  /** The browser's binding value: the one its cookie holds, or one issued by this request's first write. */
  #browser: string | undefined;
  /** Whether this request wrote an interaction, so the binding cookie is set (issued or renewed). */
  #bindingToSet = false;

  constructor(
    private readonly cookies: InteractionCookies,
    private readonly options: InteractionCookieOptions,
    pairs: readonly string[],
    private readonly nowSeconds: () => number,
  ) {
    // Names sent once, trimmed of spaces and tabs only: a sibling host's `\u3000__Host-sign-in-browser`
    // is not the binding, and a binding or interaction cookie sent twice is absent (fail closed).
    this.#incoming = parseCookies(pairs);
    const browser = this.#incoming.get(cookies.browserCookieName());
    if (browser !== undefined && browserPattern.test(browser)) this.#browser = browser;
  }

  async read(uid: string): Promise<Record<string, unknown> | undefined> {
    if (!uidPattern.test(uid)) return undefined;
    const now = this.nowSeconds();
    if (this.#written.has(uid)) {
      const written = this.#written.get(uid);
      return written && written.expiresAt > now ? structuredClone(written.payload) : undefined;
    }
    // The provider reads an interaction several times a request: the table once.
    let read = this.#read.get(uid);
    if (!read) {
      read = this.#fromCookie(uid, now);
      this.#read.set(uid, read);
      // A failed read (the table throttled) is not kept: the next read tries again.
      read.catch(() => this.#read.delete(uid));
    }
    const payload = await read;
    return payload ? structuredClone(payload) : undefined;
  }

  async write(uid: string, payload: Record<string, unknown>, expiresAt: number): Promise<void> {
    if (!uidPattern.test(uid))
      throw new InvalidInputError('the interaction id is malformed', 'invalid_request');
    const name = this.cookies.nameOf(uid);
    // The browser's binding: the one it holds, else a new one (its first sign-in here, or it lost it).
    const browser = (this.#browser ??= randomBytes(BROWSER_BYTES).toString('base64url'));
    const sealed = this.cookies.seal(uid, payload, expiresAt, browser);
    let value = sealed;
    if (Buffer.byteLength(name) + 1 + sealed.length > MAX_INTERACTION_COOKIE_BYTES) {
      // Only a state with a signed-in account may spill: before the sign-in, anyone's cookieless GET
      // /authorize (a public client_id and its redirect_uri suffice, no throttle) would write an item of
      // up to ~10 KB kept for the interaction's hour, or up to 48 hours until DynamoDB's TTL deletes it
      // (review R26). The sign-in itself is throttled per account and address.
      const spilled = carriesSignedInAccount(payload) ? this.options.spilled : undefined;
      if (!spilled || sealed.length > MAX_INTERACTION_STATE_BYTES) {
        throw new InvalidInputError(
          `the sign-in's state would take ${sealed.length} bytes, more than ` +
            (spilled
              ? `a sign-in may keep (${MAX_INTERACTION_STATE_BYTES})`
              : `a browser keeps in a cookie (${MAX_INTERACTION_COOKIE_BYTES}) before the person signed in`) +
            ': the authorization request is too large',
          'interaction_too_large',
        );
      }
      // Stored before its pointer is set: a pointer never names a state that is not there.
      await spilled.put(uid, sealed, expiresAt);
      value = this.cookies.pointTo(uid, sealed, expiresAt, browser);
      this.#spilled.add(uid);
    } else if (this.#knownSpilled(uid)) {
      // Back in its cookie: the item it leaves is of no further use.
      this.#spilled.delete(uid);
      await this.#forget(uid);
    }
    this.#written.set(uid, { payload: structuredClone(payload), expiresAt });
    const maxAge = Math.max(0, expiresAt - this.nowSeconds());
    this.#setCookies.set(uid, this.#serialized(uid, `${name}=${value}`, maxAge));
    this.#bindingToSet = true;
  }

  async clear(uid: string): Promise<void> {
    if (!uidPattern.test(uid)) return;
    const spilled = this.#knownSpilled(uid);
    this.#written.set(uid, null);
    this.#spilled.delete(uid);
    this.#setCookies.set(uid, this.#serialized(uid, `${this.cookies.nameOf(uid)}=`, 0));
    if (spilled) await this.#forget(uid);
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

  /**
   * The state the request's cookie of `uid` holds: sealed in it, or in the table where its pointer
   * points (the item's seal opened with the same checks, and only the one the pointer names).
   */
  async #fromCookie(uid: string, now: number): Promise<Record<string, unknown> | undefined> {
    const value = this.#incoming.get(this.cookies.nameOf(uid));
    if (value === undefined) return undefined;
    const inCookie = this.cookies.open(uid, value, now, this.#browser);
    if (inCookie) return inCookie;
    const pointed = this.cookies.openPointer(uid, value, now, this.#browser);
    // Not a pointer of this browser's (altered, planted, expired): no table call.
    if (pointed === undefined || !this.options.spilled) return undefined;
    this.#spilled.add(uid);
    const sealed = await this.options.spilled.get(uid, now);
    if (sealed === undefined || !sameDigest(sealedDigest(sealed), pointed)) return undefined;
    return this.cookies.open(uid, sealed, now, this.#browser);
  }

  /** Whether the table keeps a state of `uid` for this browser, as far as this request knows. */
  #knownSpilled(uid: string): boolean {
    if (this.#spilled.has(uid)) return true;
    if (this.#written.has(uid)) return false;
    const value = this.#incoming.get(this.cookies.nameOf(uid));
    return (
      value !== undefined &&
      this.cookies.openPointer(uid, value, this.nowSeconds(), this.#browser) !== undefined
    );
  }

  /**
   * Deletes the item of `uid`. A failure is logged, not thrown: the sign-in it belonged to is over or
   * back in its cookie, and the item, which opens only with a pointer naming it, expires with the
   * interaction (its TTL); failing the request for it would make a person start over for nothing.
   */
  async #forget(uid: string): Promise<void> {
    try {
      await this.options.spilled?.delete(uid);
    } catch (error) {
      logger.warn(
        'a spilled interaction state was not deleted; it expires with the interaction',
        error instanceof Error ? error : String(error),
      );
    }
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
 * The length of the seal of `payload` (expiring at `expiresAt`), as {@link InteractionCookies.seal}
 * makes it: it follows from the length of what it seals (AES-GCM adds the nonce and the tag, base64url
 * a third), so no key is needed to know it. Its cookie takes the name, `=` and this.
 *
 * @example
 * ```ts
 * sealedInteractionBytes({ returnTo: '…', params: { … } }, nowSeconds + 3600); // 1227
 * ```
 */
export function sealedInteractionBytes(payload: Record<string, unknown>, expiresAt: number): number {
  // A binding's digest is always 43 characters (SHA-256, base64url).
  const sealed = { exp: expiresAt, browser: 'x'.repeat(43), payload };
  const bytes = IV_BYTES + Buffer.byteLength(JSON.stringify(sealed), 'utf8') + TAG_BYTES;
  return Math.floor(bytes / 3) * 4 + [0, 2, 3][bytes % 3]!;
}

/**
 * Whether an interaction's payload carries a signed-in account: the provider's session of one
 * (`session.accountId`, set on every interaction made after the sign-in) or a sign-in's result on it
 * (`result.login.accountId`, saved by the step that checked the password, passkey, SMS code or scan).
 * Only such a state may be kept in the table ({@link RequestInteractionCookies.write}).
 *
 * @example
 * ```ts
 * carriesSignedInAccount({ params: { … } }); // false: the authorization request, before the sign-in
 * carriesSignedInAccount({ params: { … }, result: { login: { accountId: 'person#…' } } }); // true
 * ```
 */
export function carriesSignedInAccount(payload: Record<string, unknown>): boolean {
  const accountOf = (holder: unknown): unknown =>
    typeof holder === 'object' && holder !== null ? (holder as { accountId?: unknown }).accountId : undefined;
  const signedIn = (accountId: unknown) => typeof accountId === 'string' && accountId !== '';
  const result = payload.result;
  const login =
    typeof result === 'object' && result !== null ? (result as { login?: unknown }).login : undefined;
  return signedIn(accountOf(payload.session)) || signedIn(accountOf(login));
}

/**
 * The length of the cookie (name, `=` and seal) that would hold `payload` for `uid`, expiring at
 * `expiresAt`, on https (`secure`) or loopback http: what {@link MAX_INTERACTION_COOKIE_BYTES} bounds.
 */
export function interactionCookieBytes(
  uid: string,
  payload: Record<string, unknown>,
  expiresAt: number,
  secure: boolean,
): number {
  return (
    Buffer.byteLength(interactionCookieName(uid, secure)) + 1 + sealedInteractionBytes(payload, expiresAt)
  );
}

/** What a seal holds of a browser's binding value: its SHA-256, base64url. */
function browserDigest(browser: string): string {
  return createHash('sha256').update(browser, 'utf8').digest('base64url');
}

/** What a pointer holds of the seal it points at: its SHA-256, base64url. */
function sealedDigest(sealed: string): string {
  return createHash('sha256').update(sealed, 'utf8').digest('base64url');
}

/** Two digests (base64url) compared in constant time. */
function sameDigest(a: string, b: string): boolean {
  const left = Buffer.from(a, 'base64url');
  const right = Buffer.from(b, 'base64url');
  return left.length === right.length && timingSafeEqual(left, right);
}

function associatedData(label: string, uid: string): Buffer {
  return Buffer.from(`${label}\u0000${uid}`, 'utf8');
}
