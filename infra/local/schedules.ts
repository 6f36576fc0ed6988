import type { FunctionName } from '../../functions/routes.js';
import { logger } from '../../shared/logger.js';
import { invocation } from './invocation.js';

/** A scheduled function, locally: what the stack's EventBridge rule invokes every `everySeconds`. */
export interface LocalScheduleEntry {
  functionName: FunctionName;
  everySeconds: number;
  /** Loads the function's handler, once, at its first run. */
  load: () => Promise<() => Promise<unknown>>;
}

/** The local runtime's schedules: each function run on its interval, and on demand (tests). */
export interface LocalSchedules {
  /** Runs `functionName` now, after any run of it under way, in its own invocation (its grants enforced). */
  run(functionName: FunctionName): Promise<unknown>;
  /** Stops the timers and waits for the runs under way. */
  stop(): Promise<void>;
}

/**
 * EventBridge's scheduled rules, as the local runtime plays them: each entry's handler runs every
 * `everySeconds` inside its own invocation, so that the local grant guard holds it to its grants as IAM
 * would; runs of one function never overlap (a run that is due while one is under way waits for it). A run
 * that throws is logged and the schedule goes on, as a rule's next invocation would. The timers do not
 * keep the process alive.
 *
 * @example
 * ```ts
 * const schedules = startSchedules([{ functionName: 'pending-work-reconciler', everySeconds: 60, load }]);
 * await schedules.run('pending-work-reconciler');
 * await schedules.stop();
 * ```
 */
export function startSchedules(entries: readonly LocalScheduleEntry[]): LocalSchedules {
  const handlers = new Map<FunctionName, Promise<() => Promise<unknown>>>();
  const running = new Map<FunctionName, Promise<unknown>>();
  const timers: NodeJS.Timeout[] = [];

  const run = (entry: LocalScheduleEntry): Promise<unknown> => {
    const previous = running.get(entry.functionName) ?? Promise.resolve();
    const next = previous
      .catch(() => undefined)
      .then(async () => {
        if (!handlers.has(entry.functionName)) handlers.set(entry.functionName, entry.load());
        const handler = await handlers.get(entry.functionName)!;
        return invocation.run({ functionName: entry.functionName }, handler);
      });
    running.set(entry.functionName, next);
    return next;
  };

  for (const entry of entries) {
    const timer = setInterval(() => {
      run(entry).catch((error: unknown) =>
        logger.error('scheduled run failed', { function: entry.functionName, error: String(error) }),
      );
    }, entry.everySeconds * 1000);
    timer.unref();
    timers.push(timer);
  }

  return {
    run(functionName) {
      const entry = entries.find((one) => one.functionName === functionName);
      if (!entry) throw new Error(`No local schedule runs ${functionName}`);
      return run(entry);
    },
    async stop() {
      for (const timer of timers) clearInterval(timer);
      await Promise.allSettled(running.values());
    },
  };
}
