import { decodeProtectedHeader } from 'jose';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Signer } from '../../../shared/crypto/signer.js';
import { loadConfig } from '../../../shared/config.js';
import { credentialKeyPublished, issuerPublishedKeys } from '../../../shared/issuers/credential-key.js';
import { rotateIssuerKey } from '../../../shared/issuers/rotate-issuer-key.js';
import { BATCH_KEYS_MAX_BYTES, BatchSigners } from '../../../shared/licence/batch-signer.js';
import {
  BATCH_CHUNK_MAX_ITEM_BYTES,
  BATCH_CHUNK_MAX_SEALED_BYTES,
  batchItemsContext,
  batchItemsRetentionSeconds,
  chunkSetOf,
  type BatchChunk,
} from '../../../shared/licence/batch-store.js';
import {
  batchLicences,
  chunkBounds,
  MAX_BATCH_ITEMS,
  runBatch,
  submitBatch,
} from '../../../shared/licence/batches.js';
import { maxScopeLength } from '../../../shared/licence/catalogue.js';
import { newCreditCode } from '../../support/http-api.js';
import { InMemoryKeyManager } from '../../support/in-memory.js';
import { InMemoryBatchStore, InMemoryEnvelopeSealer } from '../../support/in-memory-batches.js';
import { businessLicenceBody, drivingLicenceBody, newIdNumber } from '../../support/licences.js';
import { issuerUrl, licenceWorld, type LicenceWorld } from '../../support/licence-world.js';

/**
 * The batch job over in-memory stores: a crash part-way leaves nothing issued twice on the re-run, and the
 * batch keys are certified once per window or count, counted at the issuer's (KMS) signer.
 */
let world: LicenceWorld;
let batches: InMemoryBatchStore;
let batchItemsSealer: InMemoryEnvelopeSealer;
let issuerId: string;
let kmsSignatures: number;

function countingSigners() {
  const signerFor = (keyId: string): Signer => {
    const signer = world.issueDeps.signerFor(keyId);
    return {
      alg: 'ES256',
      publicJwk: () => signer.publicJwk(),
      kid: () => signer.kid(),
      sign: (data) => {
        kmsSignatures += 1;
        return signer.sign(data);
      },
    };
  };
  return signerFor;
}

function deps(limits = { seconds: 3600, credentials: 100_000 }) {
  const signerFor = countingSigners();
  return {
    ...world.issueDeps,
    signerFor,
    batches,
    batchItemsSealer,
    batchSigners: new BatchSigners({
      issuers: world.issuers,
      signerFor,
      clock: world.clock,
      issuerUrl,
      limits,
    }),
  };
}

async function submitted(
  count: number,
  items = Array.from({ length: count }, () => drivingLicenceBody(newIdNumber())),
) {
  const { job } = await submitBatch(
    { items },
    { issuerId, clientId: issuerId, idempotencyKey: crypto.randomUUID() },
    { batches, batchItemsSealer, fingerprint: world.issueDeps.fingerprint, clock: world.clock },
  );
  return job;
}

/** Makes the licence table fail the writes `fails` picks (counted from 1); answers how to mend it. */
function failLicenceWrites(fails: (write: number) => boolean): () => void {
  const create = world.licences.create.bind(world.licences);
  let writes = 0;
  world.licences.create = async (licence) => {
    writes += 1;
    if (fails(writes)) throw new Error('the table went away');
    return create(licence);
  };
  return () => {
    world.licences.create = create;
  };
}

