import type * as SimpleWebAuthn from '@simplewebauthn/server';
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { createHash } from 'node:crypto';
import * as z from 'zod';
import type { AuditEntry, AuditTrail } from '../audit/audit-trail.js';
import { epochSeconds, type Clock } from '../clock.js';
import {
  ConflictError,
  ForbiddenError,
  InvalidInputError,
  NotFoundError,
  UnauthenticatedError,
} from '../errors.js';
import { logger } from '../logger.js';
import {
  passkeyAuditPrefix,
  saveWithTrace,
  type PendingWorkIndex,
  type Trace,
} from '../pending-work/pending-work.js';
import { acrOf, type AssuranceLevel } from './assurance.js';
import {
  requireFreshSignIn,
  requirePasswordAgain,
  type PasswordAgainDependencies,
  type SignInProof,
} from './fresh-sign-in.js';
import type { PersonAccount } from './person-account.js';

/**
 * Passkeys (通行密钥, WebAuthn discoverable credentials with user verification), API.md "Identity assurance
 * (v2)": a person signed in at level 3 enrols one in the wallet; signing in with it reaches level 3. Every
 * WebAuthn message is built and checked by `@simplewebauthn/server`; this file decides only what to ask
 * for, what to store and when to refuse.
 */

/** A passkey as stored, per account. The public key is the COSE key the authenticator registered. */
export interface StoredPasskey {
  /** The credential id (base64url), unique across accounts. */
  id: string;
  /** The person's account id (`acc_…`). */
  accountId: string;
  /** The COSE public key, base64url. */
  publicKey: string;
  /** The signature counter last seen; 0 for authenticators that keep none. */
  counter: number;
  transports: string[];
  /** `multiDevice` for a synced passkey, `singleDevice` for one bound to its authenticator. */
  deviceType: 'singleDevice' | 'multiDevice';
  backedUp: boolean;
  /** The person's label for it (e.g. "我的手机"). */
  name: string;
  createdAt: string;
  lastUsedAt?: string;
}

let webauthnModule: Promise<typeof SimpleWebAuthn> | undefined;
/**
 * `@simplewebauthn/server` and its X.509 and ASN.1 libraries (about 250 KB bundled), loaded when a passkey
 * ceremony first needs them: `me` and `oidc` serve them on a few routes only, and every cold start would
 * otherwise pay for their setup (docs/benchmarks.md, "Cold start"; a chunk of its own in the bundles).
 */
function webauthn(): Promise<typeof SimpleWebAuthn> {
  webauthnModule ??= import('@simplewebauthn/server');
  return webauthnModule;
}

/** What a WebAuthn ceremony's challenge was issued for: an account's enrolment or a sign-in's interaction. */
export interface PasskeyChallenge {
  /** The challenge as sent (base64url). */
  challenge: string;
  purpose: 'enrol' | 'sign-in';
  /** The account id (enrolment) or the interaction uid (sign-in) it was issued to. */
  boundTo: string;
  /** Epoch seconds. */
  expiresAt: number;
}

/**
 * Where passkeys and ceremony challenges are kept. Contract: `add` refuses a credential id already stored
 * (ConflictError `passkey_exists`), whoever owns it; `remove` removes only the owner's and says whether it
 * did; with a `trace` (the person's own enrolment or removal: {@link saveWithTrace}), each puts the
 * pointer that carries its audit entry in the same all-or-nothing write, and nothing when it wrote nothing; `recordUse` writes the new counter only if the stored counter is still `previousCounter` and the
 * passkey still exists (false otherwise: removed meanwhile, or a concurrent use won); `takeChallenge`
 * deletes and returns a challenge once, never an expired one, so that each challenge is answered at most
 * once, also under concurrency.
 */
