import { describe, expect, it } from 'vitest';
import { admitSend, smsCodePolicy } from '../../../shared/identity/sms-codes.js';
import { translator } from '../../../shared/web/kit/i18n.js';
import { codeThrottled, sendCodeButton } from '../../../shared/web/pages/interaction-phone-pages.js';
import { smsJobDependencies } from '../../support/in-memory-sms.js';

const zh = translator('zh');
const phone = '+8613800138000';

// Review finding: the page told a daily cap from the phone's interval by the length of the wait, so in a
// cap's last minute (a wait under 60 s) the 获取验证码 button counted the cap down as if it were the
// interval. The server now names the limit that refused a send, and only the interval is counted down.
describe('the limit that refused a send', () => {
  it('is the interval between two codes, or a day’s cap even in its last minute', async () => {
    const deps = smsJobDependencies();
    const send = (source: string) => admitSend({ phone, source }, deps);
    expect(await send('192.0.2.1')).toEqual({ admitted: true });
    expect(await send('192.0.2.2')).toEqual({ admitted: false, retryAfterSeconds: 60, limit: 'interval' });
    for (let i = 1; i < smsCodePolicy.phoneDailyCap; i++) {
      deps.clock.advanceSeconds(60);
      expect(await send(`192.0.2.${10 + i}`)).toEqual({ admitted: true });
    }
    // The day's codes are used up; 30 s before the day from the first send ends, the wait is a cap's.
    deps.clock.advanceSeconds(86_400 - (smsCodePolicy.phoneDailyCap - 1) * 60 - 30);
    expect(await send('192.0.2.99')).toEqual({ admitted: false, retryAfterSeconds: 30, limit: 'daily' });

    const refused = codeThrottled(zh, 30, 'daily');
    expect(refused).toEqual({
      text: '今天获取验证码的次数已达上限，请在 30 秒后重试。',
      error: true,
      sendLimit: 'daily',
    });
    const button = sendCodeButton(zh, refused).value;
    expect(button).toContain('data-limit="daily"');
    expect(button).not.toContain('data-resend-after');
    // The interval's 30 s, by contrast, are counted down.
    const interval = codeThrottled(zh, 30, 'interval');
    expect(interval).toMatchObject({ text: '发送过于频繁，请在 30 秒后重试。', resendAfterSeconds: 30 });
    expect(sendCodeButton(zh, interval).value).toMatch(/data-limit="interval"\s+data-resend-after="30"/);
  });

  it('is a day’s cap when the source address used up its day, whatever the phone', async () => {
    const deps = smsJobDependencies();
    const source = '198.51.100.7';
    const phoneOf = (n: number) => `+86138${String(10_000_000 + n).slice(-8)}`;
    for (let i = 1; i <= smsCodePolicy.sourceDailyCap; i++) {
      expect((await admitSend({ phone: phoneOf(i), source }, deps)).admitted).toBe(true);
    }
    expect(await admitSend({ phone: phoneOf(999), source }, deps)).toEqual({
      admitted: false,
      retryAfterSeconds: 86_400,
      limit: 'daily',
    });
  });
});
