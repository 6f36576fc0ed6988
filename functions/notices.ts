import { composition } from './composition/dependencies.js';
import { clientReader, doc, kms, noticeSender, notices, noticeSigner } from './composition/factories.js';
import { deliverDueNotices } from '../shared/sharing/withdrawal-notices.js';
import { logger } from '../shared/logger.js';

/** What this function's handler uses, built once per container. */
const dependencies = composition({
  doc,
  kms,
  notices,
  clientReader,
  // The notice key, never the platform key: this function cannot sign an ID token (review R31 L1).
  noticeSigner,
  noticeSender,
});

/**
 * No route: the stack's schedule (every minute) invokes it, and the local runtime after each round, to
 * deliver the withdrawal notices that are due (docs/integrating.md, "Withdrawal notices"): each a Security
 * Event Token signed with the notice key (published at /.well-known/notices-jwks.json; never the platform
 * key, which signs ID tokens), posted to the platform's registered events endpoint; one that
 * fails is tried again later with a doubling wait. (The withdrawals' audit entries their request could not
 * write are the reconciler's, as every change's pending work: functions/pending-work-reconciler.ts.) It reads
 * the queue and the platforms' metadata, and signs: nothing reachable from the internet calls it.
 */
export async function handler(): Promise<{ delivered: number; retried: number; abandoned: number }> {
  const deps = dependencies();
  const counts = await deliverDueNotices({
    notices: deps.notices,
    clientReader: deps.clientReader,
    signer: deps.noticeSigner,
    sender: deps.noticeSender,
    issuerUrl: deps.config.issuerUrl,
    clock: deps.clock,
    retry: {
      baseDelaySeconds: deps.config.notices.retrySeconds,
      maxDelaySeconds: 6 * 3600,
      maxAttempts: deps.config.notices.maxAttempts,
    },
  });
  if (counts.delivered + counts.retried + counts.abandoned > 0) logger.info('notices delivered', counts);
  return counts;
}
