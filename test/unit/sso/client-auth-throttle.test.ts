import { describe, expect, it } from 'vitest';
import type { HttpEvent } from '../../../shared/http/types.js';
import { presentedClientId } from '../../../shared/sso/client-auth-throttle.js';

const event = (headers: Record<string, string>, body?: string, isBase64Encoded = false) =>
  ({ headers, ...(body === undefined ? {} : { body }), isBase64Encoded }) as unknown as HttpEvent;
const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(user)}:${encodeURIComponent(password)}`).toString('base64')}`;
const form = { 'content-type': 'application/x-www-form-urlencoded' };

describe('the client id a token request presents, read as the provider reads it', () => {
  it('comes from HTTP Basic, form-urlencoded inside', () => {
    expect(presentedClientId(event({ authorization: basic('client one', 's:e:c') }))).toBe('client one');
    expect(presentedClientId(event({ Authorization: basic('abc', 'x') }))).toBe('abc');
  });

  it('comes from the form’s client_id otherwise, also in a base64 body', () => {
    expect(presentedClientId(event(form, 'client_id=abc&client_secret=x'))).toBe('abc');
    const encoded = Buffer.from('grant_type=x&client_id=def').toString('base64');
    expect(presentedClientId(event(form, encoded, true))).toBe('def');
  });

  it('is absent when nothing names a client, or the header cannot be read', () => {
    expect(presentedClientId(event(form, 'grant_type=client_credentials'))).toBeUndefined();
    expect(presentedClientId(event({ authorization: 'Bearer abc' }))).toBeUndefined();
    expect(
      presentedClientId(event({ authorization: `Basic ${Buffer.from('%E0%A4%A:x').toString('base64')}` })),
    ).toBeUndefined();
    expect(
      presentedClientId(event({ 'content-type': 'application/json' }, '{"client_id":"abc"}')),
    ).toBeUndefined();
  });
});
