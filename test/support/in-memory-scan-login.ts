import { ConflictError } from '../../shared/errors.js';
import type { ScanLoginRecord, ScanLoginState, ScanLoginStore } from '../../shared/identity/scan-login.js';

/**
 * The {@link ScanLoginStore} contract in memory: one record per slot, kept an hour past its code's expiry,
 * as the Dynamo adapter's TTL keeps it, replaced by another code unless used; each change of state is
 * conditional on the code, the state and the expiry.
 */
export class InMemoryScanLoginStore implements ScanLoginStore {
  readonly records = new Map<string, ScanLoginRecord>();

  async place(record: ScanLoginRecord, nowSeconds: number): Promise<void> {
    const held = await this.find(record.slotHash, nowSeconds);
    if (held && (held.codeHash === record.codeHash || held.state === 'completed')) {
      throw new ConflictError('The item already exists', 'scan_login_exists');
    }
    this.records.set(record.slotHash, structuredClone(record));
  }

  async find(slotHash: string, nowSeconds: number): Promise<ScanLoginRecord | undefined> {
    const record = this.records.get(slotHash);
    if (!record || record.codeExpiresAt + 3600 <= nowSeconds) return undefined;
    return structuredClone(record);
  }

  async advance(
    slotHash: string,
    codeHash: string,
    from: ScanLoginState,
    to: ScanLoginState,
    nowSeconds: number,
    personId?: string,
    authTime?: number,
    accountVersion?: number,
  ): Promise<ScanLoginRecord | undefined> {
    const record = this.records.get(slotHash);
    if (
      !record ||
      record.codeHash !== codeHash ||
      record.state !== from ||
      record.codeExpiresAt <= nowSeconds
    )
      return undefined;
    record.state = to;
    if (personId) record.personId = personId;
    if (personId && authTime !== undefined) record.authTime = authTime;
    if (personId && authTime !== undefined && accountVersion !== undefined)
      record.accountVersion = accountVersion;
    return structuredClone(record);
  }
}
