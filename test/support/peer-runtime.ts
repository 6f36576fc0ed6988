import { fork, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DemoCredentials } from '../../infra/local/seed.js';

/** Another platform (a peer region) running as `npm start` does, in a process of its own. */
export interface SpawnedRuntime {
  baseUrl: string;
  credentials: DemoCredentials;
  /** Stops it (SIGTERM to its own process id), e.g. to try a peer that is down. */
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, resolve));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/**
 * Starts the local runtime in a child process (`infra/local/start.ts` through tsx) on a free port with its
 * own data folder and `env` (e.g. `PLATFORM_REGION`), and waits until `/healthz` answers: several
 * platforms at once, since the handlers of one process serve one runtime.
 *
 * @example
 * ```ts
 * const b = await spawnRuntime({ PLATFORM_REGION: '310000' });
 * await b.stop();
 * ```
 */
export async function spawnRuntime(env: Record<string, string> = {}): Promise<SpawnedRuntime> {
  const port = await freePort();
  const dataDir = await mkdtemp(join(tmpdir(), 'elicence-peer-'));
  const entry = fileURLToPath(new URL('../../infra/local/start.ts', import.meta.url));
  const child: ChildProcess = fork(entry, [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, PORT: String(port), DATA_DIR: dataDir, LOG_LEVEL: 'SILENT', ...env },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const baseUrl = `http://localhost:${port}`;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`runtime on ${port} exited (${child.exitCode})`);
    try {
      const response = await fetch(`${baseUrl}/healthz`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGTERM');
      throw new Error(`runtime on ${port} did not start`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const credentials = JSON.parse(
    await readFile(join(dataDir, 'credentials.json'), 'utf8'),
  ) as DemoCredentials;
  return {
    baseUrl,
    credentials,
    stop: async () => {
      if (child.exitCode !== null || child.pid === undefined) return;
      process.kill(child.pid, 'SIGTERM');
      await exited;
    },
  };
}
