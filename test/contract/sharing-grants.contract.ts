import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SharingGrants, StoredGrant } from '../../shared/sharing/authorizations.js';
import type { CarriedAudit, PendingWorkIndex } from '../../shared/pending-work/pending-work.js';
import { reconcilePendingWork } from '../../shared/reconciler/reconcile-pending-work.js';
import {
  noticeIdOf,
  type NoticeQueue,
  type WithdrawalNotice,
} from '../../shared/sharing/withdrawal-notices.js';
import {
  listAuthorizations,
  withdrawAuthorization,
  withdrawEveryAuthorization,
  withdrawalAuditGroup,
  withdrawalAuditKey,
} from '../../shared/sharing/authorizations.js';
import { NotFoundError } from '../../shared/errors.js';
import { walletClientId } from '../../shared/identifiers/client-ids.js';
import { InMemoryAudit, TestClock } from '../support/in-memory-identity.js';
import { InMemoryClientNames } from '../support/in-memory-sharing.js';
import {
  InMemoryLicenceStore,
  InMemoryPendingWork,
  InMemoryStatusListStore,
} from '../support/in-memory-licence.js';
import { rejection, type Make } from './subject.js';

/** What a subject offers besides the port: the provider's writes, a look at a token, the notices queued. */
export interface SharingGrantsSubject {
  store: SharingGrants;
  /** The queue `withdraw` puts its notice in. */
  notices: NoticeQueue;
  /** The pending work `withdraw` saves a withdrawal's audit entry in. */
  pendingAudit: PendingWorkIndex;
  saveGrant(id: string, grant: StoredGrant): Promise<void>;
  saveToken(tokenId: string, grantId: string): Promise<void>;
  tokenExists(tokenId: string): Promise<boolean>;
  /** The store's clock (its writes' time: a withdrawal's claim runs from it), for a test to move on. */
  clock: TestClock;
  /**
   * The store on the same storage, whose `nth` write of grants from now (1 the next; a part of a
   * withdrawal, `withdrawalParts`) fails once, nothing of it done (throttled, a conflict), the writes
   * before it done.
   */
  failingOnce(nth: number): SharingGrants;
}

const id = () => randomBytes(16).toString('base64url');
/** No registered client is first-party (only the built-in wallet is). */
const noClients = { find: async () => undefined };
/** The withdrawal notices' port: no platform here registered an events endpoint, so none is queued. */
const noNotices = () => ({ subjectAt: async () => 'pairwise-sub' });
/** The notice of the grants a write deletes, as `withdraw` is given it (`SharingGrants.withdraw`). */
const notice = (deleted: readonly string[]): WithdrawalNotice => ({
  id: noticeIdOf({ clientId: 'cl_platform', event: 'sign-in-withdrawn', grantIds: [...deleted] }),
  clientId: 'cl_platform',
  subject: 'pairwise-sub',
  event: 'sign-in-withdrawn',
  grantIds: [...deleted],
  licenceTypes: [],
  scopes: ['openid', 'profile'],
  withdrawnAt: 1_767_225_600,
});
/** A promise and its resolve, for holding a request at a step. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}
const allDue = (queue: NoticeQueue) => queue.due(Date.now() + 60_000, 100);
const now = () => Math.floor(Date.now() / 1000);
const detail = (purpose = '办理车辆登记') => ({
  type: 'licence_access',
  licence_types: ['driving-licence'],
  purpose,
});

function grant(accountId: string, overrides: Partial<StoredGrant> = {}): StoredGrant {
  return {
    accountId,
    clientId: 'cl_platform',
    openid: { scope: 'openid profile' },
    rar: [detail()],
    iat: now(),
    exp: now() + 600,
    ...overrides,
  };
}

/** The grants the withdrawal entries name (`client …, grant <id> <id>…, scopes …`), one item per naming. */
export function namedGrants(entries: ReadonlyArray<{ reason?: string }>): string[] {
  return entries.flatMap((entry) => String(entry.reason).split('grant ')[1]!.split(', ')[0]!.split(' '));
}

