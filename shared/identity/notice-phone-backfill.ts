import type { EnvelopeSealer } from '../crypto/envelope-sealer.js';
import type { Mac } from '../crypto/mac.js';
import { logger } from '../logger.js';
import type { AccountStore } from './account-store.js';
import { assuranceLevelOf } from './assurance.js';
import { phoneEncryptionContext, type PersonAccount } from './person-account.js';
import type { PiiCipher } from './pii-cipher.js';
import { sealNoticePhone } from './security-notices.js';
import { phoneDigest } from './sms-codes.js';

/**
 * Why an account was left without a notice phone by {@link backfillNoticePhones} (counts only, never a
 * number):
 *
 * - `proven_elsewhere`: a phone other than its confirmed one proved it (a step-up with another number the
 *   carrier lists, a counter), or one before its digest was kept: that phone is kept as a digest alone, by
 *   design, so nothing can seal it; the account's next proof by its phone (or at a counter) writes its
 *   notice phone;
 * - `counter_without_phone`: proven in person with no proven phone: a counter may have cleared the phone
 *   the person lost, and that phone must not hear of the account again (the confirmed phone cannot tell
 *   which it was); the next phone proved for it writes its notice phone;
 * - `gone`: closed, closing or no longer without one (written meanwhile, or no confirmed phone now);
 * - `changed`: changed between its read and the write (a concurrent proof): run again.
 */
export type NoticePhoneSkip = 'proven_elsewhere' | 'counter_without_phone' | 'gone' | 'changed';

/** What a run did: counts only. */
export interface NoticePhoneBackfill {
  /** Accounts found with a confirmed phone and no notice phone. */
  found: number;
  /** Given their notice phone (with `dryRun`: would have been). */
  sealed: number;
  skipped: Record<NoticePhoneSkip, number>;
}

export interface NoticePhoneBackfillDependencies {
  /** The ids of the accounts that keep a confirmed phone (`phone`) and no `noticePhone` (a scan). */
  candidates: () => AsyncIterable<string>;
  accounts: Pick<AccountStore, 'findById' | 'save'>;
  /** Opens the confirmed phone (`phoneEncryptionContext`): the one number an account keeps, encrypted. */
  pii: Pick<PiiCipher, 'decrypt'>;
  /** Its digest, compared with the proven phone's (`phoneDigest`). */
  lookupMac: Mac;
  /** Seals the notice phone for the SMS sender alone (`sealNoticePhone`). */
  smsJobSealer: Pick<EnvelopeSealer, 'seal'>;
}

/**
 * Gives the accounts registered before security notices existed their notice phone
 * (`PersonAccount.noticePhone`: shared/identity/security-notices.ts), where the data model keeps the
 * number by design: the phone confirmed at registration, kept encrypted (`phone.encrypted`) so that codes
 * may go to it. It is sealed as the notice phone when it is the phone that proved the account (its digest
 * is `provenPhone`), or, on an account no phone proved and never proven at a counter, as registration
 * does today (the confirmed phone). Every other account is left as it is ({@link NoticePhoneSkip}): a
 * proven phone other than the confirmed one is kept as a digest alone, so those accounts get notices from
 * their next phone proof, which writes it.
 *
 * Each account is read again and saved under its version (a concurrent change wins: `changed`, for a run
 * again); an account closing, or given a notice phone meanwhile, is left alone. Idempotent: a second run
 * finds only what is left. With `dryRun`, counts and writes nothing. Logs the account id and the outcome
 * alone, never a number, masked or not.
 *
 * @example
 * ```ts
 * const run = await backfillNoticePhones(deps, { dryRun: false }); // { found: 12, sealed: 9, skipped: {…} }
 * ```
 */
export async function backfillNoticePhones(
  deps: NoticePhoneBackfillDependencies,
  options: { dryRun: boolean },
): Promise<NoticePhoneBackfill> {
  const run: NoticePhoneBackfill = {
    found: 0,
    sealed: 0,
    skipped: { proven_elsewhere: 0, counter_without_phone: 0, gone: 0, changed: 0 },
  };
  for await (const id of deps.candidates()) {
    run.found += 1;
    const outcome = await backfillOne(id, deps, options);
    if (outcome === 'sealed') run.sealed += 1;
    else run.skipped[outcome] += 1;
    logger.info('notice phone backfill', { accountId: id, outcome, dryRun: options.dryRun });
  }
  return run;
}

async function backfillOne(
  id: string,
  deps: NoticePhoneBackfillDependencies,
  options: { dryRun: boolean },
): Promise<'sealed' | NoticePhoneSkip> {
  const account = await deps.accounts.findById(id);
  if (!account?.phone || account.noticePhone !== undefined || account.closingSince !== undefined)
    return 'gone';
  const phone = await deps.pii.decrypt(account.phone.encrypted, phoneEncryptionContext(account.id));
  if (account.provenPhone !== undefined) {
    if ((await phoneDigest(deps.lookupMac, phone)) !== account.provenPhone) return 'proven_elsewhere';
  } else if (account.assurance === 'in-person-verified') {
    return 'counter_without_phone';
  } else if (assuranceLevelOf(account) === 3) {
    // Proven by a phone before its digest was kept: which one is not known.
    return 'proven_elsewhere';
  }
  if (options.dryRun) return 'sealed';
  const backfilled: PersonAccount = {
    ...account,
    noticePhone: await sealNoticePhone(account.id, phone, deps.smsJobSealer),
  };
  try {
    await deps.accounts.save(backfilled);
  } catch (error) {
    if ((error as { code?: unknown }).code === 'account_changed') return 'changed';
    throw error;
  }
  return 'sealed';
}
