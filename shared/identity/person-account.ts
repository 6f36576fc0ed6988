import * as z from 'zod';
import { UnauthenticatedError } from '../errors.js';

/**
 * How far a person's identity was checked; its level (`identity/assurance.ts`) gives `acr`. Only asserted
 * by the person (level 1), checked against the population registry (人口库) at registration (level 2),
 * proven in person (level 3: the local seed's demo citizen, as if checked at a service counter), or proven
 * by possession (level 3: an SMS code to the phone the carrier registry confirms for the number,
 * `identity/phone-proof.ts`).
 */
export type Assurance = 'self-asserted' | 'registry-verified' | 'in-person-verified' | 'possession-verified';

/**
 * A natural person's account (统一身份认证账号). The ID number appears only as its lookup key (HMAC, the
 * table key), its masked form (display) and a KMS ciphertext (for the `id_number` claim released to
 * entitled clients); `id` is opaque and is what the OpenID provider stores as `accountId`.
 */
export interface PersonAccount {
  /** Opaque, `acc_…`: never derived from the ID number. */
  id: string;
  /** HMAC (KMS) of the normalised ID number: how the account is found at login. */
  lookupKey: string;
  /** Display form, e.g. `110105********002X`. */
  masked: string;
  /** KMS ciphertext (base64) of the ID number, encryption context `{ purpose: 'id-number', account: id }`. */
  idNumberEncrypted: string;
  name: string;
  /** Self-describing scrypt hash (`$scrypt$ln=15,r=8,p=1$salt$hash`). */
  passwordHash: string;
  assurance: Assurance;
  /**
   * Keyed digest (`identity/sms-codes.ts` `phoneDigest`) of the mobile number that last proved level 3 for
   * this account; absent until one did. Never the number in clear.
   */
  provenPhone?: string;
  /**
   * The display form of that number (`139****5678`), so that the person can be told which phone is proven
   * (`GET /me/account`, a step-up with another number); absent on accounts proven before it was kept.
   */
  provenPhoneMasked?: string;
  /**
   * The mobile number the carrier registry confirmed for this ID number and name (三要素), when one was
   * given and confirmed: the one number one-time codes may go to. Absent when none was given or the
   * carrier did not confirm it (accepted as unconfirmed, and not kept).
   */
  phone?: ConfirmedPhone;
  /**
   * The number security notices go to (shared/identity/security-notices.ts), sealed for the `sms-codes`
   * function alone (`noticePhoneContext`): the proven phone, written wherever one proves the account (a
   * phone's code, a counter), else the confirmed phone of the registration. Absent on accounts proven
   * before it was kept (they get no notice until their next proof) and once a counter cleared the proven
   * phone. Never answered.
   */
  noticePhone?: string;
  createdAt: string;
  /**
   * When its closure (注销) began (RFC 3339): from then on the account store answers it to nothing but the
   * closure and registration, so it opens no sign-in, token refresh or share while the closure removes
   * what depends on it and finally deletes it (shared/identity/close-account.ts).
   */
  closingSince?: string;
  /**
   * Set by a phone proof that took the account over or reset its password, in the account's own write, and
   * taken off once what it ends after that write has ended (shared/identity/phone-proof.ts): the sign-ins,
   * and with `passkeysBefore` (a takeover's time, RFC 3339) the passkeys enrolled until then, the
   * squatter's. Still set, the next proof of the account finishes it.
   */
  proofCleanup?: { passkeysBefore?: string };
  /**
   * When a takeover or a password reset last ended the account's sign-ins, written in that same save of
   * the account (review R44): `at` (RFC 3339, milliseconds), taken just before the save, and `version`,
   * the account's version that save wrote. No sign-in made before it counts any more
   * ({@link signInEndedBy}): neither a session, code or token (their sign-in time, whole seconds, an
   * earlier second than `at`) nor a sign-in step finished but not yet resumed, which lives on in the
   * browser's interaction cookie for an hour and which the clean-up cannot reach (its step read the account
   * at a version before `version`). Kept, never taken off: a later one replaces it. Absent on accounts no
   * takeover or reset ended the sign-ins of since it was kept.
   */
  signInsEnded?: SignInsEnded;
  version: number;
}