/**
 * The {@link SharingGrants} contract: the live provider grants that a person made (personally, or acting
 * for an entity), sign-ins and shares (`licence_access`), are listed with their scopes less the rejected
 * ones; other people's and expired ones are not; `revoke` ends the grant and every token under it, and no
 * other.
 */
export function sharingGrantsContract(name: string, make: Make<SharingGrantsSubject>): void {
  describe(`SharingGrants contract: ${name}`, () => {
    let subject: Awaited<ReturnType<typeof make>>;
    beforeEach(async () => {
      subject = await make();
    });
    afterEach(() => subject.cleanup());
    /** What `withdrawAuthorization` needs, on the subject's store, index and clock; no platform to tell. */
    const withdrawing = (audit: InMemoryAudit, sharingGrants: SharingGrants = subject.store) => ({
      sharingGrants,
      clientReader: noClients,
      audit,
      clock: subject.clock,
      pendingAudit: subject.pendingAudit,
      ...noNotices(),
    });

    it('lists a person’s grants, shares and sign-ins, personal and for an entity, and no one else’s', async () => {
      const [mine, forEntity, plain, theirs, expired] = [id(), id(), id(), id(), id()];
      await subject.saveGrant(mine, grant('acc_me'));
      await subject.saveGrant(forEntity, grant('ent_1~acc_me', { rar: [detail('年报')] }));
      // A sign-in grant: the ID number asked for and left unticked (rejected), offline access allowed.
      await subject.saveGrant(
        plain,
        grant('acc_me', {
          rar: undefined,
          openid: { scope: 'openid profile idcard offline_access' },
          rejected: { openid: { scope: 'idcard' } },
        }),
      );
      await subject.saveGrant(theirs, grant('acc_other'));
      await subject.saveGrant(expired, grant('acc_me', { exp: now() - 10 }));
      const listed = await subject.store.listOf('acc_me');
      expect(listed.map((g) => g.id).sort()).toEqual([mine, forEntity, plain].sort());
      const found = listed.find((g) => g.id === forEntity)!;
      expect(found).toMatchObject({ clientId: 'cl_platform', accountId: 'ent_1~acc_me' });
      expect(found.details[0]!.purpose).toBe('年报');
      expect(await subject.store.find(theirs)).toMatchObject({ accountId: 'acc_other' });
      expect(await subject.store.find(plain)).toMatchObject({
        details: [],
        scopes: ['openid', 'profile', 'offline_access'],
      });
      expect(await subject.store.find(expired)).toBeUndefined();
      expect(await subject.store.find(id())).toBeUndefined();
    });

    it('withdraw ends the grants and their tokens, not another grant’s, and queues no notice unasked', async () => {
      const [a, b] = [id(), id()];
      await subject.saveGrant(a, grant('acc_me'));
      await subject.saveGrant(b, grant('acc_me'));
      const [tokenA, refreshA, tokenB] = [id(), id(), id()];
      await subject.saveToken(tokenA, a);
      await subject.saveToken(refreshA, a);
      await subject.saveToken(tokenB, b);
      await subject.store.withdraw([a]);
      expect(await subject.store.find(a)).toBeUndefined();
      expect(await subject.tokenExists(tokenA)).toBe(false);
      expect(await subject.tokenExists(refreshA)).toBe(false);
      expect(await subject.tokenExists(tokenB)).toBe(true);
      expect(await subject.store.find(b)).toBeDefined();
      await subject.store.withdraw([id()]);
      expect(await allDue(subject.notices)).toEqual([]);
    });

    it('withdraw queues the notice with the grants’ deletion, once: grants already gone queue none', async () => {
      const [a, b] = [id(), id()];
      await subject.saveGrant(a, grant('acc_me', { rar: undefined }));
      await subject.saveGrant(b, grant('acc_me', { rar: undefined }));
      const told = notice([a, b]);
      await subject.store.withdraw([a, b], notice);
      for (const gone of [a, b]) expect(await subject.store.find(gone)).toBeUndefined();
      expect(await allDue(subject.notices)).toEqual([expect.objectContaining({ ...told, attempts: 0 })]);
      // A second withdrawal of the same grants (two tabs, a retry whose answer was lost) tells no one again.
      await subject.store.withdraw([a, b], notice);
      expect((await allDue(subject.notices)).map((queued) => queued.id)).toEqual([told.id]);
      // One of them gone already (withdrawn elsewhere, whose notice named it): the rest go, with a notice
      // of those alone, so that no grant is told twice under two ids.
      const [c, d] = [id(), id()];
      await subject.saveGrant(c, grant('acc_me', { rar: undefined }));
      await subject.store.withdraw([c, d], notice);
      expect(await subject.store.find(c)).toBeUndefined();
      const queued = await allDue(subject.notices);
      expect(queued).toHaveLength(2);
      expect(queued.find((other) => other.id !== told.id)).toMatchObject({ ...notice([c]), grantIds: [c] });
    });

    it('withdraw saves the audit entry with the grants’ deletion, as pending work; none for grants gone', async () => {
      const [a, b, b2] = [id(), id(), id()];
      for (const grantId of [a, b2]) await subject.saveGrant(grantId, grant('acc_me'));
      const at = new Date(subject.clock.now()).toISOString();
      const entry = { at, actor: 'acc_me', action: 'authorization.withdrawn' };
      const carried = (grantId: string, withdrawal = 'w_1'): CarriedAudit => ({
        id: withdrawalAuditKey(grantId, withdrawal),
        owner: 'acc_me',
        since: at,
        audit: [{ key: withdrawalAuditKey(grantId, withdrawal), entry }],
      });
      const withdrawn = await subject.store.withdraw([a], undefined, () => carried(a));
      expect(withdrawn).toEqual({
        deleted: [a],
        saved: [{ carried: carried(a), claim: expect.any(String) }],
      });
      expect(await subject.store.find(a)).toBeUndefined();
      expect(await subject.pendingAudit.carried(withdrawalAuditGroup(a))).toEqual([carried(a)]);
      // Listed once older than asked, with its entry: what the reconciler completes.
      expect(await subject.pendingAudit.olderThan(new Date(at), 10)).toEqual([]);
      const later = new Date(Date.parse(at) + 1);
      expect(await subject.pendingAudit.olderThan(later, 10)).toEqual([
        { id: carried(a).id, since: at, audit: carried(a).audit },
      ]);
      // Put claimed for the request: nobody else takes it within the lease (from its write), anyone after.
      expect(
        await subject.pendingAudit.claim(carried(a).id, new Date(Date.parse(at) + 59_000)),
      ).toBeUndefined();
      expect(
        await subject.pendingAudit.claim(carried(a).id, new Date(Date.parse(at) + 61_000)),
      ).toBeDefined();
      // The claim answered is the one the pointer holds: the request completes it with no claim write.
      const { saved } = await subject.store.withdraw([b2], undefined, () => carried(b2));
      await subject.pendingAudit.remove(carried(b2).id, saved[0]!.claim);
      expect(await subject.pendingAudit.carried(withdrawalAuditGroup(b2))).toEqual([]);
      // Nothing withdrawn (unknown, or another withdrawal's): nothing saved, that one saves its own.
      expect(await subject.store.withdraw([b], undefined, () => carried(b))).toEqual({
        deleted: [],
        saved: [],
      });
      expect(await subject.pendingAudit.carried(withdrawalAuditGroup(b))).toEqual([]);
      // A pointer is never put over another (review L1): the write fails, and takes nothing with it.
      const [c, d] = [id(), id()];
      for (const grantId of [c, d]) await subject.saveGrant(grantId, grant('acc_me'));
      await subject.store.withdraw([c], undefined, () => carried(c));
      const over = { ...carried(c), audit: [{ key: carried(c).id, entry: { ...entry, actor: 'acc_x' } }] };
      expect(await rejection(subject.store.withdraw([d], undefined, () => over))).toBeInstanceOf(Error);
      expect(await subject.store.find(d)).toBeDefined();
      expect(await subject.pendingAudit.carried(withdrawalAuditGroup(c))).toEqual([carried(c)]);
    });

    it('two withdrawals asked under one grant id at once each trace what they deleted; one that deleted nothing traces nothing (review L1)', async () => {
      const signIn = () => grant('acc_me', { rar: undefined });
      const [g1, g2, g3] = [id(), id(), id()];
      for (const grantId of [g1, g2]) await subject.saveGrant(grantId, signIn());
      const audit = new InMemoryAudit();
      /** `withdraw` held before it writes and after, each until the test lets it go on. */
      const held = () => {
        const gates = { reached: deferred(), go: deferred() };
        const after = { reached: deferred(), go: deferred() };
        const store: SharingGrants = {
          listOf: (personId) => subject.store.listOf(personId),
          find: (grantId) => subject.store.find(grantId),
          withdraw: async (...args) => {
            gates.reached.resolve();
            await gates.go.promise;
            const saved = await subject.store.withdraw(...args);
            after.reached.resolve();
            await after.go.promise;
            return saved;
          },
        };
        return { store, before: gates, after };
      };
      const request = (store: SharingGrants, grantId: string, requestId: string) =>
        withdrawAuthorization('acc_me', grantId, withdrawing(audit, store), { requestId });
      /** R1 and R2 both past their reads, R1 writes, then R2 goes to its end, then R1 finishes. */
      const interleave = async (grantId: string, between: () => Promise<void>) => {
        const r1 = held();
        const first = request(r1.store, grantId, 'r1');
        await r1.before.reached.promise;
        await between();
        const r2 = held();
        const second = request(r2.store, grantId, 'r2');
        await r2.before.reached.promise;
        r1.before.go.resolve();
        await r1.after.reached.promise;
        r2.before.go.resolve();
        r2.after.go.resolve();
        await second;
        r1.after.go.resolve();
        await first;
      };
      // R1 and R2 both find g1 and list the platform's sign-ins; a new sign-in (g3) comes between the
      // lists. R1 deletes g1, g2 and saves its entry; before it writes it, R2 deletes g3 (g1, g2 refused).
      // Each entry names the grants its own withdrawal deleted, no more: R2's not g1 and g2, R1's.
      await interleave(g1, () => subject.saveGrant(g3, signIn()));
      for (const gone of [g1, g2, g3]) expect(await subject.store.find(gone)).toBeUndefined();
      const traced = audit.entries.map((entry) => [entry.requestId, String(entry.reason).split('grant ')[1]]);
      expect(traced.sort()).toEqual([
        ['r1', expect.stringMatching(new RegExp(`^(${g1} ${g2}|${g2} ${g1}), scopes openid profile$`))],
        ['r2', `${g3}, scopes openid profile`],
      ]);
      expect(await subject.pendingAudit.carried(withdrawalAuditGroup(g1))).toEqual([]);

      // Both find the grants and list the same ones; R1 deletes them all, R2 none: R2 writes no entry of
      // its own (not in place of R1's), and R1's is written once.
      const [g4, g5] = [id(), id()];
      for (const grantId of [g4, g5]) await subject.saveGrant(grantId, signIn());
      await interleave(g4, async () => undefined);
      const forG4 = audit.entries.filter((entry) => String(entry.reason).includes(g4));
      expect(forG4.map((entry) => entry.requestId)).toEqual(['r1']);
    });

    it('a withdrawal whose process is gone after its write: its claim lapses, then traced once by the reconciler or by asking again', async () => {
      const [left, retried] = [id(), id()];
      for (const grantId of [left, retried]) await subject.saveGrant(grantId, grant('acc_me'));
      const audit = new InMemoryAudit();
      const clock = subject.clock;
      // The process ends right after the withdrawal's transaction: nothing after it runs.
      let gone = true;
      const dying: SharingGrants = {
        listOf: (personId) => subject.store.listOf(personId),
        find: (grantId) => subject.store.find(grantId),
        withdraw: async (...args) => {
          const withdrawn = await subject.store.withdraw(...args);
          if (gone) throw new Error('process gone');
          return withdrawn;
        },
      };
      const deps = withdrawing(audit, dying);
      for (const grantId of [left, retried]) {
        await expect(withdrawAuthorization('acc_me', grantId, deps)).rejects.toThrow('process gone');
        expect(await subject.store.find(grantId)).toBeUndefined();
      }
      expect(audit.entries).toEqual([]);
      gone = false;
      const sweep = (minAgeSeconds = 60) =>
        reconcilePendingWork(
          {
            licences: new InMemoryLicenceStore(),
            statusLists: new InMemoryStatusListStore(),
            audit,
            pendingWork: new InMemoryPendingWork(),
            pendingAudit: subject.pendingAudit,
            operatorAudit: new InMemoryPendingWork(),
            accountAudit: new InMemoryPendingWork(),
            providerAudit: new InMemoryPendingWork(),
            clock,
          },
          { minAgeSeconds, limit: 10 },
        );
      // Within the lease the pointers are the gone request's (put claimed): even a sweep of every age
      // leaves them, and asking again answers done (not 404), the entry still theirs to write.
      clock.advanceSeconds(30);
      expect(await sweep(0)).toEqual({ completed: 0, failed: 0, skipped: 2 });
      await withdrawAuthorization('acc_me', retried, deps);
      expect(audit.entries).toEqual([]);
      // Another person asking finds nothing.
      expect(await rejection(withdrawAuthorization('acc_other', retried, deps))).toBeInstanceOf(
        NotFoundError,
      );
      // The lease lapsed: asked again, its entry is written; left alone, the reconciler writes the other.
      clock.advanceSeconds(31);
      await withdrawAuthorization('acc_me', retried, deps);
      const written = () => audit.entries.map((entry) => String(entry.reason).split('grant ')[1]);
      expect(written()).toEqual([`${retried}, types driving-licence`]);
      expect(await sweep()).toEqual({ completed: 1, failed: 0, skipped: 0 });
      expect(written().sort()).toEqual(
        [`${left}, types driving-licence`, `${retried}, types driving-licence`].sort(),
      );
      expect(await sweep()).toEqual({ completed: 0, failed: 0, skipped: 0 });
      // Done and traced: asking again finds nothing, as for any unknown id.
      expect(await rejection(withdrawAuthorization('acc_me', left, deps))).toBeInstanceOf(NotFoundError);
      expect(audit.entries).toHaveLength(2);
    });

    it('the use cases: the list names the platform; only the person’s own can be withdrawn', async () => {
      const mine = id();
      await subject.saveGrant(mine, grant('acc_me'));
      const names = new InMemoryClientNames({ cl_platform: '交管平台' });
      const { items } = await listAuthorizations('acc_me', {
        sharingGrants: subject.store,
        clientNames: names,
        clientReader: noClients,
      });
      expect(items).toEqual([
        expect.objectContaining({
          id: mine,
          kind: 'licence_access',
          client: { id: 'cl_platform', name: '交管平台' },
          scopes: ['openid', 'profile'],
          licenceTypes: ['driving-licence'],
          purpose: '办理车辆登记',
        }),
      ]);
      const audit = new InMemoryAudit();
      const deps = withdrawing(audit);
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

    it('a platform’s sign-ins past what one write holds go in several, each grant named by exactly one entry', async () => {
      // Years of sign-ins: 200 grants of one platform, past two writes' worth (99 grants and the entry each).
      const ids = Array.from({ length: 200 }, () => id());
      for (const [i, grantId] of ids.entries()) {
        await subject.saveGrant(grantId, grant('acc_me', { rar: undefined, iat: now() - 1000 + i }));
      }
      const audit = new InMemoryAudit();
      const deps = withdrawing(audit);
      await withdrawAuthorization('acc_me', ids[0]!, deps, { requestId: 'r-many' });
      expect(await subject.store.listOf('acc_me')).toEqual([]);
      expect(audit.entries).toHaveLength(3);
      expect(namedGrants(audit.entries).sort()).toEqual([...ids].sort());
      expect(await subject.pendingAudit.carried(withdrawalAuditGroup(ids[0]!))).toEqual([]);
      // Each entry says which part of how many it is, and of which withdrawal: a supervisor tells from
      // the trail alone that all three are there (part 1 the oldest grants, written first).
      const withdrawal = audit.entries[0]!.withdrawal;
      expect(withdrawal).toEqual(expect.any(String));
      const byPart = [...audit.entries].sort((a, b) => a.part! - b.part!);
      expect(byPart.map(({ withdrawal: of, part, parts }) => ({ of, part, parts }))).toEqual([
        { of: withdrawal, part: 1, parts: 3 },
        { of: withdrawal, part: 2, parts: 3 },
        { of: withdrawal, part: 3, parts: 3 },
      ]);
      expect(namedGrants(byPart)).toEqual(ids.slice(1).concat(ids[0]!));
    });

    describe('a platform with an events endpoint, its sign-ins past what one write holds (review R17 M3)', () => {
      /** The platform registered `events_uri`: each withdrawal of its grants is to be told. */
      const toldClients = {
        find: async (clientId: string) =>
          clientId === 'cl_platform'
            ? { client_id: 'cl_platform', events_uri: 'https://platform.example/events' }
            : undefined,
      };
      /** 200 sign-ins (three writes' worth), the older ones holding the ID number, the newer not. */
      async function yearsOfSignIns(): Promise<Map<string, string[]>> {
        const scopes = new Map<string, string[]>();
        for (let i = 0; i < 200; i++) {
          const held = i < 60 ? ['openid', 'profile', 'idcard'] : ['openid', 'profile', 'offline_access'];
          const grantId = id();
          await subject.saveGrant(
            grantId,
            grant('acc_me', { rar: undefined, openid: { scope: held.join(' ') }, iat: now() - 1000 + i }),
          );
          scopes.set(grantId, held);
        }
        return scopes;
      }
      /** Every grant withdrawn is in exactly one queued notice, which holds its scopes and no others. */
      async function toldOnceEach(scopes: Map<string, string[]>) {
        const queued = await allDue(subject.notices);
        const told = queued.flatMap((queuedNotice) => queuedNotice.grantIds);
        expect(told.sort()).toEqual([...scopes.keys()].sort());
        for (const queuedNotice of queued) {
          expect(queuedNotice).toMatchObject({
            clientId: 'cl_platform',
            subject: 'pairwise-sub',
            event: 'sign-in-withdrawn',
            id: noticeIdOf({ ...queuedNotice, grantIds: queuedNotice.grantIds }),
          });
          const held = new Set(queuedNotice.grantIds.flatMap((grantId) => scopes.get(grantId)!));
          expect([...queuedNotice.scopes].sort()).toEqual([...held].sort());
          // One write's worth (100 items, less the notice's): queued by the write that deleted its grants.
          expect(queuedNotice.grantIds.length).toBeLessThanOrEqual(99);
        }
        // The ID number, held only by the older sign-ins, is among what the platform is told of.
        expect(queued.some((queuedNotice) => queuedNotice.scopes.includes('idcard'))).toBe(true);
        return queued;
      }
      const ways = {
        'withdrawing the authorization': (sharingGrants: SharingGrants, asked: string) =>
          withdrawAuthorization('acc_me', asked, {
            ...withdrawing(new InMemoryAudit(), sharingGrants),
            clientReader: toldClients,
          }),
        'withdrawing every authorization (closing the account)': (sharingGrants: SharingGrants) =>
          withdrawEveryAuthorization('acc_me', {
            sharingGrants,
            clientReader: toldClients,
            clock: subject.clock,
            ...noNotices(),
          }).then(() => undefined),
      };
      for (const [way, withdrawAll] of Object.entries(ways)) {
        it(`${way}: the last write failing once, then asked again: every grant told, in one notice`, async () => {
          const scopes = await yearsOfSignIns();
          const asked = [...scopes.keys()].at(-1)!;
          // Three writes: the first two done, the last (the grant asked for among its own) fails once.
          await expect(withdrawAll(subject.failingOnce(3), asked)).rejects.toThrow('injected');
          expect((await subject.store.listOf('acc_me')).length).toBeGreaterThan(0);
          await withdrawAll(subject.store, asked);
          expect(await subject.store.listOf('acc_me')).toEqual([]);
          await toldOnceEach(scopes);
        });

        it(`${way}: done at once, every grant in exactly one notice, one per write`, async () => {
          const scopes = await yearsOfSignIns();
          await withdrawAll(subject.store, [...scopes.keys()].at(-1)!);
          expect(await toldOnceEach(scopes)).toHaveLength(3);
        });
      }
    });

    it('a platform’s sign-ins are one authorization with what they hold; withdrawing it ends them all', async () => {
      const [older, newer, share, wallet, elsewhere] = [id(), id(), id(), id(), id()];
      const signIn = (scope: string, iat: number) =>
        grant('acc_me', { rar: undefined, openid: { scope }, iat });
      await subject.saveGrant(older, signIn('openid profile idcard', now() - 100));
      await subject.saveGrant(newer, signIn('openid profile offline_access', now() - 50));
      await subject.saveGrant(share, grant('acc_me', { iat: now() - 10 }));
      // The wallet signs the person in without a consent page: not a platform they let in.
      await subject.saveGrant(wallet, grant('acc_me', { clientId: walletClientId, rar: undefined }));
      await subject.saveGrant(
        elsewhere,
        grant('acc_me', { clientId: 'cl_other', rar: undefined, iat: now() - 80 }),
      );
      const [refreshOlder, refreshNewer, shareToken] = [id(), id(), id()];
      await subject.saveToken(refreshOlder, older);
      await subject.saveToken(refreshNewer, newer);
      await subject.saveToken(shareToken, share);
      const names = new InMemoryClientNames({ cl_platform: '交管平台', cl_other: '社保平台' });
      const deps = { sharingGrants: subject.store, clientNames: names, clientReader: noClients };
      const { items } = await listAuthorizations('acc_me', deps);
      expect(items.map((item) => [item.kind, item.client.name])).toEqual([
        ['licence_access', '交管平台'],
        ['sign_in', '交管平台'],
        ['sign_in', '社保平台'],
      ]);
      expect(items[1]).toMatchObject({
        id: newer,
        scopes: ['openid', 'profile', 'offline_access', 'idcard'],
        licenceTypes: [],
      });
      expect(items[1]).not.toHaveProperty('purpose');
      const audit = new InMemoryAudit();
      const withdrawing = {
        ...deps,
        audit,
        clock: new TestClock(),
        pendingAudit: subject.pendingAudit,
        ...noNotices(),
      };
      expect(await rejection(withdrawAuthorization('acc_me', wallet, withdrawing))).toBeInstanceOf(
        NotFoundError,
      );
      await withdrawAuthorization('acc_me', newer, withdrawing);
      for (const gone of [older, newer]) expect(await subject.store.find(gone)).toBeUndefined();
      expect(await subject.tokenExists(refreshOlder)).toBe(false);
      expect(await subject.tokenExists(refreshNewer)).toBe(false);
      // The share with the same platform, the other platform's sign-in and the wallet's stay.
      expect(await subject.tokenExists(shareToken)).toBe(true);
      for (const kept of [share, wallet, elsewhere]) expect(await subject.store.find(kept)).toBeDefined();
      expect(audit.entries).toEqual([
        expect.objectContaining({
          action: 'authorization.withdrawn',
          reason: expect.stringMatching(/scopes /),
        }),
      ]);
    });
  });
}
