import { App } from 'aws-cdk-lib';
import { stackPropsFromContext } from './context.js';
import { addComplianceChecks, ElicenceStack } from './stack.js';

/**
 * The CDK entry point (`cdk.json`). Environment-agnostic: deploy to whichever account and region the CLI's
 * credentials name; synthesis needs neither. The deployment choices come from the context (`cdk.json`,
 * then `-c`): see `stackPropsFromContext`, which refuses a context without `auditKeys`, `platformKeys`,
 * `platformRsaKeys` or `presentationKeys`.
 */
const app = new App();
new ElicenceStack(app, 'Elicence', {
  description: 'elicence: electronic licences and unified identity (API Gateway, Lambda, DynamoDB, KMS)',
  ...stackPropsFromContext(app),
});
addComplianceChecks(app);
app.synth();
