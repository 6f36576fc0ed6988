import { createHash } from 'node:crypto';
import { auditAttributionReleased } from '../config.js';

/**
 * Who may write which audit entries (review R31 M1). IAM bounds a writer by the partition key alone
 * (`dynamodb:LeadingKeys`), never by what an item says: so each function that writes the audit trail
 * writes its chains into day partitions of its own shards (`audit#<day>#<shard>`, its grant naming those
 * shards and no other), and a chain's shard is a function of its writer id (`shardOfWriter`, the id being
 * drawn until it falls in the writer's shards). From a chain id alone, anyone (the daily check inside the
 * service, `npm run audit:verify` from the public API) knows which function's shards it is in, so which
 * function wrote it, and flags an entry whose action that function never writes: a foothold in the
 * anonymous `verify` can no longer pass a `licence.revoked` off as an issuer's.
 *
 * The chain format is unchanged: a chain written before this (its shard a hash of a random id) still
 * verifies; its writer is not known (see {@link auditAttributionSince}).
 *
 * Keep in step with the code: a trail built for a writer (`functions/composition/factories.ts` `auditOf`)
 * refuses to record an action outside its set (`AuditActionRefusedError`), so a flow whose tests write an
 * action not listed here fails its tests, not the daily check in production.
 */

/**
 * Partitions per day. Every verification writes an entry, so one partition a day would cap the service
 * near DynamoDB's 1,000 writes/s per partition; the writers' chains spread over this many (a chain stays
 * in its writer's shard, {@link shardOfWriter}).
 */
export const auditShards = 16;

/**
 * The shard of a writer's chains: a stable function of its id, so that one chain stays in one partition,
 * and anyone who reads a chain id knows which partition it is in, so (since {@link auditAttributionSince})
 * which function wrote it.
 */
export function shardOfWriter(writer: string): number {
  return createHash('sha256').update(writer).digest()[0]! % auditShards;
}

/** The writers of the audit trail, by function name (functions/routes.ts), with their shards and actions. */
export const auditWriters = {
  // POST /verify: its verifications, nothing else. The busiest writer: four of the sixteen shards.
  verify: { shards: [0, 1, 2, 3], actions: ['licence.verified'] },
  // The SMS sender: a security notice sent to an account's phone, or failed (shared/identity/security-notices.ts).
  'sms-codes': {
    shards: [4],
    actions: ['account.security_notice_sent', 'account.security_notice_failed'],
  },
  // Issuing agencies: issuance, status changes, issuers' reads of licences and their bulk listings and exports.
  licences: {
    shards: [5, 6],
    actions: [
      'licence.issued',
      'licence.suspended',
      'licence.reinstated',
      'licence.revoked',
      'licence.reissue_given_up',
      'licence.issuer_read',
      'licences.listed',
      'licences.exported',
    ],
  },
  // Bulk issuance jobs: issuance alone.
  batches: { shards: [7, 8], actions: ['licence.issued'] },
  // The reconciler writes the entries other functions' changes left as pending work: theirs, of every kind
  // but verifications and reads.
  'pending-work-reconciler': {
    shards: [9, 10],
    actions: [
      'licence.issued',
      'licence.suspended',
      'licence.reinstated',
      'licence.revoked',
      'licence.reissue_given_up',
      'authorization.*',
      'issuer.*',
      'client.*',
      'peer.*',
      'account.*',
      'agent.*',
      'passkey.*',
      'entity.representative_changed',
    ],
  },
  // The OpenID provider: sign-ins' identity releases, consents and the grants it ends itself, phone proofs
  // (a takeover, a reset, a raise).
  oidc: {
    shards: [11],
    actions: [
      'identity.released',
      'authorization.granted',
      'authorization.ended',
      'licence.shared',
      'account.*',
    ],
  },
  // The holder's API: presentations, shares read, withdrawals, passkeys, a person's export of their data.
  me: {
    shards: [12],
    actions: ['licence.presented', 'licence.shared', 'authorization.withdrawn', 'passkey.*', 'data.exported'],
  },
  // People's and entities' accounts: registration, closure, counter proofs, agents, a change of an
  // enterprise's legal representative recorded from the registry (shared/identity/representative-change.ts).
  accounts: {
    shards: [13],
    actions: ['account.*', 'agent.*', 'authorization.withdrawn', 'entity.representative_changed'],
  },
  // Operators: issuers, clients, peers.
  admin: { shards: [14], actions: ['issuer.*', 'client.*', 'peer.*'] },
  // The issuer console: a CSV export.
  console: { shards: [15], actions: ['licences.exported', 'licences.listed'] },
} as const satisfies Record<string, AuditWriter>;

