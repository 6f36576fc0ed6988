import { AsyncLocalStorage } from 'node:async_hooks';
import type { FunctionName } from '../../functions/routes.js';

/**
 * Which function the local runtime is running, for everything the invocation does (its awaits, timers and
 * callbacks included). Lambda gives each function its own role; locally every handler shares one process
 * and one set of clients, so this is how a client call knows whose permissions apply.
 */
export const invocation = new AsyncLocalStorage<{ functionName: FunctionName }>();
