import * as z from 'zod';

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
  version: number;
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
