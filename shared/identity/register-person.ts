import * as z from 'zod';
import type { AuditTrail } from '../audit/audit-trail.js';
import type { Clock } from '../clock.js';
import type { EnvelopeSealer } from '../crypto/envelope-sealer.js';
import type { Mac } from '../crypto/mac.js';
import {
  ConflictError,
  fieldErrorAt,
  InvalidInputError,
  invalidRequest,
  NotFoundError,
  TooManyRequestsError,
  type FieldError,
} from '../errors.js';
import { logger } from '../logger.js';
import { unreadableText, unreadableTextMessage } from '../unreadable-text.js';
import { nameProblem } from '../identifiers/personal-data-in-text.js';
import {
  registrationAuditPrefix,
  saveWithTrace,
  type PendingWorkIndex,
} from '../pending-work/pending-work.js';
import { randomId } from '../random-id.js';
import type { AccountStore } from './account-store.js';
import { finishClosure, type ClosureDependencies } from './close-account.js';
import { isYoungerThan, maskIdNumber, parseIdNumber, type IdNumber } from '../identifiers/id-number.js';
import { LoginThrottle, sourceDigest, type LoginAttemptStore } from './login-throttle.js';
import { personLookupKey, phoneLookupKey } from '../identifiers/lookup-key.js';
import { passwordRuleBroken, type PasswordHasher } from './password-hasher.js';
import {
  comparableName,
  idNumberEncryptionContext,
  phoneEncryptionContext,
  type Assurance,
  type ConfirmedPhone,
  type PersonAccount,
} from './person-account.js';
import type { PiiCipher } from './pii-cipher.js';
import type { CarrierRegistry, PopulationRegistry } from './registry.js';
import { sealNoticePhone } from './security-notices.js';
import { normalisePhone } from './sms-codes.js';
import { maskPhone, phoneNumber, type PhoneNumber } from '../identifiers/phone.js';

/**
 * The body of `POST /accounts`: the shape only, loosely bounded; the rules (ID number, name, password)
 * are checked by {@link registerPerson}, which names every rule that fails at once.
 */
export const registerPersonInput = z.strictObject({
  idNumber: z.string().max(64),
  name: z.string().max(200),
  password: z.string().max(1024),
  /** Optional: a mobile number in E.164 form, kept (confirmed) only if the carrier registry confirms it. */
  phone: z.string().max(64).optional(),
  /**
   * The person agrees to the privacy notice (`GET /register` shows it: what is collected, why, who
   * receives it, how long it is kept, their rights): must be `true`, or 400 naming `consent`.
   */
  consent: z
    .boolean()
    .optional()
    .meta({
      description:
        'Required in effect: must be true (the person agreed to the privacy notice GET /register shows); ' +
        'missing or false is 400 consent_required naming consent. Optional in the shape only so that one ' +
        'answer names every rule the request breaks.',
    }),
});
export type RegisterPersonInput = z.output<typeof registerPersonInput>;

export interface RegisterPersonDependencies {
  accounts: AccountStore;
  loginAttempts: LoginAttemptStore;
  passwords: PasswordHasher;
  pii: PiiCipher;
  lookupMac: Mac;
  registry: PopulationRegistry;
  carrier: CarrierRegistry;
  audit: AuditTrail;
  /**
   * The pending work of the accounts function's changes: an account is created with its audit entry
   * `account.registered` saved there, so that no registration stands untraced.
   */
  accountAudit: PendingWorkIndex;
  clock: Clock;
  /**
   * What completing a closure left half-way needs ({@link finishClosure}): given, a number whose account
   * is marked closing registers again once that closure is done; without them it stays 409.
   */
  closures?: Pick<ClosureDependencies, 'passkeys' | 'signIns' | 'platformConsents' | 'entities'>;
  /**
   * Seals the confirmed phone as the account's notice phone (shared/identity/security-notices.ts), where
   * its security notices go until a phone is proven; without it the account has none until then.
   */
  smsJobSealer?: Pick<EnvelopeSealer, 'seal'>;
}

