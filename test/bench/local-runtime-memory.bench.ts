import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { drivingLicenceBody, issueLicence, newIdNumber } from '../support/licences.js';
import { clientCredentialsToken } from '../support/runtime.js';
import type { GoalRow } from './goals.js';
import { measure } from './measure.js';

const DEFAULT_ISSUANCES = 10_000;
const CONCURRENCY = 8;
/** A new token per batch, well within its lifetime; RSS and the data folder are sampled after each batch. */
const BATCH = 1_000;
const MiB = 1024 * 1024;
/** How often RSS is read during a batch (from /proc, outside the runtime: no effect on it). */
const RSS_SAMPLE_MS = 500;

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

interface Memory {
  rss: number;
  /** Peak RSS of the process so far (VmHWM). */
  peak: number;
  /** RSS backed by files: LevelDB's memory-mapped tables among them. */
  file: number;
  anon: number;
}

/** The runtime process's resident memory from /proc (Linux), in bytes. */
async function memoryOf(pid: number): Promise<Memory> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kib('VmRSS'), peak: kib('VmHWM'), file: kib('RssFile'), anon: kib('RssAnon') };
}

/** Bytes of all files under `dir`, and how many there are. */
async function folderSize(dir: string): Promise<{ bytes: number; files: number }> {
  let bytes = 0;
  let files = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    // LevelDB deletes files as it compacts: one listed a moment ago may be gone.
    const size = await stat(join(entry.parentPath, entry.name)).then(
      (s) => s.size,
      (error: unknown) => {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      },
    );
    if (size === undefined) continue;
    bytes += size;
    files += 1;
  }
  return { bytes, files };
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((done) => probe.listen(0, '127.0.0.1', done));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((done) => probe.close(() => done()));
  return port;
}

