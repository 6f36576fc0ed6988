import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { refuseCommandLineOnlySettings, stackPropsFromContext } from './context.js';
import { ElicenceDrStack } from './dr-stack.js';
import { addComplianceChecks, ElicenceStack } from './stack.js';

/**
 * The CDK entry point (`cdk.json`). Environment-agnostic: deploy to whichever account and region the CLI's
 * credentials name; synthesis needs neither. The deployment choices come from the context (`cdk.json`,
 * then `-c`): see `stackPropsFromContext`, which refuses a context without `auditKeys`, `platformKeys`,
 * `platformRsaKeys` or `presentationKeys`, or with a key it does not know; and `refuseCommandLineOnlySettings`
 * refuses a lasting setting (the alarm email, the issuer URL, Tencent SMS…) given with `-c` only, which the
 * next plain deploy would drop. A `drRegion` adds the `ElicenceDr` stack in that region.
 */
const app = new App();
// The committed settings: the repository's cdk.json (`ELICENCE_CDK_JSON` names another, for the tests).
const cdkJsonPath = process.env.ELICENCE_CDK_JSON ?? new URL('../cdk.json', import.meta.url);
const cdkJson = JSON.parse(readFileSync(cdkJsonPath, 'utf8')) as { context?: Record<string, unknown> };
const props = stackPropsFromContext(app);
refuseCommandLineOnlySettings(app, cdkJson.context);
new ElicenceStack(app, 'Elicence', {
  description: 'elicence: electronic licences and unified identity (API Gateway, Lambda, DynamoDB, KMS)',
  ...props,
});
// With a disaster-recovery region, the vault the backups are copied to and the restore role, there
// (docs/operating.md, "Disaster recovery"): deploy it before the first copy is due.
if (props.drRegion) {
  new ElicenceDrStack(app, 'ElicenceDr', {
    description: 'elicence: disaster-recovery vault and restore role (copies of the tables’ backups)',
    env: { region: props.drRegion },
  });
}
addComplianceChecks(app);
app.synth();
