import { importJWK, jwtVerify, type JWK } from 'jose';
import type { Clock } from '../clock.js';
import type { Signer } from '../crypto/signer.js';
import { forSupervisor, checkTrail, type ChainFault, type ChainHead } from './audit-chain.js';
import type { AuditChainStore } from './audit-chain-store.js';
import { signedHeads, unsignedDays, type VerifiedCheckpoint } from './audit-chain-verify.js';
import { auditKeySet, checkpointTokenType, daysFrom } from './checkpoints.js';

/**
 * The lines the scheduled check logs, one per run: the stack counts each (metric filters on the
 * `audit-check` function's log group, infra/constructs/audit-check-alarms.ts) and alarms on a broken
 * trail, and on a day with no intact run (the check broke, failed or did not run).
 */
export const auditCheckLogLines = {
  intact: 'audit chains intact',
  broken: 'audit chains broken',
} as const;

/** How many checkpoints a page of the store lists while looking for those of the days checked. */
const CHECKPOINTS_PER_PAGE = 50;
/** How many entries one read of the store answers. */
const ENTRIES_PER_PAGE = 1000;

export interface AuditCheckDependencies {
  auditChains: AuditChainStore;
  /** The audit key and its earlier generations: their public keys only (`GetPublicKey`), never `Sign`. */
  auditSigner: Signer;
  auditPreviousSigners: ReadonlyArray<Signer & { keyId?: string }>;
  clock: Clock;
  config: { issuerUrl: string; auditHolderCommitmentsSince: string | undefined };
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
 * 4. every chain recomputed, every signed head reached, every chain of a closed day named by the
 *    checkpoint that closed it (`checkTrail`), and every day with chained entries covered by a verified
 *    checkpoint.
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

  // 1. The audit keys, by kid (each kid is its key's thumbprint: auditKeySet checks the shape).
  const { set } = await auditKeySet(deps);
  const keys = new Map<string, JWK>(set.keys.map((jwk) => [jwk.kid, jwk]));

  // 2. The checkpoints signed since `from` began (newest first; none older can name a chain of those days).
  const start = `${from}T00:00:00`;
  const listed: Array<{ at: string; jws: string }> = [];
  let cursor: string | undefined;
  do {
    const page = await deps.auditChains.checkpoints(CHECKPOINTS_PER_PAGE, cursor);
    listed.push(...page.items.filter((one) => one.at >= start));
    cursor = page.cursor;
  } while (cursor && (listed.at(-1)?.at ?? '') >= start);
  const checkpoints: VerifiedCheckpoint[] = [];
  for (const { at, jws } of listed) {
    try {
      const { payload, protectedHeader } = await jwtVerify(
        jws,
        async (header) => {
          const jwk = header.kid === undefined ? undefined : keys.get(header.kid);
          if (!jwk) throw new Error(`no audit key has kid ${String(header.kid)}`);
          return importJWK({ ...jwk, alg: 'ES256' }, 'ES256');
        },
        { typ: checkpointTokenType, algorithms: ['ES256'], issuer: deps.config.issuerUrl },
      );
      const signedDays = payload.days as string[];
      if (!signedDays.some((day) => asked.has(day))) continue;
      checkpoints.push({
        iat: Number(payload.iat),
        kid: String(protectedHeader.kid),
        days: signedDays,
        chains: await signedHeads(payload, (id, next) => deps.auditChains.checkpointHeads(id, next)),
      });
    } catch (error) {
      badCheckpoint(at, (error as Error).message);
    }
  }

  // 3. The entries, as answered to supervisors.
  const rule = { commitmentsSince: deps.config.auditHolderCommitmentsSince };
  const entries: object[] = [];
  cursor = undefined;
  do {
    const page = await deps.auditChains.entries({
      from,
      to,
      limit: ENTRIES_PER_PAGE,
      ...(cursor ? { cursor } : {}),
    });
    entries.push(...page.items.map((entry) => forSupervisor(entry, rule)));
    cursor = page.cursor;
  } while (cursor);

  // 4. Every chain recomputed against the verified checkpoints.
  const heads: ChainHead[] = checkpoints.flatMap((checkpoint) => checkpoint.chains);
  const check = checkTrail(entries, heads, { from, to }, { closing: checkpoints });
  faults.push(...check.faults, ...unsignedDays(entries as Record<string, unknown>[], checkpoints));
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
