import { App } from 'aws-cdk-lib';
import { addComplianceChecks, ElicenceStack } from './stack.js';

/**
 * The CDK entry point (`cdk.json`). Environment-agnostic: deploy to whichever account and region the CLI's
 * credentials name; synthesis needs neither.
 */
const app = new App();
const alarmEmail: unknown = app.node.tryGetContext('alarmEmail');
const platformKeys: unknown = app.node.tryGetContext('platformKeys');
const platformRsaKeys: unknown = app.node.tryGetContext('platformRsaKeys');
const auditHolderCommitmentsSince: unknown = app.node.tryGetContext('auditHolderCommitmentsSince');
const auditKeys: unknown = app.node.tryGetContext('auditKeys');
const supervisionHistoryBefore: unknown = app.node.tryGetContext('supervisionHistoryBefore');
new ElicenceStack(app, 'Elicence', {
  description: 'elicence: electronic licences and unified identity (API Gateway, Lambda, DynamoDB, KMS)',
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
  // `-c auditKeys=2,1` when audit key generation 2 takes over; every generation is kept for ever.
  ...(auditKeys !== undefined && { auditKeys: String(auditKeys).split(',') }),
});
addComplianceChecks(app);
app.synth();
