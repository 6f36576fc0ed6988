import { ConflictError } from '../../shared/errors.js';
import type { AccountStore } from '../../shared/identity/account-store.js';
import type { PasskeyChallenge, PasskeyStore, StoredPasskey } from '../../shared/identity/passkeys.js';
import type { Trace } from '../../shared/pending-work/pending-work.js';
import { InMemoryPendingWork } from './in-memory-licence.js';

/**
 * {@link PasskeyStore} in memory, for unit tests; passes the same contract suite as the Dynamo adapter. A
 * passkey added or removed with its trace keeps the pointer in `pendingAudit` (all or nothing).
 */
export class InMemoryPasskeyStore implements PasskeyStore {
  /**
   * `accounts`: where an `add` guarded by the account's version reads the account (the Dynamo store's
   * condition on the account item); without it, the guard finds no account item, which passes, as a
   * legacy account's does.
   */
  constructor(
    readonly pendingAudit = new InMemoryPendingWork(),
    readonly accounts?: Pick<AccountStore, 'findById'>,
  ) {}

  readonly passkeys = new Map<string, StoredPasskey>();
  readonly challenges = new Map<string, PasskeyChallenge>();

  async add(passkey: StoredPasskey, trace?: Trace, account?: { version: number }): Promise<void> {
    if (this.passkeys.has(passkey.id)) {
      throw new ConflictError('This passkey is already enrolled', 'passkey_exists');
    }
    const now = account && (await this.accounts?.findById(passkey.accountId));
    if (account && now && (now.version !== account.version || now.proofCleanup !== undefined)) {
      throw new ConflictError(
        'The account changed meanwhile (a reset?): sign in again and try again',
        'account_changed',
      );
    }
    this.passkeys.set(passkey.id, structuredClone(passkey));
    if (trace) this.pendingAudit.keepTrace(trace);
  }

  async find(credentialId: string): Promise<StoredPasskey | undefined> {
    const found = this.passkeys.get(credentialId);
    return found && structuredClone(found);
  }

  async listFor(accountId: string): Promise<StoredPasskey[]> {
    return [...this.passkeys.values()]
      .filter((passkey) => passkey.accountId === accountId)
      .sort((a, b) => `${a.createdAt}#${a.id}`.localeCompare(`${b.createdAt}#${b.id}`))
      .map((passkey) => structuredClone(passkey));
  }

  async enrolmentsOf(accountId: string): Promise<Array<Pick<StoredPasskey, 'id' | 'createdAt'>>> {
    return (await this.listFor(accountId)).map(({ id, createdAt }) => ({ id, createdAt }));
  }

  async remove(accountId: string, credentialId: string, trace?: Trace): Promise<boolean> {
    if (this.passkeys.get(credentialId)?.accountId !== accountId) return false;
    this.passkeys.delete(credentialId);
    if (trace) this.pendingAudit.keepTrace(trace);
    return true;
  }

  async recordUse(
    credentialId: string,
    use: { previousCounter: number; counter: number; at: string },
  ): Promise<boolean> {
    const found = this.passkeys.get(credentialId);
    if (!found || found.counter !== use.previousCounter) return false;
    this.passkeys.set(credentialId, { ...found, counter: use.counter, lastUsedAt: use.at });
    return true;
  }

  async saveChallenge(challenge: PasskeyChallenge): Promise<void> {
    if (this.challenges.has(challenge.challenge)) throw new ConflictError('The item already exists');
    this.challenges.set(challenge.challenge, { ...challenge });
  }

  async takeChallenge(challenge: string, nowSeconds: number): Promise<PasskeyChallenge | undefined> {
    const found = this.challenges.get(challenge);
    this.challenges.delete(challenge);
    return found && found.expiresAt > nowSeconds ? found : undefined;
  }
}