const maxNameLength = 50;

/** The field errors of a registration, each naming the rule that failed; empty when all hold. */
export function registrationProblems(
  input: RegisterPersonInput,
  today: Date,
): {
  idNumber?: IdNumber;
  name: string;
  phone?: PhoneNumber;
  errors: FieldError[];
} {
  const errors: FieldError[] = [];
  let idNumber: IdNumber | undefined;
  try {
    idNumber = parseIdNumber(input.idNumber, today);
  } catch (error) {
    errors.push(fieldErrorAt('idNumber', error as Error));
  }
  const name = input.name.normalize('NFKC').trim().replace(/\s+/gu, ' ');
  const nameLength = [...name].length;
  if (nameLength === 0 || nameLength > maxNameLength) {
    errors.push({
      path: 'name',
      message: `must be 1 to ${maxNameLength} characters`,
      ...(nameLength === 0 ? { code: 'required' } : { code: 'too_long', params: { maximum: maxNameLength } }),
    });
  } else if (/[\p{Cc}\p{Cf}<>]/u.test(name)) {
    errors.push({
      path: 'name',
      message: 'must not contain control characters or < >',
      code: 'invalid_characters',
    });
  } else if (unreadableText.test(name)) {
    errors.push({ path: 'name', message: unreadableTextMessage, code: 'invalid_characters' });
  } else {
    // An ID number, a phone or six digits in a row typed as the name would be kept in clear and given to
    // every platform as `name` (review R72-1); the message never holds it.
    const problem = nameProblem(name);
    if (problem) errors.push({ path: 'name', ...problem });
  }
  if (input.consent !== true) {
    errors.push({
      path: 'consent',
      message: 'must be true: agree to the privacy notice (GET /register shows it)',
      code: 'consent_required',
    });
  }
  const password = passwordRuleBroken(input.password, idNumber);
  if (password) errors.push({ path: 'password', ...password });
  let phone: PhoneNumber | undefined;
  if (input.phone !== undefined) {
    // As people type it: eleven digits (`13912345678`), or with +86; kept as +86… (review R62-3).
    const parsed = phoneNumber.safeParse(normalisePhone(input.phone) ?? input.phone);
    if (parsed.success) phone = parsed.data;
    else {
      errors.push({
        path: 'phone',
        message: 'must be an 11-digit mainland mobile number, such as 13912345678',
        code: 'invalid_phone',
        params: { example: '13912345678' },
      });
    }
  }
  return { ...(idNumber ? { idNumber } : {}), name, ...(phone ? { phone } : {}), errors };
}

/**
 * Registers a natural person (注册): one account per ID number, checked against the population registry.
 *
 * - Every rule is checked first and every failure named (400 `invalid_request`, `errors[].path`).
 * - An ID number that already has an account: 409 `account_exists` (checked before any hashing, so a
 *   duplicate costs no scrypt; the conditional write stays the real guard against races).
 * - The registry knows the number and the name matches: `registry-verified`, and the registry's spelling
 *   is kept.
 * - The registry does not know the number, or knows it under another name: one answer for both, accepted
 *   as `self-asserted` with the name as given (the registry sets the level, it does not gate
 *   registration; `acr` tells relying parties the difference). Refusing a wrong name (400, as before
 *   privacy review R9, M6) let anyone check names against numbers in the population registry, as often
 *   as they liked and without a trace; now a name is checked for nothing but the level of the account it
 *   creates, once per number (the next registration of it is 409), recorded (`account.registered`), and
 *   taken back by the real owner with a code to their phone (`phone-proof.ts`), as any squatted account.
 * - With a phone code (`provePhone`, the `/register` page), the code is checked first, then the name: a
 *   person who proved the phone the carrier confirms for the registry's person is told a wrong name (400
 *   `registry_mismatch`); nobody else is.
 * - A `phone` (E.164, `+86…`) that the carrier registry confirms for this ID number and name is kept,
 *   encrypted and as a keyed digest, as the account's confirmed phone; one it does not confirm (or a
 *   carrier that does not answer) is accepted as unconfirmed: the account is created and the phone not
 *   kept. The answer is the same either way, and the level is not raised: a code sent to it does that
 *   (`provePhone`, the `/register` page's code: a registry-verified account then starts at level 3).
 *
 * The number is stored only as its lookup key, masked form and a KMS ciphertext bound to the account id.
 *
 * @example
 * ```ts
 * const account = await registerPerson({ idNumber, name: '王小明', password }, deps);
 * account.assurance; // 'registry-verified'
 * ```
 */
