import { describe, expect, it } from 'vitest';
import type { HttpEvent } from '../../../shared/http/types.js';
import { createHash } from 'node:crypto';
import { presentedClientId, throttleClientAuthentication } from '../../../shared/sso/client-auth-throttle.js';
import type { RelayedAddresses } from '../../../shared/web/kit/relayed-address.js';
import { InMemoryLoginAttemptStore } from '../../support/in-memory-identity.js';

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

describe('a form’s client_id read strictly, as every form body is (shared/http/form-body.ts)', () => {
  it('refuses a client_id that is not UTF-8, or a broken escape, rather than read both as the same U+FFFD', () => {
    // Lossily, `%FF` and `%FE` were both U+FFFD: two byte strings sharing one counter.
    for (const body of [
      'client_id=demo%FF',
      'client_id=demo%FE',
      'client_id=demo%zz',
      'grant_type=%C0&client_id=a',
    ]) {
      expect(() => presentedClientId(event(form, body)), body).toThrow(
        expect.objectContaining({ code: 'invalid_request' }),
      );
    }
    expect(() =>
      presentedClientId(event(form, Buffer.from('client_id=demo%FF').toString('base64'), true)),
    ).toThrow(expect.objectContaining({ code: 'invalid_request' }));
  });

  it('keeps a UTF-8 client_id, escaped or not, and refuses a charset other than UTF-8', () => {
    expect(presentedClientId(event(form, 'client_id=%E5%B9%B3%E5%8F%B0'))).toBe('平台');
    expect(() =>
      presentedClientId(
        event({ 'content-type': 'application/x-www-form-urlencoded; charset=gbk' }, 'client_id=a'),
      ),
    ).toThrow(expect.objectContaining({ code: 'unsupported_charset' }));
  });
});

describe('the endpoints the throttle counts (review R35 F2)', () => {
  const routes = {
    token: '/token',
    introspection: '/token/introspection',
    revocation: '/token/revocation',
    pushed_authorization_request: '/request',
  };
  const deps = () => ({
    loginAttempts: new InMemoryLoginAttemptStore(),
    lookupMac: { mac: async (data: Uint8Array) => createHash('sha256').update(data).digest() },
    relayedAddresses: { read: async () => undefined } as unknown as RelayedAddresses,
    clock: { now: () => Date.parse('2026-12-07T12:00:00Z') },
  });
  const tokenRequest = (rawPath: string, routeKey: string) =>
    ({
      routeKey,
      rawPath,
      headers: { ...form, authorization: basic('demo-verifier', 'wrong') },
      body: 'grant_type=client_credentials',
      isBase64Encoded: false,
      requestContext: { http: { method: 'POST', sourceIp: '192.0.2.1' } },
    }) as unknown as HttpEvent;
  const invalidClient = async () => ({ statusCode: 401, body: JSON.stringify({ error: 'invalid_client' }) });

  it('are known by the route a request came by, so that /token/ served as /token is counted as /token', async () => {
    const shared = deps();
    const statuses: number[] = [];
    for (let guess = 0; guess < 8; guess++) {
      const answer = await throttleClientAuthentication(
        tokenRequest('/token/', 'ANY /token'),
        invalidClient,
        shared,
        routes,
      );
      statuses.push(answer.statusCode ?? 0);
    }
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses.at(-1)).toBe(429);
  });
});
