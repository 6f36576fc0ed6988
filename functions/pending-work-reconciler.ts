import { composition } from './composition/dependencies.js';
import {
  accountAudit,
  accounts,
  clientReader,
  kms,
  lookupMac,
  passkeys,
  platformConsents,
  platformSubject,
  sharingGrants,
  signIns,
  auditOf,
  doc,
  operatorAudit,
  licences,
  pendingAudit,
  pendingWork,
  providerAudit,
  securityNotices,
  smsJobs,
  statusLists,
} from './composition/factories.js';
import { reconcilePendingWork } from '../shared/reconciler/reconcile-pending-work.js';
import { logger } from '../shared/logger.js';

/** What this function's handler uses, built once per container. */
const dependencies = composition({
  doc,
  licences,
  statusLists,
  audit: auditOf('pending-work-reconciler'),
  pendingWork,
  pendingAudit,
  operatorAudit,
  accountAudit,
  providerAudit,
  // The security notices the pointers owe (a passkey's change, a phone's proof, a counter's), recorded as
  // each is completed (shared/identity/security-notices.ts).
  smsJobs,
  securityNotices,
  // A takeover's or a reset's clean-up left owed (shared/identity/owed-cleanup.ts): the account, its
  // passkeys, its sign-ins and its consents to platforms (each platform told, its pairwise subject).
  accounts,
  passkeys,
  signIns,
  sharingGrants,
  clientReader,
  kms,
  lookupMac,
  platformSubject,
  platformConsents,
});

/** Pointers one run takes at most: a run stays well within its timeout; the next takes the rest. */
const PER_RUN = 500;

/**
 * No route: the stack's schedule (every minute) and the local runtime's invoke it to finish what changes
 * left undone, older than `PENDING_WORK_AGE_SECONDS` (a Lambda timeout, a `status_list_contended` 503, an
 * audit write that failed, a process gone between a change's write and its audit write): a licence's
 * `licence.issued`/status audit entry, once, and its status-list entry; a withdrawal's
 * `authorization.withdrawn` entry, once, saved by the withdrawal's own transaction; an operator's change's
 * (of an issuer: `issuer.created`, `issuer.key-rotated`, `issuer.key-withdrawn`, `issuer.withdrawn`;
 * `client.registered`, `client.updated`, `client.secret_rotated`; `peer.registered`, `peer.removed`),
 * an account's change's
 * (`account.registered`, `account.proven`, `account.closed`, `agent.appointed`, `agent.withdrawn`) and
 * a phone proof's (`account.taken_over`, `account.raised`, `account.password_reset`, `account.phone_changed`), once, saved by the change's own write
 * (shared/reconciler/reconcile-pending-work.ts); and the clean-up a takeover's or a reset's pointer still
 * owes (consents, passkeys and sign-ins from before the reset, shared/identity/owed-cleanup.ts). What fails again is logged (and alarmed, docs/operating.md) and stays
 * for the next run.
 */
export async function handler(): Promise<{ completed: number; failed: number; skipped: number }> {
  const deps = dependencies();
  const { accounts: store, passkeys: keys, signIns: ends, platformConsents: consents } = deps;
  const owedCleanups = { accounts: store, passkeys: keys, signIns: ends, platformConsents: consents };
  const result = await reconcilePendingWork(
    { ...deps, owedCleanups },
    {
      minAgeSeconds: deps.config.pendingWorkAgeSeconds,
      limit: PER_RUN,
    },
  );
  if (result.completed + result.failed + result.skipped > 0) logger.info('pending work reconciled', result);
  return result;
}
