/**
 * `POST /verify/pdf` (docs/printable-licence.md), the use case: a printable licence's file checked
 * against its detached signature, with the licence's status now, and one audit entry, as `POST /verify`
 * writes one for every scan.
 *
 * @packageDocumentation
 */
import type { AuditEntry, AuditTrail } from '../audit/audit-trail.js';
import type { Clock } from '../clock.js';
import { checkLicencePdf, type PdfCheck } from '../licence/licence-pdf-signature.js';
import { effectiveStatus, type LicenceRecord } from '../licence/licence.js';
import type { LicenceStore } from '../licence/licence-store.js';
import { logger } from '../logger.js';
import type { TrustAnchors } from '../../packages/verifier/src/trust.js';
import type { VerifyCaller } from './verify-scan.js';

export interface VerifyPdfDependencies {
  /**
   * The trust anchors `POST /verify` uses (issuer records kept per container, the presentation keys and
   * the platform's keys).
   */
  trust: Pick<TrustAnchors, 'platformKeys' | 'presentationKeys' | 'issuerById'>;
  licences: Pick<LicenceStore, 'get'>;
  audit: AuditTrail;
  clock: Clock;
}

/**
 * The audit entry's verdict and reason for a check, in `POST /verify`'s words where there are some (so
 * that supervision counts a tampered file as a failing verification, and a revoked licence's file as a
 * revoked one), the check's own reason otherwise.
 */
function verdictOf(check: PdfCheck): { verdict: string; reason: string } {
  if (!check.valid) {
    const verdict = {
      bad_signature: 'invalid_signature',
      not_this_file: 'invalid_signature',
      wrong_type: 'malformed',
      issuer_withdrawn: 'unknown_issuer',
      issuer_not_listed: 'unknown_issuer',
      key_withdrawn: 'unknown_issuer',
    }[check.reason];
    return { verdict, reason: check.reason };
  }
  return {
    valid: { verdict: 'valid', reason: 'ok' },
    suspended: { verdict: 'suspended', reason: 'status_suspended' },
    revoked: { verdict: 'revoked', reason: 'status_revoked' },
    expired: { verdict: 'expired', reason: 'licence_expired' },
    unknown: { verdict: 'unknown_issuer', reason: 'licence_not_on_record' },
  }[check.licenceStatus];
}

/**
 * Checks a printable licence's file (`checkLicencePdf`: signed by the platform or by a published key of
 * the issuer it names, these very bytes, its issuer and the key of its credential not withdrawn), reads
 * the licence's record once for its status, and records the check as `licence.verified` (`format:
 * 'pdf'`) with the caller (a verifier client, or `anonymous`), the verdict in `POST /verify`'s words and,
 * once the record is read, the licence, its type, its issuer and its holder's lookup key (whose usage
 * record it is: stored, never answered). As `POST /verify` does, the answer comes only once its entry is
 * durable: if it cannot be written, the call fails (no verification goes unrecorded). `asking` is the
 * bearer check, started with the licence's read (both in one batch) or, when the file named no licence of
 * ours, once the check is done: it is awaited before anything is recorded, and its failure is the call's.
 *
 * @example
 * ```ts
 * const check = await verifyPdf(pdf, jws, () => authenticate(event), { requestId }, deps); // { valid: true, licenceStatus: 'valid', … }
 * ```
 */
export async function verifyPdf(
  pdf: Uint8Array,
  jws: string,
  asking: (() => Promise<VerifyCaller | undefined>) | undefined,
  context: { requestId?: string },
  deps: VerifyPdfDependencies,
): Promise<PdfCheck> {
  /** The caller, asked once: in the licence read's tick when there is one (one batch), else at the end. */
  let asked: Promise<VerifyCaller | undefined> | undefined;
  const ask = () => {
    if (!asked) {
      asked = asking ? asking() : Promise.resolve(undefined);
      // Observed now (it is awaited below, maybe only after the licence read): never an unhandled rejection.
      asked.catch(() => undefined);
    }
    return asked;
  };
  /** The record read for the check: the licence the verification was of. */
  let record: LicenceRecord | undefined;
  const checked = checkLicencePdf(pdf, jws, {
    // A holder's download: the presentation key signs it, the platform key signed those made before it
    // (still accepted: a file kept since is checked as it was, until that platform key is retired).
    platformKeys: async () => [
      ...((await deps.trust.presentationKeys?.()) ?? []),
      ...(await deps.trust.platformKeys()),
    ],
    issuer: async (issuerId) => deps.trust.issuerById(issuerId),
    // One GetItem: the record's status now (a revocation counts the moment it is written), and its
    // credential, whose key must still be published. The caller's token is read in the same tick, so
    // that both reads go out as one BatchGetItem (`coalescingDoc`).
    licence: async (licenceId, issuerId) => {
      void ask();
      const found = await deps.licences.get(licenceId);
      if (found?.issuerId !== issuerId) return undefined;
      record = found;
      return { status: effectiveStatus(found, new Date(deps.clock.now())), credential: found.credential };
    },
  });
  // Both settle before either's failure is raised: nothing is left running unobserved.
  const [check, caller] = await Promise.allSettled([checked, checked.then(ask, ask)]);
  if (caller.status === 'rejected') throw caller.reason;
  if (check.status === 'rejected') throw check.reason;
  const entry: AuditEntry = {
    at: new Date(deps.clock.now()).toISOString(),
    actor: caller.value?.clientId ?? 'anonymous',
    action: 'licence.verified',
    format: 'pdf',
    ...(record
      ? {
          licenceId: record.id,
          licenceType: record.type,
          issuerId: record.issuerId,
          holderKey: record.holder.lookupKey,
        }
      : {}),
    ...verdictOf(check.value),
    requestId: context.requestId,
  };
  // Durable before the answer is released: a check whose entry cannot be written is an error instead.
  await deps.audit.record(entry).catch((error: unknown) => {
    logger.error('audit entry not written: no answer is given', { error: String(error) });
    throw error;
  });
  return check.value;
}