export interface PasskeyStore {
  /**
   * Stores a new passkey (`passkey_exists` for a credential id stored already). With `account`, only while
   * the passkey's account is still at that version and owes no clean-up (`proofCleanup`), in the same
   * write: else nothing is written and it fails with `account_changed` (review R44 F2: an enrolment
   * checked against the account before a takeover or a reset would otherwise be stored after the
   * clean-up listed the passkeys it removes, and outlive it).
   */
  add(passkey: StoredPasskey, trace?: Trace, account?: { version: number }): Promise<void>;
  find(credentialId: string): Promise<StoredPasskey | undefined>;
  listFor(accountId: string): Promise<StoredPasskey[]>;
  /**
   * The passkeys of an account as a clean-up removes them: each one's credential id and enrolment time
   * only (the reconciler, which may read no more of the index it lists them by: review R54-3).
   */
  enrolmentsOf(accountId: string): Promise<Array<Pick<StoredPasskey, 'id' | 'createdAt'>>>;
  remove(accountId: string, credentialId: string, trace?: Trace): Promise<boolean>;
  recordUse(
    credentialId: string,
    use: { previousCounter: number; counter: number; at: string },
  ): Promise<boolean>;
  saveChallenge(challenge: PasskeyChallenge): Promise<void>;
  takeChallenge(challenge: string, nowSeconds: number): Promise<PasskeyChallenge | undefined>;
}

/** The relying party: the service's host as `rpID`, its origin, and its name shown by authenticators. */
export interface RelyingPartyIdentity {
  rpId: string;
  origin: string;
  rpName: string;
}

/** The relying party of a deployment, from its public URL (ISSUER_URL): `rpID` is the host name. */
export function relyingPartyOf(issuerUrl: string): RelyingPartyIdentity {
  const url = new URL(issuerUrl);
  return { rpId: url.hostname, origin: url.origin, rpName: '电子证照与统一身份认证' };
}

export interface PasskeyDependencies {
  passkeys: PasskeyStore;
  clock: Clock;
}

/**
 * What enrolling or removing a passkey needs besides the store: the password typed again (checked under
 * the sign-in's throttle, as a closure's), and the audit trail with the index of the `me` function's
 * changes, where each enrolment and removal is saved with its entry (`passkey.enrolled`,
 * `passkey.removed`).
 */
export type PasskeyChangeDependencies = PasskeyDependencies &
  PasswordAgainDependencies & { audit: AuditTrail; pendingAudit: PendingWorkIndex };

/** How long a person has to answer the authenticator's prompt (the challenge lives as long). */
export const challengeSeconds = 300;
/** At most this many passkeys per account: enough for every device a person has, bounded for the table. */
export const maxPasskeysPerAccount = 10;

/** The level needed to enrol or manage passkeys: a passkey itself opens level 3. */
const requiredLevel: AssuranceLevel = 3;

/** The user handle WebAuthn keeps with the credential: the opaque account id, never the ID number. */
export function userHandleOf(accountId: string): string {
  return Buffer.from(accountId, 'utf8').toString('base64url');
}

/**
 * The signed-in person managing their passkeys, at the level their sign-in reached (`signedInLevel`): their
 * account (its hash checks the password typed again) and the sign-in behind the token (`acr`,
 * `auth_time`: enrolling and removing need it fresh, {@link requireFreshSignIn}).
 */
export interface PasskeyOwner {
  accountId: string;
  name: string;
  level: AssuranceLevel;
  account: PersonAccount;
  signIn: SignInProof;
  /** The client's address, for the password's throttle. */
  source: string;
  requestId?: string;
}

/**
 * Enrolling or removing a passkey opens or closes a way in at level 3: like closing the account, it needs
 * a sign-in of the last ten minutes at the account's level (403 `fresh_sign_in_required`), so that
 * whoever holds a wallet session left open or its refresh token cannot add a passkey of their own
 * (review R28 H1).
 */
function requireFreshForPasskeys(owner: PasskeyOwner, deps: Pick<PasskeyDependencies, 'clock'>): void {
  requireFreshSignIn(owner.account, owner.signIn, epochSeconds(deps.clock), 'Managing passkeys');
}

/**
 * No passkey is enrolled while the clean-up of a takeover or a reset is owed (`proofCleanup`: it failed
 * after the save, review R48 F2): the enrolment's write is refused over such an account (R44 F2), and a
 * plain `account_changed` would send the person round signing in again. Not finished here: the clean-up
 * removes the passkeys enrolled until the reset, and the reconciler finishes it within minutes, with no
 * other proof (shared/identity/owed-cleanup.ts), sparing the sign-ins since. A 409 `cleanup_owed` tells
 * the person so: try again shortly (the wallet's page says it in its own words).
 */
function requireNoCleanupOwed(owner: PasskeyOwner): void {
  if (owner.account.proofCleanup === undefined) return;
  throw new ConflictError(
    'The last password reset or takeover of this account is still being cleaned up (its old sign-ins and passkeys removed): this finishes by itself within minutes, try again shortly',
    'cleanup_owed',
  );
}

