import { rm } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { postJson } from '../support/http-api.js';
import { drivingLicenceBody, issueLicence as issueOverHttp, newIdNumber } from '../support/licences.js';
import { clientCredentialsToken, startTestRuntime } from '../support/runtime.js';
import type { GoalRow } from './goals.js';
import { measure } from './measure.js';

const BATCHES = 10;
const BATCH_SIZE = 1000;
/** Single issuances measured for the comparison: enough for a stable rate, far fewer than 10,000. */
const SINGLES = 500;
const CONCURRENCY = 8;

/**
 * Bulk issuance (issue 19, docs/batch-issuance.md) through the local runtime: a 10,000-licence import in
 * 10 batches of 1,000 (`POST /licences/batches`, run by the `batches` function off the local batch queue),
 * from the first request to the last job done, as licences per second; next to single issuance
 * (`POST /licences`, 8 in flight) in the same run; and the KMS signatures each made, counted at the emulator.
 */
export default async function run(): Promise<GoalRow[]> {
  // Its 10 jobs are submitted at once: above the default per-issuer cap on open jobs (3).
  const runtime = await startTestRuntime(undefined, { BATCH_MAX_OPEN_JOBS_PER_ISSUER: '10' });
  try {
    const kms = runtime.kms;
    if (!kms) throw new Error('the bench needs the embedded KMS emulator');
    const token = await clientCredentialsToken(runtime, runtime.credentials.issuer, 'licences:issue');

    // Single issuance, warmed up, then measured.
    const single = async () => {
      const response = await issueOverHttp(runtime, token, drivingLicenceBody(newIdNumber()));
      if (response.status !== 201)
        throw new Error(`issuance failed: ${response.status} ${await response.text()}`);
      await response.arrayBuffer();
    };
    await measure(20, CONCURRENCY, single);
    kms.resetStats();
    const singles = await measure(SINGLES, CONCURRENCY, single);
    const singleSigns = kms.stats().Sign ?? 0;

    // The import: every batch submitted, then the queue drained.
    const bodies = Array.from({ length: BATCHES }, () =>
      Array.from({ length: BATCH_SIZE }, () => drivingLicenceBody(newIdNumber())),
    );
    kms.resetStats();
    const begin = performance.now();
    const ids: string[] = [];
    for (const items of bodies) {
      const response = await postJson(
        runtime,
        '/licences/batches',
        token,
        { items },
        {
          'idempotency-key': crypto.randomUUID(),
        },
      );
      const body = (await response.json()) as { id?: string };
      if (response.status !== 202 || !body.id) throw new Error(`batch refused: ${response.status}`);
      ids.push(body.id);
    }
    await runtime.drainBatches();
    const elapsed = (performance.now() - begin) / 1000;
    const batchSigns = kms.stats().Sign ?? 0;
    let issued = 0;
    for (const id of ids) {
      const response = await fetch(`${runtime.baseUrl}/licences/batches/${id}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      issued += ((await response.json()) as { issued: number }).issued;
    }
    const batchRate = issued / elapsed;

    console.log(`\nBulk issuance (${BATCHES} × ${BATCH_SIZE} driving licences through the local runtime)`);
    console.log(
      `A  POST /licences/batches, submit to last job done   ${batchRate.toFixed(1)} licences/s ` +
        `(${issued} in ${elapsed.toFixed(1)} s), KMS Sign ${batchSigns} (${(batchSigns / issued).toFixed(5)} per licence)`,
    );
    console.log(
      `B  POST /licences, ${CONCURRENCY} in flight                     ${singles.rate.toFixed(1)} licences/s ` +
        `(${singles.n}), KMS Sign ${singleSigns} (${(singleSigns / singles.n).toFixed(2)} per licence)`,
    );
    console.log(`ratio A/B ${(batchRate / singles.rate).toFixed(2)}`);
    return [
      {
        what: 'KMS signatures per licence, 10,000 in 10 batches',
        measured: (batchSigns / issued).toFixed(5),
        goal: '≤ 0.001',
        met: issued === BATCHES * BATCH_SIZE && batchSigns <= BATCHES && batchSigns / issued <= 0.001,
      },
      {
        what: 'bulk import vs single issuance, licences/s',
        measured: `${batchRate.toFixed(1)} vs ${singles.rate.toFixed(1)} (×${(batchRate / singles.rate).toFixed(2)})`,
        goal: 'measured',
        met: true,
      },
    ];
  } finally {
    await runtime.close();
    await rm(runtime.dataDir, { recursive: true, force: true });
  }
}

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(entry).href) {
  const { printGoals } = await import('./goals.js');
  printGoals(await run());
}
