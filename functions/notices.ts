import { composition } from './composition/dependencies.js';
import {
  audit,
  clientReader,
  doc,
  kms,
  noticeSender,
  notices,
  platformSigner,
  sharingGrants,
} from './composition/factories.js';
import { recordKeptWithdrawals } from '../shared/sharing/authorizations.js';
import { deliverDueNotices } from '../shared/sharing/withdrawal-notices.js';
import { logger } from '../shared/logger.js';

/** What this function's handler uses, built once per container. */
const dependencies = composition({
  doc,
  kms,
  notices,
  clientReader,
  platformSigner,
  noticeSender,
  sharingGrants,
  audit,
});

/**
 * No route: the stack's schedule (every minute) invokes it, and the local runtime after each round, to
 * deliver the withdrawal notices that are due (docs/integrating.md, "Withdrawal notices"): each a Security
 * Event Token signed with the platform key, posted to the platform's registered events endpoint; one that
 * fails is tried again later with a doubling wait. It also writes the audit entries of withdrawals whose
 * request could not (`recordKeptWithdrawals`: kept by the withdrawal's own write, a minute old), so that
 * every withdrawal is traced though nobody asks again. It reads the queue and the platforms' metadata, and
 * signs: nothing reachable from the internet calls it.
 */
export async function handler(): Promise<{ delivered: number; retried: number; abandoned: number }> {
  const deps = dependencies();
  const counts = await deliverDueNotices({
    notices: deps.notices,
    clientReader: deps.clientReader,
    signer: deps.platformSigner,
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
  const traced = await recordKeptWithdrawals(deps);
  if (traced.recorded + traced.failed > 0) logger.info('withdrawals traced', traced);
  return counts;
}