/** When a takeover or a reset ended an account's sign-ins ({@link PersonAccount.signInsEnded}). */
export interface SignInsEnded {
  /** RFC 3339 with milliseconds: just before the account's save that ended them. */
  at: string;
  /** The version of the account that save wrote. */
  version: number;
}

/**
 * What a sign-in is known by where it is checked against {@link PersonAccount.signInsEnded}: a step's
 * result not yet resumed knows the account version its check read (`version`) and its time (`ts`); a
 * session, code or token only its time (`ts`, epoch seconds, the ID token's `auth_time`).
 */
export interface SignInMoment {
  ts?: number;
  version?: number;
}

/**
 * Whether `signIn` was made before the account's sign-ins were last ended (`ended`), so counts for
 * nothing (review R44). By the version when the sign-in knows it (exact: a step that read the account
 * before the save that ended the sign-ins read an older version, whatever the clocks); else by its time in
 * whole seconds, refused when its second is earlier than the second of `ended.at`. A sign-in in that same
 * second counts: the owner's own, right after a reset (the reset signs them in at once), falls there; one
 * made before the mark in that second was a session or token the clean-up ended, or a step the version
 * refuses. A sign-in of unknown time counts for nothing once the account has a mark (nothing made since
 * lacks it).
 *
 * @example
 * ```ts
 * signInEndedBy({ ts: 1_780_000_000 }, { at: '2026-05-28T20:26:41.500Z', version: 7 }); // true
 * signInEndedBy({ version: 7 }, { at: '2026-05-28T20:26:41.500Z', version: 7 }); // false
 * ```
 */
export function signInEndedBy(signIn: SignInMoment, ended: SignInsEnded | undefined): boolean {
  if (!ended) return false;
  if (signIn.version !== undefined) return signIn.version < ended.version;
  if (signIn.ts === undefined) return true;
  return signIn.ts < Math.floor(Date.parse(ended.at) / 1000);
}

/**
 * Whether the clean-up a takeover or a reset still owes (`proofCleanup`) is going to end the sign-in made
 * at `ts` (epoch seconds): the reconciler finishing it ends the sign-ins of the mark's own second too
 * (review R54-1), which {@link signInEndedBy} counts as after the mark; with no mark, every sign-in. What is
 * made from such a sign-in where that clean-up does not reach, and may be used after it ran (a
 * scan-to-login's approval, a session in another browser: review R67-1), must be refused meanwhile.
 *
 * @example
 * ```ts
 * endedByOwedCleanup(1_780_000_001, { proofCleanup: {}, signInsEnded: { at: '2026-05-28T20:26:41.999Z', version: 4 } }); // true
 * ```
 */
export function endedByOwedCleanup(
  ts: number,
  account: Pick<PersonAccount, 'proofCleanup' | 'signInsEnded'>,
): boolean {
  if (!account.proofCleanup) return false;
  if (!account.signInsEnded) return true;
  return ts <= Math.floor(Date.parse(account.signInsEnded.at) / 1000);
}

/**
 * What a provider grant is known by where it is checked against a mark: `madeAt` (epoch milliseconds,
 * stamped at its first save: shared/sso/provider.ts, `grantsKeepTheirMillisecond`), and `iat` (epoch
 * seconds, the provider's own), all a grant saved before `madeAt` was kept has.
 */
export interface GrantMoment {
  iat?: number;
  madeAt?: number;
}

/**
 * Whether a provider grant was made before a takeover or a reset ended the account's sign-ins (`ended`,
 * or just its time), so is continued by no one: the provider makes a new one (review R54-2), and the
 * reconciler finishing the reset's owed clean-up ends it (shared/identity/owed-cleanup.ts). The one rule
 * both sides go by (review R58 L1: by whole seconds, the provider continued a grant of the mark's own
 * second that the reconciler then ended, the owner's sign-in made just after the reset among them).
 *
 * By the millisecond it was made, against the mark's own (`ended.at`): a grant made after the mark is
 * never refused nor ended, whatever its second, so a sign-in made right after the reset keeps its grant,
 * and the provider never takes for none a grant it has just made (a fresh grant is made after the mark).
 * One made before it, in its second too, is ended: an intruder's, just before the reset. A grant without
 * `madeAt` (saved before it was kept) by its second, the mark's own included, as the reconciler's bound
 * always took it: no fresh grant lacks `madeAt`, so taking such a one for none cannot make the provider go
 * round. A grant of unknown time counts as before.
 *
 * @example
 * ```ts
 * grantEndedBy({ iat: 1_780_000_001, madeAt: 1_780_000_001_400 }, { at: '2026-05-28T20:26:41.500Z' }); // true
 * grantEndedBy({ iat: 1_780_000_001, madeAt: 1_780_000_001_600 }, { at: '2026-05-28T20:26:41.500Z' }); // false
 * ```
 */
