import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Clock } from '../../clock.js';
import type { SmsMessage, SmsSender } from '../../identity/sms-sender.js';

/**
 * The local runtime's {@link SmsSender}: each message becomes one JSON line `{ at, to, text, code }` of
 * `DATA_DIR/outbox/sms.jsonl` (the contract's "Local runtime" section). Nothing in the service reads the
 * file back; it is there so that a person trying the service, and the tests, can read the code they were
 * sent. One `appendFile` per message, so concurrent senders never interleave within a line.
 *
 * @example
 * ```ts
 * const sms = new OutboxSmsSender(join(config.dataDir, 'outbox', 'sms.jsonl'), clock);
 * ```
 */
export class OutboxSmsSender implements SmsSender {
  constructor(
    private readonly file: string,
    private readonly clock: Clock,
  ) {}

  async send(message: SmsMessage): Promise<void> {
    await mkdir(dirname(this.file), { recursive: true });
    const line = {
      at: new Date(this.clock.now()).toISOString(),
      to: message.to,
      text: message.text,
      code: message.code,
    };
    await appendFile(this.file, `${JSON.stringify(line)}\n`, 'utf8');
  }
}
