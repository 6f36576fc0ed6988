import { createHash } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { TooManyRequestsError } from '../../../shared/errors.js';
import type { BatchJob } from '../../../shared/licence/batch-store.js';
import { claimBatchSlot, releaseBatchSlot } from '../../../shared/licence/batch-slots.js';
import { submitBatch } from '../../../shared/licence/batches.js';
import { InMemoryBatchSlotStore } from '../../support/in-memory-batch-slots.js';
import { InMemoryBatchStore, InMemoryEnvelopeSealer } from '../../support/in-memory-batches.js';
import { drivingLicenceBody, newIdNumber } from '../../support/licences.js';

/** The per-issuer cap on open bulk jobs, and how it mends what a crash leaves behind. */
let now: number;
let batchSlots: InMemoryBatchSlotStore;
let batches: InMemoryBatchStore;
const deps = () => ({
  batchSlots,
  batches,
  clock: { now: () => now },
  batchLimits: { maxOpenJobs: 2, holdSeconds: 3600 },
});
const job = (id: string, status: BatchJob['status'] = 'running'): BatchJob => ({
  id,
  issuerId: 'iss_1',
  clientId: 'iss_1',
  requestHash: 'h',
  status,
  total: 1,
  issued: 0,
  failed: 0,
  errors: [],
  chunks: 1,
  nextChunk: 0,
  createdAt: new Date(now).toISOString(),
  version: 0,
});

async function refused(promise: Promise<unknown>) {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(TooManyRequestsError);
  expect(error).toMatchObject({ code: 'too_many_batches', retryAfterSeconds: 60 });
}

beforeEach(() => {
  now = Date.parse('2026-12-05T08:00:00.000Z');
  batchSlots = new InMemoryBatchSlotStore();
  batches = new InMemoryBatchStore();
});

describe('claimBatchSlot / releaseBatchSlot', () => {
  it('takes one slot per job up to the cap, again for the same job at no cost, per issuer', async () => {
    for (const id of ['bat_a', 'bat_b']) {
      await batches.create(job(id), []);
      await claimBatchSlot('iss_1', id, deps());
    }
    await claimBatchSlot('iss_1', 'bat_a', deps());
    await refused(claimBatchSlot('iss_1', 'bat_c', deps()));
    await claimBatchSlot('iss_2', 'bat_c', deps());
    await releaseBatchSlot('iss_1', 'bat_a', deps());
    await releaseBatchSlot('iss_1', 'bat_a', deps()); // twice: nothing more
    await claimBatchSlot('iss_1', 'bat_c', deps());
    expect(Object.keys((await batchSlots.read('iss_1')).open).sort()).toEqual(['bat_b', 'bat_c']);
  });

  it('at the cap, releases the slot of a job done whose release was lost', async () => {
    await batches.create(job('bat_a', 'done'), []);
    await batches.create(job('bat_b'), []);
    await claimBatchSlot('iss_1', 'bat_a', deps());
    await claimBatchSlot('iss_1', 'bat_b', deps());
    await claimBatchSlot('iss_1', 'bat_c', deps());
    expect(Object.keys((await batchSlots.read('iss_1')).open).sort()).toEqual(['bat_b', 'bat_c']);
  });

  it('keeps a claim whose job is not written yet for a while, then releases it', async () => {
    await claimBatchSlot('iss_1', 'bat_a', deps()); // its submission crashed before writing the job
    await batches.create(job('bat_b'), []);
    await claimBatchSlot('iss_1', 'bat_b', deps());
    now += 60_000;
    await refused(claimBatchSlot('iss_1', 'bat_c', deps()));
    now += 5 * 60_000;
    await claimBatchSlot('iss_1', 'bat_c', deps());
  });

  it('releases a job that held its slot longer than holdSeconds (it died: the dead-letter queue)', async () => {
    await batches.create(job('bat_a'), []);
    await batches.create(job('bat_b'), []);
    await claimBatchSlot('iss_1', 'bat_a', deps());
    now += 1800_000;
    await claimBatchSlot('iss_1', 'bat_b', deps());
    now += 1800_000; // bat_a held it 3,600 s: not longer than allowed yet
    await refused(claimBatchSlot('iss_1', 'bat_c', deps()));
    now += 1;
    await claimBatchSlot('iss_1', 'bat_c', deps());
    expect(Object.keys((await batchSlots.read('iss_1')).open).sort()).toEqual(['bat_b', 'bat_c']);
  });

  it('lets only one of two concurrent submissions take the last slot', async () => {
    await batches.create(job('bat_a'), []);
    await claimBatchSlot('iss_1', 'bat_a', deps());
    const outcomes = await Promise.allSettled([
      claimBatchSlot('iss_1', 'bat_b', deps()),
      claimBatchSlot('iss_1', 'bat_c', deps()),
    ]);
    expect(outcomes.map((outcome) => outcome.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(Object.keys((await batchSlots.read('iss_1')).open)).toHaveLength(2);
  });

  it('does nothing without a slot store (no cap configured in that composition)', async () => {
    await claimBatchSlot('iss_1', 'bat_a', { batches, clock: { now: () => now } });
    await releaseBatchSlot('iss_1', 'bat_a', {});
  });
});

describe('submitBatch and the issuer’s slots (review of session 24, finding 2)', () => {
  const submit = (idempotencyKey: string) =>
    submitBatch(
      { items: [drivingLicenceBody(newIdNumber())] },
      { issuerId: 'iss_1', clientId: 'iss_1', idempotencyKey },
      {
        ...deps(),
        batchItemsSealer: new InMemoryEnvelopeSealer(),
        fingerprint: async (text: string) => createHash('sha256').update(text).digest('hex'),
      },
    );

  it('gives the slot back when the submission fails before its job is written: the issuer submits again at once', async () => {
    const create = batches.create.bind(batches);
    batches.create = async () => {
      throw new Error('table unavailable');
    };
    for (const key of ['k1', 'k2', 'k3']) await expect(submit(key)).rejects.toThrow('table unavailable');
    expect((await batchSlots.read('iss_1')).open).toEqual({});
    batches.create = create;
    // No grace to wait out: both slots free at once.
    await submit('k4');
    await submit('k5');
    expect(Object.keys((await batchSlots.read('iss_1')).open)).toHaveLength(2);
  });

  it('keeps the slot when the job was written though the store then failed (the job releases it when done)', async () => {
    const create = batches.create.bind(batches);
    batches.create = async (written, chunks) => {
      await create(written, chunks);
      throw new Error('answer lost');
    };
    await expect(submit('k1')).rejects.toThrow('answer lost');
    expect(Object.keys((await batchSlots.read('iss_1')).open)).toHaveLength(1);
  });
});