export async function registerPerson(
  input: RegisterPersonInput,
  deps: RegisterPersonDependencies,
  context: { requestId?: string; source?: string } = {},
  /**
   * The registration page's proof of the phone (shared/identity/register-phone-code.ts): checks the code
   * sent to it and answers the phone's digest, or throws. Given a right code, a registry-verified account
   * with a confirmed phone starts at level 3 (`possession-verified`).
   */
  provePhone?: (subject: { lookupKey: string; phone: PhoneNumber }) => Promise<string>,
): Promise<PersonAccount> {
  if (context.source) await admitRegistration(context.source, deps);
  const now = new Date(deps.clock.now());
  const { idNumber, name, phone, errors } = registrationProblems(input, now);
  if (errors.length > 0 || !idNumber) {
    throw invalidRequest(errors);
  }
  refuseChildren(idNumber, now);
  const lookupKey = await personLookupKey(deps.lookupMac, idNumber);
  await noAccountYet(lookupKey, deps, context);

  const registered = await deps.registry.findPerson(lookupKey, idNumber);
  // The code is checked only once every other rule holds, so that a refusal for another field spends none
  // of its tries; and before the name is compared, so that only the phone's holder learns of a wrong one.
  const provenPhone = phone && provePhone ? await provePhone({ lookupKey, phone }) : undefined;
  const nameMatches = registered !== undefined && comparableName(registered.name) === comparableName(name);
  if (registered && !nameMatches && provenPhone) {
    throw new InvalidInputError(
      'The name does not match the population registry for this ID number',
      'registry_mismatch',
      {
        errors: [
          { path: 'name', message: 'does not match the population registry', code: 'registry_mismatch' },
        ],
      },
    );
  }
  // A wrong name is answered as an unknown number is: self-asserted, with the name as given.
  const assurance: Assurance = nameMatches ? 'registry-verified' : 'self-asserted';
  const accountName = nameMatches ? registered.name : name;

  const id = randomId('acc');
  const [passwordHash, idNumberEncrypted, confirmedPhone] = await Promise.all([
    deps.passwords.hash(input.password),
    deps.pii.encrypt(idNumber, idNumberEncryptionContext(id)),
    phone && confirmPhone({ id, lookupKey, idNumber, name: accountName, phone, at: now }, deps),
  ]);
  const created: PersonAccount = {
    id,
    lookupKey,
    masked: maskIdNumber(idNumber),
    idNumberEncrypted,
    name: accountName,
    passwordHash,
    assurance:
      provenPhone && confirmedPhone && assurance === 'registry-verified' ? 'possession-verified' : assurance,
    ...(confirmedPhone ? { phone: confirmedPhone } : {}),
    ...(provenPhone && confirmedPhone ? { provenPhone } : {}),
    ...(phone &&
      confirmedPhone &&
      deps.smsJobSealer && { noticePhone: await sealNoticePhone(id, phone, deps.smsJobSealer) }),
    createdAt: now.toISOString(),
    version: 0,
  };
  // A state change (an account that signs in from now on) and, through its level, an answer about the
  // registry: saved with its audit entry, or not at all; a failed write of the entry leaves it to the
  // reconciler (saveWithTrace), never lost.
  const account = await saveWithTrace(
    `${registrationAuditPrefix}${id}`,
    {
      at: created.createdAt,
      actor: id,
      action: 'account.registered',
      holderMasked: created.masked,
      reason: created.assurance,
      ...(context.requestId ? { requestId: context.requestId } : {}),
    },
    (trace) => deps.accounts.create(created, trace),
    { ...deps, pendingAudit: deps.accountAudit },
  );
  logger.info('account registered', {
    accountId: account.id,
    masked: account.masked,
    assurance: account.assurance,
    phone: phone ? (confirmedPhone ? 'confirmed' : 'unconfirmed') : 'none',
  });
  return account;
}

