import { randomUUID } from 'node:crypto';
import type { AuditEntry, AuditTrail } from '../audit/audit-trail.js';
import type { Clock } from '../clock.js';
import { logger } from '../logger.js';

/**
 * The pointers the reconciler follows to work a change left to do after it (one small item each: DynamoDB
 * has no index of "items with an attribute" but a query of a key), and who is completing each (its claim,
 * a lease). An index holds pointers of one of two kinds, by what holds their work, each kind apart (its
 * own partition on DynamoDB, so that a function granted one kind cannot touch the other's: review M1):
 *
 * - a licence's (its id is the licence's): the work is in the licence record (`pending`: audit entries,
 *   the status list), and the pointer is written before the licence's own write by `mark`;
 * - one that carries its own audit entries ({@link CarriedAudit}: a change with no record of its own to
 *   hold them, as a person's withdrawal of an authorization, or whose record is not the reconciler's to
 *   read, as an operator's change of an issuer): put by the change's own transaction
 *   (the adapter's item, e.g. `carriedAuditItem` on DynamoDB) already claimed for the change's request,
 *   as `claim` would have taken it then (its lease from the moment of that write), its id the key of its entry, made of a
 *   group and a part unique to the change (`<group><change>`, the group ending in `#`).
 *
 * Both are claimed, completed and removed alike, and both are swept by the reconciler (`reconcilePendingWork`,
 * shared/reconciler/reconcile-pending-work.ts). A
 * claim that lasts longer than one taken now would (forged, or a broken clock) counts as lapsed.
 *
 * - `mark` writes or rewrites a licence's pointer before the write that records the work (a process that
 *   dies after that write has left a pointer to it), and answers a claim on it for the caller, unless
 *   another completer holds a live claim: that one is never taken over (`undefined`).
 * - `claim` takes a pointer nobody holds (released, or its lease lapsed) for `claimSeconds` from `now`:
 *   one completer at a time (the audit writes are idempotent whoever makes them; the claim spares the
 *   work twice over).
 * - `release` gives a claim up (the completion failed), so that a retry need not wait for the lease.
 * - `remove` deletes the pointer if the claim is still the caller's and no change marked it since the
 *   claim was taken; marked since, it releases the claim instead and the pointer stays for that change.
 * - `carried` lists the pointers of a group that carry their own entries (none in a licences' index).
 * - `olderThan` lists pointers marked (or put) before `before`, oldest shards first, at most `limit`,
 *   with the entries of those that carry them (never a licence's).
 */
export interface PendingWorkIndex {
  mark(id: string, now: Date): Promise<string | undefined>;
  claim(id: string, now: Date): Promise<string | undefined>;
  release(id: string, claim: string): Promise<void>;
  remove(id: string, claim: string): Promise<void>;
  carried(group: string): Promise<CarriedAudit[]>;
  olderThan(before: Date, limit: number): Promise<PendingPointer[]>;
}

/** A pointer as {@link PendingWorkIndex.olderThan} lists it; `audit` when it carries its own entries. */
export interface PendingPointer {
  id: string;
  since: string;
  audit?: PendingAuditEntry[];
  /** For one that carries them, the notice phones its change replaced and wrote. */
  noticePhones?: NoticePhones;
}

/**
 * Audit entries a change saved with itself, in a pointer of their own, until each is written once under
 * its key: `id` names the pointer (the key of its entry), `owner` who may finish it by asking again (a
 * withdrawal's person), `since` when the change was saved (RFC 3339).
 */
export interface CarriedAudit {
  id: string;
  owner: string;
  since: string;
  audit: PendingAuditEntry[];
  /** A change that replaced its account's notice phone: the two phones, sealed ({@link NoticePhones}). */
  noticePhones?: NoticePhones;
}

/**
 * The notice phones a change of an account's phone replaced and wrote (`PersonAccount.noticePhone`, each
 * as the account held it: sealed for the SMS sender alone, never opened here), carried by the change's own
 * pointer so that the phone it replaced is told of it too (shared/identity/security-notices.ts): bound to
 * the change, not read from the account later, which a second change may have moved on since.
 */
