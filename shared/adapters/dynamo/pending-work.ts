import { createHash, randomUUID } from 'node:crypto';
import {
  DeleteCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import type { AuditEntry } from '../../audit/audit-trail.js';
import type {
  CarriedAudit,
  CarryingKind,
  PendingAuditEntry,
  PendingPointer,
  PendingWorkIndex,
  Trace,
} from '../../pending-work/pending-work.js';
import { noticePhonesOf } from '../../pending-work/pending-work.js';
import {
  isTransactionConflict,
  writeAllOrNothing,
  writeIf,
  type ItemKey,
  type TransactItem,
} from './conditional.js';
import { keys, prefixes } from './keys.js';
import { queryAll } from './query-all.js';

/**
 * Partitions of a licence's pointers (and of the first kinds of carried ones): every issuance writes one
 * and removes it, so one partition would cap the service's issuance near DynamoDB's 1,000 writes/s per
 * partition; a pointer's shard is fixed by its id.
 */
export const pendingWorkShards = 8;

/**
 * How long a claim holds: longer than any function that completes pending work runs (the issuers' API
 * 10 s, bulk issuance's per licence), so that a lapsed claim is one whose holder is gone.
 */
export const claimSeconds = 60;

/** The `claimedMark` of a claim on a pointer marked before marks were recorded (it has no `marked`). */
const noMark = 'none';

/** When a claim taken at `now` lapses (epoch milliseconds): each claim's lease runs from its own taking. */
const leaseEnd = (now: Date) => now.getTime() + claimSeconds * 1000;

/**
 * The shard of a pointer (a licence's, or a group of carried ones) among {@link pendingWorkShards}: a
 * stable function of its id (a kind of one shard puts every pointer in shard 0).
 */
export function shardOfPointer(id: string): number {
  return createHash('sha256').update(id).digest()[0]! % pendingWorkShards;
}

/**
 * Which pointers an index holds, each kind in a partition of its own (review M1): IAM bounds a function by
 * partition alone, so that each function is granted the pointers of its own changes and no other's (the
 * person-facing `me`, which puts and finishes withdrawals' pointers, is granted `pending-audit#*` and never
 * a licence's `pending-work#*`).
 *
 * - `licences`: a licence's pointer, its work in the licence record (`pending-work#<shard>` / `<licence id>`);
 * - `withdrawals`: one carrying its own audit entry ({@link carriedAuditItem}), `pending-audit#<shard>` /
 *   `<its key>`, the shard that of its group (the id up to its last `#`, a withdrawal's grant: so that a
 *   retry finds every withdrawal of that grant with one query, {@link DynamoPendingWork.carried});
 * - `operators`: one carrying the audit entry of an operator's change (an issuer's key rotated or
 *   withdrawn, the issuer withdrawn; a client changed; a peer registered or removed), alike under
 *   `pending-issuer-audit#<shard>` (named for its first kind): `admin` is granted these alone, and no other
 *   function may put one;
 * - `accounts`: one carrying the audit entry of an account registered, proven in person or closed, or an
 *   entity's agent appointed or withdrawn, under `pending-account-audit#0`: `accounts` is granted these
 *   alone;
 * - `provider`: one carrying the audit entries of an account taken over or its password reset by a phone
 *   code, under `pending-provider-audit#0`: `oidc` is granted these alone.
 */
export type PointerKind = 'licences' | CarryingKind;

/**
 * The partition-key prefix of each kind's shards, and how many: a kind whose changes are rare (an
 * account's, an agent's) has one, so that the reconciler's idle run reads it with one query a minute.
 */
const partitionOf: Record<
  PointerKind,
  { prefix: string; shards: number; key: (shard: number, id: string) => ItemKey }
> = {
  licences: { prefix: prefixes.pendingWork, shards: pendingWorkShards, key: keys.pendingWork },
  withdrawals: { prefix: prefixes.pendingAudit, shards: pendingWorkShards, key: keys.pendingAudit },
  operators: { prefix: prefixes.pendingIssuerAudit, shards: pendingWorkShards, key: keys.pendingIssuerAudit },
  accounts: { prefix: prefixes.pendingAccountAudit, shards: 1, key: keys.pendingAccountAudit },
  provider: { prefix: prefixes.pendingProviderAudit, shards: 1, key: keys.pendingProviderAudit },
};

/** The group of a carried pointer: its id up to and with its last `#` (`authorization-withdrawn#<grant>#`). */
const groupOf = (id: string) => id.slice(0, id.lastIndexOf('#') + 1);

/** The key of the pointer `id` of kind `kind`. */
export const pointerKey = (id: string, kind: PointerKind = 'licences'): ItemKey => {
  const { shards, key } = partitionOf[kind];
  return key(shardOfPointer(kind === 'licences' ? id : groupOf(id)) % shards, id);
};

/**
 * The item of a pointer that carries its own audit entries ({@link CarriedAudit}), for the change's own
 * transaction to put (a withdrawal's: shared/adapters/dynamo/sharing-grants.ts, only where no such pointer
 * is: {@link carriedAuditCondition}), **already claimed** under `claim` by the change's request, as `claim`
 * would take it at `now`, the moment the transaction is made (its lease runs `claimSeconds` from then, not
 * from `since`: a change that took long before its write, revoking many grants' tokens, would otherwise
 * put a claim already lapsed, for another completer to take from the request: review), so that the request
 * completes it next with no claim write of its own. A request gone before it does
 * leaves a claim that lapses like any other: the reconciler, which claims only lapsed pointers, takes it then.
 *
 * @example
 * ```ts
 * const claim = randomUUID();
 * await writeAllOrNothing(doc, [...changes, { Put: { TableName, Item: carriedAuditItem(carried, claim, new Date(clock.now())), ConditionExpression: carriedAuditCondition } }]);
 * await completeCarriedAudit(carried, claim, deps);
 * ```
 */
export function carriedAuditItem(
  carried: CarriedAudit,
  claim: string,
  now: Date,
  kind: CarryingKind = 'withdrawals',
): Record<string, unknown> {
  const marked = randomUUID();
  return {
    ...pointerKey(carried.id, kind),
    since: carried.since,
    marked,
    claim,
    claimedUntil: leaseEnd(now),
    claimedMark: marked,
    ownedBy: carried.owner,
    audit: carried.audit,
    // A change of the account's phone: the phones it replaced and wrote, sealed as the account held them.
    ...(carried.noticePhones && { noticePhones: carried.noticePhones }),
  };
}

/** A carried pointer is put once, never over another (whose claim and entries it would replace: review L1). */
export const carriedAuditCondition = 'attribute_not_exists(pk)';

/**
 * Writes `change` (one conditional item of a transaction, or several: a change of two items, as an
 * account's deletion with its claim's) and, in the same all-or-nothing write, the pointer of kind `kind`
 * that carries its audit entry ({@link carriedAuditItem}, claimed as `trace` says): one TransactWriteItems.
 * Answers `written`; `refused` when a condition of `change` failed (nothing written); `contended` when
 * another write of one of its items was under way at that moment (nothing written: for the caller to
 * answer as a change made meanwhile). A pointer already there is no change's (its id names the change
 * once): thrown, nothing written.
 *
 * @example
 * ```ts
 * const outcome = await writeWithTrace(doc, tableName, { Put: { TableName, Item, ConditionExpression } }, trace, 'operators');
 * if (outcome !== 'written') throw changed();
 * ```
 */
export async function writeWithTrace(
  doc: DynamoDBDocumentClient,
  tableName: string,
  change: TransactItem | readonly TransactItem[],
  trace: Trace,
  kind: CarryingKind,
): Promise<'written' | 'refused' | 'contended'> {
  const changes: readonly TransactItem[] = Array.isArray(change) ? change : [change as TransactItem];
  let outcome;
  try {
    outcome = await writeAllOrNothing(doc, [
      ...changes,
      {
        Put: {
          TableName: tableName,
          Item: carriedAuditItem(trace.carried, trace.claim, trace.at, kind),
          ConditionExpression: carriedAuditCondition,
        },
      },
    ]);
  } catch (error) {
    if (isTransactionConflict(error)) return 'contended';
    throw error;
  }
  if (outcome.written) return 'written';
  if (outcome.failed.some((index) => index < changes.length)) return 'refused';
  throw new Error(`change not written: its audit pointer ${trace.carried.id} exists`);
}

/**
 * `claimedUntil` is past (or absent with the claim): whoever held the claim is gone. One later than a claim
 * taken now could hold (`:until`) is no holder's either (review M1: forged, or a clock gone wrong), and
 * would otherwise keep every completer off the work with no alarm: it counts as lapsed too.
 */
const unclaimed = 'attribute_not_exists(#claim) OR claimedUntil < :now OR claimedUntil > :until';

/**
 * {@link PendingWorkIndex} on the service table, in the partition of its {@link PointerKind}: one item per
 * licence with work outstanding, `pending-work#<shard>` / `<licenceId>` (or per carried entry,
 * `pending-audit#<shard>` or `pending-issuer-audit#<shard>` / `<its key>`), holding when it was last marked (`since`) and by which mark
 * (`marked`, new on every mark), and its claim (`claim`, `claimedUntil` in epoch milliseconds, and
 * `claimedMark`, the mark it was taken under). Each operation is one conditional UpdateItem or DeleteItem
 * ({@link DynamoPendingWork.write}; `mark` a second, unconditional, when the pointer is held); the reconciler
 * reads the shards with a query each. A pointer that carries its own entries holds them too (`audit`, and
 * `ownedBy`: {@link carriedAuditItem}); only the indexes of such pointers (every kind but `licences`) read them.
 *
 * @example
 * ```ts
 * const pending = new DynamoPendingWork(doc, tableName);
 * const claim = await pending.mark(id, now); // undefined: another completer holds it
 * const withdrawals = new DynamoPendingWork(doc, tableName, 'withdrawals');
 * ```
 */
export class DynamoPendingWork implements PendingWorkIndex {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly kind: PointerKind = 'licences',
  ) {}

  async mark(id: string, now: Date): Promise<string | undefined> {
    const claim = randomUUID();
    const values = { ':since': now.toISOString(), ':mark': randomUUID() };
    const taken = await this.write(id, {
      update:
        'SET since = :since, marked = :mark, #claim = :claim, claimedUntil = :until, claimedMark = :mark',
      condition: unclaimed,
      values: { ...values, ':claim': claim, ':until': leaseEnd(now), ':now': now.getTime() },
    });
    if (taken) return claim;
    // Held by a live claim (security review R11): never taken over, or two completers would finish the
    // same work. Marked all the same, so that the holder's `remove` leaves the pointer for this change.
    await this.write(id, { update: 'SET since = :since, marked = :mark', values });
    return undefined;
  }

  async claim(id: string, now: Date): Promise<string | undefined> {
    const claim = randomUUID();
    const taken = await this.write(id, {
      // A pointer marked before marks were recorded has none: `none` stands for it.
      update: 'SET #claim = :claim, claimedUntil = :until, claimedMark = if_not_exists(marked, :none)',
      condition: `attribute_exists(pk) AND (${unclaimed})`,
      values: { ':claim': claim, ':until': leaseEnd(now), ':now': now.getTime(), ':none': noMark },
    });
    return taken ? claim : undefined;
  }

  async release(id: string, claim: string): Promise<void> {
    await this.write(id, {
      update: 'REMOVE #claim, claimedUntil, claimedMark',
      condition: '#claim = :claim',
      values: { ':claim': claim },
    });
  }

  async remove(id: string, claim: string): Promise<void> {
    const removed = await this.write(id, {
      condition:
        '#claim = :claim AND (claimedMark = marked OR (attribute_not_exists(marked) AND claimedMark = :none))',
      values: { ':claim': claim, ':none': noMark },
    });
    // Marked again since the claim (a change whose work may not be saved yet): the pointer stays, free for
    // that change or the reconciler. Or the claim is no longer the caller's: then this changes nothing.
    if (!removed) await this.release(id, claim);
  }

  /**
   * One conditional write of a pointer: an UpdateItem with `update`, else a DeleteItem; true when
   * made, false when `condition` did not hold.
   */
  private write(
    id: string,
    input: { update?: string; condition?: string; values: Record<string, unknown> },
  ): Promise<boolean> {
    const expressions = `${input.update ?? ''} ${input.condition ?? ''}`;
    const common = {
      TableName: this.tableName,
      Key: pointerKey(id, this.kind),
      ...(input.condition ? { ConditionExpression: input.condition } : {}),
      // DynamoDB refuses a name or a value the expressions do not use.
      ...(expressions.includes('#claim') ? { ExpressionAttributeNames: { '#claim': 'claim' } } : {}),
      ExpressionAttributeValues: input.values,
    };
    return writeIf(
      this.doc,
      input.update
        ? new UpdateCommand({ ...common, UpdateExpression: input.update })
        : new DeleteCommand(common),
    );
  }

  async carried(group: string): Promise<CarriedAudit[]> {
    if (this.kind === 'licences') return [];
    const items = await queryAll(this.doc, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :group)',
      ExpressionAttributeValues: {
        ':pk': pointerKey(group, this.kind).pk,
        ':group': group,
      },
      ConsistentRead: true,
    });
    return items.flatMap((item) => {
      const id = String(item.sk);
      const audit = auditOf(item.audit);
      // Another grant's whose id goes on past a `#` of this one's shares the prefix: not of this group.
      if (groupOf(id) !== group || !audit || typeof item.ownedBy !== 'string') return [];
      const noticePhones = noticePhonesOf(item.noticePhones);
      return [
        { id, owner: item.ownedBy, since: String(item.since), audit, ...(noticePhones && { noticePhones }) },
      ];
    });
  }

  async olderThan(before: Date, limit: number): Promise<PendingPointer[]> {
    const found: PendingPointer[] = [];
    const { prefix, shards } = partitionOf[this.kind];
    for (let shard = 0; shard < shards && found.length < limit; shard += 1) {
      let start: Record<string, unknown> | undefined;
      do {
        const page = await this.doc.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: 'pk = :pk',
            FilterExpression: 'since < :before',
            // A licence's pointer carries nothing: whatever `audit` one holds is no work of it (review M1).
            ProjectionExpression: this.kind === 'licences' ? 'sk, since' : 'sk, since, audit, noticePhones',
            ExpressionAttributeValues: {
              ':pk': `${prefix}${shard}`,
              ':before': before.toISOString(),
            },
            ExclusiveStartKey: start,
          }),
        );
        for (const item of page.Items ?? []) {
          const audit = auditOf(item.audit);
          const noticePhones = audit ? noticePhonesOf(item.noticePhones) : undefined;
          found.push({
            id: String(item.sk),
            since: String(item.since),
            ...(audit ? { audit } : {}),
            ...(noticePhones && { noticePhones }),
          });
        }
        start = page.LastEvaluatedKey;
      } while (start && found.length < limit);
    }
    return found.slice(0, limit);
  }
}

/** The entries a carried pointer holds (undefined for none). */
function auditOf(stored: unknown): PendingAuditEntry[] | undefined {
  if (!Array.isArray(stored)) return undefined;
  return stored.flatMap((item: { key?: unknown; entry?: unknown }) =>
    typeof item?.key === 'string' && typeof item.entry === 'object' && item.entry !== null
      ? [{ key: item.key, entry: item.entry as AuditEntry }]
      : [],
  );
}
