import { describe, expect, it } from 'vitest';
import { deliveryLoop } from '../../../infra/local/delivery-loop.js';

/**
 * The local delivery loop behind the stream and the queues (infra/local/delivery-loop.ts): held, it
 * delivers nothing and `drain()` still returns; released, it delivers what waited (the SMS queue's
 * `hold()`, test/integration/http/sms-after-answer.test.ts, hung on both before).
 */
function loop() {
  const delivered: number[] = [];
  const failed: number[] = [];
  const delivery = deliveryLoop<number, (n: number) => boolean>({
    functionName: 'sms-codes',
    load: async () => (n: number) => n >= 0,
    batchSize: 1,
    attempts: 3,
    attempt: async (handler, batch) => {
      const took = batch.every(handler);
      if (took) delivered.push(...batch);
      return took;
    },
    failed: (batch) => failed.push(...batch),
    logMessage: 'test delivery failed',
  });
  return { delivery, delivered, failed };
}

describe('delivery loop', () => {
  it('holds deliveries until released, draining what it can meanwhile without waiting on the held ones', async () => {
    const { delivery, delivered } = loop();
    const release = delivery.hold();
    delivery.push([1, 2]);
    await delivery.drain();
    expect(delivered).toEqual([]);
    release();
    release(); // a second call changes nothing
    await delivery.drain();
    expect(delivered).toEqual([1, 2]);
    delivery.push([3]);
    await delivery.drain();
    expect(delivered).toEqual([1, 2, 3]);
    await delivery.stop();
  });

  it('gives an item up after its attempts, and goes on with the next', async () => {
    const { delivery, delivered, failed } = loop();
    delivery.push([-1, 4]);
    await delivery.drain();
    expect(failed).toEqual([-1]);
    expect(delivered).toEqual([4]);
    await delivery.stop();
  });
});
