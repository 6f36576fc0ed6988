import { createHash } from 'node:crypto';
import * as z from 'zod';
import type { AuditTrail } from '../audit/audit-trail.js';
import { epochSeconds, type Clock } from '../clock.js';
import type { Mac } from '../crypto/mac.js';
import { NotFoundError } from '../errors.js';
import { logger } from '../logger.js';
import { closureAuditPrefix, saveWithTrace, type PendingWorkIndex } from '../pending-work/pending-work.js';
import { requireFreshSignIn, requirePasswordAgain, type SignInProof } from './fresh-sign-in.js';
import type { AccountStore } from './account-store.js';
import { acrOf, assuranceLevelOf } from './assurance.js';
import { appointmentInForce, type AgentAppointment } from './entity-account.js';
import { saveAgentChange } from './entities.js';
import type { EntityStore } from './entity-store.js';
import type { LoginAttemptStore } from './login-throttle.js';
import type { PasskeyStore } from './passkeys.js';
import type { PasswordHasher } from './password-hasher.js';
import { requireSignInNotEnded, type PersonAccount } from './person-account.js';
import type { PlatformConsents, SignInRevocation } from './sign-in-revocation.js';

export { closureFreshSeconds, requireFreshSignIn, type SignInProof } from './fresh-sign-in.js';

export interface CloseAccountDependencies {
  accounts: AccountStore;
  passkeys: PasskeyStore;
  signIns: SignInRevocation;
  /** The platforms' consents, withdrawn with a notice to each platform that asked to be told. */
  platformConsents: PlatformConsents;
  entities: EntityStore;
  audit: AuditTrail;
  /**
   * The pending work of the accounts function's changes: the account's deletion saves its `account.closed`
   * entry there, in the same write, so that it is written once, and never lost.
   */
  accountAudit: PendingWorkIndex;
  clock: Clock;
  /** The password is checked again in the closing request, throttled as a password sign-in is. */
  passwords: PasswordHasher;
  loginAttempts: LoginAttemptStore;
  lookupMac: Mac;
}

/** What {@link finishClosure} needs: no password (the closure was asked for with one already). */
export type ClosureDependencies = Pick<
  CloseAccountDependencies,
  'accounts' | 'passkeys' | 'signIns' | 'platformConsents' | 'entities' | 'audit' | 'accountAudit' | 'clock'
>;

/**
 * The body of `DELETE /me/account`: the account's password, typed again in the closing request itself. A
 * token alone (stolen from a browser in the ten minutes after its sign-in) closes nothing.
 */
export const closeAccountInput = z
  .strictObject({
    password: z.string().min(1).max(1024).meta({
      description: 'The account’s password, typed again to confirm the closure',
    }),
  })
  .meta({ title: 'CloseAccount' });

/** The proof of a closing request: the token's sign-in, the password typed again, and where it came from. */
export interface ClosureProof extends SignInProof {
  password: string;
  /** The client's address, for the password's throttle (as a sign-in's). */
  source: string;
}

/** What `DELETE /me/account` answers: what went (counts only: the account and its number are gone). */
export const closedAccountSchema = z
  .object({
    closed: z.literal(true),
    passkeysRemoved: z.number().int().nonnegative(),
    appointmentsWithdrawn: z.number().int().nonnegative().meta({
      description: 'Agent appointments (经办人) naming the person that were still in force',
    }),
  })
  .meta({ title: 'ClosedAccount' });
export type ClosedAccount = z.output<typeof closedAccountSchema>;

/**
 * Closes a person's account (注销, PIPL Art. 47; GB/T 35273 §8.5), the person asking with a fresh sign-in
 * at the account's level ({@link requireFreshSignIn}) and the account's password typed again in the
 * request. The account is marked closing first, so that whatever fails after, it opens nothing, and a
 * retry completes what is left:
 *
 * 1. Finds the account, also one whose closure began (a retry); one already gone is 404 `account_not_found`.
 * 2. Checks the sign-in (403 `fresh_sign_in_required`) and the password (403 `wrong_password`, throttled).
 * 3. Marks it closing (`closingSince`, a write conditional on its version): from then on the account
 *    store answers it to no sign-in (password, passkey, scan, SMS), token refresh, consent or route.
 * 4. The rest, each step idempotent ({@link finishClosure}): passkeys, appointments, sign-ins, then the
 *    account and its ID-number claim with the trace.
 *
 * Licences stay with the agencies that issued them (their records), and so do the audit trail and usage
 * record (docs/accounts.md).
 *
 * @example
 * ```ts
 * const proof = { acr: caller.acr, authTime: caller.authTime, password, source: sourceIp };
 * const closed = await closeAccount(personId, proof, deps);
 * closed.passkeysRemoved; // 1
 * ```
 */
