import { ConflictError } from '../../shared/errors.js';
import type { ScanLoginRecord, ScanLoginState, ScanLoginStore } from '../../shared/identity/scan-login.js';

/**
 * The {@link ScanLoginStore} contract in memory: a record is kept an hour past its code's expiry, as the
 * Dynamo adapter's TTL keeps it, and each change of state is conditional on the state and the expiry.
 */
export class InMemoryScanLoginStore implements ScanLoginStore {
  readonly records = new Map<string, ScanLoginRecord>();

  async create(record: ScanLoginRecord): Promise<void> {
    if (this.records.has(record.codeHash))
      throw new ConflictError('The item already exists', 'scan_login_exists');
    this.records.set(record.codeHash, structuredClone(record));
  }

  async find(codeHash: string, nowSeconds: number): Promise<ScanLoginRecord | undefined> {
    const record = this.records.get(codeHash);
    if (!record || record.codeExpiresAt + 3600 <= nowSeconds) return undefined;
    return structuredClone(record);
  }

  async advance(
    codeHash: string,
    from: ScanLoginState,
    to: ScanLoginState,
    nowSeconds: number,
    personId?: string,
  ): Promise<ScanLoginRecord | undefined> {
    const record = this.records.get(codeHash);
    if (!record || record.state !== from || record.codeExpiresAt <= nowSeconds) return undefined;
    record.state = to;
    if (personId) record.personId = personId;
    return structuredClone(record);
  }
}
