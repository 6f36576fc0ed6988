import { compactVerify, importJWK } from 'jose';
import { describe, expect, it, vi } from 'vitest';
import { withdrawAuthorization } from '../../../shared/sharing/authorizations.js';
import {
  deliverDueNotices,
  noticeOfPart,
  retryDelaySeconds,
  withdrawalNotice,
  type NoticeDelivery,
  type NoticeQueueing,
} from '../../../shared/sharing/withdrawal-notices.js';
import { InMemoryAudit, TestClock } from '../../support/in-memory-identity.js';
import { InMemoryNoticeQueue, InMemorySharingGrants } from '../../support/in-memory-sharing.js';
import { LocalSigner } from '../../support/local-signer.js';
import { filterPatternMatches as matches, loggedLines } from '../../support/logged-lines.js';
import { operationsFilterPatterns } from '../../../infra/constructs/operations-alarms.js';

const withEndpoint = { events_uri: 'https://platform.example/events' };
const retry = { baseDelaySeconds: 60, maxDelaySeconds: 6 * 3600, maxAttempts: 3 };

/** A delivery whose sender answers with `outcome` (throws to refuse) and records what it was given. */
function delivery(outcome: () => void, metadata: Record<string, unknown> | undefined = withEndpoint) {
  const sent: Array<{ uri: string; token: string }> = [];
  const deps: NoticeDelivery = {
    notices: new InMemoryNoticeQueue(),
    clientReader: { find: async () => metadata as never },
    signer: new LocalSigner(),
    sender: {
      send: async (uri, token) => {
        sent.push({ uri, token });
        outcome();
      },
    },
    issuerUrl: 'https://id.example',
    clock: new TestClock(),
    retry,
  };
  return { deps, sent, queue: deps.notices as InMemoryNoticeQueue, clock: deps.clock as TestClock };
}

/** Queues the notice of `withdrawal` as the withdrawal's own write would (`SharingGrants.withdraw`). */
async function queueWithdrawalNotice(
  given: typeof withdrawal,
  deps: NoticeQueueing & Pick<NoticeDelivery, 'notices'>,
): Promise<void> {
  const notice = await withdrawalNotice(given, deps);
  if (notice) await deps.notices.enqueue(notice, deps.clock.now());
}

const withdrawal = {
  clientId: 'cl_p',
  accountId: 'acc_person',
  event: 'share-withdrawn' as const,
  grantIds: ['g1'],
  licenceTypes: ['driving-licence'],
  scopes: ['openid'],
};