/** The key of a passkey change's audit entry: the credential id digested (it may be 1 KB long). */
function passkeyAuditKey(accountId: string, change: 'enrolled' | 'removed', credentialId: string): string {
  const digest = createHash('sha256').update(credentialId).digest('base64url').slice(0, 22);
  return `${passkeyAuditPrefix}${accountId}#${change}-${digest}`;
}

/** The audit entry of a passkey enrolled or removed by its person: no name, key or credential id in it. */
function passkeyEntry(
  owner: PasskeyOwner,
  action: string,
  reason: string,
  deps: PasskeyDependencies,
): AuditEntry {
  return {
    at: new Date(deps.clock.now()).toISOString(),
    actor: owner.accountId,
    action,
    reason,
    ...(owner.requestId ? { requestId: owner.requestId } : {}),
  };
}

function requireLevel3(owner: PasskeyOwner): void {
  if (owner.level < requiredLevel) {
    throw new ForbiddenError(
      `Managing passkeys needs assurance level ${acrOf(requiredLevel)} (acr); sign in at that level`,
      'insufficient_assurance',
    );
  }
}

/** A passkey as `GET /me/passkeys` lists it ({@link passkeyView}): never the public key. */
export const passkeyViewSchema = z
  .object({
    id: z.string().meta({ description: 'The credential id (base64url)' }),
    name: z.string(),
    createdAt: z.string(),
    lastUsedAt: z.string().optional(),
    synced: z.boolean().meta({ description: 'Backed up by its provider (a synced passkey)' }),
  })
  .meta({
    title: 'Passkey',
    examples: [{ id: 'm3cQ1x…', name: '我的手机', createdAt: '2026-03-01T09:30:00.000Z', synced: true }],
  });

/** What `GET /me/passkeys` answers. */
export const passkeyListSchema = z.object({ items: z.array(passkeyViewSchema) }).meta({ title: 'Passkeys' });

/**
 * What `POST /me/passkeys/options` answers: WebAuthn's `PublicKeyCredentialCreationOptionsJSON`, for
 * `navigator.credentials.create` (or `startRegistration` of `@simplewebauthn/browser`).
 */
export const passkeyCreationOptionsSchema = z
  .looseObject({
    challenge: z.string(),
    rp: z.looseObject({ name: z.string(), id: z.string().optional() }),
    user: z.looseObject({ id: z.string(), name: z.string(), displayName: z.string() }),
    pubKeyCredParams: z.array(z.looseObject({ type: z.literal('public-key'), alg: z.int() })),
    timeout: z.int().optional(),
    excludeCredentials: z.array(z.looseObject({ id: z.string(), type: z.literal('public-key') })).optional(),
  })
  .meta({ title: 'PasskeyCreationOptions' });

/** What a person sees of a passkey: never the public key. */
export function passkeyView(passkey: StoredPasskey): z.output<typeof passkeyViewSchema> {
  return {
    id: passkey.id,
    name: passkey.name,
    createdAt: passkey.createdAt,
    ...(passkey.lastUsedAt ? { lastUsedAt: passkey.lastUsedAt } : {}),
    synced: passkey.backedUp,
  };
}
export type PasskeyView = z.output<typeof passkeyViewSchema>;

/** The passkeys of the signed-in person (level 3). */
export async function listPasskeys(owner: PasskeyOwner, deps: PasskeyDependencies): Promise<PasskeyView[]> {
  requireLevel3(owner);
  return (await deps.passkeys.listFor(owner.accountId)).map(passkeyView);
}

/**
 * The options for `navigator.credentials.create` (`startRegistration` in the browser): a discoverable
 * credential with user verification required, excluding the person's existing passkeys. The challenge is
 * stored, bound to the account, for {@link challengeSeconds}.
 */
