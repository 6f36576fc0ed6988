import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OutboxSmsSender } from '../../../shared/adapters/outbox/sms-outbox.js';

describe('the local SMS outbox', () => {
  it('appends one JSON line per message, { at, to, text, code }, creating its folder', async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'outbox-')), 'outbox', 'sms.jsonl');
    const sms = new OutboxSmsSender(file, { now: () => Date.parse('2026-12-05T02:00:00Z') });
    await Promise.all([
      sms.send({ to: '+8613800138000', text: '【电子证照】验证码 123456', code: '123456' }),
      sms.send({ to: '+8613900139000', text: '【电子证照】您的账户已冻结' }),
    ]);
    const lines = (await readFile(file, 'utf8'))
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as unknown);
    expect(lines).toHaveLength(2);
    expect(lines).toContainEqual({
      at: '2026-12-05T02:00:00.000Z',
      to: '+8613800138000',
      text: '【电子证照】验证码 123456',
      code: '123456',
    });
    expect(lines).toContainEqual({
      at: '2026-12-05T02:00:00.000Z',
      to: '+8613900139000',
      text: '【电子证照】您的账户已冻结',
    });
  });
});
