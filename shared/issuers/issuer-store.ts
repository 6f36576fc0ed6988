import type { Trace } from '../pending-work/pending-work.js';
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
   * `save`, with the change's audit entry saved as pending work that carries it (`trace`, its pointer put
   * in the index of operators' changes, shared/pending-work/pending-work.ts, already claimed as the trace
   * says, and only where none is), all or nothing: the issuer is never changed without it. Answers the
   * issuer saved, for the caller to write the entry (`saveWithTrace`); `ConflictError` `issuer_changed`
   * as `save`.
   */
  saveWithAudit(issuer: Issuer, trace: Trace): Promise<Issuer>;
  release(issuer: Issuer): Promise<void>;
  findById(id: string): Promise<Issuer | undefined>;
  /**
   * The issuer item itself, read strongly consistent: it sees every write answered before it. Issuance
   * relies on that to read the issuer again after writing its licence (review R61 F2,
   * shared/licence/issue-licence.ts `credentialStillVerifies`); `findById` goes through an index first.
   */
  findByCreditCode(creditCode: string): Promise<Issuer | undefined>;
  /**
   * Every issuer, withdrawn ones included (for the trust list), as listed: the members of
   * {@link IssuerListing} only.
   */
  listAll(): Promise<IssuerListing[]>;
}
