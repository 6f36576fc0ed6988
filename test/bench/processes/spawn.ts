import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Counts, FromChild, Ready, ToChild } from './protocol.js';

/** A bench child process seen from the load generator. */
export interface BenchChild {
  baseUrl: string;
  credentials: Record<string, unknown>;
  /** What it counted since the last {@link reset}, and its RSS now. */
  counts(): Promise<Counts>;
  reset(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts `processes/<name>.ts` in a Node process of its own (through tsx, as `npm run bench` runs) and
 * waits until it listens.
 *
 * @example
 * ```ts
 * const service = await spawnBenchChild('service');
 * await fetch(`${service.baseUrl}/healthz`);
 * await service.close();
 * ```
 */
export async function spawnBenchChild(
  name: 'service' | 'baseline',
  env: Record<string, string> = {},
  /** Extra Node options for the child, e.g. `['--cpu-prof', '--cpu-prof-dir=/tmp/prof']` to profile it. */
  nodeArgs: readonly string[] = [],
): Promise<BenchChild> {
  const entry = fileURLToPath(new URL(`./${name}.ts`, import.meta.url));
  const child: ChildProcess = fork(entry, [], {
    execArgv: ['--import', 'tsx', ...nodeArgs],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = <T extends FromChild['type']>(type: T) =>
    new Promise<Extract<FromChild, { type: T }>>((resolve, reject) => {
      const onMessage = (message: FromChild) => {
        if (message.type !== type) return;
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(message as Extract<FromChild, { type: T }>);
      };
      const onExit = (code: number | null) => reject(new Error(`bench ${name} exited (${code})`));
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
  const ask = <T extends FromChild['type']>(message: ToChild, answer: T) => {
    const answered = next(answer);
    child.send(message);
    return answered;
  };
  const ready: Ready = await next('ready');
  return {
    baseUrl: ready.baseUrl,
    credentials: ready.credentials,
    counts: () => ask({ type: 'counts' }, 'counts'),
    reset: async () => void (await ask({ type: 'reset' }, 'counts')),
    close: async () => {
      if (child.exitCode !== null) return;
      await ask({ type: 'close' }, 'closed').catch(() => undefined);
    },
  };
}