export async function closeAccount(
  personId: string,
  proof: ClosureProof,
  deps: CloseAccountDependencies,
  context: { requestId?: string } = {},
): Promise<ClosedAccount> {
  // 1. The account, closing or not.
  const account = await deps.accounts.findById(personId, { includeClosing: true });
  if (!account) throw new NotFoundError('The signed-in account no longer exists', 'account_not_found');

  // 2. A sign-in made since the last takeover or reset (review R47 F3), fresh at its level, and the
  // password.
  requireSignInNotEnded(account, proof.authTime);
  requireFreshSignIn(account, proof, epochSeconds(deps.clock));
  await requirePasswordAgain(account, proof, deps);

  // 3. The mark (a concurrent change of the account is 409 `account_changed`: ask again).
  const closing =
    account.closingSince === undefined
      ? await deps.accounts.save({ ...account, closingSince: new Date(deps.clock.now()).toISOString() })
      : account;

  // 4. What depends on it, then the account itself.
  return finishClosure(closing, deps, context);
}

/**
 * Completes the closure of an account marked closing ({@link closeAccount} step 3), each step idempotent
 * so that a closure failed part-way is completed by asking again (the same request while its token lives;
 * once its sign-ins have ended, by registering the number again: register-person.ts):
 *
 * 1. Removes every passkey (those left).
 * 2. Withdraws every agent appointment (经办人) naming the person that is still in force: they are keyed
 *    by the ID number's lookup key, so they would otherwise come back with a new account of the same
 *    number. Only for an account at level 3: one below has not proved it is the number's person (a
 *    squatter's account), and its closing leaves the person's appointments alone. Appointments the person made as an entity's legal representative stay: they are the
 *    entity's acts, and count only while the business registry names the person representative. Each
 *    withdrawal is saved with its entry `agent.withdrawn` (actor the closing account, the agent's masked
 *    number, the entity's credit code), as a representative's withdrawal is. With any, each of these
 *    entries and `account.closed` say which part of how many they are (`withdrawal`, `part`, `parts`).
 * 3. Withdraws the platforms' consents and shares as the person would one by one, so that each platform
 *    that registered an events endpoint is told to delete its copies (`PlatformConsents.withdrawAll`: each
 *    withdrawal's notice queued in the write that deletes its grants, so a retry neither loses nor
 *    repeats one); then ends every sign-in: provider sessions, the service's own apps' grants, codes,
 *    access and refresh tokens, personal and acting for an entity (`SignInRevocation.endAll`).
 * 4. Deletes the account and its ID-number claim together: the name, the encrypted ID number and phone,
 *    the password hash. The same number may then register again, as a new account.
 * 5. With them, in the same write, its trace `account.closed` (actor the closed account's opaque id; no
 *    number, name or phone), saved as pending work keyed by the account (`account-closed#<account id>`,
 *    {@link saveWithTrace}), then written: a closure is never without its trace, and has one, however
 *    often it was asked again after a failure part-way (only the deletion, which happens once, saves
 *    it). An entry that cannot be written at once is written by the reconciler a minute later.
 *
 * The counts answered are what this attempt removed.
 */