export async function passkeyRegistrationOptions(
  owner: PasskeyOwner,
  rp: RelyingPartyIdentity,
  deps: PasskeyDependencies,
): Promise<PublicKeyCredentialCreationOptionsJSON> {
  requireLevel3(owner);
  requireFreshForPasskeys(owner, deps);
  requireNoCleanupOwed(owner);
  const existing = await deps.passkeys.listFor(owner.accountId);
  requireRoomForPasskey(existing);
  const { generateRegistrationOptions } = await webauthn();
  const options = await generateRegistrationOptions({
    rpName: rp.rpName,
    rpID: rp.rpId,
    userName: owner.name,
    userDisplayName: owner.name,
    userID: Buffer.from(owner.accountId, 'utf8'),
    timeout: challengeSeconds * 1000,
    attestationType: 'none',
    excludeCredentials: existing.map((passkey) => ({ id: passkey.id, transports: passkey.transports })),
    authenticatorSelection: {
      residentKey: 'required',
      requireResidentKey: true,
      userVerification: 'required',
    },
  });
  await deps.passkeys.saveChallenge({
    challenge: options.challenge,
    purpose: 'enrol',
    boundTo: owner.accountId,
    expiresAt: epochSeconds(deps.clock) + challengeSeconds,
  });
  return options;
}

/** Refuses a new passkey for an account that has {@link maxPasskeysPerAccount} already. */
function requireRoomForPasskey(existing: readonly StoredPasskey[]): void {
  if (existing.length >= maxPasskeysPerAccount) {
    throw new ConflictError(`At most ${maxPasskeysPerAccount} passkeys per account`, 'too_many_passkeys');
  }
}

/**
 * The account's password, typed again to enrol or remove a passkey (as to close the account): a token
 * alone, from a wallet left open, changes no way in.
 */
const passwordAgain = z.string().min(1).max(1024).meta({
  description: 'The account’s password, typed again to confirm the change',
});

/** The body of an enrolment: the browser's `RegistrationResponseJSON`, an optional label, and the password. */
export const enrolPasskeyInput = z.strictObject({
  name: z.string().trim().max(40).optional(),
  password: passwordAgain,
  response: z.looseObject({
    id: z.string().min(1).max(1024),
    rawId: z.string().min(1).max(1024),
    type: z.literal('public-key'),
    response: z.looseObject({
      clientDataJSON: z.string().min(1).max(8192),
      attestationObject: z.string().min(1).max(16384),
    }),
  }),
});
export type EnrolPasskeyInput = z.output<typeof enrolPasskeyInput>;

/** The body of `DELETE /me/passkeys/{id}`: the account's password typed again. */
export const removePasskeyInput = z
  .strictObject({ password: passwordAgain })
  .meta({ title: 'RemovePasskey' });

/** A challenge check for `@simplewebauthn/server`: takes the challenge (once) and checks what it was for. */
function challengeOf(
  purpose: PasskeyChallenge['purpose'],
  boundTo: string,
  deps: PasskeyDependencies,
): (challenge: string) => Promise<boolean> {
  return async (challenge) => {
    if (challenge.length > 512) return false;
    const taken = await deps.passkeys.takeChallenge(challenge, epochSeconds(deps.clock));
    return taken?.purpose === purpose && taken.boundTo === boundTo;
  };
}

/**
 * Verifies the authenticator's answer to {@link passkeyRegistrationOptions} and stores the passkey. The
 * sign-in must be fresh and the password typed again right (before the challenge is taken: a typo does not
 * spend it); the challenge must be one issued to this account and unused; user verification is required.
 * The passkey is saved with its audit entry `passkey.enrolled` ({@link saveWithTrace}).
 */
