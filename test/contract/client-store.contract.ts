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

/**
 * The {@link ClientStore} contract: saved without any secret, replaced by a later save, changed member by
 * member by an update, deleted for good.
 */
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

    it('update changes the members named and keeps every other, as stored now; an unknown client is false', async () => {
      const clientId = `cl_${randomUUID().slice(0, 8)}`;
      const metadata = {
        client_id: clientId,
        grant_types: ['authorization_code'],
        response_types: ['code' as const],
        redirect_uris: ['https://platform.example/callback'],
        secret_key: 'client-secret',
        secret_version: 2,
      };
      await subject.store.save(metadata);
      expect(
        await subject.store.update(clientId, { set: { events_uri: 'https://platform.example/e' } }),
      ).toBe(true);
      // Another writer's change of another member, then a removal: neither undoes the other.
      expect(await subject.store.update(clientId, { set: { secret_version: 3 } })).toBe(true);
      expect(await subject.store.find(clientId)).toEqual({
        ...metadata,
        secret_version: 3,
        events_uri: 'https://platform.example/e',
      });
      expect(await subject.store.update(clientId, { remove: ['events_uri', 'secret_version'] })).toBe(true);
      const { secret_version: _version, ...rest } = metadata;
      expect(await subject.loaded(clientId)).toEqual(rest);
      const unknown = `cl_${randomUUID().slice(0, 8)}`;
      expect(await subject.store.update(unknown, { set: { events_uri: 'https://x.example/e' } })).toBe(false);
      expect(await subject.store.find(unknown)).toBeUndefined();
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
