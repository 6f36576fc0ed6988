/**
 * One trace of a state change (网上留痕). It names who did what to which licence and when; the holder
 * appears only in masked form.
 */
export interface AuditEntry {
  at: string;
  /** The OAuth client (or account) that acted. */
  actor: string;
  action: string;
  licenceId?: string;
  issuerId?: string;
  holderMasked?: string;
  requestId?: string;
  reason?: string;
  /** For verifications: the verdict given. */
  verdict?: string;
}

/** Append-only: `record` never overwrites, and nothing updates or deletes an entry. */
export interface AuditTrail {
  record(entry: AuditEntry): Promise<void>;
  /** The entries about one licence, oldest first. */
  forLicence(licenceId: string): Promise<AuditEntry[]>;
}