export interface NoticePhones {
  /** The notice phone the account had until the change (sealed). */
  previous: string;
  /** The one the change wrote (sealed): the sender texts the previous one only if it differs. */
  next: string;
}

/** A carried pointer's {@link NoticePhones} as stored (undefined for none, or for a malformed one). */
export function noticePhonesOf(stored: unknown): NoticePhones | undefined {
  if (typeof stored !== 'object' || stored === null) return undefined;
  const { previous, next } = stored as Record<string, unknown>;
  const sealed = (value: unknown): value is string =>
    typeof value === 'string' && value.length > 0 && value.length <= 8192;
  return sealed(previous) && sealed(next) ? { previous, next } : undefined;
}

/**
 * The ids of the pointers that carry a withdrawal's audit entry start with this (`shared/sharing/authorizations.ts`
 * `withdrawalAuditGroup`): the reconciler completes no other pointer from the entries it carries.
 */
export const carriedAuditPrefix = 'authorization-withdrawn#';

/**
 * The ids of the pointers that carry the audit entry of an operator's change of an issuer (a key rotated
 * or withdrawn, the issuer withdrawn: `shared/issuers/issuer-audit.ts`) start with this, in the index of
 * operators' changes.
 */
export const issuerAuditPrefix = 'issuer-changed#';

/** An operator's change of a registered client (`client-changed#<client id>#<change id>`: shared/clients/). */
export const clientAuditPrefix = 'client-changed#';

/** A peer platform registered or removed (`peer-changed#<peer id>#registered|removed`: shared/issuers/peers.ts). */
export const peerAuditPrefix = 'peer-changed#';

/**
 * An entity's agent appointed or withdrawn by its representative
 * (`agent-changed#<agent id>#<appointment version written>`: shared/identity/entities.ts).
 */
export const agentAuditPrefix = 'agent-changed#';

/**
 * A change of an enterprise's legal representative recorded from the registry
 * (`representative-changed#<credit code>#<new term>`: shared/identity/representative-change.ts).
 */
export const representativeAuditPrefix = 'representative-changed#';

/** A person's account registered (`account-registered#<account id>`: shared/identity/register-person.ts). */
export const registrationAuditPrefix = 'account-registered#';

/**
 * A person checked in person at a counter, their account raised to level 3
 * (`in-person-proof#<account id>#<account version written>`: shared/identity/prove-in-person.ts).
 */
export const inPersonProofAuditPrefix = 'in-person-proof#';

/** A person's account closed, deleted with its entry (`account-closed#<account id>`: shared/identity/close-account.ts). */
export const closureAuditPrefix = 'account-closed#';

/**
 * An account taken over by the real owner of its number, or its password reset, by a code to a phone
 * (`phone-proof#<account id>#<account version written>`: shared/identity/phone-proof.ts), in the OpenID
 * provider.
 */
export const phoneProofAuditPrefix = 'phone-proof#';

/**
 * A passkey enrolled or removed by its person in the wallet
 * (`passkey-changed#<account id>#<enrolled|removed>-<credential digest>`: shared/identity/passkeys.ts), in
 * the index of the holder API's (`me`) changes.
 */
export const passkeyAuditPrefix = 'passkey-changed#';

/**
 * A person's consent to share licences with a platform (授权用证), saved with its grant
 * (`authorization-granted#<grant id>`: shared/sso/interactions.ts), in the OpenID provider.
 */
export const grantAuditPrefix = 'authorization-granted#';

/**
 * A grant the OpenID provider ended itself, not the person (`authorization-ended#<grant id>`:
 * shared/sso/provider.ts `grantEnds`): its whole family of tokens revoked on a refresh token used twice or
 * a code replayed (the OAuth security BCP), or its platform's own revocation of a refresh token, deleted
 * with its entry `authorization.ended` (review R34 L1: such an end left no trace).
 */
export const grantEndAuditPrefix = 'authorization-ended#';

