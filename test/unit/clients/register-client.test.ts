import { describe, expect, it } from 'vitest';
import { clientMetadata, registerClientInput } from '../../../shared/clients/register-client.js';

/** Where a platform may ask to be posted to: its back-channel logout URI and its events endpoint. */
const platform = (extra: Record<string, unknown>) => ({
  name: '测试平台',
  redirectUris: ['https://platform.example/callback'],
  scopes: ['openid'],
  ...extra,
});
const pathsOf = (input: unknown) => {
  const parsed = registerClientInput.safeParse(input);
  return parsed.success ? [] : parsed.error.issues.map((issue) => issue.path.join('.'));
};

describe('outgoing endpoints at registration', () => {
  it('accepts a public IPv4 address written in the URL (a BlockList with ::ffff:0:0/96 refused them all)', () => {
    expect(pathsOf(platform({ backchannelLogoutUri: 'https://203.0.113.10/logout' }))).toEqual([]);
    expect(pathsOf(platform({ eventsUri: 'https://203.0.113.10/events' }))).toEqual([]);
  });

  it('stores the events endpoint as events_uri', () => {
    const input = registerClientInput.parse(platform({ eventsUri: 'https://platform.example/events' }));
    expect(clientMetadata('cl_1', input)).toMatchObject({ events_uri: 'https://platform.example/events' });
  });

  it.each([
    ['http://platform.example/events'],
    ['https://10.0.0.8/events'],
    ['https://[::ffff:a00:1]/events'],
    ['https://169.254.169.254/'],
    ['https://[::127.0.0.1]/events'],
    ['https://[2002:a00:1::1]/events'],
    ['https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/events'],
    ['https://[64:ff9b::169.254.169.254]/'],
    ['https://[64:ff9b:1::a00:1]/events'],
  ])('refuses the events endpoint %s', (eventsUri) => {
    expect(pathsOf(platform({ eventsUri }))).toEqual(['eventsUri']);
  });

  it('lets a platform on this machine register a loopback endpoint (refused at delivery in production)', () => {
    expect(pathsOf(platform({ eventsUri: 'http://127.0.0.1:8080/events' }))).toEqual([]);
  });

  it('takes an events endpoint only from a platform that signs people in', () => {
    expect(
      pathsOf({ name: '核验终端', scopes: ['licences:verify'], eventsUri: 'https://v.example/events' }),
    ).toEqual(['eventsUri']);
  });
});