export interface AuditWriter {
  /** The day partitions' shards its chains go in (0-15), no other writer's. */
  readonly shards: readonly number[];
  /** The actions it writes: exact, or a family `prefix.*`. */
  readonly actions: readonly string[];
}

export type AuditWriterName = keyof typeof auditWriters;

/**
 * The first UTC day whose chains are attributed by their shard, by default (`AUDIT_ATTRIBUTION_SINCE`
 * says a later one). Chains of earlier days were written before writers had shards of their own (their
 * shard a hash of a random id, any writer's): they are verified as before and never held to a writer's
 * actions. Those days are closed by their checkpoints, so no writer can add to them unseen.
 */
export const auditAttributionSince = auditAttributionReleased;

/** Whether `writer` writes entries of `action`. */
export function writesAction(writer: AuditWriter, action: string): boolean {
  return writer.actions.some((allowed) =>
    allowed.endsWith('.*') ? action.startsWith(allowed.slice(0, -1)) : action === allowed,
  );
}

/** The first writer (in {@link auditWriters}' order) that writes entries of `action`, if any. */
export function writerOfAction(action: string): AuditWriterName | undefined {
  return (Object.keys(auditWriters) as AuditWriterName[]).find((name) =>
    writesAction(auditWriters[name], action),
  );
}

/** The writer whose shards hold `shard`, if any. */
export function writerOfShard(shard: number): AuditWriterName | undefined {
  return (Object.keys(auditWriters) as AuditWriterName[]).find((name) =>
    (auditWriters[name].shards as readonly number[]).includes(shard),
  );
}

/** Raised when a trail built for a writer is asked to record an action outside its set. */
export class AuditActionRefusedError extends Error {
  readonly code = 'audit_action_refused';
  constructor(writer: string, action: string) {
    super(`the ${writer} function does not write audit entries of ${action} (shared/audit/audit-writers.ts)`);
    this.name = 'AuditActionRefusedError';
  }
}

/** A fault of an entry in a writer's shard, as the chain checks name them (chain id, seq, problem). */
export interface AttributionFault {
  chain: string;
  seq: number;
  problem: string;
}

const chainId = /^(\d{4}-\d{2}-\d{2})\.([a-z2-7]{12})$/;

/**
 * The entries whose action the function whose shard their chain is in never writes ({@link auditWriters}),
 * on chains of {@link auditAttributionSince} or later (`since`): one fault each, naming the chain, seq,
 * action and writer. With `shards` (what the table's reader knows: the shard of the partition each entry
 * was read from), an entry in a partition other than its chain's shard is a fault too, of any day: no
 * writer ever puts one there, so it was put by a function other than the chain's.
 *
 * @example
 * ```ts
 * misattributedEntries(entries); // [{ chain: '2026-12-09.abc…', seq: 4, problem: 'licence.revoked in a chain of verify, …' }]
 * ```
 */
export function misattributedEntries(
  entries: ReadonlyArray<{ chain?: unknown; seq?: unknown; action?: unknown }>,
  options: { since?: string; shards?: ReadonlyArray<number | null | undefined> } = {},
): AttributionFault[] {
  const since = options.since ?? auditAttributionSince;
  const faults: AttributionFault[] = [];
  entries.forEach((entry, i) => {
    const match = typeof entry.chain === 'string' ? chainId.exec(entry.chain) : null;
    if (!match) return;
    const [, day, writerId] = match as unknown as [string, string, string];
    const chain = entry.chain as string;
    const seq = Number(entry.seq);
    const shard = shardOfWriter(writerId);
    const readFrom = options.shards?.[i];
    if (typeof readFrom === 'number' && readFrom !== shard) {
      faults.push({
        chain,
        seq,
        problem: `an entry of this chain is in shard ${readFrom}, its chain's is ${shard}: put there by another writer (R31 M1)`,
      });
      return;
    }
    if (day < since) return;
    const writer = writerOfShard(shard);
    const action = String(entry.action);
    if (writer === undefined || !writesAction(auditWriters[writer], action)) {
      faults.push({
        chain,
        seq,
        problem: `${action} in a chain of shard ${shard} (${writer ?? 'no writer'}), which never writes it: an entry put by a writer not allowed it (R31 M1)`,
      });
    }
  });
  return faults;
}