export async function enrolPasskey(
  owner: PasskeyOwner,
  input: EnrolPasskeyInput,
  rp: RelyingPartyIdentity,
  deps: PasskeyChangeDependencies,
): Promise<PasskeyView> {
  requireLevel3(owner);
  requireFreshForPasskeys(owner, deps);
  requireNoCleanupOwed(owner);
  await requirePasswordAgain(
    owner.account,
    { password: input.password, source: owner.source },
    deps,
    'no passkey was added',
  );
  // Loaded before the check, so that a module that fails to load is a server error and not a refusal.
  const { verifyRegistrationResponse } = await webauthn();
  let verified;
  try {
    verified = await verifyRegistrationResponse({
      response: input.response as unknown as RegistrationResponseJSON,
      expectedChallenge: challengeOf('enrol', owner.accountId, deps),
      expectedOrigin: rp.origin,
      expectedRPID: rp.rpId,
      requireUserVerification: true,
    });
  } catch (error) {
    logger.info('passkey enrolment refused', { reason: error instanceof Error ? error.message : 'unknown' });
    throw new InvalidInputError('The passkey could not be verified', 'invalid_passkey', {
      errors: [{ path: 'response', message: 'not a valid answer to a current enrolment challenge' }],
    });
  }
  if (!verified.verified) {
    throw new InvalidInputError('The passkey could not be verified', 'invalid_passkey', {
      errors: [{ path: 'response', message: 'not verified' }],
    });
  }
  // Counted again here, not only when the options were asked (review R61 F3): options asked 25 times while
  // the account had none, then each answered, enrolled 25. Counted after the verification, so the count
  // is as late as it can be before the write. Not race-proof against enrolments finishing at the same
  // moment (each counts the others not yet written, or not yet in the index): a counter on the account
  // item would be, at the price of keeping it right through every removal, reset and takeover clean-up;
  // the cap bounds what one account keeps in the table, which a few more of its owner's own passkeys,
  // each needing a real enrolment ceremony and the password, do not threaten.
  requireRoomForPasskey(await deps.passkeys.listFor(owner.accountId));
  const info = verified.registrationInfo;
  const now = new Date(deps.clock.now()).toISOString();
  const passkey: StoredPasskey = {
    id: info.credential.id,
    accountId: owner.accountId,
    publicKey: Buffer.from(info.credential.publicKey).toString('base64url'),
    counter: info.credential.counter,
    transports: (info.credential.transports ?? []).slice(0, 8),
    deviceType: info.credentialDeviceType,
    backedUp: info.credentialBackedUp,
    name: input.name || '通行密钥',
    createdAt: now,
  };
  await saveWithTrace(
    passkeyAuditKey(owner.accountId, 'enrolled', passkey.id),
    passkeyEntry(owner, 'passkey.enrolled', passkey.backedUp ? 'synced' : 'device-bound', deps),
    // Only over the account as this request checked it (its password, its level, no clean-up owed): a
    // takeover or a reset saved meanwhile refuses it, so that the passkeys its clean-up lists are all
    // there are (review R44 F2). The person tries again, signed in afresh.
    (trace) => deps.passkeys.add(passkey, trace, { version: owner.account.version }),
    deps,
  );
  logger.info('passkey enrolled', { accountId: owner.accountId });
  return passkeyView(passkey);
}

/**
 * Removes one of the signed-in person's passkeys (level 3, a fresh sign-in and the password typed again,
 * as to enrol one); another's, or an unknown one, is a 404. Removed with its audit entry `passkey.removed`.
 */
export async function removePasskey(
  owner: PasskeyOwner,
  credentialId: string,
  password: string,
  deps: PasskeyChangeDependencies,
): Promise<void> {
  requireLevel3(owner);
  requireFreshForPasskeys(owner, deps);
  await requirePasswordAgain(
    owner.account,
    { password, source: owner.source },
    deps,
    'no passkey was removed',
  );
  await saveWithTrace(
    passkeyAuditKey(owner.accountId, 'removed', credentialId),
    passkeyEntry(owner, 'passkey.removed', 'by its person', deps),
    async (trace) => {
      // Nothing removed, nothing saved: the entry is not written either.
      if (!(await deps.passkeys.remove(owner.accountId, credentialId, trace))) {
        throw new NotFoundError('No such passkey among yours', 'passkey_not_found');
      }
    },
    deps,
  );
  logger.info('passkey removed', { accountId: owner.accountId });
}

/**
 * The options for `navigator.credentials.get` on the sign-in page: no credential list (the authenticator
 * offers its discoverable credentials for this site), user verification required, the challenge stored and
 * bound to the sign-in's interaction.
 */
export async function passkeySignInOptions(
  interactionUid: string,
  rp: RelyingPartyIdentity,
  deps: PasskeyDependencies,
): Promise<PublicKeyCredentialRequestOptionsJSON> {
  const { generateAuthenticationOptions } = await webauthn();
  const options = await generateAuthenticationOptions({
    rpID: rp.rpId,
    userVerification: 'required',
    timeout: challengeSeconds * 1000,
  });
  await deps.passkeys.saveChallenge({
    challenge: options.challenge,
    purpose: 'sign-in',
    boundTo: interactionUid,
    expiresAt: epochSeconds(deps.clock) + challengeSeconds,
  });
  return options;
}

export const passkeyAssertion = z.looseObject({
  id: z.string().min(1).max(1024),
  rawId: z.string().min(1).max(1024),
  type: z.literal('public-key'),
  response: z.looseObject({
    clientDataJSON: z.string().min(1).max(8192),
    authenticatorData: z.string().min(1).max(8192),
    signature: z.string().min(1).max(2048),
    userHandle: z.string().max(512).optional(),
  }),
});

