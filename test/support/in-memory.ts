import { createHmac } from 'node:crypto';
import type { ClientMetadata } from 'oidc-provider';
import type { KeyManager } from '../../shared/crypto/key-manager.js';
import type { Mac } from '../../shared/crypto/mac.js';
import { ConflictError } from '../../shared/errors.js';
import { issuerListing, type Issuer, type IssuerListing } from '../../shared/issuers/issuer.js';
import type { IssuerStore } from '../../shared/issuers/issuer-store.js';
import type { Trace } from '../../shared/pending-work/pending-work.js';
import type { ClientChange, ClientStore } from '../../shared/clients/client-store.js';
import type { SessionRegistry } from '../../shared/web/session-registry.js';
import type { DpopProofLedger } from '../../shared/http/dpop.js';
import { InMemoryPendingWork } from './in-memory-licence.js';
import { LocalSigner } from './local-signer.js';

/** An HMAC with a fixed test key. */
export const fakeMac: Mac = { mac: async (data) => createHmac('sha256', 'test-key').update(data).digest() };

/**
 * The {@link IssuerStore} contract in memory; the changes saved with their audit entries keep them in
 * `pendingAudit` (the index of issuer changes' pointers, for the use cases and the reconciler).
 */
export class InMemoryIssuerStore implements IssuerStore {
  readonly byCreditCode = new Map<string, Issuer>();

  constructor(readonly pendingAudit = new InMemoryPendingWork()) {}

  async claim(issuer: Issuer): Promise<Issuer> {
    if (this.byCreditCode.has(issuer.creditCode)) throw new ConflictError('taken', 'issuer_exists');
    const claimed = { ...issuer, version: 1 };
    this.byCreditCode.set(issuer.creditCode, claimed);
    return claimed;
  }

  async save(issuer: Issuer): Promise<Issuer> {
    if (this.byCreditCode.get(issuer.creditCode)?.version !== issuer.version)
      throw new ConflictError('The issuer changed since it was read', 'issuer_changed');
    const saved = { ...issuer, version: issuer.version + 1 };
    this.byCreditCode.set(issuer.creditCode, saved);
    return saved;
  }

  async saveWithAudit(issuer: Issuer, trace: Trace): Promise<Issuer> {
    // All or nothing, as one transaction: the pointer only with the issuer's write.
    const saved = await this.save(issuer);
    this.pendingAudit.keepTrace(trace);
    return saved;
  }

  async release(issuer: Issuer): Promise<void> {
    const current = this.byCreditCode.get(issuer.creditCode);
    if (current?.status === 'provisioning' && current.id === issuer.id)
      this.byCreditCode.delete(issuer.creditCode);
  }

  async findById(id: string): Promise<Issuer | undefined> {
    return [...this.byCreditCode.values()].find((issuer) => issuer.id === id);
  }

  async findByCreditCode(creditCode: string): Promise<Issuer | undefined> {
    return this.byCreditCode.get(creditCode);
  }

  async listAll(): Promise<IssuerListing[]> {
    return [...this.byCreditCode.values()].map(issuerListing);
  }
}

/** Keys as real in-memory P-256 signers; `failNext` makes the next creation fail. */
export class InMemoryKeyManager implements KeyManager {
  readonly signers = new Map<string, LocalSigner>();
  readonly scheduledForDeletion = new Set<string>();
  /** The alias each key was created with, by key id. */
  readonly aliases = new Map<string, string>();
  failNext: Error | undefined;

  async createSigningKey(input?: { alias?: string }): Promise<{ keyId: string; arn: string }> {
    if (this.failNext) throw this.failNext;
    const keyId = `key-${this.signers.size + 1}`;
    this.signers.set(keyId, new LocalSigner());
    if (input?.alias) this.aliases.set(keyId, input.alias);
    return { keyId, arn: `arn:aws-cn:kms:cn-north-1:000000000000:key/${keyId}` };
  }