/**
 * The indexes of pointers that carry their own entries, each holding the changes of one function alone
 * (its own partition on DynamoDB, which IAM grants that function and the reconciler only), and the groups
 * of ids each may hold: the reconciler writes a pointer's entries only if its id starts with one of its
 * index's groups (shared/reconciler/reconcile-pending-work.ts).
 *
 * - `withdrawals`: a person's withdrawal of an authorization, a passkey enrolled or removed (`me`);
 * - `operators`: an operator's change of an issuer (created among them), a client (registered among them)
 *   or a peer platform (`admin`);
 * - `accounts`: an account registered, proven in person or closed, an entity's agent appointed or
 *   withdrawn, an enterprise's change of representative recorded from the registry (`accounts`; the local
 *   seed's counter proofs, demo clerk and registry records as well);
 * - `provider`: an account taken over, its password reset or its proven phone replaced by a phone code, a
 *   consent to share licences, and a grant the provider ended itself (`oidc`, the OpenID provider).
 */
export const carriedGroups = {
  withdrawals: [carriedAuditPrefix, passkeyAuditPrefix],
  operators: [issuerAuditPrefix, clientAuditPrefix, peerAuditPrefix],
  accounts: [
    agentAuditPrefix,
    registrationAuditPrefix,
    inPersonProofAuditPrefix,
    closureAuditPrefix,
    representativeAuditPrefix,
  ],
  provider: [phoneProofAuditPrefix, grantAuditPrefix, grantEndAuditPrefix],
} as const satisfies Record<string, readonly string[]>;

/**
 * The actions the entries of an index's pointers may be, for an index whose writer is the internet-facing
 * `oidc` (review R26): the reconciler writes a `provider` pointer's entries only if each is a takeover's, an
 * account's own raise to level 3 (`account.raised`), a password reset's or a proven phone's change
 * (shared/identity/phone-proof.ts), a consent's (shared/sso/interactions.ts) or a grant's end by the
 * provider (`authorization.ended`, shared/sso/provider.ts), so that a compromised
 * provider cannot have it write entries of any other kind under its own keys. The other indexes are
 * bounded by their groups alone.
 */
export const carriedActions: Partial<Record<CarryingKind, readonly string[]>> = {
  provider: [
    'account.taken_over',
    'account.raised',
    'account.password_reset',
    'account.phone_changed',
    'authorization.granted',
    'authorization.ended',
  ],
};

/**
 * The audit actions that owe the account holder a security notice by SMS (shared/identity/security-notices.ts),
 * most telling first: a pointer whose entries hold several (a takeover that was a password reset) owes one
 * notice, of the first of them here. Only the changes of an account's security are of them: a passkey
 * enrolled or removed in the wallet, a takeover, a password reset, a proven phone first recorded or set
 * (by a phone's code or at a counter), a level raised by the phone.
 */
export const securityNoticeActions = [
  'account.taken_over',
  'account.password_reset',
  'account.proven_phone_set',
  'account.phone_changed',
  'account.raised',
  'passkey.enrolled',
  'passkey.removed',
] as const;

export type SecurityNoticeAction = (typeof securityNoticeActions)[number];

/**
 * The groups of the pointers that may owe a notice, each naming the account first after it
 * (`<group><account id>#…`): a passkey's change, a phone's proof, a proof at a counter.
 */
const securityNoticeGroups = [passkeyAuditPrefix, phoneProofAuditPrefix, inPersonProofAuditPrefix] as const;

/** A notice a change owes its account's holder: derived from the change's own pointer, nothing else. */
export interface OwedSecurityNotice {
  /** The pointer that owes it (its id names the change once: the notice is owed once under it). */
  pointerId: string;
  accountId: string;
  action: SecurityNoticeAction;
  /** When the change was made (RFC 3339): the entry's time, the one the text names. */
  at: string;
  /**
   * When the change replaced the account's notice phone: both phones, sealed, so that the previous one is
   * told too ({@link NoticePhones}).
   */
  phones?: NoticePhones;
}

