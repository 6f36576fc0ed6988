import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NoticeQueue, WithdrawalNotice } from '../../shared/sharing/withdrawal-notices.js';
import type { Make } from './subject.js';

const notice = (id: string): WithdrawalNotice => ({
  id,
  clientId: 'cl_platform',
  subject: 'pairwise-sub',
  event: 'share-withdrawn',
  grantIds: ['grant-1'],
  licenceTypes: ['driving-licence'],
  scopes: ['openid', 'profile'],
  withdrawnAt: 1_800_000_000,
});

const t0 = Date.parse('2026-12-06T08:00:00.000Z');

/**
 * The {@link NoticeQueue} contract: a notice is due from when it is queued, oldest first; a retry moves it
 * to a later time with its attempts counted; delivered and abandoned ones are never due again; a notice
 * another delivery already moved on is left alone.
 */
export function noticeQueueContract(name: string, make: Make<{ store: NoticeQueue }>): void {
  describe(`NoticeQueue contract: ${name}`, () => {
    let queue: NoticeQueue;
    let cleanup: () => Promise<void>;
    beforeEach(async () => {
      ({ store: queue, cleanup } = await make());
    });
    afterEach(() => cleanup());

    it('answers the notices due, oldest first, whole, and not those queued later', async () => {
      await queue.enqueue(notice('evt_b'), t0 + 1);
      await queue.enqueue(notice('evt_a'), t0);
      await queue.enqueue(notice('evt_later'), t0 + 60_000);
      const due = await queue.due(t0 + 1, 10);
      expect(due.map((n) => n.id)).toEqual(['evt_a', 'evt_b']);
      expect(due[0]).toEqual({ ...notice('evt_a'), attempts: 0, dueAt: t0 });
      expect((await queue.due(t0 + 1, 1)).map((n) => n.id)).toEqual(['evt_a']);
    });

    it('moves a retried notice to its new time with the attempt and error, and forgets a delivered one', async () => {
      await queue.enqueue(notice('evt_1'), t0);
      const [first] = await queue.due(t0, 10);
      await queue.retry(first!, t0 + 60_000, 'the events endpoint answered 500');
      expect(await queue.due(t0 + 59_999, 10)).toEqual([]);
      const [again] = await queue.due(t0 + 60_000, 10);
      expect(again).toMatchObject({ id: 'evt_1', attempts: 1, dueAt: t0 + 60_000 });
      expect(again!.lastError).toBe('the events endpoint answered 500');
      // A second delivery holding the old copy moves nothing.
      await queue.retry(first!, t0 + 1, 'stale');
      await queue.delivered(first!);
      expect((await queue.due(t0 + 60_000, 10)).map((n) => n.attempts)).toEqual([1]);
      await queue.delivered(again!);
      expect(await queue.due(t0 + 10 ** 12, 10)).toEqual([]);
    });

    it('never answers an abandoned notice as due', async () => {
      await queue.enqueue(notice('evt_x'), t0);
      const [pending] = await queue.due(t0, 10);
      await queue.abandon(pending!, 'refused: not a public address');
      expect(await queue.due(t0 + 10 ** 12, 10)).toEqual([]);
    });
  });
}
