import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Alert, AlertPublisher } from '../../supervision/alert-rules.js';

/**
 * The local runtime's {@link AlertPublisher}: each alert becomes one JSON line of
 * `DATA_DIR/outbox/alerts.jsonl` (in AWS it goes to the alarm topic instead). One `appendFile` per alert,
 * so concurrent publishers never interleave within a line.
 *
 * @example
 * ```ts
 * const publisher = new OutboxAlertPublisher(join(config.dataDir, 'outbox', 'alerts.jsonl'));
 * ```
 */
export class OutboxAlertPublisher implements AlertPublisher {
  constructor(private readonly file: string) {}

  async publish(alert: Alert): Promise<void> {
    await mkdir(dirname(this.file), { recursive: true });
    await appendFile(this.file, `${JSON.stringify(alert)}\n`, 'utf8');
  }
}