/**
 * The security notice a carried pointer owes, if any ({@link securityNoticeActions}): so that the notice is
 * recorded by the change's own write (its pointer, all or nothing with the change) and owed until the
 * pointer is completed, by the change's request or the reconciler ({@link completeCarriedAudit}).
 *
 * @example
 * ```ts
 * securityNoticeOwed({ id: 'passkey-changed#acc_1#enrolled-x', audit }); // { accountId: 'acc_1', action: 'passkey.enrolled', … }
 * ```
 */
export function securityNoticeOwed(
  carried: Pick<CarriedAudit, 'id' | 'audit' | 'noticePhones'>,
): OwedSecurityNotice | undefined {
  const group = securityNoticeGroups.find((prefix) => carried.id.startsWith(prefix));
  if (!group) return undefined;
  const accountId = carried.id.slice(group.length).split('#')[0] ?? '';
  if (!/^acc_[A-Za-z0-9_-]{1,64}$/.test(accountId)) return undefined;
  for (const action of securityNoticeActions) {
    const found = carried.audit.find((item) => item.entry?.action === action);
    if (!found) continue;
    const phones = noticePhonesOf(carried.noticePhones);
    return { pointerId: carried.id, accountId, action, at: found.entry.at, ...(phones && { phones }) };
  }
  return undefined;
}

/**
 * Where a completer records a notice owed before it removes the pointer that owes it (the `sms-codes`
 * function's queue: shared/identity/security-notices.ts `securityNoticeOutbox`). `owe` is idempotent: the
 * same pointer's notice, owed again (a completion after a crash), is recorded once and sent once.
 */
export interface SecurityNoticeOutbox {
  owe(notice: OwedSecurityNotice): Promise<void>;
}

/** An index of pointers that carry their own entries ({@link carriedGroups}). */
export type CarryingKind = keyof typeof carriedGroups;

/**
 * The index a carried pointer `id` belongs in: the kind whose groups ({@link carriedGroups}) one of its
 * prefixes is; `undefined` for none. So that a store shared by several functions' changes (an account's)
 * puts each change's pointer where the reconciler completes it, and nowhere else.
 *
 * @example
 * ```ts
 * carryingKindOf('phone-proof#acc_1#4'); // 'provider'
 * ```
 */
export function carryingKindOf(id: string): CarryingKind | undefined {
  const kinds = Object.keys(carriedGroups) as CarryingKind[];
  return kinds.find((kind) => carriedGroups[kind].some((group) => id.startsWith(group)));
}

/**
 * The key of the `index`th entry a carried pointer `id` holds: the first is the pointer's id, each further
 * one `<id>#<n>` (n from 2), so that one change with two entries (a takeover that was a password reset)
 * writes each once. The reconciler takes a pointer's entries only under exactly these keys.
 *
 * @example
 * ```ts
 * carriedEntryKey('phone-proof#acc_1#4', 1); // 'phone-proof#acc_1#4#2'
 * ```
 */
export function carriedEntryKey(id: string, index: number): string {
  return index === 0 ? id : `${id}#${index + 1}`;
}

/** An audit entry of a change, and the key it is written once under (a licence's: `<licenceId>#<version>#<index>`). */
export interface PendingAuditEntry {
  key: string;
  entry: AuditEntry;
}

/** The lines the stack's metric filter counts (infra/constructs/service-function.ts): each raises an alarm. */
export const pendingWorkLogLines = {
  audit: 'audit entry not written',
  statusList: 'status list not updated',
  /** Anything else that stopped a completion (the marker's or the pointer's write): the work stays. */
  incomplete: 'pending work not completed',
} as const;

/**
 * Writes pending audit entries, each once under its key: one written before, by whatever completer and
 * even if its write seemed to fail, is not written again (nothing is looked up first). Stops at the first
 * that cannot be written, logged with `context` (the alarm's line); answers whether all were written.
 */
export async function recordPendingAudit(
  entries: readonly PendingAuditEntry[],
  deps: { audit: AuditTrail; clock: Clock },
  context: Record<string, string>,
): Promise<boolean> {
  for (const { key, entry } of entries) {
    try {
      await deps.audit.record(entry, { key, writtenAt: new Date(deps.clock.now()).toISOString() });
    } catch (error) {
      logger.error(pendingWorkLogLines.audit, { ...context, error: String(error) });
      return false;
    }
  }
  return true;
}

