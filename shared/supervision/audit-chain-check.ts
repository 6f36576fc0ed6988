import type { Clock } from '../clock.js';
import type { Signer } from '../crypto/signer.js';
import { forSupervisor, checkTrail, type ChainFault, type ChainHead } from './audit-chain.js';
import type { AuditChainStore } from './audit-chain-store.js';
import { offListFault, unsignedDays } from './audit-chain-verify.js';
import { daysFrom, storedCheckpoints } from './checkpoints.js';
import { misattributedEntries } from '../audit/audit-writers.js';

/**
 * The lines the scheduled check logs, one per run: the stack counts each (metric filters on the
 * `audit-check` function's log group, infra/constructs/audit-check-alarms.ts) and alarms on a broken
 * trail, and on a day with no intact run (the check broke, failed or did not run).
 */
export const auditCheckLogLines = {
  intact: 'audit chains intact',
  broken: 'audit chains broken',
} as const;

/** How many entries one read of the store answers. */
const ENTRIES_PER_PAGE = 1000;

export interface AuditCheckDependencies {
  auditChains: AuditChainStore;
  /** The audit key and its earlier generations: their public keys only (`GetPublicKey`), never `Sign`. */
  auditSigner: Signer;
  auditPreviousSigners: ReadonlyArray<Signer & { keyId?: string }>;
  clock: Clock;
  config: {
    issuerUrl: string;
    auditHolderCommitmentsSince: string | undefined;
    /** From which day chains are held to their writer's actions (shared/audit/audit-writers.ts). */
    auditAttributionSince?: string | undefined;
  };
}

export interface AuditCheckResult {
  ok: boolean;
  /** The UTC days checked (yesterday and today by default: the days the daily checkpoint signs). */
  from: string;
  to: string;
  entries: number;
  chains: number;
  /** Checkpoints of those days whose signature and heads verified. */
  checkpoints: number;
  /** Every bad chain's first fault and every bad checkpoint, the first one first (chain ids and seqs only). */
  faults: ChainFault[];
}

/**
 * The service's own daily check of its audit trail (the `audit-check` function, on a schedule): the check
 * `npm run audit:verify` makes from the public API, made from the audit table with read access only. For
 * the UTC days `from`..`to` (yesterday and today by default):
 *
 * 1. the audit key set (public keys of every generation, as `GET /supervision/audit/keys` answers it);
 * 2. the checkpoints signed since `from` began, each verified (ES256 by an audit key, `typ`, issuer) and
 *    its heads read and held to its signed count and digest; one that does not verify is a fault;
 * 3. every entry of those days, as a supervisor is answered it (`forSupervisor`: the holder commitment
 *    checked);
 * 3a. every licence entry on its licence's list at its place (the store's `listed`, from the item's own
 *    index keys: an entry taken off its list leaves its chain intact);
 * 3c. every chained entry about a holder in its holder's usage record and in its record of that kind, at
 *    its place (the store's `unfiled`, from the item's own index keys; review R52);
 * 3b. every entry of a chain of `auditAttributionSince` or later held to the actions of the function
 *    whose shard its chain is in, and every entry to its chain's shard (shared/audit/audit-writers.ts);
 * 4. every chain recomputed, every signed head reached, every chain of a closed day named by the
 *    checkpoint that closed it and ending at the head it signs (`checkTrail`); a past day (yesterday, once
 *    `closingMarginMs` past its end) with chained entries, or named by a checkpoint, closed by a verified
 *    checkpoint, and today, if it has chained entries, covered by one (`unsignedDays`).
 *
 * What it does not do, and `audit:verify --archive` does: hold the checkpoints and keys to an archive kept
 * outside the service (a rewrite of the table and its checkpoints together, by whoever holds the audit
 * key, is for a supervisor's archive to find), or accept checkpoints signed by the platform key before
 * the audit key existed (those days are older than any day this check reads).
 *
 * @example
 * ```ts
 * const result = await checkAuditChains(deps);
 * if (!result.ok) logger.error(auditCheckLogLines.broken, { firstFault: result.faults[0] });
 * ```
 */
export async function checkAuditChains(
  deps: AuditCheckDependencies,
  days: { from?: string; to?: string } = {},
): Promise<AuditCheckResult> {
  const now = deps.clock.now();
  const to = days.to ?? new Date(now).toISOString().slice(0, 10);
  const from = days.from ?? new Date(now - 86_400_000).toISOString().slice(0, 10);
  const asked = new Set(daysFrom(from, to));
  const faults: ChainFault[] = [];
  const badCheckpoint = (at: string, problem: string) =>
    faults.push({ chain: '-', seq: 0, problem: `checkpoint of ${at}: ${problem}` });

  // 1.-2. The checkpoints signed since `from` began (none older can name a chain of those days), each
  // verified with the audit keys (public keys of every generation) and its heads held to it.
  const { checkpoints, bad } = await storedCheckpoints(
    { ...deps, iss: deps.config.issuerUrl },
    { since: `${from}T00:00:00`, days: [...asked] },
  );
  for (const { at, problem } of bad) badCheckpoint(at, problem);

  // 3. The entries, as answered to supervisors.
  const rule = { commitmentsSince: deps.config.auditHolderCommitmentsSince };
  const entries: object[] = [];
  /** Licence entries not on their licence's list (their index keys changed), which no hash shows. */
  const unlisted: ChainFault[] = [];
  // 3b. Each entry held to the actions of the function whose shard it is in, and to its chain's shard
  // (R31 M1: IAM bounds a writer by partition alone, never by what an entry says).
  const attribution: ChainFault[] = [];
  let cursor: string | undefined;
  do {
    const page = await deps.auditChains.entries({
      from,
      to,
      limit: ENTRIES_PER_PAGE,
      ...(cursor ? { cursor } : {}),
    });
    const answered = page.items.map((entry) => forSupervisor(entry, rule));
    answered.forEach((entry, i) => {
      if (page.listed[i] === false) {
        unlisted.push(offListFault(entry as Record<string, unknown>, 'the stored item shows'));
      }
      // 3c. Every holder's entry in its holder's usage records (whole, and of its kind), from the item's
      // own index keys: an entry taken off either leaves its chain intact (review R52).
      const unfiled = page.unfiled?.[i];
      if (unfiled) {
        const { chain, seq } = page.items[i] as { chain?: unknown; seq?: unknown };
        unlisted.push({
          chain: String(chain),
          seq: Number(seq),
          problem: `the entry is not in its holder’s ${unfiled} at its place (its index keys were removed or changed, as the stored item shows): GET /me/usage does not show it`,
        });
      }
    });
    entries.push(...answered);
    attribution.push(
      ...misattributedEntries(page.items, {
        ...(deps.config.auditAttributionSince ? { since: deps.config.auditAttributionSince } : {}),
        ...(page.shards ? { shards: page.shards } : {}),
      }),
    );
    cursor = page.cursor;
  } while (cursor);

  // 4. Every chain recomputed against the verified checkpoints.
  const heads: ChainHead[] = checkpoints.flatMap((checkpoint) => checkpoint.chains);
  const check = checkTrail(entries, heads, { from, to }, { closing: checkpoints });
  faults.push(
    ...check.faults,
    ...attribution,
    ...unsignedDays(entries as Record<string, unknown>[], checkpoints, { now, days: [...asked] }),
    ...unlisted,
  );
  return {
    ok: faults.length === 0,
    from,
    to,
    entries: entries.length,
    chains: check.chains.length,
    checkpoints: checkpoints.length,
    faults,
  };
}