/**
 * Whether a passkey enrolled at `createdAt` no longer signs `account` in (review R47 F1): enrolled before
 * the account's sign-ins were last ended (`signInsEnded.at`: a takeover or a reset removes every passkey
 * enrolled until its save, and refuses an enrolment over the account it replaced, so none from before
 * the mark legitimately remains), or before the `passkeysBefore` of a clean-up still owed
 * (`proofCleanup`). Either way the passkey is one the clean-up removes, or failed to remove: between the
 * account's save and the removal, or for good when the clean-up failed after the save, it is refused
 * all the same. Read from the account the sign-in reads anyway: no call added.
 *
 * @example
 * ```ts
 * passkeyEndedBy('2026-05-28T20:26:41.000Z', { signInsEnded: { at: '2026-05-28T20:26:41.500Z', version: 7 } }); // true
 * ```
 */
export function passkeyEndedBy(
  createdAt: string,
  account: { signInsEnded?: { at: string }; passkeysOwedBefore?: string },
): boolean {
  const enrolled = Date.parse(createdAt);
  // A date that does not parse is not one the service wrote: refused.
  if (Number.isNaN(enrolled)) return true;
  const before = (at: string | undefined) => at !== undefined && enrolled < Date.parse(at);
  return before(account.signInsEnded?.at) || before(account.passkeysOwedBefore);
}

/** The passkey sign-in failed: one answer for an unknown, removed, replayed or forged assertion. */
export class PasskeySignInError extends UnauthenticatedError {
  constructor() {
    super('The passkey could not be verified', 'invalid_passkey');
    this.name = 'PasskeySignInError';
  }
}

/**
 * RFC 8176 `amr` of a passkey sign-in. `swk` (proof of possession of a software-secured key), not `hwk`:
 * with attestation `none` the service cannot tell a hardware-bound key from a synced one, and most
 * passkeys are synced through a cloud keychain; claiming hardware would overstate what was checked.
 */
export const passkeyAmr = ['swk'] as const;

/**
 * Verifies a passkey assertion for the sign-in `interactionUid`: a challenge issued to that interaction
 * and not yet used, a stored passkey whose user handle matches, user verification, and a counter that
 * moved forward (when the authenticator keeps one). Returns the account it signs in, and when the passkey
 * was enrolled, which the caller checks against the account it reads ({@link passkeyEndedBy}).
 */
export async function verifyPasskeySignIn(
  interactionUid: string,
  assertion: z.output<typeof passkeyAssertion>,
  rp: RelyingPartyIdentity,
  deps: PasskeyDependencies,
): Promise<{ accountId: string; amr: string[]; createdAt: string }> {
  const stored = await deps.passkeys.find(assertion.id);
  const refuse = (reason: string) => {
    logger.info('passkey sign-in refused', { reason });
    return new PasskeySignInError();
  };
  if (!stored) throw refuse('unknown credential');
  const handle = assertion.response.userHandle;
  if (handle !== undefined && handle !== userHandleOf(stored.accountId)) throw refuse('user handle mismatch');
  const { verifyAuthenticationResponse } = await webauthn();
  let verified;
  try {
    verified = await verifyAuthenticationResponse({
      response: assertion as unknown as AuthenticationResponseJSON,
      expectedChallenge: challengeOf('sign-in', interactionUid, deps),
      expectedOrigin: rp.origin,
      expectedRPID: rp.rpId,
      credential: {
        id: stored.id,
        publicKey: Buffer.from(stored.publicKey, 'base64url'),
        counter: stored.counter,
        transports: stored.transports,
      },
      requireUserVerification: true,
    });
  } catch (error) {
    throw refuse(error instanceof Error ? error.message : 'unknown');
  }
  if (!verified.verified) throw refuse('not verified');
  const { newCounter } = verified.authenticationInfo;
  // The library refuses a counter that did not move forward; the conditional write refuses one that a
  // concurrent sign-in moved meanwhile, and a passkey removed meanwhile.
  const recorded = await deps.passkeys.recordUse(stored.id, {
    previousCounter: stored.counter,
    counter: newCounter,
    at: new Date(deps.clock.now()).toISOString(),
  });
  if (!recorded) throw refuse('counter or passkey changed meanwhile');
  return { accountId: stored.accountId, amr: [...passkeyAmr], createdAt: stored.createdAt };
}
