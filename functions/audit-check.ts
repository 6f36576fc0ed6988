import { composition } from './composition/dependencies.js';
import { auditChains, auditPreviousSigners, auditSigner, doc, kms } from './composition/factories.js';
import { alarmedLines, logger } from '../shared/logger.js';
import {
  auditCheckLogLines,
  checkAuditChains,
  type AuditCheckResult,
} from '../shared/supervision/audit-chain-check.js';

/** What this function's handler uses, built once per container. */
const dependencies = composition({ kms, doc, auditChains, auditSigner, auditPreviousSigners });

/** Faults named in the log line: the first ones say where to look; the count says how many. */
const LOGGED_FAULTS = 5;

/**
 * No route: the stack's daily schedule (after the audit function's daily checkpoint) invokes it, and the
 * local runtime's, to check the audit trail of yesterday and today as `npm run audit:verify` does
 * (shared/supervision/audit-chain-check.ts). One line per run, `audit chains intact` or `audit chains
 * broken` (its first faults: chain ids and seqs, nothing of any entry's content), which the stack counts
 * and alarms on (docs/operating.md, "Alarms"). It reads the audit table and the audit keys' public keys:
 * it writes nothing and signs nothing.
 */
export async function handler(): Promise<AuditCheckResult> {
  const deps = dependencies();
  const result = await checkAuditChains({
    ...deps,
    config: {
      issuerUrl: deps.config.issuerUrl,
      auditHolderCommitmentsSince: deps.config.auditHolderCommitmentsSince,
      auditAttributionSince: deps.config.auditAttributionSince,
    },
  });
  const { faults, ...counts } = result;
  if (result.ok) alarmedLines.info(auditCheckLogLines.intact, counts);
  else
    logger.error(auditCheckLogLines.broken, {
      ...counts,
      faultCount: faults.length,
      faults: faults.slice(0, LOGGED_FAULTS),
    });
  return result;
}