  async scheduleDeletion(keyId: string): Promise<void> {
    this.scheduledForDeletion.add(keyId);
  }

  signerFor = (keyId: string): LocalSigner => {
    const signer = this.signers.get(keyId);
    if (!signer) throw new Error(`no key ${keyId}`);
    return signer;
  };
}

/**
 * The {@link ClientStore} contract in memory: what the provider would load, by client id; a change's trace
 * kept in `pendingAudit` (the index of operators' changes).
 */
export class InMemoryClientStore implements ClientStore {
  constructor(readonly pendingAudit = new InMemoryPendingWork()) {}

  readonly clients = new Map<string, ClientMetadata>();
  failNext: Error | undefined;

  async save(metadata: ClientMetadata & { client_id: string }): Promise<void> {
    if (this.failNext) throw this.failNext;
    // Never the secret: secrets are derived (`ClientSecrets`), as `DynamoClientStore` stores them.
    const { client_secret: _secret, ...stored } = metadata;
    this.clients.set(metadata.client_id, stored);
  }

  async register(metadata: ClientMetadata & { client_id: string }, trace: Trace): Promise<void> {
    if (this.failNext) throw this.failNext;
    if (this.clients.has(metadata.client_id)) {
      throw new ConflictError(`Client ${metadata.client_id} is already registered`, 'client_exists');
    }
    const { client_secret: _secret, ...stored } = metadata;
    this.clients.set(metadata.client_id, stored);
    // All or nothing, as one transaction: the pointer only with the client's write.
    this.pendingAudit.keepTrace(trace);
  }

  async update(clientId: string, change: ClientChange, trace: Trace): Promise<boolean> {
    if (this.failNext) throw this.failNext;
    const stored = this.clients.get(clientId);
    if (!stored) return false;
    const changed: Record<string, unknown> = { ...stored };
    for (const member of change.remove ?? []) delete changed[member];
    for (const [member, value] of Object.entries(change.set ?? {})) {
      if (value !== undefined) changed[member] = structuredClone(value);
    }
    this.clients.set(clientId, changed as ClientMetadata);
    // All or nothing, as one transaction: the pointer only with the client's write.
    this.pendingAudit.keepTrace(trace);
    return true;
  }

  async delete(clientId: string): Promise<void> {
    this.clients.delete(clientId);
  }

  async find(clientId: string): Promise<ClientMetadata | undefined> {
    return this.clients.get(clientId);
  }
}

/** The {@link SessionRegistry} contract in memory: `open` claims an id once, expiry counts on read. */
export class InMemorySessionRegistry implements SessionRegistry {
  readonly expiries = new Map<string, number>();

  async open(sessionId: string, expiresAt: number): Promise<void> {
    // `DynamoSessionRegistry.open` is a conditional create: an id is never opened twice.
    if (this.expiries.has(sessionId)) throw new ConflictError('The item already exists');
    this.expiries.set(sessionId, expiresAt);
  }

  async isOpen(sessionId: string, nowSeconds: number): Promise<boolean> {
    const expiresAt = this.expiries.get(sessionId);
    return expiresAt !== undefined && expiresAt > nowSeconds;
  }

  async close(sessionId: string): Promise<void> {
    this.expiries.delete(sessionId);
  }
}

/** The {@link DpopProofLedger} contract in memory: a proof is marked once, until its mark expires. */
export class InMemoryDpopProofLedger implements DpopProofLedger {
  readonly expiries = new Map<string, number>();

  async markUsed(proofId: string, expiresAt: number, nowSeconds: number): Promise<boolean> {
    // `DynamoDpopProofLedger.markUsed` is a put on the condition: absent, or its mark expired.
    const marked = this.expiries.get(proofId);
    if (marked !== undefined && marked > nowSeconds) return false;
    this.expiries.set(proofId, expiresAt);
    return true;
  }
}
