import { createHmac } from 'node:crypto';
import type { ClientMetadata } from 'oidc-provider';
import type { KeyManager } from '../../shared/crypto/key-manager.js';
import type { Mac } from '../../shared/crypto/mac.js';
import { ConflictError } from '../../shared/errors.js';
import type { Issuer } from '../../shared/issuers/issuer.js';
import type { IssuerStore } from '../../shared/issuers/issuer-store.js';
import type { ClientStore } from '../../shared/clients/client-store.js';
import { LocalSigner } from './local-signer.js';

/** An HMAC with a fixed test key. */
export const fakeMac: Mac = { mac: async (data) => createHmac('sha256', 'test-key').update(data).digest() };

/** The {@link IssuerStore} contract in memory. */
export class InMemoryIssuerStore implements IssuerStore {
  readonly byCreditCode = new Map<string, Issuer>();

  async claim(issuer: Issuer): Promise<Issuer> {
    if (this.byCreditCode.has(issuer.creditCode)) throw new ConflictError('taken', 'issuer_exists');
    const claimed = { ...issuer, version: 1 };
    this.byCreditCode.set(issuer.creditCode, claimed);
    return claimed;
  }

  async save(issuer: Issuer): Promise<Issuer> {
    if (this.byCreditCode.get(issuer.creditCode)?.version !== issuer.version)
      throw new ConflictError('changed');
    const saved = { ...issuer, version: issuer.version + 1 };
    this.byCreditCode.set(issuer.creditCode, saved);
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

  async listAll(): Promise<Issuer[]> {
    return [...this.byCreditCode.values()];
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

export class InMemoryClientStore implements ClientStore {
  readonly clients = new Map<string, ClientMetadata>();
  failNext: Error | undefined;

  async save(metadata: ClientMetadata & { client_id: string }): Promise<void> {
    if (this.failNext) throw this.failNext;
    this.clients.set(metadata.client_id, metadata);
  }

  async delete(clientId: string): Promise<void> {
    this.clients.delete(clientId);
  }
}
