import { describe, expect, it } from 'vitest';
import { approximateAddress, userAgentSummary } from '../../../shared/web/kit/browser-summary.js';

describe('what a wallet shows of the browser that asks to sign in', () => {
  it('summarises common User-Agent headers as browser, major version and system', () => {
    expect(
      userAgentSummary(
        'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
      ),
    ).toBe('Chrome 131 · Windows');
    expect(
      userAgentSummary(
        'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.86',
      ),
    ).toBe('Edge 131 · Windows');
    expect(userAgentSummary('Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0')).toBe(
      'Firefox 128 · Linux',
    );
    expect(
      userAgentSummary(
        'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
      ),
    ).toBe('Safari 17 · iOS');
    expect(userAgentSummary(undefined)).toBe('');
    expect(userAgentSummary('curl/8.5.0')).toBe('');
  });

  it('keeps only the network of an address: the /24 of IPv4, the /48 of IPv6', () => {
    expect(approximateAddress('203.0.113.7')).toBe('203.0.113.x');
    expect(approximateAddress('::ffff:198.51.100.200')).toBe('198.51.100.x');
    expect(approximateAddress('2001:db8:1234:5678::1')).toBe('2001:db8:1234::/48');
    expect(approximateAddress('2001:db8::1')).toBe('2001:db8:0::/48');
    expect(approximateAddress('not an address')).toBeUndefined();
    expect(approximateAddress(undefined)).toBeUndefined();
  });
});
