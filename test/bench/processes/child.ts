import type { FromChild, ToChild } from './protocol.js';

/**
 * The IPC side of a bench child: announces `ready`, answers `counts` and `reset` with the given
 * functions, and on `close` stops and exits.
 */
export function serveBenchChild(options: {
  baseUrl: string;
  credentials: Record<string, unknown>;
  counts?: () => { dynamo: Record<string, number>; kms: Record<string, number> };
  reset?: () => void;
  close: () => Promise<void>;
}): void {
  const send = (message: FromChild) => process.send?.(message);
  const cpuMicros = () => {
    const { user, system } = process.cpuUsage();
    return user + system;
  };
  process.on('message', (message: ToChild) => {
    if (message.type === 'counts') {
      const counts = options.counts?.() ?? { dynamo: {}, kms: {} };
      send({ type: 'counts', ...counts, rssBytes: process.memoryUsage().rss, cpuMicros: cpuMicros() });
    } else if (message.type === 'reset') {
      options.reset?.();
      send({
        type: 'counts',
        dynamo: {},
        kms: {},
        rssBytes: process.memoryUsage().rss,
        cpuMicros: cpuMicros(),
      });
    } else if (message.type === 'close') {
      void options.close().finally(() => {
        send({ type: 'closed' });
        process.exit(0);
      });
    }
  });
  // The load generator died: do not outlive it.
  process.on('disconnect', () => void options.close().finally(() => process.exit(0)));
  send({ type: 'ready', baseUrl: options.baseUrl, credentials: options.credentials });
}
