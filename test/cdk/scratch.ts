import { App } from 'aws-cdk-lib';
import { addComplianceChecks, ElicenceStack } from '../../infra/stack.js';
const app = new App({ context: { 'aws:cdk:bundling-stacks': [] }, outdir: '/tmp/cdkplay/out' });
new ElicenceStack(app, 'Elicence');
addComplianceChecks(app);
try { app.synth(); console.log('ok'); } catch (e) { console.log('THROWN', (e as Error).message.slice(0, 6000)); }
