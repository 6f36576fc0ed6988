import batchIssuance from './batch-issuance.bench.js';
import coldStart from './cold-start.bench.js';
import { printGoals, type GoalRow } from './goals.js';
import http from './http.bench.js';
import issuance from './issuance.bench.js';
import localRuntimeMemory from './local-runtime-memory.bench.js';
import signer from './signer.bench.js';
import statusList from './status-list.bench.js';
import verify from './verify.bench.js';

/**
 * `npm run bench`: every benchmark in one run, each printing ours next to its baseline, then the goals
 * table of issue 16 from the rows the benchmarks return.
 */
const goals: GoalRow[] = [];
for (const bench of [
  signer,
  statusList,
  issuance,
  batchIssuance,
  verify,
  coldStart,
  http,
  () => localRuntimeMemory(),
]) {
  const rows: GoalRow[] | void = await bench();
  if (rows) goals.push(...rows);
}
printGoals(goals);