/** `npm start` itself (`infra/local/start.ts`), in a process of its own so that its RSS is its own. */
async function startRuntimeProcess(dataDir: string): Promise<{ child: ChildProcess; baseUrl: string }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'infra/local/start.ts'], {
    cwd: root,
    env: { ...process.env, PORT: String(port), DATA_DIR: dataDir, LOG_LEVEL: 'SILENT' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const baseUrl = `http://localhost:${port}`;
  await new Promise<void>((ready, fail) => {
    const exited = () => fail(new Error(`the runtime exited during start-up:\n${output}`));
    child.once('exit', exited);
    const poll = setInterval(() => {
      if (output.includes('Press Ctrl+C to stop.')) {
        clearInterval(poll);
        child.off('exit', exited);
        ready();
      }
    }, 100);
  });
  return { child, baseUrl };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  child.kill('SIGTERM');
  await exited;
}

interface LevelDb {
  open(): Promise<void>;
  close(): Promise<void>;
  compactRange(start: string, end: string): Promise<void>;
}

/**
 * The live data: the store compacted in full once the runtime has stopped (LevelDB then keeps only the
 * newest version of each key, in as few files as it can).
 */
async function compactedSize(levelDir: string): Promise<{ bytes: number; files: number }> {
  const fromHere = createRequire(import.meta.url);
  const fromDynalite = createRequire(fromHere.resolve('dynalite', { paths: [root] }));
  const { Level } = fromDynalite('level') as { Level: new (path: string) => LevelDb };
  const db = new Level(levelDir);
  await db.open();
  await db.compactRange('\u0000', '\uffff');
  await db.close();
  return folderSize(levelDir);
}

const mib = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`;

/**
 * Issues `total` driving licences (concurrency 8) against `npm start` running in a process of its own,
 * printing after each thousand its RSS and the size of its DynamoDB folder; at the end the folder is
 * compacted offline to give the live data it holds. Issue 16's goal: RSS ≤ 400 MiB and the folder ≤ 3× its
 * live data after 10,000 issuances.
 *
 * @example
 * ```sh
 * npx tsx test/bench/local-runtime-memory.bench.ts          # 10,000 issuances
 * npx tsx test/bench/local-runtime-memory.bench.ts 2000     # a quicker look
 * ```
 */
export default async function run(total = DEFAULT_ISSUANCES): Promise<GoalRow[]> {
  const dataDir = await mkdtemp(join(tmpdir(), 'elicence-memory-'));
  const levelDir = join(dataDir, 'dynamo');
  const { child, baseUrl } = await startRuntimeProcess(dataDir);
  const pid = child.pid;
  if (pid === undefined) throw new Error('no runtime process');
  try {
    const credentials = JSON.parse(await readFile(join(dataDir, 'credentials.json'), 'utf8')) as {
      issuer: { clientId: string; clientSecret: string };
    };
    const runtime = { baseUrl };
    const start = await memoryOf(pid);
    console.log(`\nLocal runtime memory over ${total} issuances (concurrency ${CONCURRENCY}), pid ${pid}`);
    console.log(
      `load average at start ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
    console.log(
      `${'issued'.padStart(7)} ${'RSS'.padStart(11)} ${'file-backed'.padStart(11)} ${'anon'.padStart(11)} ` +
        `${'data folder'.padStart(12)} ${'files'.padStart(6)} ${'issuances/s'.padStart(12)} ` +
        `${'RSS in batch: median'.padStart(21)} ${'max'.padStart(11)}`,
    );
    const line = async (issued: number, rate: number, during: readonly number[]) => {
      const m = await memoryOf(pid);
      const folder = await folderSize(levelDir);
      const sorted = [...during].sort((a, b) => a - b);
      const median = sorted[Math.floor(sorted.length / 2)];
      console.log(
        `${String(issued).padStart(7)} ${mib(m.rss).padStart(11)} ${mib(m.file).padStart(11)} ${mib(m.anon).padStart(11)} ` +
          `${mib(folder.bytes).padStart(12)} ${String(folder.files).padStart(6)} ${rate.toFixed(1).padStart(12)} ` +
          `${(median === undefined ? '' : mib(median)).padStart(21)} ${(sorted.length ? mib(sorted.at(-1)!) : '').padStart(11)}`,
      );
      return { m, folder, median };
    };
    await line(0, 0, []);
    let issued = 0;
    let last: { m: Memory; folder: { bytes: number; files: number }; median?: number } = {
      m: start,
      folder: await folderSize(levelDir),
    };
    while (issued < total) {
      const n = Math.min(BATCH, total - issued);
      const token = await clientCredentialsToken(runtime, credentials.issuer, 'licences:issue');
      // RSS moves by tens of MiB between one full garbage collection and the next (one every few seconds
      // here, and a few MiB of garbage per issuance): one reading after a batch says little on its own, so
      // the readings during the batch are kept too (docs/local-runtime.md, "Measuring memory and disk").
      const during: number[] = [];
      const sampler = setInterval(() => {
        memoryOf(pid).then(
          (m) => during.push(m.rss),
          () => undefined,
        );
      }, RSS_SAMPLE_MS);
      const batch = await measure(n, CONCURRENCY, async () => {
        const response = await issueLicence(runtime, token, drivingLicenceBody(newIdNumber()));
        if (response.status !== 201)
          throw new Error(`issuance failed: ${response.status} ${await response.text()}`);
        await response.arrayBuffer();
      }).finally(() => clearInterval(sampler));
      issued += n;
      last = await line(issued, batch.rate, during);
    }
    await stop(child);
    const live = await compactedSize(levelDir);
    console.log(
      `after ${issued}: RSS ${mib(last.m.rss)} (peak ${mib(last.m.peak)}` +
        `${last.median === undefined ? '' : `; median over the last batch ${mib(last.median)}`}), data folder ${mib(last.folder.bytes)} in ` +
        `${last.folder.files} files; live data (compacted offline) ${mib(live.bytes)} in ${live.files} files: ` +
        `folder = ${(last.folder.bytes / live.bytes).toFixed(2)}× live`,
    );
    console.log(
      `load average at end ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
    const ratio = last.folder.bytes / live.bytes;
    return [
      {
        what: `local runtime RSS / data folder after ${issued.toLocaleString('en')} issuances`,
        measured:
          `${mib(last.m.rss)}${last.median === undefined ? '' : ` (last batch's median ${mib(last.median)})`}` +
          ` / ${ratio.toFixed(2)}× live data (${mib(live.bytes)})`,
        goal: '≤ 400 MiB / ≤ 3× live data',
        met: last.m.rss <= 400 * MiB && ratio <= 3,
      },
    ];
  } finally {
    await stop(child);
    await rm(dataDir, { recursive: true, force: true });
  }
}

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(entry).href) {
  const arg = process.argv[2];
  await run(arg === undefined ? DEFAULT_ISSUANCES : Number(arg));
}
