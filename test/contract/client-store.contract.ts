import { randomUUID } from 'node:crypto';
import type { ClientMetadata } from 'oidc-provider';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ClientStore } from '../../shared/clients/client-store.js';
import type { PendingWorkIndex } from '../../shared/pending-work/pending-work.js';
import { listedPointer, traceFor } from '../support/traces.js';
import { rejection, type Make } from './subject.js';

/**
 * A client store, what the provider would load for a client id (not part of the port), and the index of
 * operators' changes its updates put their traces in.
 */
export interface ObservedClientStore {
  store: ClientStore;
  loaded(clientId: string): Promise<ClientMetadata | undefined>;
  operatorAudit: PendingWorkIndex;
}

/** A trace of a change of `clientId`, at a moment of its own. */
const change = (clientId: string) =>
  traceFor(`client-changed#${clientId}#${randomUUID()}`, 'client.updated', new Date(), 'cl_operator');

/**
 * The {@link ClientStore} contract: saved without any secret, replaced by a later save, registered new
 * with its trace (or neither), changed member by member by an update (with its trace, or neither),
 * deleted for good.
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
      const first = change(clientId);
      expect(
        await subject.store.update(clientId, { set: { events_uri: 'https://platform.example/e' } }, first),
      ).toBe(true);
      // Another writer's change of another member, then a removal: neither undoes the other.
      expect(await subject.store.update(clientId, { set: { secret_version: 3 } }, change(clientId))).toBe(
        true,
      );
      expect(await subject.store.find(clientId)).toEqual({
        ...metadata,
        secret_version: 3,
        events_uri: 'https://platform.example/e',
      });
      expect(
        await subject.store.update(clientId, { remove: ['events_uri', 'secret_version'] }, change(clientId)),
      ).toBe(true);
      const { secret_version: _version, ...rest } = metadata;
      expect(await subject.loaded(clientId)).toEqual(rest);
      // Each change with its trace: a pointer put, claimed as the trace says (nobody else takes it now).
      const later = new Date(Date.now() + 3_600_000);
      const saved = await subject.operatorAudit.olderThan(later, 10);
      expect(saved).toHaveLength(3);
      expect(saved).toContainEqual(listedPointer(first));
      expect(await subject.operatorAudit.claim(first.carried.id, new Date())).toBeUndefined();
      // An unknown client: false, and neither the change nor its trace written.
      const unknown = `cl_${randomUUID().slice(0, 8)}`;
      expect(
        await subject.store.update(unknown, { set: { events_uri: 'https://x.example/e' } }, change(unknown)),
      ).toBe(false);
      expect(await subject.store.find(unknown)).toBeUndefined();
      expect(await subject.operatorAudit.olderThan(later, 10)).toHaveLength(3);
    });

    it('registers a new client with its trace, without its secret; an id taken registers neither', async () => {
      const clientId = `cl_${randomUUID().slice(0, 8)}`;
      const metadata = {
        client_id: clientId,
        client_secret: 'never-stored',
        client_name: '政务服务网',
        grant_types: ['authorization_code'],
        response_types: ['code' as const],
        redirect_uris: ['https://gov.example/cb'],
        scope: 'openid profile',
      };
      const later = new Date(Date.now() + 3_600_000);
      const registered = traceFor(`client-changed#${clientId}#registered`, 'client.registered', new Date());
      await subject.store.register(metadata, registered);
      const { client_secret: _secret, ...stored } = metadata;
      expect(await subject.loaded(clientId)).toEqual(stored);
      expect(await subject.store.find(clientId)).toEqual(stored);
      expect(await subject.operatorAudit.olderThan(later, 10)).toEqual([listedPointer(registered)]);
      // The id taken: client_exists, the record as it was and no second trace.
      const again = traceFor(`client-changed#${clientId}#${randomUUID()}`, 'client.registered', new Date());
      expect(await rejection(subject.store.register({ ...metadata, scope: 'openid' }, again))).toMatchObject({
        code: 'client_exists',
      });
      expect(await subject.store.find(clientId)).toEqual(stored);
      expect(await subject.operatorAudit.olderThan(later, 10)).toEqual([listedPointer(registered)]);
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
