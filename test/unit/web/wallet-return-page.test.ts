import { describe, expect, it } from 'vitest';
import { routes } from '../../../functions/routes.js';
import { walletReturnPath } from '../../../shared/web/wallet/return-page.js';

const origin = 'https://id.example.gov.cn';
const licence = '1.2.156.3005.2.003.11110000000013223T.0.001.D';
const back = (returnTo: string | undefined) => walletReturnPath(returnTo, origin);

describe('the page a wallet sign-in comes back to (review R35 F1: an allow-list, not a deny-list)', () => {
  it('is a wallet page of the list, with its query', () => {
    expect(back('/wallet')).toBe('/wallet');
    expect(back(`/wallet/licences/${licence}`)).toBe(`/wallet/licences/${licence}`);
    expect(back('/wallet/passkeys?added=1')).toBe('/wallet/passkeys?added=1');
    expect(back('/wallet/account/close')).toBe('/wallet/account/close');
    expect(back('/scan-login/abcDEF_-123')).toBe('/scan-login/abcDEF_-123');
  });

  it('is the licence page for its QR page, whatever fields the link chose', () => {
    expect(back(`/wallet/licences/${licence}/qr?disclose=vehicleClass`)).toBe(`/wallet/licences/${licence}`);
  });

  it.each([
    `/wallet/licences/${licence}/qr/?disclose=vehicleClass`,
    `/wallet/licences/${licence}//qr?disclose=vehicleClass`,
    `/wallet/licences/${licence}/./qr`,
    `/wallet/licences/${licence}/x/../qr`,
    `/wallet/licences/${licence}/%2e/qr`,
    `/wallet/licences/${licence}%2Fqr`,
    `/wallet/licences/${licence}%2fqr`,
    '/wallet/',
    '//evil.example/wallet',
    '/\\evil.example/wallet',
    'https://evil.example/wallet',
    'javascript:alert(1)',
    '/wallet/login?returnTo=/wallet',
    '/wallet/callback?code=x',
    '/wallet/licences/x/presentations',
    '/wallet#x',
    '/walletx',
    '/console',
    '/wallet/licences/a b',
    `/wallet?${'x'.repeat(500)}`,
    '',
    undefined,
  ])('is none for %j (the sign-in lands on /wallet)', (returnTo) => {
    expect(back(returnTo)).toBeUndefined();
  });

  it('knows every page of the wallet: each GET route is a return page, or deliberately not one', () => {
    const notReturnedTo = new Set(['/wallet/login', '/wallet/callback']);
    const samples: Record<string, string> = { id: licence, agentId: 'agt_abc', code: 'abcdef' };
    for (const route of routes.filter((r) => r.function === 'wallet' && r.method === 'GET')) {
      if (notReturnedTo.has(route.path)) continue;
      const path = route.path.replace(/\{(\w+)\}/g, (_, name: string) => samples[name] ?? 'x');
      const expected = route.path.endsWith('/qr') ? path.slice(0, -'/qr'.length) : path;
      expect(back(path), route.path).toBe(expected);
    }
  });
});
