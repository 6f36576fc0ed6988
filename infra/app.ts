import { App } from 'aws-cdk-lib';
import { addComplianceChecks, ElicenceStack } from './stack.js';

/**
 * The CDK entry point (`cdk.json`). Environment-agnostic: deploy to whichever account and region the CLI's
 * credentials name; synthesis needs neither.
 */
const app = new App();
new ElicenceStack(app, 'Elicence', {
  description: 'elicence: electronic licences and unified identity (API Gateway, Lambda, DynamoDB, KMS)',
});
addComplianceChecks(app);
app.synth();