describe('withdrawal notices', () => {
  it('are queued only for a platform with an events endpoint, naming the person by the pairwise sub', async () => {
    const { deps, queue } = delivery(() => undefined, { client_id: 'cl_p' });
    const subjectAt = async (accountId: string, clientId: string) => `sub-of-${accountId}-at-${clientId}`;
    await queueWithdrawalNotice(withdrawal, { ...deps, subjectAt });
    expect(queue.pending.size).toBe(0);
    const told = delivery(() => undefined);
    await queueWithdrawalNotice(withdrawal, { ...told.deps, subjectAt });
    expect([...told.queue.pending.values()]).toEqual([
      expect.objectContaining({ clientId: 'cl_p', subject: 'sub-of-acc_person-at-cl_p', attempts: 0 }),
    ]);
  });

  it('are never lost: a notice that cannot be queued withdraws nothing, and asking again queues one', async () => {
    const { deps } = delivery(() => undefined);
    const clock = deps.clock as TestClock;
    // The table refuses the notice once (unreachable, throttled): the grant's deletion is the same write.
    const queue = new InMemoryNoticeQueue();
    let refusals = 1;
    const enqueue = queue.enqueue.bind(queue);
    queue.enqueue = (notice, now) =>
      refusals-- > 0 ? Promise.reject(new Error('table unreachable')) : enqueue(notice, now);
    const sharingGrants = new InMemorySharingGrants(clock, queue);
    sharingGrants.saveGrant('g1', {
      clientId: 'cl_p',
      accountId: 'acc_person',
      openid: { scope: 'openid' },
      rar: [{ type: 'licence_access', licence_types: ['driving-licence'], purpose: '办理业务' }],
      iat: Math.floor(clock.now() / 1000),
    });
    const withdrawing = {
      sharingGrants,
      clientReader: deps.clientReader,
      audit: new InMemoryAudit(),
      clock,
      pendingAudit: sharingGrants.pendingAudit,
      notices: queue,
      subjectAt: async () => 'sub-1',
    };
    await expect(withdrawAuthorization('acc_person', 'g1', withdrawing)).rejects.toThrow('table unreachable');
    // Not withdrawn without its notice: the share is still there, listed, to be withdrawn again.
    expect(await sharingGrants.find('g1')).toBeDefined();
    expect(queue.pending.size).toBe(0);
    await withdrawAuthorization('acc_person', 'g1', withdrawing);
    expect(await sharingGrants.find('g1')).toBeUndefined();
    expect([...queue.pending.values()]).toEqual([
      expect.objectContaining({
        clientId: 'cl_p',
        subject: 'sub-1',
        event: 'share-withdrawn',
        grantIds: ['g1'],
      }),
    ]);
  });

  it('have an id the same withdrawal always makes, and another withdrawal never', async () => {
    const { deps } = delivery(() => undefined);
    const made = () => withdrawalNotice(withdrawal, { ...deps, subjectAt: async () => 's' });
    const first = await made();
    expect(first!.id).toMatch(/^evt_[\w-]{27}$/);
    expect((await made())!.id).toBe(first!.id);
    const other = await withdrawalNotice(
      { ...withdrawal, grantIds: ['g2'] },
      { ...deps, subjectAt: async () => 's' },
    );
    expect(other!.id).not.toBe(first!.id);
  });

  it('of one write of a withdrawal: its grants and scopes, an id of its own, the whole’s when it is all', async () => {
    const { deps } = delivery(() => undefined);
    const signIns = { ...withdrawal, event: 'sign-in-withdrawn' as const, grantIds: ['g1', 'g2', 'g3'] };
    const whole = (await withdrawalNotice(signIns, { ...deps, subjectAt: async () => 's' }))!;
    const first = noticeOfPart(whole, { grantIds: ['g1'], scopes: ['openid', 'idcard'] });
    expect(first).toEqual({ ...whole, id: first.id, grantIds: ['g1'], scopes: ['openid', 'idcard'] });
    const rest = noticeOfPart(whole, { grantIds: ['g3', 'g2'], scopes: ['openid'] });
    expect(new Set([whole.id, first.id, rest.id]).size).toBe(3);
    // Every grant in one write: the same notice as the whole, its id unchanged.
    expect(noticeOfPart(whole, { grantIds: ['g3', 'g1', 'g2'], scopes: whole.scopes }).id).toBe(whole.id);
  });

  it('are signed ES256 with typ secevent+jwt, and retried with a doubling wait, then abandoned', async () => {
    const { deps, sent, queue, clock } = delivery(() => {
      throw new Error('the events endpoint answered 503');
    });
    await queueWithdrawalNotice(withdrawal, { ...deps, subjectAt: async () => 'sub-1' });
    expect(await deliverDueNotices(deps)).toEqual({ delivered: 0, retried: 1, abandoned: 0 });
    const key = await importJWK(await deps.signer.publicJwk(), 'ES256');
    const { protectedHeader } = await compactVerify(sent[0]!.token, key);
    expect(protectedHeader).toMatchObject({ alg: 'ES256', typ: 'secevent+jwt' });
    // Not due before its wait (60 s), then 120 s, then given up after the third attempt.
    clock.advanceSeconds(59);
    expect(await deliverDueNotices(deps)).toEqual({ delivered: 0, retried: 0, abandoned: 0 });
    clock.advanceSeconds(1);
    expect(await deliverDueNotices(deps)).toEqual({ delivered: 0, retried: 1, abandoned: 0 });
    clock.advanceSeconds(retryDelaySeconds(2, retry));
    expect(await deliverDueNotices(deps)).toEqual({ delivered: 0, retried: 0, abandoned: 1 });
    expect(sent).toHaveLength(3);
    expect([...queue.abandoned.values()][0]).toMatchObject({
      attempts: 3,
      lastError: expect.stringContaining('503'),
    });
    expect(retryDelaySeconds(20, retry)).toBe(6 * 3600);
  });

  it('are dropped, not sent, when the platform no longer has an events endpoint', async () => {
    const { deps, sent, queue } = delivery(() => undefined);
    await queueWithdrawalNotice(withdrawal, { ...deps, subjectAt: async () => 's' });
    const gone = { ...deps, clientReader: { find: async () => undefined } };
    expect(await deliverDueNotices(gone)).toEqual({ delivered: 0, retried: 0, abandoned: 1 });
    expect(sent).toEqual([]);
    expect(queue.pending.size).toBe(0);
  });

  it('count an attempt before it is made, so a round cut short still moves the notice on', async () => {
    // The platform never answers and the round never ends: the function is killed at its time limit.
    const { deps, sent, queue, clock } = delivery(() => undefined);
    const hanging = {
      ...deps,
      sender: {
        send: (uri: string, token: string) => {
          sent.push({ uri, token });
          return new Promise<void>(() => undefined);
        },
      },
    };
    await queueWithdrawalNotice(withdrawal, { ...deps, subjectAt: async () => 's' });
    for (const [round, wait] of [
      [1, 0],
      [2, 60],
      [3, 120],
    ] as const) {
      clock.advanceSeconds(wait);
      void deliverDueNotices(hanging);
      await vi.waitFor(() => expect(sent).toHaveLength(round));
      // Already due later, with the attempt counted: the next round starts with other platforms' notices.
      const [stored] = [...queue.pending.values()];
      expect(stored).toMatchObject({
        attempts: round,
        dueAt: clock.now() + retryDelaySeconds(round, retry) * 1000,
      });
      expect(await deps.notices.due(clock.now(), 10)).toEqual([]);
    }
    // Every attempt used up: the next round gives up on it without posting again.
    clock.advanceSeconds(retryDelaySeconds(3, retry));
    expect(await deliverDueNotices(hanging)).toEqual({ delivered: 0, retried: 0, abandoned: 1 });
    expect(sent).toHaveLength(3);
    expect([...queue.abandoned.values()][0]).toMatchObject({
      attempts: 3,
      lastError: expect.stringContaining('no answer'),
    });
  });

  it('are delivered once, and leave the queue, when the platform accepts them', async () => {
    const { deps, sent, queue, clock } = delivery(() => undefined);
    await queueWithdrawalNotice(withdrawal, { ...deps, subjectAt: async () => 's' });
    expect(await deliverDueNotices(deps)).toEqual({ delivered: 1, retried: 0, abandoned: 0 });
    clock.advanceSeconds(3600);
    expect(await deliverDueNotices(deps)).toEqual({ delivered: 0, retried: 0, abandoned: 0 });
    expect(sent).toHaveLength(1);
    expect(queue.pending.size).toBe(0);
  });

  it('log each notice given up on with the line the stack’s NoticesAbandoned alarm counts, and no other', async () => {
    const { deps, clock } = delivery(() => {
      throw new Error('the events endpoint answered 503');
    });
    await queueWithdrawalNotice(withdrawal, { ...deps, subjectAt: async () => 'sub-1' });
    const pattern = operationsFilterPatterns.noticesAbandoned.logPatternString;
    const counted = async () =>
      (await loggedLines(() => deliverDueNotices(deps))).filter((line) => matches(pattern, line));
    expect(await counted()).toEqual([]);
    clock.advanceSeconds(retryDelaySeconds(1, retry));
    expect(await counted()).toEqual([]);
    clock.advanceSeconds(retryDelaySeconds(2, retry));
    expect(await counted()).toHaveLength(1);
  });
});
