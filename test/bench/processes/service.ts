/**
 * A bench child: the local runtime exactly as `npm start` runs it (its embedded DynamoDB and KMS
 * emulator, the grant guard, every function in its own container), on a free port and a fresh data
 * folder, with production settings (no test shortcuts). `BENCH_DATA_DIR` picks the folder.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../../shared/config.js';
import { startLocalRuntime } from '../../../infra/local/runtime.js';
import { serveBenchChild } from './child.js';

const dataDir = process.env.BENCH_DATA_DIR ?? (await mkdtemp(join(tmpdir(), 'elicence-bench-')));
const runtime = await startLocalRuntime(loadConfig({ PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'SILENT' }));
serveBenchChild({
  baseUrl: runtime.baseUrl,
  credentials: runtime.credentials as unknown as Record<string, unknown>,
  counts: () => ({ dynamo: runtime.dynamo?.stats() ?? {}, kms: runtime.kms?.stats() ?? {} }),
  reset: () => {
    runtime.dynamo?.resetStats();
    runtime.kms?.resetStats();
  },
  close: async () => {
    await runtime.close();
    if (!process.env.BENCH_DATA_DIR) await rm(dataDir, { recursive: true, force: true });
  },
});
