/**
 * A child process for `audit-durability.test.ts`: the local runtime on a data folder it is given, whose
 * audit trail is /verify's own (group commit) over a client that, once armed (the message `arm`), kills
 * this process the moment a verification's entry is about to be written: a crash between a verdict and
 * its entry. Tells the parent `{ baseUrl, credentials }` once it listens.
 */
import type { ServiceInputTypes, ServiceOutputTypes } from '@aws-sdk/lib-dynamodb';
import type { InitializeMiddleware } from '@smithy/types';
import { startLocalRuntime } from '../../../infra/local/runtime.js';
import { GroupCommitAuditTrail } from '../../../shared/adapters/dynamo/audit-trail.js';
import { createDynamoClient, documentClientFor } from '../../../shared/adapters/dynamo/client.js';
import { loadConfig } from '../../../shared/config.js';

const dataDir = process.env.CRASH_DATA_DIR;
if (!dataDir) throw new Error('CRASH_DATA_DIR is required');
let armed = false;
process.on('message', (message) => {
  if (message === 'arm') {
    armed = true;
    process.send?.('armed');
  }
});

/** Whether a write carries a verification's audit entry. */
function writesVerification(input: Record<string, unknown>): boolean {
  return JSON.stringify(input).includes('"licence.verified"');
}

const runtime = await startLocalRuntime(
  loadConfig({ PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'SILENT' }),
  process.env,
  {
    replace: {
      audit: (operator) => {
        const doc = documentClientFor(
          createDynamoClient({
            region: operator.config.region,
            endpoint: operator.config.dynamodbEndpoint,
            credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
          }),
        );
        const crash: InitializeMiddleware<ServiceInputTypes, ServiceOutputTypes> = (next) => async (args) => {
          if (armed && writesVerification(args.input as Record<string, unknown>))
            process.kill(process.pid, 'SIGKILL');
          return next(args);
        };
        doc.middlewareStack.add(crash, { step: 'initialize', name: 'crashAtAuditFlush' } as const);
        return new GroupCommitAuditTrail(doc, operator.config.auditTableName);
      },
    },
  },
);
process.send?.({ baseUrl: runtime.baseUrl, credentials: runtime.credentials });
