import { keyedFingerprint } from '../../shared/crypto/keyed-fingerprint.js';
import type { Issuer } from '../../shared/issuers/issuer.js';
import type { ChangeStatusDependencies } from '../../shared/licence/change-status.js';
import type { IssueLicenceDependencies } from '../../shared/licence/issue-licence.js';
import type { LicenceRecord } from '../../shared/licence/licence.js';
import { pendingAudit } from '../../shared/licence/pending-work.js';
import type { PendingWorkIndex } from '../../shared/pending-work/pending-work.js';
import type { VerifyScanDependencies } from '../../shared/verification/verify-scan.js';
import { fakeMac, InMemoryIssuerStore } from './in-memory.js';
import { InMemoryAudit, TestClock } from './in-memory-identity.js';
import {
  InMemoryIdempotencyStore,
  InMemoryLicenceStore,
  InMemoryPendingWork,
  InMemoryStatusListStore,
} from './in-memory-licence.js';
import { LocalSigner } from './local-signer.js';

export const issuerUrl = 'https://id.example.gov.cn';

/**
 * The licence use cases' ports, all in memory, with real ES256 keys: an issuer signs with its own
 * {@link LocalSigner}, the platform with another, presentations with a third. Issuers are added with {@link LicenceWorld.addIssuer}.
 */
export function licenceWorld() {
  const clock = new TestClock(Date.parse('2026-03-01T08:00:00Z'));
  const issuers = new InMemoryIssuerStore();
  const licences = new InMemoryLicenceStore();
  const idempotency = new InMemoryIdempotencyStore(clock);
  const statusLists = new InMemoryStatusListStore();
  const audit = new InMemoryAudit();
  const pendingWork = new InMemoryPendingWork();
  // Withdrawals' pending work: an index apart, swept by the reconciler with licences'.
  const withdrawalsPending = new InMemoryPendingWork();
  const signers = new Map<string, LocalSigner>();
  const platformSigner = new LocalSigner();
  // Presentations have a key of their own, never the platform key (review R7 M1).
  const presentationSigner = new LocalSigner();
  let issuerCount = 0;

  const issueDeps: IssueLicenceDependencies = {
    issuers,
    licences,
    idempotency,
    statusLists,
    signerFor: (keyId) => {
      const signer = signers.get(keyId);
      if (!signer) throw new Error(`no key ${keyId}`);
      return signer;
    },
    lookupMac: fakeMac,
    fingerprint: keyedFingerprint(fakeMac, 'idempotency/v1'),
    audit,
    pendingWork,
    clock,
    issuerUrl,
  };
  const statusDeps: ChangeStatusDependencies & {
    pendingAudit: PendingWorkIndex;
    operatorAudit: PendingWorkIndex;
    accountAudit: PendingWorkIndex;
    providerAudit: PendingWorkIndex;
  } = {
    licences,
    statusLists,
    audit,
    pendingWork,
    pendingAudit: withdrawalsPending,
    // Operators' changes of issuers: the issuer store keeps them, swept by the reconciler with the rest.
    operatorAudit: issuers.pendingAudit,
    // The accounts function's changes: none in a licence world, swept all the same.
    accountAudit: new InMemoryPendingWork(),
    // The provider's changes (phone proofs): none in a licence world either.
    providerAudit: new InMemoryPendingWork(),
    clock,
  };
  const verifyDeps: VerifyScanDependencies = {
    issuers,
    licences,
    platformSigner,
    platformPreviousSigners: [],
    presentationSigner,
    presentationPreviousSigners: [],
    audit,
    clock,
  };

  /** An active issuer with a key of its own, as onboarding leaves it. */
  async function addIssuer(overrides: Partial<Issuer> = {}): Promise<Issuer & { signer: LocalSigner }> {
    issuerCount += 1;
    const signer = new LocalSigner();
    const keyId = `key-${issuerCount}`;
    signers.set(keyId, signer);
    const publicJwk = await signer.publicJwk();
    const claimed = await issuers.claim({
      id: `iss_world${issuerCount}`,
      name: '北京市公安局公安交通管理局',
      // Government-agency credit codes (`11…`) with valid check characters.
      creditCode: ['11110000000013223T', '11310000000024686D'][issuerCount - 1] ?? '11110000000013223T',
      region: '110000',
      licenceTypes: ['driving-licence', 'business-licence'],
      status: 'active',
      keyId,
      kid: publicJwk.kid,
      publicJwk,
      createdAt: '2026-01-01T00:00:00.000Z',
      version: 0,
      ...overrides,
    });
    return { ...claimed, signer };
  }

  return {
    clock,
    issuers,
    licences,
    idempotency,
    statusLists,
    audit,
    pendingWork,
    pendingAudit: withdrawalsPending,
    platformSigner,
    presentationSigner,
    issueDeps,
    statusDeps,
    verifyDeps,
    addIssuer,
    /** Signing keys by KMS key id: a test rotating an issuer's key adds the new one here. */
    signers,
  };
}

export type LicenceWorld = ReturnType<typeof licenceWorld>;

/**
 * A licence record (version 0, to `create`) changed to `status` at `at` whose work is still pending: the
 * change's audit entry, under its key, and its status-list entry at `idx` of list `iss_1.0`.
 *
 * @example
 * ```ts
 * await licences.create(halfWayLicence('lic-1', { at, status: 'revoked', idx: 3 }));
 * ```
 */
export function halfWayLicence(
  id: string,
  { at, status, idx }: { at: string; status: 'revoked' | 'suspended'; idx: number },
): LicenceRecord {
  return {
    id,
    type: 'driving-licence',
    issuerId: 'iss_1',
    holder: { kind: 'person', name: '李测试', masked: '110105********002X', lookupKey: 'k' },
    fields: {},
    status,
    statusList: { listId: 'iss_1.0', idx },
    issuedAt: at,
    validFrom: at,
    credential: 'x.y.z',
    history: [],
    pending: {
      since: at,
      audit: pendingAudit(id, 1, [{ at, actor: 'cl', action: `licence.${status}`, licenceId: id }]),
      statusList: { listId: 'iss_1.0', idx, status },
    },
    version: 0,
  };
}
