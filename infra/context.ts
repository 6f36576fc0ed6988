import type { App } from 'aws-cdk-lib';
import type { ElicenceStackProps } from './stack.js';

/**
 * The stack's deployment choices, read from the CDK context: `cdk.json`'s `context` (committed with the
 * code) and, over it, `-c name=value` on the command line.
 *
 * `auditKeys` is required: the audit key generations must never shrink (a deployment that lists fewer
 * would repoint `alias/elicence-audit` at an older key and drop the newer one's public key from
 * `GET /supervision/audit/keys`; security review M3), so they live in `cdk.json` (`"auditKeys": "2,1"`
 * after a rotation) and a synthesis without them is refused rather than falling back to `1`.
 *
 * @example
 * ```ts
 * const app = new App({ context: { auditKeys: '2,1' } });
 * new ElicenceStack(app, 'Elicence', { description: '…', ...stackPropsFromContext(app) });
 * ```
 */
export function stackPropsFromContext(app: App): Partial<ElicenceStackProps> {
  const context = (name: string): unknown => app.node.tryGetContext(name);
  const alarmEmail = context('alarmEmail');
  const platformKeys = context('platformKeys');
  const platformRsaKeys = context('platformRsaKeys');
  const auditHolderCommitmentsSince = context('auditHolderCommitmentsSince');
  const auditKeys = context('auditKeys');
  const supervisionHistoryBefore = context('supervisionHistoryBefore');
  if (auditKeys === undefined || auditKeys === null || String(auditKeys).trim() === '') {
    throw new Error(
      'auditKeys: no audit key generations in the CDK context: cdk.json carries them ("auditKeys": "1", ' +
        '"2,1" after a rotation; docs/operating.md); a deployment never falls back to generation 1',
    );
  }
  return {
    // `npx cdk deploy -c alarmEmail=ops@example.gov.cn`: who is told of alarms.
    ...(typeof alarmEmail === 'string' && alarmEmail ? { alarmEmail } : {}),
    // `-c platformKeys=2,1` while platform key generation 2 replaces 1: the signing one first.
    ...(platformKeys !== undefined && { platformKeys: String(platformKeys).split(',') }),
    // `-c platformRsaKeys=2,1` likewise for the RSA key that signs RS256 ID tokens.
    ...(platformRsaKeys !== undefined && { platformRsaKeys: String(platformRsaKeys).split(',') }),
    // `-c auditHolderCommitmentsSince=2027-01-05`: audit entries from that day on must commit to their holder.
    ...(auditHolderCommitmentsSince !== undefined && {
      auditHolderCommitmentsSince: String(auditHolderCommitmentsSince),
    }),
    // `-c supervisionHistoryBefore=2026-12-06T09:30:00Z` only while moving the audit trail (docs/supervision.md).
    ...(supervisionHistoryBefore !== undefined && {
      supervisionHistoryBefore: String(supervisionHistoryBefore),
    }),
    // cdk.json's `"auditKeys": "2,1"` when audit key generation 2 takes over; every generation is kept for ever.
    auditKeys: String(auditKeys).split(','),
  };
}
