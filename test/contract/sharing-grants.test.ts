import { DynamoNoticeQueue } from '../../shared/adapters/dynamo/notice-queue.js';
import { DynamoPendingWork } from '../../shared/adapters/dynamo/pending-work.js';
import { DynamoSharingGrants } from '../../shared/adapters/dynamo/sharing-grants.js';
import { createDynamoAdapter, oidcItemKey } from '../../shared/adapters/dynamo/oidc-adapter.js';
import { reconcilePendingWork } from '../../shared/reconciler/reconcile-pending-work.js';
import {
  InMemoryLicenceStore,
  InMemoryPendingWork,
  InMemoryStatusListStore,
} from '../support/in-memory-licence.js';
import { DeleteCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { NotFoundError } from '../../shared/errors.js';
import {
  withdrawAuthorization,
  withdrawalAuditGroup,
  type SharingGrants,
} from '../../shared/sharing/authorizations.js';
import { InMemoryAudit, TestClock } from '../support/in-memory-identity.js';
import { systemClock } from '../../shared/clock.js';
import { InMemorySharingGrants } from '../support/in-memory-sharing.js';
import { namedGrants, sharingGrantsContract } from './sharing-grants.contract.js';
import { nothingToClean, useDynamo } from './subject.js';

const dynamo = useDynamo();

/** The grants a command deletes: alone (a DeleteItem), or among a transaction's. */
function grantKeys(command: unknown): string[] {
  if (command instanceof TransactWriteCommand) {
    return (command.input.TransactItems ?? []).flatMap((item) =>
      item.Delete ? [String(item.Delete.Key?.pk)] : [],
    );
  }
  return command instanceof DeleteCommand && String(command.input.Key?.pk).includes('Grant')
    ? [String(command.input.Key?.pk)]
    : [];
}

sharingGrantsContract('InMemorySharingGrants', async () => {
  const clock = new TestClock(Date.now());
  const store = new InMemorySharingGrants(clock);
  return {
    store,
    clock,
    notices: store.notices,
    pendingAudit: store.pendingAudit,
    saveGrant: async (id, grant) => store.saveGrant(id, grant),
    saveToken: async (tokenId, grantId) => store.saveToken(tokenId, grantId),
    tokenExists: async (tokenId) => store.tokenExists(tokenId),
    failingOnce: (nth) => {
      let writes = 0;
      store.beforeWrite = () => {
        if (++writes === nth) throw new Error('injected: the transaction failed');
      };
      return store;
    },
    cleanup: nothingToClean,
  };
});

sharingGrantsContract('DynamoSharingGrants on dynalite (the provider’s own storage)', async () => {
  const { doc, tableName } = await dynamo.newTable();
  const clock = new TestClock(Date.now());
  const deps = { doc, tableName, clock };
  const Adapter = createDynamoAdapter(deps);
  const grants = new Adapter('Grant');
  const tokens = new Adapter('AccessToken');
  const now = () => Math.floor(clock.now() / 1000);
  return {
    store: new DynamoSharingGrants(deps),
    clock,
    notices: new DynamoNoticeQueue(doc, tableName),
    pendingAudit: new DynamoPendingWork(doc, tableName, 'withdrawals'),
    // As the provider saves them: the payload, and the seconds it has left.
    saveGrant: (id, grant) =>
      grants.upsert(
        id,
        { ...grant, jti: id, kind: 'Grant' } as never,
        typeof grant.exp === 'number' ? grant.exp - now() : 600,
      ),
    saveToken: (tokenId, grantId) =>
      tokens.upsert(tokenId, { jti: tokenId, kind: 'AccessToken', grantId, exp: now() + 600 } as never, 600),
    tokenExists: async (tokenId) => (await tokens.find(tokenId)) !== undefined,
    failingOnce: (nth) => {
      let writes = 0;
      const through = Object.create(doc) as typeof doc;
      through.send = ((command: unknown) =>
        grantKeys(command).length > 0 && ++writes === nth
          ? Promise.reject(new Error('injected: the transaction failed'))
          : doc.send(command as never)) as typeof doc.send;
      return new DynamoSharingGrants({ ...deps, doc: through });
    },
    cleanup: nothingToClean,
  };
});

describe('DynamoSharingGrants: the grants and their notice are one write', () => {
  it('leaves the grant in place when the notice cannot be written', async () => {
    const { doc, tableName } = await dynamo.newTable();
    const deps = { doc, tableName, clock: systemClock };
    const grants = new (createDynamoAdapter(deps))('Grant');
    const now = Math.floor(Date.now() / 1000);
    await grants.upsert(
      'g-atomic',
      {
        jti: 'g-atomic',
        kind: 'Grant',
        accountId: 'acc_me',
        clientId: 'cl_p',
        iat: now,
        exp: now + 600,
      } as never,
      600,
    );
    const store = new DynamoSharingGrants(deps);
    const queue = new DynamoNoticeQueue(doc, tableName);
    // Over DynamoDB's 400 KB item limit: the transaction is refused whole.
    const tooLarge = {
      id: 'evt_large',
      clientId: 'cl_p',
      subject: 's',
      event: 'sign-in-withdrawn' as const,
      grantIds: ['g-atomic'],
      licenceTypes: [],
      scopes: ['x'.repeat(410_000)],
      withdrawnAt: now,
    };
    await expect(store.withdraw(['g-atomic'], () => tooLarge)).rejects.toThrow();
    expect(await store.find('g-atomic')).toBeDefined();
    expect(await queue.due(Date.now() + 60_000, 10)).toEqual([]);
    await store.withdraw(['g-atomic'], () => ({ ...tooLarge, scopes: ['openid'] }));
    expect(await store.find('g-atomic')).toBeUndefined();
    expect((await queue.due(Date.now() + 60_000, 10)).map((n) => n.id)).toEqual(['evt_large']);
  });
});

describe('DynamoSharingGrants: a platform’s sign-ins past what one transaction holds (99 grants)', () => {
  /** A table with `count` sign-ins of one platform for one account, the oldest first. */
  async function manySignIns(count: number) {
    const { doc, tableName } = await dynamo.newTable();
    const clock = new TestClock(Date.now());
    const grants = new (createDynamoAdapter({ doc, tableName, clock }))('Grant');
    const now = Math.floor(Date.now() / 1000);
    const ids = Array.from({ length: count }, (_, i) => `g-many-${String(i).padStart(3, '0')}`);
    for (const [i, grantId] of ids.entries()) {
      await grants.upsert(
        grantId,
        {
          jti: grantId,
          kind: 'Grant',
          accountId: 'acc_me',
          clientId: 'cl_p',
          openid: { scope: 'openid profile' },
          iat: now - 1000 + i,
          exp: now + 600,
        } as never,
        600,
      );
    }
    const audit = new InMemoryAudit();
    const pendingAudit = new DynamoPendingWork(doc, tableName, 'withdrawals');
    /** A request's dependencies, its grants' writes through `send` (the table's client by default). */
    const withdrawing = (send: typeof doc.send = doc.send.bind(doc)) => {
      const through = Object.create(doc) as typeof doc;
      through.send = send;
      return {
        sharingGrants: new DynamoSharingGrants({ doc: through, tableName, clock }),
        clientReader: { find: async () => undefined },
        audit,
        clock,
        pendingAudit,
        subjectAt: async () => 'pairwise-sub',
      };
    };
    const sweep = () =>
      reconcilePendingWork(
        {
          licences: new InMemoryLicenceStore(),
          statusLists: new InMemoryStatusListStore(),
          audit,
          pendingWork: new InMemoryPendingWork(),
          pendingAudit,
          operatorAudit: new InMemoryPendingWork(),
          accountAudit: new InMemoryPendingWork(),
          providerAudit: new InMemoryPendingWork(),
          clock,
        },
        { minAgeSeconds: 60, limit: 10 },
      );
    // Asked under the grant the provider lists first: any of a platform's sign-ins withdraws them all.
    const asked = (await new DynamoSharingGrants({ doc, tableName, clock }).listOf('acc_me'))[0]!.id;
    return { doc, tableName, clock, ids, audit, withdrawing, sweep, asked };
  }

  it('the last write failing once: every grant named by exactly one entry, by asking again and the reconciler', async () => {
    const { doc, clock, ids, audit, withdrawing, sweep, asked } = await manySignIns(100);
    const askedKey = oidcItemKey('Grant', asked).pk;
    // The write that deletes the grant asked for (the last) fails once (throttled, a conflict): every
    // write before it is done.
    let failures = 1;
    const faulty = withdrawing(((command: unknown) => {
      if (failures > 0 && command instanceof TransactWriteCommand && grantKeys(command).includes(askedKey)) {
        failures -= 1;
        return Promise.reject(new Error('injected: the transaction failed'));
      }
      return doc.send(command as never);
    }) as typeof doc.send);
    await expect(withdrawAuthorization('acc_me', asked, faulty)).rejects.toThrow('injected');
    expect(audit.entries).toEqual([]);
    // Asked again: done (never 404 with grants left), every grant gone, the rest traced.
    await withdrawAuthorization('acc_me', asked, faulty);
    expect(await faulty.sharingGrants.listOf('acc_me')).toEqual([]);
    // The first write's entry, its request gone, is the reconciler's once its claim lapsed.
    clock.advanceSeconds(61);
    expect(await sweep()).toEqual({ completed: 1, failed: 0, skipped: 0 });
    expect(namedGrants(audit.entries).sort()).toEqual(ids);
    await expect(withdrawAuthorization('acc_me', asked, faulty)).rejects.toBeInstanceOf(NotFoundError);
    expect(namedGrants(audit.entries)).toHaveLength(100);
  });

  it('two withdrawals at once, one’s first writes before the other’s: every grant named by exactly one entry', async () => {
    const { doc, ids, audit, withdrawing, asked } = await manySignIns(101);
    // A's grants' writes: after its first, it waits until B has finished its whole withdrawal.
    let bDone!: () => void;
    const bFinished = new Promise<void>((resolve) => (bDone = resolve));
    let aWrites = 0;
    const a = withdrawing((async (command: unknown) => {
      if (grantKeys(command).length > 0 && ++aWrites === 2) await bFinished;
      return doc.send(command as never);
    }) as typeof doc.send);
    const first = withdrawAuthorization('acc_me', asked, a, { requestId: 'a' });
    while (aWrites < 2) await new Promise((resolve) => setTimeout(resolve, 5));
    await withdrawAuthorization('acc_me', asked, withdrawing(), { requestId: 'b' });
    bDone();
    await first;
    expect(await a.sharingGrants.listOf('acc_me')).toEqual([]);
    expect(namedGrants(audit.entries).sort()).toEqual(ids);
  });
});

describe('A withdrawal’s pointer is put claimed from its write, not from the request’s start (review)', () => {
  const grant = (clock: TestClock) => ({
    jti: 'g-slow',
    kind: 'Grant',
    accountId: 'acc_me',
    clientId: 'cl_p',
    rar: [{ type: 'licence_access', licence_types: ['driving-licence'], purpose: '办理业务' }],
    iat: Math.floor(clock.now() / 1000),
    exp: Math.floor(clock.now() / 1000) + 600,
  });
  const subjects = {
    InMemorySharingGrants: async (clock: TestClock) => {
      const store = new InMemorySharingGrants(clock);
      store.saveGrant('g-slow', grant(clock));
      return { store, pendingAudit: store.pendingAudit };
    },
    DynamoSharingGrants: async (clock: TestClock) => {
      const { doc, tableName } = await dynamo.newTable();
      await new (createDynamoAdapter({ doc, tableName, clock }))('Grant').upsert(
        'g-slow',
        grant(clock) as never,
        600,
      );
      const pendingAudit = new DynamoPendingWork(doc, tableName, 'withdrawals');
      return { store: new DynamoSharingGrants({ doc, tableName, clock }), pendingAudit };
    },
  };
  for (const [name, make] of Object.entries(subjects)) {
    it(`${name}: a write made 50 s into the request holds its claim a full lease from then`, async () => {
      const clock = new TestClock(Date.now());
      const { store, pendingAudit } = await make(clock);
      // Revoking the tokens takes 50 s (a platform's sign-ins of years); the process is gone after the write.
      const slow: SharingGrants = {
        listOf: (personId) => store.listOf(personId),
        find: (grantId) => store.find(grantId),
        withdraw: async (...args) => {
          clock.advanceSeconds(50);
          await store.withdraw(...args);
          throw new Error('process gone');
        },
      };
      const deps = {
        sharingGrants: slow,
        clientReader: { find: async () => undefined },
        audit: new InMemoryAudit(),
        clock,
        pendingAudit,
        subjectAt: async () => 'pairwise-sub',
      };
      await expect(withdrawAuthorization('acc_me', 'g-slow', deps)).rejects.toThrow('process gone');
      const [carried] = await pendingAudit.carried(withdrawalAuditGroup('g-slow'));
      // 70 s after the request began, 20 s after its write: the claim is still the request's.
      clock.advanceSeconds(20);
      expect(await pendingAudit.claim(carried!.id, new Date(clock.now()))).toBeUndefined();
      // Past a lease from the write: lapsed, anyone's.
      clock.advanceSeconds(41);
      expect(await pendingAudit.claim(carried!.id, new Date(clock.now()))).toBeDefined();
    });
  }
});
