import { composition } from './composition/dependencies.js';
import { handledAbove, routesOf } from './dispatch.js';
import {
  kms,
  doc,
  accessTokens,
  dpopProofs,
  audit,
  auditPages,
  auditChains,
  auditSigner,
  auditPreviousSigners,
  trailCursors,
} from './composition/factories.js';
import { apiHandler } from '../shared/http/api-handler.js';
import { authenticateBearer } from '../shared/http/authenticate.js';
import { parseJsonBody, parseQuery } from '../shared/http/request.js';
import { json } from '../shared/http/response.js';
import type { HttpEvent, HttpResult } from '../shared/http/types.js';
import { alarmedLines } from '../shared/logger.js';
import { listAudit, supervisionAuditQuery } from '../shared/supervision/audit-chain-listing.js';
import {
  auditCheckpointLogLines,
  auditKeySet,
  checkpointHeadsQuery,
  checkpointInput,
  checkpointListQuery,
  claimOnDemand,
  refuseFutureDays,
  signCheckpoint,
} from '../shared/supervision/checkpoints.js';

/** What this function's handler uses, built once per container. */
const dependencies = composition({
  kms,
  doc,
  accessTokens,
  dpopProofs,
  audit,
  auditPages,
  auditChains,
  auditSigner,
  auditPreviousSigners,
  trailCursors,
});
const served = routesOf('audit');

/** How many checkpoints a page of `GET /supervision/audit/checkpoints` lists, newest first. */
const LISTED_CHECKPOINTS = 50;

const checkpointDeps = () => {
  const deps = dependencies();
  return { ...deps, iss: deps.config.issuerUrl };
};

const http = apiHandler(async (event: HttpEvent) => {
  const deps = dependencies();
  // The audit key set is public: whoever holds a checkpoint (or an archive of them) checks it, years on,
  // without a supervision credential. The keys are cached per container (one GetPublicKey each).
  if (served.is(event, 'GET /supervision/audit/keys')) {
    const { set, complete } = await auditKeySet(deps);
    // A set missing an earlier generation (it could not be read) is answered, not cached (L2).
    return json(200, set, { 'cache-control': complete ? 'public, max-age=300' : 'no-store' });
  }
  await authenticateBearer(event, 'supervision', deps);
  return served.dispatch(event, {
    'GET /supervision/audit/keys': handledAbove,
    'GET /supervision/audit': async () =>
      json(200, await listAudit(parseQuery(event, supervisionAuditQuery), deps)),
    'GET /supervision/audit/checkpoints': async () => {
      const { cursor } = parseQuery(event, checkpointListQuery);
      return json(200, await deps.auditChains.checkpoints(LISTED_CHECKPOINTS, cursor));
    },
    'GET /supervision/audit/checkpoints/heads': async () => {
      const { checkpoint, cursor } = parseQuery(event, checkpointHeadsQuery);
      return json(200, await deps.auditChains.checkpointHeads(checkpoint, cursor));
    },
    'POST /supervision/audit/checkpoints': async () => {
      const input = event.body ? parseJsonBody(event, checkpointInput) : {};
      // Before the limit: a refused range takes no claim (security review 22b M2).
      refuseFutureDays(input, deps.clock);
      // The limit first (security review L5): a refused call costs no KMS call and no chain query.
      await claimOnDemand({ ...deps, intervalSeconds: deps.config.auditCheckpointIntervalSeconds });
      const { at, jws } = await signCheckpoint(input, checkpointDeps());
      return json(201, { at, jws });
    },
  });
}, served.edge);

/** The daily schedule's event (EventBridge): anything with `detail-type: Scheduled Event`. */
interface ScheduledEvent {
  'detail-type': 'Scheduled Event';
}

const isScheduled = (event: unknown): event is ScheduledEvent =>
  typeof event === 'object' &&
  event !== null &&
  (event as Record<string, unknown>)['detail-type'] === 'Scheduled Event';

/**
 * Supervision of the audit trail (scope `supervision`): `GET /supervision/audit` (entries with their
 * chain links), `GET|POST /supervision/audit/checkpoints` (the signed checkpoints; a new one on demand),
 * `GET /supervision/audit/checkpoints/heads` (the heads a checkpoint signs the digest of), and, public,
 * `GET /supervision/audit/keys` (every audit key that signs checkpoints, kept for ever).
 * The stack's daily schedule invokes the same function with a scheduled event: it signs a checkpoint of
 * yesterday's and today's chains, outside the on-demand limit (it runs once a day by the stack's own rule),
 * and logs `audit checkpoint signed`, which the stack counts (no such line for 25 hours alarms). A closed
 * day whose chains changed is refused (`audit_day_closed`) on both paths.
 */
export async function handler(event: HttpEvent | ScheduledEvent): Promise<HttpResult | { at: string }> {
  if (!isScheduled(event)) return http(event);
  const { at, chains } = await signCheckpoint({}, checkpointDeps());
  // Counted by the stack: a day without this line (the run failed, was refused or never ran) alarms.
  alarmedLines.info(auditCheckpointLogLines.signed, { at, chains: chains.length });
  return { at };
}