export async function finishClosure(
  account: PersonAccount,
  deps: ClosureDependencies,
  context: { requestId?: string } = {},
): Promise<ClosedAccount> {
  if (account.closingSince === undefined) throw new Error('finishClosure: the account is not marked closing');
  const now = new Date(deps.clock.now());

  // 1. Passkeys.
  const passkeys = await deps.passkeys.listFor(account.id);
  await Promise.all(passkeys.map((passkey) => deps.passkeys.remove(account.id, passkey.id)));

  // 2. Appointments naming the person, still in force: only when the account proved it is that person
  //    (level 3). A squatter's account of the number (self-asserted, or registry-verified by knowing a
  //    name) closing would otherwise withdraw the real person's appointments.
  const closingSince = account.closingSince;
  // An appointment this closure already withdrew (an earlier attempt that failed part-way): still one of
  // its parts, so that a retry numbers them as the first attempt did (review R33 L2), not saved again.
  const withdrawnByThisClosure = (appointment: AgentAppointment) =>
    appointment.status === 'withdrawn' &&
    appointment.withdrawnBy === account.id &&
    appointment.withdrawnAt !== undefined &&
    appointment.withdrawnAt >= closingSince;
  const planned =
    assuranceLevelOf(account) < 3
      ? []
      : (await deps.entities.appointmentsFor(account.lookupKey)).filter(
          (appointment) => appointmentInForce(appointment, now) || withdrawnByThisClosure(appointment),
        );
  const appointments = planned.filter((appointment) => !withdrawnByThisClosure(appointment));
  //    Each withdrawal with its trace `agent.withdrawn` (actor the closing account), in its own write as a
  //    representative's withdrawal is: a retry after a failure finds it withdrawn, and writes no second.
  //    With any, the closure is a withdrawal in several writes: each entry says which part of how many it
  //    is (`withdrawal`, `part` n of `parts` m, `account.closed` the last), so that a supervisor can tell
  //    from the trail whether every one is on it (`npm run audit:verify` names a missing one).
  //    The withdrawal's id is the closure's own (the account and the moment it was marked closing), the
  //    same in every attempt.
  const parts = planned.length + 1;
  const closure = createHash('sha256').update(`closure#${account.id}#${closingSince}`).digest('base64url');
  const partOf = (part: number) => (planned.length > 0 ? { withdrawal: closure, part, parts } : {});
  for (const [i, appointment] of planned.entries()) {
    if (withdrawnByThisClosure(appointment)) continue;
    const withdrawn: AgentAppointment = {
      ...appointment,
      status: 'withdrawn',
      withdrawnAt: now.toISOString(),
      withdrawnBy: account.id,
    };
    await saveAgentChange(
      withdrawn,
      {
        at: now.toISOString(),
        actor: account.id,
        action: 'agent.withdrawn',
        holderMasked: appointment.masked,
        reason: `${appointment.creditCode} account closed`,
        ...(context.requestId ? { requestId: context.requestId } : {}),
        ...partOf(i + 1),
      },
      (trace) => deps.entities.saveAppointment(withdrawn, trace),
      deps,
    );
  }

  // 3. The platforms told (each its own withdrawal, notice included), then every sign-in ended.
  const platforms = await deps.platformConsents.withdrawAll(account.id);
  await deps.signIns.endAll(account.id);

  // 4, 5. The account and its claim, with the trace: saved by the deletion alone, so that a retry after a
  //    failure before it (the counts are then the retry's) writes the one entry, and one after it finds
  //    no account to close.
  await saveWithTrace(
    `${closureAuditPrefix}${account.id}`,
    {
      at: now.toISOString(),
      actor: account.id,
      action: 'account.closed',
      reason: `passkeys ${passkeys.length}, appointments ${appointments.length}, platform consents ${platforms}`,
      ...(context.requestId ? { requestId: context.requestId } : {}),
      ...partOf(parts),
    },
    (trace) => deps.accounts.remove(account, trace),
    { ...deps, pendingAudit: deps.accountAudit },
  );
  logger.info('account closed', {
    accountId: account.id,
    passkeys: passkeys.length,
    appointments: appointments.length,
  });
  return { closed: true, passkeysRemoved: passkeys.length, appointmentsWithdrawn: appointments.length };
}

/** What `GET /me/account` answers: what the account holds of the person, masked (never the number). */
export const accountHoldingsSchema = z
  .object({
    masked: z.string().meta({ description: 'The masked ID number' }),
    name: z.string(),
    assurance: z.enum(['self-asserted', 'registry-verified', 'in-person-verified', 'possession-verified']),
    acr: z.string().meta({ description: 'The level the account reached' }),
    phone: z
      .object({ masked: z.string(), confirmedAt: z.string() })
      .optional()
      .meta({ description: 'The phone the carrier confirmed, masked; absent when none is kept' }),
    phoneProven: z.boolean().meta({ description: 'Whether a code sent to a phone proved level 3' }),
    provenPhoneMasked: z.string().optional().meta({
      description:
        'The phone that proved it, masked (`139****5678`): the only one that resets the password or steps up again; absent when none did, or it was proven before the mask was kept',
    }),
    passkeys: z.number().int().nonnegative().meta({ description: 'How many (GET /me/passkeys lists them)' }),
    createdAt: z.string(),
  })
  .meta({ title: 'AccountHoldings' });

/**
 * What the account holds of the person (PIPL Art. 45, the right to consult): the masked number, the
 * name, the level, the masked phone, how many passkeys; the platforms with a grant are `GET
 * /me/authorizations`, the passkeys themselves `GET /me/passkeys`.
 */
export async function accountHoldings(
  personId: string,
  deps: Pick<CloseAccountDependencies, 'accounts' | 'passkeys'>,
  /** The caller's sign-in (`auth_time`): one from before a takeover or a reset reads nothing (review R47). */
  authTime: number | undefined,
): Promise<z.output<typeof accountHoldingsSchema>> {
  const account = await deps.accounts.findById(personId);
  if (!account) throw new NotFoundError('The signed-in account no longer exists', 'account_not_found');
  requireSignInNotEnded(account, authTime);
  const passkeys = await deps.passkeys.listFor(account.id);
  return {
    masked: account.masked,
    name: account.name,
    assurance: account.assurance,
    acr: acrOf(assuranceLevelOf(account)),
    ...(account.phone
      ? { phone: { masked: account.phone.masked, confirmedAt: account.phone.confirmedAt } }
      : {}),
    phoneProven: account.provenPhone !== undefined,
    ...(account.provenPhone && account.provenPhoneMasked
      ? { provenPhoneMasked: account.provenPhoneMasked }
      : {}),
    passkeys: passkeys.length,
    createdAt: account.createdAt,
  };
}