/**
 * What completing a pointer that carries its own entries needs: no licence, no status list; the index of
 * such pointers (`pendingAudit`), never licences'.
 */
export type CarriedAuditDependencies = { audit: AuditTrail; clock: Clock } & {
  pendingAudit: PendingWorkIndex;
  /**
   * Where the security notices pointers owe are recorded ({@link securityNoticeOwed}). A completer
   * without it completes no pointer that owes one (the pointer stays, for one that has it: the reconciler).
   */
  securityNotices?: SecurityNoticeOutbox;
};

/**
 * Completes a pointer that carries its own audit entries ({@link CarriedAudit}) under `claim`: each entry
 * written once under its key, the security notice it owes recorded ({@link securityNoticeOwed}), then the
 * pointer removed. An entry that cannot be written is logged (the
 * alarm's line), the claim released so that a retry or the reconciler need not wait for its lease, and
 * the error thrown: the change stands, its entries stay saved.
 *
 * @example
 * ```ts
 * const { saved } = await sharingGrants.withdraw(ids, notice, pending); // each put claimed by its transaction
 * for (const { carried, claim } of saved) await completeCarriedAudit(carried, claim, deps);
 * ```
 */
export async function completeCarriedAudit(
  carried: Pick<CarriedAudit, 'id' | 'audit' | 'noticePhones'>,
  claim: string,
  deps: CarriedAuditDependencies,
  /**
   * `keep`: the entries and the notice written, the pointer is kept, still claimed, for the work the
   * change owes besides (a reset's clean-up: {@link saveWithTrace}'s `owed`), which removes it once done.
   */
  options: { keep?: boolean } = {},
): Promise<void> {
  if (!(await recordPendingAudit(carried.audit, deps, { pendingWorkId: carried.id }))) {
    await deps.pendingAudit.release(carried.id, claim).catch(() => undefined);
    throw new Error(`${pendingWorkLogLines.audit}: ${carried.id}`);
  }
  // The security notice the change owes its holder, recorded before the pointer that owes it goes: never
  // lost to a crash in between (the pointer stays, and its next completion records it, once).
  const notice = securityNoticeOwed(carried);
  if (notice) {
    try {
      if (!deps.securityNotices) throw new Error('no outbox of security notices here');
      await deps.securityNotices.owe(notice);
    } catch (error) {
      // The alarm's line: the pointer stays, and so does the notice it owes.
      logger.error(pendingWorkLogLines.incomplete, {
        pendingWorkId: carried.id,
        reason: 'security notice not recorded',
        error: String(error),
      });
      await deps.pendingAudit.release(carried.id, claim).catch(() => undefined);
      throw new Error(`security notice not recorded: ${carried.id}`, { cause: error });
    }
  }
  if (options.keep) return;
  await deps.pendingAudit.remove(carried.id, claim);
}

/**
 * {@link completeCarriedAudit} for a retry of the change that saved `carried` (the change itself holds the
 * claim its transaction put): claims the pointer first. Held by another completer (the change's request,
 * alive or gone; a concurrent retry; the reconciler), or gone (written meanwhile), it is theirs: answers
 * false, and the entries are written by them or, past the lease, the reconciler.
 *
 * @example
 * ```ts
 * for (const carried of await deps.pendingAudit.carried(withdrawalAuditGroup(grantId))) {
 *   await finishCarriedAudit(carried, deps);
 * }
 * ```
 */
export async function finishCarriedAudit(
  carried: Pick<CarriedAudit, 'id' | 'audit' | 'noticePhones'>,
  deps: CarriedAuditDependencies,
): Promise<boolean> {
  const claim = await deps.pendingAudit.claim(carried.id, new Date(deps.clock.now()));
  if (!claim) return false;
  await completeCarriedAudit(carried, claim, deps);
  return true;
}

/**
 * A change's audit entry as the change's own write saves it ({@link saveWithTrace}): the pointer that
 * carries it (`carried`), put by the store in the same all-or-nothing write as the change, only where
 * none is, and already claimed under `claim` for the request as `PendingWorkIndex.claim` would have taken
 * it at `at` (the adapter's item: `carriedAuditItem` on DynamoDB).
 */
