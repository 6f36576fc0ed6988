import * as z from 'zod';
import type { AuditTrail } from '../audit/audit-trail.js';
import { epochSeconds, type Clock } from '../clock.js';
import { ForbiddenError, NotFoundError } from '../errors.js';
import { logger } from '../logger.js';
import type { AccountStore } from './account-store.js';
import { acrOf, assuranceLevelOf, signedInLevel } from './assurance.js';
import { appointmentInForce } from './entity-account.js';
import type { EntityStore } from './entity-store.js';
import type { PasskeyStore } from './passkeys.js';
import type { PersonAccount } from './person-account.js';
import type { SignInRevocation } from './sign-in-revocation.js';

/**
 * How recent the sign-in behind the token must be to close the account: ten minutes after `auth_time`,
 * time to read the confirmation page, not enough for a token left in a browser, a stolen refresh token
 * (a refreshed token keeps its sign-in's `auth_time`) or a session someone walked away from.
 */
export const closureFreshSeconds = 600;

export interface CloseAccountDependencies {
  accounts: AccountStore;
  passkeys: PasskeyStore;
  signIns: SignInRevocation;
  entities: EntityStore;
  audit: AuditTrail;
  clock: Clock;
}

/** The sign-in behind the caller's token: its `acr` and `auth_time` (epoch seconds), as the token carries them. */
export interface SignInProof {
  acr: string | undefined;
  authTime: number | undefined;
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
 * Whether `proof` is a fresh sign-in at the account's own level: `auth_time` within
 * {@link closureFreshSeconds}, and an `acr` at least the level the account reached. Anything less is
 * 403 `fresh_sign_in_required`, which says how to get one (`acr_values` and `max_age=0`: the provider then
 * asks for the password, and the step-up, again).
 */
export function requireFreshSignIn(account: PersonAccount, proof: SignInProof, nowSeconds: number): void {
  const level = assuranceLevelOf(account);
  const fresh =
    proof.authTime !== undefined &&
    proof.authTime <= nowSeconds + 60 &&
    nowSeconds - proof.authTime <= closureFreshSeconds;
  if (!fresh || signedInLevel(account, proof.acr) < level) {
    throw new ForbiddenError(
      `Closing the account needs a sign-in of the last ${closureFreshSeconds / 60} minutes at ${acrOf(level)}: ` +
        `sign in again with acr_values=${acrOf(level)} and max_age=0`,
      'fresh_sign_in_required',
    );
  }
}

/**
 * Closes a person's account (注销, PIPL Art. 47; GB/T 35273 §8.5), the person asking with a fresh sign-in
 * at the account's level ({@link requireFreshSignIn}). In order, so that a failure part-way leaves an
 * account that can be closed again (after a new sign-in, the old ones may already be ended):
 *
 * 1. Checks the sign-in (403 `fresh_sign_in_required`); an account already gone is 404 `account_not_found`.
 * 2. Removes every passkey (before the sign-ins: a passkey sign-in in between would outlive the ending).
 * 3. Withdraws every agent appointment (经办人) naming the person that is still in force: they are keyed
 *    by the ID number's lookup key, so they would otherwise come back with a new account of the same
 *    number. Appointments the person made as an entity's legal representative stay: they are the
 *    entity's acts, and count only while the business registry names the person representative.
 * 4. Ends every sign-in: provider sessions, grants (the platforms' consents and shares), codes, access
 *    and refresh tokens, personal and acting for an entity (`SignInRevocation.endAll`).
 * 5. Deletes the account and its ID-number claim together: the name, the encrypted ID number and phone,
 *    the password hash. The same number may then register again, as a new account.
 * 6. Writes `account.closed` (actor the closed account's opaque id; no number, name or phone), awaited.
 *
 * Licences stay with the agencies that issued them (their records), and so do the audit trail and usage
 * record (docs/accounts.md).
 *
 * @example
 * ```ts
 * const closed = await closeAccount(personId, { acr: caller.acr, authTime: caller.authTime }, deps);
 * closed.passkeysRemoved; // 1
 * ```
 */
export async function closeAccount(
  personId: string,
  proof: SignInProof,
  deps: CloseAccountDependencies,
  context: { requestId?: string } = {},
): Promise<ClosedAccount> {
  // 1. The account and a fresh sign-in at its level.
  const account = await deps.accounts.findById(personId);
  if (!account) throw new NotFoundError('The signed-in account no longer exists', 'account_not_found');
  const now = new Date(deps.clock.now());
  requireFreshSignIn(account, proof, epochSeconds(deps.clock));

  // 2. Passkeys.
  const passkeys = await deps.passkeys.listFor(account.id);
  await Promise.all(passkeys.map((passkey) => deps.passkeys.remove(account.id, passkey.id)));

  // 3. Appointments naming the person, still in force.
  const appointments = (await deps.entities.appointmentsFor(account.lookupKey)).filter((appointment) =>
    appointmentInForce(appointment, now),
  );
  for (const appointment of appointments) {
    await deps.entities.saveAppointment({
      ...appointment,
      status: 'withdrawn',
      withdrawnAt: now.toISOString(),
      withdrawnBy: account.id,
    });
  }

  // 4. Every sign-in.
  await deps.signIns.endAll(account.id);

  // 5. The account and its claim.
  await deps.accounts.remove(account);

  // 6. The trace.
  await deps.audit.record({
    at: now.toISOString(),
    actor: account.id,
    action: 'account.closed',
    reason: `passkeys ${passkeys.length}, appointments ${appointments.length}`,
    ...(context.requestId ? { requestId: context.requestId } : {}),
  });
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
): Promise<z.output<typeof accountHoldingsSchema>> {
  const account = await deps.accounts.findById(personId);
  if (!account) throw new NotFoundError('The signed-in account no longer exists', 'account_not_found');
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
    passkeys: passkeys.length,
    createdAt: account.createdAt,
  };
}
