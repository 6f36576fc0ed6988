import { pathToFileURL } from 'node:url';
import { deflateSync } from 'node:zlib';
import {
  createStatusBytes,
  decodeStatusList,
  encodeStatusList,
  StatusType,
  writeStatus,
  type StatusValue,
} from '../../packages/verifier/src/status-list.js';
import { LIST_SIZE } from '../../shared/licence/status-list-store.js';
import { zlibCompression } from '../../packages/verifier/src/status-list-zlib.js';

/** mulberry32: a small seeded PRNG, so that every run measures the same lists. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

interface Scenario {
  name: string;
  size: number;
  /** Fraction of entries set to each non-valid status. */
  changed: Array<[StatusValue, number]>;
}

const scenarios: Scenario[] = [
  { name: '1,000,000 entries, all valid', size: 1_000_000, changed: [] },
  { name: '1,000,000 entries, 0.1% revoked', size: 1_000_000, changed: [[StatusType.INVALID, 0.001]] },
  { name: '1,000,000 entries, 1% revoked', size: 1_000_000, changed: [[StatusType.INVALID, 0.01]] },
  {
    name: '1,000,000 entries, 0.5% revoked + 0.5% suspended',
    size: 1_000_000,
    changed: [
      [StatusType.INVALID, 0.005],
      [StatusType.SUSPENDED, 0.005],
    ],
  },
  { name: '1,000,000 entries, 10% revoked', size: 1_000_000, changed: [[StatusType.INVALID, 0.1]] },
  {
    name: `${LIST_SIZE.toLocaleString('en')} entries (one list), 1% revoked`,
    size: LIST_SIZE,
    changed: [[StatusType.INVALID, 0.01]],
  },
];

function build(scenario: Scenario, random: () => number): Uint8Array {
  const bytes = createStatusBytes(scenario.size);
  for (const [status, fraction] of scenario.changed) {
    let remaining = Math.round(scenario.size * fraction);
    while (remaining > 0) {
      const idx = Math.floor(random() * scenario.size);
      if (((bytes[idx >> 2] ?? 0) >> ((idx & 3) * 2)) & 3) continue;
      writeStatus(bytes, idx, status);
      remaining--;
    }
  }
  return bytes;
}

async function milliseconds(task: () => Promise<unknown>, runs = 5): Promise<number> {
  await task();
  const begin = performance.now();
  for (let run = 0; run < runs; run++) await task();
  return (performance.now() - begin) / runs;
}

/**
 * Size of a Token Status List (2 bits per entry, ZLIB level 9, base64url) next to its raw byte array (the
 * baseline) and to zlib's default level 6: what a verifier downloads and caches, what the `status_list`
 * claim weighs inside the signed token, and what a status change costs to recompress.
 */
export default async function run(): Promise<void> {
  const random = seeded(20_250_601);
  const rows = [];
  for (const scenario of scenarios) {
    const bytes = build(scenario, random);
    const statusList = await encodeStatusList(bytes, zlibCompression);
    const compressed = Math.floor((statusList.lst.length * 3) / 4);
    rows.push({
      list: scenario.name,
      'raw bytes': bytes.length,
      'compressed bytes': compressed,
      'compressed / raw': Number((compressed / bytes.length).toFixed(4)),
      'lst chars': statusList.lst.length,
      // Baseline for the level choice: zlib's default level, about ten times faster to write.
      'level 6 bytes': deflateSync(bytes, { level: 6 }).length,
      'encode ms': Number((await milliseconds(() => encodeStatusList(bytes, zlibCompression))).toFixed(1)),
      'decode ms': Number(
        (await milliseconds(() => decodeStatusList(statusList, zlibCompression))).toFixed(1),
      ),
    });
  }
  console.log('\nToken Status List size (2 bits per entry, DEFLATE/ZLIB level 9, seeded random entries)');
  console.table(rows);
}

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(entry).href) {
  await run();
}