/**
 * A phone given at registration, as the account keeps it if the carrier registry confirms it for this
 * ID number and name (三要素核验); `undefined` (accepted as unconfirmed, and not kept) otherwise. It does
 * not raise the level: only a code sent to it and typed back proves possession.
 */
async function confirmPhone(
  query: { id: string; lookupKey: string; idNumber: IdNumber; name: string; phone: PhoneNumber; at: Date },
  deps: RegisterPersonDependencies,
): Promise<ConfirmedPhone | undefined> {
  const { id, lookupKey, idNumber, name, phone, at } = query;
  if (!(await deps.carrier.confirms({ lookupKey, name, phone, idNumber }))) return undefined;
  const [encrypted, phoneKey] = await Promise.all([
    deps.pii.encrypt(phone, phoneEncryptionContext(id)),
    phoneLookupKey(deps.lookupMac, phone),
  ]);
  return { encrypted, lookupKey: phoneKey, masked: maskPhone(phone), confirmedAt: at.toISOString() };
}

/** The age under which a person may not register themselves (PIPL Art. 31: a child's data needs a guardian). */
export const selfRegistrationMinimumAge = 14;

/**
 * Refuses the self-registration of a child under 14 (PIPL Art. 28 and 31: their personal information is
 * sensitive and needs a guardian's consent): 400 `guardian_required`, before the registries or the carrier
 * are asked anything. A guardian's registration for a child is not offered yet (docs/accounts.md).
 */
export function refuseChildren(idNumber: IdNumber, today: Date): void {
  if (!isYoungerThan(idNumber, selfRegistrationMinimumAge, today)) return;
  const message = `is of someone under ${selfRegistrationMinimumAge}: a guardian must register for them, which is not offered yet`;
  throw new InvalidInputError(`The holder of this ID number ${message}`, 'guardian_required', {
    errors: [{ path: 'idNumber', message, code: 'guardian_required' }],
  });
}

/**
 * 409 `account_exists` when the number has an account. One whose closure began and failed part-way, after
 * its sign-ins had ended (so its owner could not ask again), is completed here first: the closure was
 * asked for with a fresh sign-in and the password, and registering the number again is what it promised.
 */
async function noAccountYet(
  lookupKey: string,
  deps: RegisterPersonDependencies,
  context: { requestId?: string },
): Promise<void> {
  const existing = await deps.accounts.findByLookupKey(lookupKey, { includeClosing: true });
  if (!existing) return;
  if (existing.closingSince === undefined || !deps.closures) throw accountExists();
  logger.info('completing a closure left part-way', { accountId: existing.id });
  await finishClosure(existing, { ...deps, ...deps.closures }, context).catch((error: unknown) => {
    // Another request completed it meanwhile: the number is free all the same.
    if (!(error instanceof NotFoundError)) throw error;
  });
}

function accountExists(): ConflictError {
  return new ConflictError('An account with this ID number already exists', 'account_exists');
}

/**
 * Registrations are counted per source address, valid or not, before anything is checked: each one
 * answers whether a number has an account (409), so an address gets 50 an hour, then a growing wait
 * (`registrationThrottle` in login-throttle.ts), on a counter of its own, keyed by a digest of the address.
 */
async function admitRegistration(source: string, deps: RegisterPersonDependencies): Promise<void> {
  const admission = await new LoginThrottle(deps.loginAttempts, deps.clock).admit([
    { kind: 'registration', key: await sourceDigest(deps.lookupMac, source) },
  ]);
  if (!admission.admitted) {
    throw new TooManyRequestsError(
      `Too many registrations from this address; try again in ${admission.retryAfterSeconds} seconds`,
      admission.retryAfterSeconds,
    );
  }
}