export interface Trace {
  carried: CarriedAudit;
  claim: string;
  at: Date;
}

/**
 * Makes a change and its audit entry one (网上留痕): `save` writes the change together with the
 * {@link Trace} it is handed (its store's write puts the pointer in the index `pendingAudit` reads, all or
 * nothing), so that no change is ever made untraced; then the entry is written once under `key` and the
 * pointer removed ({@link completeCarriedAudit}). An entry that cannot be written now is logged (the
 * alarm's line) and stays saved: the change stands and is answered, and the reconciler writes it once the
 * claim has lapsed (shared/reconciler/reconcile-pending-work.ts). `key` names the change once (the same
 * change asked twice writes the same key, whose pointer is put only once), under a group of
 * {@link carriedGroups} of the index. A change that makes two entries (an account taken over by a
 * password reset) gives both: they are saved in the one pointer and each written once
 * ({@link carriedEntryKey}). `save` throws whenever it saved nothing (a change refused must not
 * be answered as made, nor its entry written): what it throws is thrown. Answers what `save` answered.
 * With `discloses` (the answer hands out something the entry must record first, as a client's new
 * secret), an entry not written at once throws instead, once saved: the change stands and is traced,
 * nothing is disclosed (fail closed, as reads are). With `noticePhones` (a change that replaced the
 * account's notice phone), the pointer carries both phones, sealed, so that the security notice it owes
 * goes to the phone it replaced as well ({@link NoticePhones}).
 *
 * @example
 * ```ts
 * const saved = await saveWithTrace(issuerAuditKey(issuer.id, issuer.version + 1), entry,
 *   (trace) => deps.issuers.saveWithAudit(issuer, trace), { ...deps, pendingAudit: deps.operatorAudit });
 * ```
 */
export async function saveWithTrace<T>(
  key: string,
  entries: AuditEntry | readonly [AuditEntry, ...AuditEntry[]],
  save: (trace: Trace) => Promise<T>,
  deps: CarriedAuditDependencies,
  options: {
    discloses?: boolean;
    noticePhones?: NoticePhones;
    /**
     * What the change owes after its save (a reset's or a takeover's clean-up: shared/identity/phone-proof.ts
     * `finishProofCleanup`), run once the entries are written; it answers whether all of it is done. The
     * pointer is kept until then, so that a clean-up that fails, or a process gone before it, leaves the
     * pointer the change's own write put: the reconciler finds it there and finishes what is owed
     * (shared/identity/owed-cleanup.ts). Thrown, it is thrown, the pointer released for the reconciler.
     */
    owed?: (saved: T) => Promise<boolean>;
  } = {},
): Promise<T> {
  const list = (Array.isArray(entries) ? entries : [entries]) as readonly [AuditEntry, ...AuditEntry[]];
  const audit = list.map((entry, index) => ({ key: carriedEntryKey(key, index), entry }));
  const trace: Trace = {
    carried: {
      id: key,
      owner: list[0].actor,
      since: list[0].at,
      audit,
      ...(options.noticePhones && { noticePhones: options.noticePhones }),
    },
    claim: randomUUID(),
    at: new Date(deps.clock.now()),
  };
  const saved = await save(trace);
  // Still held after its entries: the pointer goes once what the change owes is done too.
  let held = options.owed !== undefined;
  try {
    await completeCarriedAudit(trace.carried, trace.claim, deps, { keep: held });
  } catch (error) {
    // Released already (the entries not written): the reconciler completes the pointer, and what it owes.
    held = false;
    logger.error(pendingWorkLogLines.incomplete, { pendingWorkId: key, error: String(error) });
    if (options.discloses) throw error;
  }
  if (!options.owed) return saved;
  let done = false;
  try {
    done = await options.owed(saved);
  } finally {
    if (held && done) await deps.pendingAudit.remove(key, trace.claim).catch(() => undefined);
    else if (held) await deps.pendingAudit.release(key, trace.claim).catch(() => undefined);
  }
  return saved;
}
