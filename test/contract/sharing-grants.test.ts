import { DynamoNoticeQueue } from '../../shared/adapters/dynamo/notice-queue.js';
import { DynamoPendingWork } from '../../shared/adapters/dynamo/pending-work.js';
import { DynamoSharingGrants } from '../../shared/adapters/dynamo/sharing-grants.js';
import { createDynamoAdapter } from '../../shared/adapters/dynamo/oidc-adapter.js';
import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { NotFoundError } from '../../shared/errors.js';
import { withdrawAuthorization } from '../../shared/sharing/authorizations.js';
import { InMemoryAudit, TestClock } from '../support/in-memory-identity.js';
import { systemClock } from '../../shared/clock.js';
import { InMemorySharingGrants } from '../support/in-memory-sharing.js';
import { sharingGrantsContract } from './sharing-grants.contract.js';
import { nothingToClean, useDynamo } from './subject.js';

const dynamo = useDynamo();

sharingGrantsContract('InMemorySharingGrants', async () => {
  const store = new InMemorySharingGrants();
  return {
    store,
    notices: store.notices,
    pendingAudit: store.pendingAudit,
    saveGrant: async (id, grant) => store.saveGrant(id, grant),
    saveToken: async (tokenId, grantId) => store.saveToken(tokenId, grantId),
    tokenExists: async (tokenId) => store.tokenExists(tokenId),
    cleanup: nothingToClean,
  };
});

sharingGrantsContract('DynamoSharingGrants on dynalite (the provider’s own storage)', async () => {
  const { doc, tableName } = await dynamo.newTable();
  const deps = { doc, tableName, clock: systemClock };
  const Adapter = createDynamoAdapter(deps);
  const grants = new Adapter('Grant');
  const tokens = new Adapter('AccessToken');
  const now = () => Math.floor(Date.now() / 1000);
  return {
    store: new DynamoSharingGrants(deps),
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
    await expect(store.withdraw(['g-atomic'], tooLarge)).rejects.toThrow();
    expect(await store.find('g-atomic')).toBeDefined();
    expect(await queue.due(Date.now() + 60_000, 10)).toEqual([]);
    await store.withdraw(['g-atomic'], { ...tooLarge, scopes: ['openid'] });
    expect(await store.find('g-atomic')).toBeUndefined();
    expect((await queue.due(Date.now() + 60_000, 10)).map((n) => n.id)).toEqual(['evt_large']);
  });
});

describe('DynamoSharingGrants: a platform’s sign-ins past what one transaction holds (98 grants)', () => {
  it('a withdrawal whose last transaction fails is completed by asking again: 204, its entry written once', async () => {
    const { doc, tableName } = await dynamo.newTable();
    const clock = new TestClock(Date.now());
    // The withdrawal's own transaction fails once (throttled, a conflict): everything before it is done.
    let failTransactions = 1;
    const faulty = Object.create(doc) as typeof doc;
    faulty.send = ((command: unknown) => {
      if (command instanceof TransactWriteCommand && failTransactions > 0) {
        failTransactions -= 1;
        return Promise.reject(new Error('injected: the transaction failed'));
      }
      return doc.send(command as never);
    }) as typeof doc.send;
    const deps = { doc: faulty, tableName, clock };
    const grants = new (createDynamoAdapter(deps))('Grant');
    const now = Math.floor(Date.now() / 1000);
    // Years of sign-ins: 100 grants of one platform for one account, the oldest first.
    const ids = Array.from({ length: 100 }, (_, i) => `g-many-${String(i).padStart(3, '0')}`);
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
    const store = new DynamoSharingGrants(deps);
    const audit = new InMemoryAudit();
    const withdrawing = {
      sharingGrants: store,
      clientReader: { find: async () => undefined },
      audit,
      clock,
      pendingAudit: new DynamoPendingWork(doc, tableName, 'withdrawals'),
      subjectAt: async () => 'pairwise-sub',
    };
    // Asked under the grant the provider lists first: any of a platform's sign-ins withdraws them all.
    const asked = (await store.listOf('acc_me'))[0]!.id;
    await expect(withdrawAuthorization('acc_me', asked, withdrawing)).rejects.toThrow('injected');
    expect(audit.entries).toEqual([]);
    // Asked again: done (never 404 with grants left and nothing traced), every grant gone, one entry.
    await withdrawAuthorization('acc_me', asked, withdrawing);
    expect(await store.listOf('acc_me')).toEqual([]);
    expect(audit.entries).toEqual([
      expect.objectContaining({ action: 'authorization.withdrawn', reason: expect.stringContaining(asked) }),
    ]);
    await expect(withdrawAuthorization('acc_me', asked, withdrawing)).rejects.toBeInstanceOf(NotFoundError);
    expect(audit.entries).toHaveLength(1);
  });
});
