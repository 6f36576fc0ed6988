import { AsyncSlot } from '../../shared/async-context.js';
import type { FunctionName } from '../../functions/routes.js';

/**
 * Which function the local runtime is running, for everything the invocation does (its awaits, timers and
 * callbacks included). Lambda gives each function its own role; locally every handler shares one process
 * and one set of clients, so this is how a client call knows whose permissions apply. A slot of the
 * process's one async context (shared/async-context.ts), not an AsyncLocalStorage of its own.
 */
export const invocation = new AsyncSlot<{ functionName: FunctionName }>('invocation');
