import { describe, expect, it } from 'vitest';
import {
  accountOwingCleanup,
  finishOwedCleanup,
  type OwedCleanupDependencies,
} from '../../../shared/identity/owed-cleanup.js';
import type { StoredPasskey } from '../../../shared/identity/passkeys.js';
import type { PersonAccount } from '../../../shared/identity/person-account.js';
import { InMemoryAccountStore } from '../../support/in-memory-identity.js';
import { InMemoryPasskeyStore } from '../../support/in-memory-passkeys.js';

/**
 * The reconciler's half of a reset whose clean-up failed after its save (shared/identity/owed-cleanup.ts):
 * bounded by the reset's own mark, so that the owner's sign-ins and consents since are spared; idempotent;
 * and a newer reset saved meanwhile keeps its own mark, for its own pointer.
 */
const resetAt = '2026-12-07T10:00:00.400Z';
const markSecond = Math.floor(Date.parse(resetAt) / 1000);

function account(): PersonAccount {
  return {
    id: 'acc_owed1',
    lookupKey: 'lk-owed-1',
    masked: '110105********0011',
    idNumberEncrypted: 'x',
    name: '测试欠清',
    passwordHash: '$scrypt$x',
    assurance: 'possession-verified',
    createdAt: '2026-01-01T00:00:00.000Z',
    proofCleanup: { passkeysBefore: resetAt },
    signInsEnded: { at: resetAt, version: 5 },
    version: 5,
  };
}

const passkey = (id: string, createdAt: string): StoredPasskey => ({
  id,
  accountId: 'acc_owed1',
  publicKey: 'pk',
  counter: 0,
  transports: ['internal'],
  deviceType: 'singleDevice',
  backedUp: false,
  name: id,
  createdAt,
});

async function world() {
  const accounts = new InMemoryAccountStore();
  await accounts.create(account());
  const stored = (await accounts.findById('acc_owed1'))!;
  accounts.byLookupKey.set(stored.lookupKey, { ...stored, version: 5 });
  const passkeys = new InMemoryPasskeyStore();
  await passkeys.add(passkey('before', '2026-12-07T09:00:00.000Z'));
  await passkeys.add(passkey('owners-since', '2026-12-07T10:05:00.000Z'));
  const ended: Array<{
    personId: string;
    signedInBefore?: number;
    keepSession?: string;
    grantsEndedBy?: { at: string };
  }> = [];
  const withdrawn: Array<{ personId: string; grantedBefore?: number; grantsEndedBy?: { at: string } }> = [];
  const deps: OwedCleanupDependencies & { onEnd?: () => Promise<void> } = {
    accounts,
    passkeys,
    signIns: {
      endAll: async (personId, options = {}) => {
        ended.push({ personId, ...options });
        await deps.onEnd?.();
      },
    },
    platformConsents: {
      withdrawAll: async (personId, _acting, options = {}) => {
        withdrawn.push({ personId, ...options });
        return 0;
      },
    },
  };
  return { accounts, passkeys, ended, withdrawn, deps };
}

describe('finishing a reset’s owed clean-up (the reconciler)', () => {
  it('names the account a proof’s pointer owes for, and no other pointer', () => {
    expect(accountOwingCleanup('phone-proof#acc_owed1#6')).toBe('acc_owed1');
    expect(accountOwingCleanup('in-person-proof#acc_owed1#6')).toBe('acc_owed1');
    expect(accountOwingCleanup('account-registered#acc_owed1')).toBeUndefined();
    expect(accountOwingCleanup('phone-proof#not-an-account#6')).toBeUndefined();
  });

  it('ends what came before the reset and in its second (review R54-1), then takes the mark off; asked again, nothing', async () => {
    const w = await world();
    await expect(finishOwedCleanup('acc_owed1', resetAt, w.deps)).resolves.toBe('finished');
    // Grants by the millisecond of the mark, the provider's rule (review R58 L1); sessions by its second.
    const grantsEndedBy = { at: resetAt };
    expect(w.withdrawn).toEqual([{ personId: 'acc_owed1', grantedBefore: markSecond + 1, grantsEndedBy }]);
    expect(w.ended).toEqual([{ personId: 'acc_owed1', signedInBefore: markSecond + 1, grantsEndedBy }]);
    expect((await w.passkeys.listFor('acc_owed1')).map((p) => p.id)).toEqual(['owners-since']);
    const after = (await w.accounts.findById('acc_owed1'))!;
    expect(after.proofCleanup).toBeUndefined();
    // The mark that refuses what came before stays: it is never taken off.
    expect(after.signInsEnded).toEqual({ at: resetAt, version: 5 });

    await expect(finishOwedCleanup('acc_owed1', resetAt, w.deps)).resolves.toBe('nothing_owed');
    expect(w.ended).toHaveLength(1);
  });

  it('leaves a newer reset saved meanwhile its own mark, having ended only what the older one owed', async () => {
    const w = await world();
    const newerAt = '2026-12-07T10:10:00.000Z';
    w.deps.onEnd = async () => {
      w.deps.onEnd = undefined;
      const now = (await w.accounts.findById('acc_owed1'))!;
      await w.accounts.save({
        ...now,
        proofCleanup: { passkeysBefore: newerAt },
        signInsEnded: { at: newerAt, version: now.version + 1 },
      });
    };
    await expect(finishOwedCleanup('acc_owed1', resetAt, w.deps)).resolves.toBe('owed_by_a_newer_proof');
    // Ended by the older mark's second (included), not the newer's: the sign-ins between are the newer
    // proof's.
    expect(w.ended).toEqual([
      { personId: 'acc_owed1', signedInBefore: markSecond + 1, grantsEndedBy: { at: resetAt } },
    ]);
    expect((await w.accounts.findById('acc_owed1'))!.proofCleanup).toEqual({ passkeysBefore: newerAt });
  });

  it('owes nothing for an account gone, or one without a clean-up owed', async () => {
    const w = await world();
    await expect(finishOwedCleanup('acc_gone', resetAt, w.deps)).resolves.toBe('nothing_owed');
    expect(w.ended).toEqual([]);
  });
});
