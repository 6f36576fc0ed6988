import { randomUUID } from 'node:crypto';
import type { ClientMetadata } from 'oidc-provider';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ClientStore } from '../../shared/clients/client-store.js';
import type { Make } from './subject.js';

/** A client store, and what the provider would load for a client id (not part of the port). */
export interface ObservedClientStore {
  store: ClientStore;
  loaded(clientId: string): Promise<ClientMetadata | undefined>;
}

/** The {@link ClientStore} contract: saved without any secret, replaced by a later save, deleted for good. */
export function clientStoreContract(name: string, make: Make<ObservedClientStore>): void {
  describe(`ClientStore contract: ${name}`, () => {
    let subject: Awaited<ReturnType<typeof make>>;
    beforeEach(async () => {
      subject = await make();
    });
    afterEach(async () => {
      await subject.cleanup();
    });

    it('stores the metadata without its client_secret, and a later save replaces it', async () => {
      const clientId = `cl_${randomUUID().slice(0, 8)}`;
      const metadata = {
        client_id: clientId,
        client_secret: 'never-stored',
        grant_types: ['client_credentials'],
        response_types: [],
        scope: 'licences:issue',
        issuer_id: 'iss_contract',
      };
      await subject.store.save(metadata);
      const { client_secret: _secret, ...stored } = metadata;
      expect(await subject.loaded(clientId)).toEqual(stored);
      expect(await subject.store.find(clientId)).toEqual(stored);
      await subject.store.save({ ...metadata, scope: 'licences:verify' });
      expect(await subject.loaded(clientId)).toEqual({ ...stored, scope: 'licences:verify' });
      expect(await subject.store.find(clientId)).toEqual({ ...stored, scope: 'licences:verify' });
    });

    it('deletes a client, and deleting an unknown one is no error', async () => {
      const clientId = `cl_${randomUUID().slice(0, 8)}`;
      await subject.store.save({
        client_id: clientId,
        grant_types: ['client_credentials'],
        response_types: [],
      });
      await subject.store.delete(clientId);
      expect(await subject.loaded(clientId)).toBeUndefined();
      expect(await subject.store.find(clientId)).toBeUndefined();
      await subject.store.delete(`cl_${randomUUID().slice(0, 8)}`);
    });
  });
}