export function grantEndedBy(grant: GrantMoment, ended: { at: string } | undefined): boolean {
  if (!ended) return false;
  const at = Date.parse(ended.at);
  if (typeof grant.madeAt === 'number') return grant.madeAt < at;
  if (typeof grant.iat !== 'number') return true;
  return grant.iat <= Math.floor(at / 1000);
}

/**
 * Refuses the token of a sign-in made before a takeover or a reset ended the account's sign-ins
 * (`signInEndedBy` by its `auth_time`, review R47 F3): 401 `invalid_token`, as the provider's userinfo
 * answers it. For the service's own API, which checks a token against its store (and its session when
 * bound to one), where such a token outlives a clean-up that failed after the account's save; called where
 * the account is read anyway, so no read is added.
 *
 * @example
 * ```ts
 * requireSignInNotEnded(account, caller.authTime); // throws for a token from before the last reset
 * ```
 */
export function requireSignInNotEnded(
  account: { signInsEnded?: SignInsEnded },
  authTime: number | undefined,
): void {
  if (!signInEndedBy(authTime === undefined ? {} : { ts: authTime }, account.signInsEnded)) return;
  throw new UnauthenticatedError('The access token is unknown, revoked or expired', 'invalid_token');
}

/** A confirmed mobile number, as an account keeps it: never in clear. */
export interface ConfirmedPhone {
  /** KMS ciphertext (base64) of the E.164 number, encryption context {@link phoneEncryptionContext}. */
  encrypted: string;
  /** Keyed digest of the number (`phoneLookupKey`): finds or compares it without decrypting. */
  lookupKey: string;
  /** Display form, e.g. `139****5678`. */
  masked: string;
  /** When the carrier registry confirmed it (RFC 3339). */
  confirmedAt: string;
}

/** What `POST /accounts` answers: never the number, the hash or the ciphertext. */
export const personAccountViewSchema = z
  .object({
    masked: z.string().meta({ description: 'The masked ID number' }),
    name: z.string(),
    assurance: z.enum(['self-asserted', 'registry-verified', 'in-person-verified', 'possession-verified']),
  })
  .meta({
    title: 'PersonAccount',
    examples: [{ masked: '110105********002X', name: '张三', assurance: 'registry-verified' }],
  });

/** What a person may see of their account: never the number, the hash or the ciphertext. */
export function personAccountView(account: PersonAccount): z.output<typeof personAccountViewSchema> {
  return { masked: account.masked, name: account.name, assurance: account.assurance };
}

/** The encryption context that binds an ID-number ciphertext to its account (KMS checks it on Decrypt). */
export function idNumberEncryptionContext(accountId: string): Record<string, string> {
  return { purpose: 'id-number', account: accountId };
}

/** The encryption context that binds a phone ciphertext to its account. */
export function phoneEncryptionContext(accountId: string): Record<string, string> {
  return { purpose: 'phone', account: accountId };
}

/**
 * A name as registries compare it: Unicode NFKC (full-width forms folded), no whitespace, and every
 * separator dot of ethnic-minority names (`·`, `•`, `・`, `.`) as one `·`.
 *
 * @example
 * ```ts
 * comparableName(' 阿依古丽・买买提 ') === comparableName('阿依古丽·买买提'); // true
 * ```
 */
export function comparableName(name: string): string {
  return name
    .normalize('NFKC')
    .replace(/\s+/gu, '')
    .replace(/[·•・.\u00b7\u2027\u30fb\uff65]/gu, '·');
}
