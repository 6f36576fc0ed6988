import type { CarriedAudit } from '../pending-work/pending-work.js';
import type { Issuer, IssuerListing } from './issuer.js';

/**
 * Where issuers are kept. Contract: `claim` is the single conditional write that makes a credit code
 * unique (a second claim fails with `ConflictError` code `issuer_exists`, also under concurrency);
 * `save` replaces under optimistic concurrency (`ConflictError` when `version` moved on); `release`
 * removes a claim that never became active, and nothing else.
 */
export interface IssuerStore {
  claim(issuer: Issuer): Promise<Issuer>;
  save(issuer: Issuer): Promise<Issuer>;
  /**
   * `save`, with the change's audit entries saved as pending work that carries them (`carried`, put in
   * the index of issuer changes, shared/pending-work/pending-work.ts), all or nothing: the issuer is never
   * changed without them. The pointer is put already claimed for the caller, as `PendingWorkIndex.claim`
   * would take it at `now`, and only where none is. Answers the issuer saved and that claim, for the
   * caller to write the entries (`completeCarriedAudit`); `ConflictError` `issuer_changed` as `save`.
   */
  saveWithAudit(issuer: Issuer, carried: CarriedAudit, now: Date): Promise<{ saved: Issuer; claim: string }>;
  release(issuer: Issuer): Promise<void>;
  findById(id: string): Promise<Issuer | undefined>;
  findByCreditCode(creditCode: string): Promise<Issuer | undefined>;
  /**
   * Every issuer, withdrawn ones included (for the trust list), as listed: the members of
   * {@link IssuerListing} only.
   */
  listAll(): Promise<IssuerListing[]>;
}
