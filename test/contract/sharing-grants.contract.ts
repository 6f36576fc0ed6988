import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SharingGrants, StoredGrant } from '../../shared/sharing/authorizations.js';
import { listAuthorizations, withdrawAuthorization } from '../../shared/sharing/authorizations.js';
import { NotFoundError } from '../../shared/errors.js';
import { InMemoryAudit, TestClock } from '../support/in-memory-identity.js';
import { InMemoryClientNames } from '../support/in-memory-sharing.js';
import { rejection, type Make } from './subject.js';

/** What a subject offers besides the port: the provider's writes, and a look at a token. */
export interface SharingGrantsSubject {
  store: SharingGrants;
  saveGrant(id: string, grant: StoredGrant): Promise<void>;
  saveToken(tokenId: string, grantId: string): Promise<void>;
  tokenExists(tokenId: string): Promise<boolean>;
}

const id = () => randomBytes(16).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);
const detail = (purpose = '办理车辆登记') => ({
  type: 'licence_access',
  licence_types: ['driving-licence'],
  purpose,
});

function grant(accountId: string, overrides: Partial<StoredGrant> = {}): StoredGrant {
  return { accountId, clientId: 'cl_platform', rar: [detail()], iat: now(), exp: now() + 600, ...overrides };
}

/**
 * The {@link SharingGrants} contract: the live provider grants carrying `licence_access` that a person
 * made (personally, or acting for an entity) are listed; other people's, expired ones and grants without
 * licence access are not; `revoke` ends the grant and every token under it, and no other.
 */
export function sharingGrantsContract(name: string, make: Make<SharingGrantsSubject>): void {
  describe(`SharingGrants contract: ${name}`, () => {
    let subject: Awaited<ReturnType<typeof make>>;
    beforeEach(async () => {
      subject = await make();
    });
    afterEach(() => subject.cleanup());

    it('lists a person’s shares, personal and for an entity, and no one else’s', async () => {
      const [mine, forEntity, plain, theirs, expired] = [id(), id(), id(), id(), id()];
      await subject.saveGrant(mine, grant('acc_me'));
      await subject.saveGrant(forEntity, grant('ent_1~acc_me', { rar: [detail('年报')] }));
      await subject.saveGrant(plain, grant('acc_me', { rar: undefined }));
      await subject.saveGrant(theirs, grant('acc_other'));
      await subject.saveGrant(expired, grant('acc_me', { exp: now() - 10 }));
      const listed = await subject.store.listOf('acc_me');
      expect(listed.map((g) => g.id).sort()).toEqual([mine, forEntity].sort());
      const found = listed.find((g) => g.id === forEntity)!;
      expect(found).toMatchObject({ clientId: 'cl_platform', accountId: 'ent_1~acc_me' });
      expect(found.details[0]!.purpose).toBe('年报');
      expect(await subject.store.find(theirs)).toMatchObject({ accountId: 'acc_other' });
      expect(await subject.store.find(plain)).toBeUndefined();
      expect(await subject.store.find(expired)).toBeUndefined();
      expect(await subject.store.find(id())).toBeUndefined();
    });

    it('revoke ends the grant and its tokens, not another grant’s', async () => {
      const [a, b] = [id(), id()];
      await subject.saveGrant(a, grant('acc_me'));
      await subject.saveGrant(b, grant('acc_me'));
      const [tokenA, refreshA, tokenB] = [id(), id(), id()];
      await subject.saveToken(tokenA, a);
      await subject.saveToken(refreshA, a);
      await subject.saveToken(tokenB, b);
      await subject.store.revoke(a);
      expect(await subject.store.find(a)).toBeUndefined();
      expect(await subject.tokenExists(tokenA)).toBe(false);
      expect(await subject.tokenExists(refreshA)).toBe(false);
      expect(await subject.tokenExists(tokenB)).toBe(true);
      expect(await subject.store.find(b)).toBeDefined();
      await subject.store.revoke(id());
    });

    it('the use cases: the list names the platform; only the person’s own can be withdrawn', async () => {
      const mine = id();
      await subject.saveGrant(mine, grant('acc_me'));
      const names = new InMemoryClientNames({ cl_platform: '交管平台' });
      const { items } = await listAuthorizations('acc_me', {
        sharingGrants: subject.store,
        clientNames: names,
      });
      expect(items).toEqual([
        expect.objectContaining({
          id: mine,
          client: { id: 'cl_platform', name: '交管平台' },
          licenceTypes: ['driving-licence'],
          purpose: '办理车辆登记',
        }),
      ]);
      const audit = new InMemoryAudit();
      const deps = { sharingGrants: subject.store, audit, clock: new TestClock() };
      expect(await rejection(withdrawAuthorization('acc_other', mine, deps))).toBeInstanceOf(NotFoundError);
      expect(await subject.store.find(mine)).toBeDefined();
      expect(audit.entries).toEqual([]);
      await withdrawAuthorization('acc_me', mine, deps);
      expect(await subject.store.find(mine)).toBeUndefined();
      // The withdrawal is in the audit trail: who, which platform's grant, which types.
      expect(audit.entries).toEqual([
        expect.objectContaining({
          action: 'authorization.withdrawn',
          actor: 'acc_me',
          reason: `client cl_platform, grant ${mine}, types driving-licence`,
        }),
      ]);
    });
  });
}