/** A promise and the function that settles it: to hold one run at a chosen point while another goes on. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

beforeEach(async () => {
  world = licenceWorld();
  batches = new InMemoryBatchStore();
  batchItemsSealer = new InMemoryEnvelopeSealer();
  issuerId = (await world.addIssuer()).id;
  kmsSignatures = 0;
});

describe('submitBatch', () => {
  it('stores the items sealed: no holder’s ID number in any chunk until it is issued', async () => {
    const idNumbers = Array.from({ length: 150 }, () => newIdNumber());
    const job = await submitted(
      150,
      idNumbers.map((idNumber) => drivingLicenceBody(idNumber)),
    );
    const stored = JSON.stringify([...batches.chunks.values()]);
    expect(batches.chunks.size).toBe(2);
    for (const idNumber of idNumbers) expect(stored).not.toContain(idNumber);
    expect(stored).not.toContain('李测试');

    await runBatch(job.id, deps());
    expect(batchItemsSealer.opened).toBe(2);
    expect(world.licences.byId.size).toBe(150);
  });

  it('refuses to run a chunk whose sealed items were moved from another chunk, and issues none of it', async () => {
    const job = await submitted(150);
    const key = (n: number) => `${job.id}#${chunkSetOf(job)}#${n}`;
    const first = batches.chunks.get(key(0))!;
    const second = batches.chunks.get(key(1))!;
    batches.chunks.set(key(1), { ...second, sealedItems: first.sealedItems! });
    await expect(runBatch(job.id, deps())).rejects.toThrow();
    // The first chunk's 100 went through; the moved items opened nowhere else.
    expect(world.licences.byId.size).toBe(100);
    expect((await batches.find(job.id))?.nextChunk).toBe(1);
  });
  it('keeps a job of 1,000 refused items within one stored item, whatever their keys: each detail at most 200 bytes (R36)', async () => {
    // A key of 151 odd segments: each is written `…`, 3 bytes in UTF-8 for one character, so details cut
    // at 200 characters made a job of 444 KB, past DynamoDB's 400 KB an item.
    const key = '_' + '._'.repeat(150);
    const items = Array.from({ length: MAX_BATCH_ITEMS }, () =>
      drivingLicenceBody(newIdNumber(), {
        fields: { vehicleClass: 'C1', firstIssuedOn: '2015-03-01', archiveNumber: '110100123456', [key]: 1 },
      }),
    );
    const job = await submitted(0, items);
    expect(job).toMatchObject({ total: MAX_BATCH_ITEMS, failed: MAX_BATCH_ITEMS });
    expect(job.errors).toHaveLength(MAX_BATCH_ITEMS);
    for (const error of job.errors) {
      expect(Buffer.byteLength(error.detail, 'utf8')).toBeLessThanOrEqual(200);
      expect(error.detail).toMatch(/^fields\.…/);
    }
    // Well within an item, with room for the job's other members.
    expect(Buffer.byteLength(JSON.stringify(job), 'utf8')).toBeLessThan(300_000);
  });

  it('says what is wrong with each refused item, in index order, and never its ID number (review R23 L2)', async () => {
    const good = drivingLicenceBody(newIdNumber());
    const idNumber = newIdNumber();
    const badCheck = idNumber.slice(0, 17) + (idNumber[17] === '0' ? '1' : '0');
    const job = await submitted(0, [
      { ...good, holder: { idNumber: 110105 } },
      { ...good, holder: 110105 },
      { ...good, holder: {} },
      { ...good, holder: { idNumber, creditCode: '91110000600000000X' } },
      { ...good, holder: { idNumber: badCheck } }, // refused while issuing, not at submission
      { ...good, type: 'business-licence', holder: { idNumber } },
      { ...good, [idNumber]: 'x' },
      good,
    ]);
    const done = await runBatch(job.id, deps());
    expect(done?.errors).toEqual([
      { index: 0, code: 'invalid_item', detail: 'holder.idNumber: invalid_type' },
      { index: 1, code: 'invalid_item', detail: 'holder: invalid_type' },
      { index: 2, code: 'invalid_item', detail: 'holder: exactly_one_of(idNumber, creditCode)' },
      { index: 3, code: 'invalid_item', detail: 'holder: exactly_one_of(idNumber, creditCode)' },
      { index: 4, code: 'invalid_id_number', detail: 'holder.idNumber: invalid_check_character' },
      { index: 5, code: 'holder_kind_mismatch', detail: 'holder.creditCode: wrong_holder_kind' },
      { index: 6, code: 'invalid_item', detail: '…: unknown_field' },
    ]);
    expect(done).toMatchObject({ status: 'done', issued: 1, failed: 7 });
    const stored = JSON.stringify([done, ...batches.chunks.values()]);
    expect(stored).not.toContain(idNumber);
    expect(stored).not.toContain(badCheck.slice(0, 17));
  });

  it('reports an item repeating an earlier one (the same type, holder and fields) by its index, duplicate_item, and issues the first (review R23 L3)', async () => {
    const idNumber = newIdNumber();
    const row = drivingLicenceBody(idNumber);
    const { vehicleClass, firstIssuedOn, archiveNumber } = row.fields as Record<string, string>;
    const rows = [
      row,
      drivingLicenceBody(newIdNumber()),
      // The same licence: the number as its parser reads it (spaces trimmed), the fields in another order
      // and another holder's name (a name is no part of what makes a licence the same).
      { ...row, holder: { idNumber: ` ${idNumber} ` }, holderName: '李测式' },
      { ...row, fields: { archiveNumber, firstIssuedOn, vehicleClass } },
      // Not the same: another archive number; and a refused item, however often, is only refused.
      drivingLicenceBody(idNumber, { fields: { ...(row.fields as object), archiveNumber: '110100654321' } }),
      { ...row, holder: {} },
      { ...row, holder: {} },
    ];
    const job = await submitted(0, rows);
    const repeats = job.errors.filter((error) => error.code === 'duplicate_item');
    expect(repeats).toEqual([
      { index: 2, code: 'duplicate_item', detail: expect.stringContaining('repeats item 0') },
      { index: 3, code: 'duplicate_item', detail: expect.stringContaining('repeats item 0') },
    ]);
    expect(JSON.stringify(job.errors)).not.toContain(idNumber);
    // The first of them, the other holder's and the other archive number's are issued; the two refused
    // holders are only refused (never counted as repeats).
    expect(await runBatch(job.id, deps())).toMatchObject({ status: 'done', issued: 3, failed: 4 });
  });

  it('splits long items into chunks by size: every sealed chunk stays far within a DynamoDB item', async () => {
    // Every text at its catalogue maximum, in Chinese (3 UTF-8 bytes a character): ~2.5 KB an item.
    const longest = () =>
      businessLicenceBody(newCreditCode('91', '310104'), newIdNumber('310104'), {
        holderName: '某'.repeat(100),
        fields: {
          entityType: '类'.repeat(100),
          legalRepresentativeName: '张'.repeat(50),
          legalRepresentativeIdNumber: newIdNumber('310104'),
          establishedOn: '2020-06-01',
          businessScope: '技'.repeat(maxScopeLength),
          address: '址'.repeat(200),
        },
      });
    const job = await submitted(300, Array.from({ length: 300 }, longest));
    expect(job.failed).toBe(0);
    const chunks = [...batches.chunks.values()].sort((a, b) => a.n - b.n);
    // More than the three that 100 items a chunk would make.
    expect(chunks.length).toBeGreaterThan(3);
    expect(job.chunks).toBe(chunks.length);
    let next = 0;
    for (const chunk of chunks) {
      expect(chunk.sealedItems!.length).toBeLessThanOrEqual(BATCH_CHUNK_MAX_SEALED_BYTES);
      expect(chunk.first).toBe(next);
      const items = (await batchItemsSealer.open(batchItemsContext(chunk), chunk.sealedItems!)) as unknown[];
      next += items.length;
    }
    expect(next).toBe(300);
  });
});

describe('chunkBounds', () => {
  it('closes a chunk at 100 items or 200,000 bytes of JSON, whichever comes first', () => {
    expect(chunkBounds(Array.from({ length: 250 }, () => 1))).toEqual([
      { first: 0, end: 100 },
      { first: 100, end: 200 },
      { first: 200, end: 250 },
    ]);
    const big = 'x'.repeat(90_000);
    expect(chunkBounds([big, big, big, 1, big, big])).toEqual([
      { first: 0, end: 2 },
      { first: 2, end: 5 },
      { first: 5, end: 6 },
    ]);
    // An item larger than the bound alone still gets a chunk (the schemas keep items far smaller).
    expect(chunkBounds(['x'.repeat(300_000)])).toEqual([{ first: 0, end: 1 }]);
    expect(BATCH_CHUNK_MAX_ITEM_BYTES).toBe(200_000);
  });
});

describe('runBatch', () => {
  it('issues a chunk stored in clear before items were sealed, and drops its items', async () => {
    const job = await submitted(150);
    const key = (n: number) => `${job.id}#${chunkSetOf(job)}#${n}`;
    const legacy = batches.chunks.get(key(1))!;
    const items = await batchItemsSealer.open(
      { purpose: 'batch-items', batch: job.id, request: job.requestHash, chunk: '1' },
      legacy.sealedItems!,
    );
    const { sealedItems: _sealed, ...rest } = legacy;
    batches.chunks.set(key(1), { ...rest, items: items as never });
    const done = await runBatch(job.id, deps());
    expect(done).toMatchObject({ status: 'done', issued: 150, failed: 0 });
    const after = batches.chunks.get(key(1))!;
    expect(after.items).toBeUndefined();
    expect(after.licenceIds).toHaveLength(50);
  });

  it('issues every item once, even when the run dies part-way and is run again', async () => {
    const job = await submitted(250);
    const restore = failLicenceWrites((write) => write === 140);
    await expect(runBatch(job.id, deps())).rejects.toThrow('the table went away');
    expect((await batches.find(job.id))?.nextChunk).toBe(1);
    restore();
    const done = await runBatch(job.id, deps());
    expect(done).toMatchObject({ status: 'done', total: 250, issued: 250, failed: 0, errors: [] });
    expect(world.licences.byId.size).toBe(250);
    // Every item's audit entry, once.
    expect(world.audit.entries.filter((entry) => entry.action === 'licence.issued')).toHaveLength(250);
    // The processed chunks keep the licence ids, not the items (ID numbers).
    for (let n = 0; n < 3; n += 1) {
      const chunk = await batches.chunk(job.id, chunkSetOf(job), n);
      expect(chunk?.sealedItems).toBeUndefined();
      expect(chunk?.licenceIds?.every((id) => id !== null && world.licences.byId.has(id))).toBe(true);
    }
    // A third run (a redelivered message) changes nothing.
    await runBatch(job.id, deps());
    expect(world.licences.byId.size).toBe(250);
  });

  it('issues nothing twice when the job comes back from the dead-letter queue days later (SRE review M5)', async () => {
    const job = await submitted(250);
    const restore = failLicenceWrites((write) => write >= 140);
    // Nor is the progress of the chunk under way saved (a crash): only the items' idempotency records know.
    const saveChunk = batches.saveChunk.bind(batches);
    batches.saveChunk = async (chunk) => {
      if (chunk.sealedItems) throw new Error('the table went away');
      return saveChunk(chunk);
    };
    // Three deliveries fail in chunk 1 (items 100.. under way), then the message waits in the DLQ.
    for (let delivery = 0; delivery < 3; delivery += 1) {
      await expect(runBatch(job.id, deps())).rejects.toThrow('the table went away');
    }
    const issuedBefore = world.licences.byId.size;
    expect(issuedBefore).toBeGreaterThan(100);
    restore();
    batches.saveChunk = saveChunk;
    // Redriven 10 days on: a request's idempotency record (a day) would be gone by now.
    world.clock.advanceSeconds(10 * 86_400);
    const done = await runBatch(job.id, deps());
    expect(done).toMatchObject({ status: 'done', total: 250, issued: 250, failed: 0 });
    expect(world.licences.byId.size).toBe(250);
    const holders = [...world.licences.byId.values()].map((licence) => licence.holder.lookupKey);
    expect(new Set(holders).size).toBe(250);
    expect(world.audit.entries.filter((entry) => entry.action === 'licence.issued')).toHaveLength(250);
  });

  it('skips what the chunk under way recorded when the items’ idempotency records are gone', async () => {
    const job = await submitted(150);
    const restore = failLicenceWrites((write) => write === 120);
    await expect(runBatch(job.id, deps())).rejects.toThrow('the table went away');
    restore();
    // Every idempotency record deleted (expired and swept), as DynamoDB's TTL would.
    world.idempotency.records.clear();
    const done = await runBatch(job.id, deps());
    expect(done).toMatchObject({ status: 'done', issued: 150, failed: 0 });
    expect(world.licences.byId.size).toBe(150);
  });

  it('keeps a chunk another delivery finished: a run stopped part-way never puts its progress over it (review R23 M1)', async () => {
    const job = await submitted(100);
    // Delivery A stalls inside item 50 (its idempotency record held), as a slow KMS or table call would.
    const aPaused = gate();
    const aResume = gate();
    const create = world.licences.create.bind(world.licences);
    let creates = 0;
    world.licences.create = async (licence) => {
      creates += 1;
      if (creates === 51) {
        aPaused.open();
        await aResume.opened;
      }
      return create(licence);
    };
    // Delivery B (SQS delivers at least once) stops at item 50, held by A; its progress save (the items
    // kept) reaches the table only after A has stored the chunk's outcome.
    const bSaving = gate();
    const aDone = gate();
    const saveChunk = batches.saveChunk.bind(batches);
    batches.saveChunk = async (chunk: BatchChunk) => {
      if (chunk.sealedItems !== undefined) {
        bSaving.open();
        await aDone.opened;
      }
      const saved = await saveChunk(chunk);
      if (chunk.sealedItems === undefined) aDone.open();
      return saved;
    };
    const a = runBatch(job.id, { ...deps(), concurrency: 1 });
    await aPaused.opened;
    const b = runBatch(job.id, { ...deps(), concurrency: 1 }).catch((error: unknown) => error);
    await bSaving.opened;
    aResume.open();
    expect(await a).toMatchObject({ status: 'done', issued: 100, failed: 0 });
    expect(await b).toMatchObject({ code: 'idempotency_key_in_use' });
    // B's partial progress did not replace A's outcome: no sealed items (ID numbers) back, no expiry for
    // the TTL to delete the job's list by, and all 100 licences listed.
    const chunk = await batches.chunk(job.id, chunkSetOf(job), 0);
    expect(chunk?.sealedItems).toBeUndefined();
    expect(chunk?.expiresAt).toBeUndefined();
    expect(chunk?.licenceIds?.filter((id) => id !== null)).toHaveLength(100);
    await runBatch(job.id, deps()); // B delivered again: the job is done
    const page = await batchLicences(job.id, issuerId, {}, { batches, licences: world.licences });
    expect(page.items).toHaveLength(100);
    expect(world.licences.byId.size).toBe(100);
  });

  it('merges the progress of two runs stopped part-way in one chunk, so a late re-run issues neither’s items again', async () => {
    const job = await submitted(100);
    // B reads the chunk, then waits while A issues items 0–29 and stops at 30 (saving that progress).
    const bRead = gate();
    const aStopped = gate();
    const chunkOf = batches.chunk.bind(batches);
    let reads = 0;
    batches.chunk = async (...args) => {
      const chunk = await chunkOf(...args);
      reads += 1;
      if (reads === 1) {
        bRead.open();
        await aStopped.opened;
      }
      return chunk;
    };
    // The 31st licence write fails (A at item 30); B, from the chunk as it first read it, answers 0–29
    // from their idempotency records, issues 30–59 and fails at its 31st write (item 60).
    const restore = failLicenceWrites((write) => write === 31 || write === 62);
    const b = runBatch(job.id, { ...deps(), concurrency: 1 });
    await bRead.opened;
    await expect(runBatch(job.id, { ...deps(), concurrency: 1 })).rejects.toThrow('the table went away');
    aStopped.open();
    await expect(b).rejects.toThrow('the table went away');
    restore();
    batches.chunk = chunkOf;
    const chunk = await batches.chunk(job.id, chunkSetOf(job), 0);
    expect(chunk?.licenceIds?.filter((id) => id !== null)).toHaveLength(60);
    expect(chunk?.version).toBe(2);
    // Redriven once every idempotency record is gone: only the chunk's progress says what was issued.
    world.idempotency.records.clear();
    expect(await runBatch(job.id, deps())).toMatchObject({ status: 'done', issued: 100, failed: 0 });
    expect(world.licences.byId.size).toBe(100);
  });

  it('lets the slower of two runs of one chunk succeed, going on from the job the faster one saved, counting nothing twice', async () => {
    const job = await submitted(150);
    // B reads the job and chunk 0, then waits while A runs the whole job (both chunks) to its end.
    const bRead = gate();
    const aDone = gate();
    const chunkOf = batches.chunk.bind(batches);
    let reads = 0;
    batches.chunk = async (...args) => {
      const chunk = await chunkOf(...args);
      reads += 1;
      if (reads === 1) {
        bRead.open();
        await aDone.opened;
      }
      return chunk;
    };
    const b = runBatch(job.id, { ...deps(), concurrency: 1 });
    await bRead.opened;
    expect(await runBatch(job.id, deps())).toMatchObject({ status: 'done', issued: 150, failed: 0 });
    aDone.open();
    // B answers chunk 0's items from their idempotency records, finds the chunk finished, and its job save
    // meets A's (batch_changed): it reads the job again and finds it done. Its delivery succeeds (it used
    // to fail, counting towards the dead-letter queue with nothing wrong).
    expect(await b).toMatchObject({ status: 'done', total: 150, issued: 150, failed: 0 });
    expect(await batches.find(job.id)).toMatchObject({ status: 'done', issued: 150, nextChunk: 2 });
    expect(world.licences.byId.size).toBe(150);
    expect(world.audit.entries.filter((entry) => entry.action === 'licence.issued')).toHaveLength(150);
  });

  it('lets the slower run go on with the chunks after the one the faster run counted', async () => {
    const job = await submitted(250);
    // B waits after reading chunk 0 until A has counted chunk 0 and fails in chunk 1 (a fault of its own).
    const bRead = gate();
    const aStopped = gate();
    const chunkOf = batches.chunk.bind(batches);
    let reads = 0;
    batches.chunk = async (...args) => {
      const chunk = await chunkOf(...args);
      reads += 1;
      if (reads === 1) {
        bRead.open();
        await aStopped.opened;
      }
      return chunk;
    };
    const restore = failLicenceWrites((write) => write === 120);
    const b = runBatch(job.id, { ...deps(), concurrency: 1 });
    await bRead.opened;
    await expect(runBatch(job.id, { ...deps(), concurrency: 1 })).rejects.toThrow('the table went away');
    expect(await batches.find(job.id)).toMatchObject({ nextChunk: 1, issued: 100 });
    restore();
    aStopped.open();
    // B's count of chunk 0 meets A's: it takes the job as A left it (chunk 0 counted) and runs the rest.
    expect(await b).toMatchObject({ status: 'done', total: 250, issued: 250, failed: 0 });
    expect(world.licences.byId.size).toBe(250);
  });

  it('refuses to issue a chunk whose items expired (the table’s TTL is late), and issues none of it', async () => {
    const job = await submitted(3);
    world.clock.advanceSeconds(batchItemsRetentionSeconds);
    await expect(runBatch(job.id, deps())).rejects.toThrow(/expired/);
    expect(world.licences.byId.size).toBe(0);
  });

  it('certifies one batch key for several jobs of an issuer, a new one past its count or its window', async () => {
    const shared = deps({ seconds: 3600, credentials: 120 });
    for (const job of [await submitted(50), await submitted(50)]) await runBatch(job.id, shared);
    expect(kmsSignatures).toBe(1);
    await runBatch((await submitted(50)).id, shared); // 150 > 120: a second key
    expect(kmsSignatures).toBe(2);
    world.clock.advanceSeconds(3601);
    await runBatch((await submitted(10)).id, shared); // past the window: a third
    expect(kmsSignatures).toBe(3);
    const kids = new Set(
      [...world.licences.byId.values()].map((l) => decodeProtectedHeader(l.credential).kid),
    );
    expect(kids.size).toBe(3);
    const issuer = await world.issuers.findById(issuerId);
    expect(issuer?.batchKeys?.map((key) => key.kid).sort()).toEqual([...kids].sort());
  });

  it('with the default settings certifies one batch key a day per issuer and container, however many jobs run in it (R36 M1)', async () => {
    // Hourly keys of 100,000 credentials piled up on the issuer record and in every trust list: a day of
    // imports in one container made 24, and a peer running this service was refused after 20.
    const shared = deps(loadConfig({}).batchKey);
    for (let hour = 0; hour < 23; hour += 1) {
      await runBatch((await submitted(2)).id, shared);
      world.clock.advanceSeconds(3600);
    }
    expect(kmsSignatures).toBe(1);
    expect((await world.issuers.findById(issuerId))?.batchKeys).toHaveLength(1);
    world.clock.advanceSeconds(3601);
    await runBatch((await submitted(2)).id, shared); // past the day: the next key
    expect((await world.issuers.findById(issuerId))?.batchKeys).toHaveLength(2);
  });

  it('certifies no key past the record’s room for them: the issuer’s KMS key signs instead, and every item is issued (R36 M1)', async () => {
    const issuer = (await world.issuers.findById(issuerId))!;
    const filler = (i: number) => ({
      kid: `k${String(i).padStart(42, '0')}`,
      publicJwk: { kty: 'EC', crv: 'P-256', x: 'x'.repeat(43), y: 'y'.repeat(43), kid: `k${i}` },
      nbf: 0,
      exp: 86_400,
      certificate: 'c'.repeat(662),
    });
    const count = Math.ceil(BATCH_KEYS_MAX_BYTES / JSON.stringify(filler(0)).length);
    await world.issuers.save({ ...issuer, batchKeys: Array.from({ length: count }, (_, i) => filler(i)) });
    const job = await runBatch((await submitted(5)).id, deps());
    expect(job).toMatchObject({ issued: 5, failed: 0 });
    // No key added to a record that would grow past its item; one Sign per licence, as single issuance.
    expect((await world.issuers.findById(issuerId))?.batchKeys).toHaveLength(count);
    expect(kmsSignatures).toBe(5);
    const kids = new Set(
      [...world.licences.byId.values()].map((l) => decodeProtectedHeader(l.credential).kid),
    );
    expect([...kids]).toEqual([issuer.kid]);
  });

  it('stops using a batch key withdrawn from the issuer record', async () => {
    const shared = deps();
    await runBatch((await submitted(5)).id, shared);
    const issuer = (await world.issuers.findById(issuerId))!;
    await world.issuers.save({ ...issuer, batchKeys: [] });
    await runBatch((await submitted(5)).id, shared);
    expect(kmsSignatures).toBe(2);
    expect((await world.issuers.findById(issuerId))?.batchKeys).toHaveLength(1);
  });
});

describe('a batch racing the withdrawal of the key that certified its batch key (review R61 F2)', () => {
  it('reports the items written after the withdrawal as refused issuer_key_withdrawn, not issued', async () => {
    const job = await submitted(3);
    let writes = 0;
    const create = world.licences.create.bind(world.licences);
    world.licences.create = async (licence) => {
      writes += 1;
      if (writes === 2) {
        // Between the second item's read of its issuer and its write: a rotation withdrawing the key.
        const keys = new InMemoryKeyManager();
        await keys.createSigningKey(); // `key-1` is the issuer's: the rotation's is `key-2`
        await rotateIssuerKey(
          issuerId,
          { previousKey: 'withdraw' },
          { clientId: 'demo-admin' },
          {
            issuers: world.issuers,
            operatorAudit: world.issuers.pendingAudit,
            keys,
            signerFor: (keyId) => keys.signers.get(keyId)!,
            audit: world.audit,
            clock: world.clock,
          },
        );
        world.signers.set('key-2', keys.signers.get('key-2')!);
      }
      return create(licence);
    };
    const done = await runBatch(job.id, { ...deps(), concurrency: 1 });
    // The first item, written before the withdrawal, is issued (and listed for re-issue with the key's
    // others); the second, written after it, is refused; the third is signed by the new key.
    expect(done).toMatchObject({ issued: 2, failed: 1 });
    expect(done?.errors).toEqual([expect.objectContaining({ index: 1, code: 'issuer_key_withdrawn' })]);
    // The item's licence WAS written (review R70 F2): the error names it, to be re-issued, not resubmitted
    // (a resubmitted item is a second licence).
    const refused = done!.errors[0]!;
    expect(refused.licenceId).toBeTypeOf('string');
    expect(await world.licences.get(refused.licenceId!)).toBeDefined();
    expect(refused.detail).toMatch(/written.*re-issue it, do not submit the item again/);
    const issuer = (await world.issuers.findById(issuerId))!;
    const issued = await batchLicences(job.id, issuerId, {}, { batches, licences: world.licences });
    expect(
      issued.items.map((licence) => credentialKeyPublished(licence.credential, issuerPublishedKeys(issuer))),
    ).toEqual([false, true]);
  });
});
