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

describe('a form’s client_id read as oidc-provider reads it: UTF-8, whatever charset is declared (reviews R70 F1, R73-1)', () => {
  const declared = (charset: string) => ({
    'content-type': `application/x-www-form-urlencoded; charset=${charset}`,
  });

  it('refuses a client_id the provider would read lossily, rather than count every stray byte as one U+FFFD', () => {
    // Lossily, `%FF`, `%FE` and a raw 0xFF are all `demo\uFFFD`: byte strings sharing one counter.
    for (const body of ['client_id=demo%FF', 'client_id=demo%FE', 'client_id=demo%EF%BF%BD']) {
      expect(() => presentedClientId(event(form, body)), body).toThrow(
        expect.objectContaining({ code: 'invalid_request' }),
      );
    }
    const raw = Buffer.from('client_id=demo\xff', 'latin1').toString('base64');
    expect(() => presentedClientId(event(form, raw, true))).toThrow(
      expect.objectContaining({ code: 'invalid_request' }),
    );
    // Escapes are UTF-8 whatever the charset: `%E9` is no é under ISO-8859-1 either.
    expect(() => presentedClientId(event(declared('ISO-8859-1'), 'client_id=caf%E9'))).toThrow(
      expect.objectContaining({ code: 'invalid_request' }),
    );
  });

  it('reads the rest as the provider does: the bytes as UTF-8 whatever the charset, a broken escape as it is', () => {
    expect(presentedClientId(event(form, 'client_id=%E5%B9%B3%E5%8F%B0'))).toBe('平台');
    expect(presentedClientId(event(form, 'client_id=demo%zz'))).toBe('demo%zz');
    expect(presentedClientId(event(form, 'grant_type=%C0&client_id=a'))).toBe('a');
    for (const charset of [
      'UTF-8',
      'utf8',
      'US-ASCII',
      'ISO-8859-1',
      'windows-1252',
      'GB18030',
      'x-no-such',
    ]) {
      expect(presentedClientId(event(declared(charset), 'client_id=demo')), charset).toBe('demo');
    }
  });

  it('does not let a declared charset hide the client_id the provider reads (review R73-1)', () => {
    // Koa 3 does not give the provider `ctx.charset`: it reads these bytes as UTF-8, `client_id=victim`.
    for (const charset of ['utf-16le', '"UTF-16LE"', 'utf-16be']) {
      expect(
        presentedClientId(event(declared(charset), 'grant_type=client_credentials&client_id=victim')),
        charset,
      ).toBe('victim');
    }
    // Non-ASCII bytes under a declared charset are read as UTF-8 too: Latin-1 `é` is a stray byte, refused.
    const latin1 = Buffer.from('client_id=caf\xe9', 'latin1').toString('base64');
    expect(() => presentedClientId(event(declared('ISO-8859-1'), latin1, true))).toThrow(
      expect.objectContaining({ code: 'invalid_request' }),
    );
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

  it('counts a client on one counter whatever charset is declared, and refuses unreadable bodies in OAuth’s format', async () => {
    const shared = deps();
    const post = (contentType: string, body: string) =>
      throttleClientAuthentication(
        {
          ...tokenRequest('/token', 'ANY /token'),
          headers: { 'content-type': contentType },
          body,
        } as unknown as HttpEvent,
        invalidClient,
        shared,
        routes,
      );
    for (let guess = 0; guess < 6; guess++) {
      await post('application/x-www-form-urlencoded', 'client_id=demo&client_secret=wrong');
    }
    const latin1 = await post(
      'application/x-www-form-urlencoded; charset=ISO-8859-1',
      'client_id=demo&client_secret=right',
    );
    expect(latin1.statusCode).toBe(429);
    // Review R73-1: read as UTF-16LE the form held no client_id and went uncounted to the provider.
    const utf16 = await post(
      'application/x-www-form-urlencoded; charset=utf-16le',
      'client_id=demo&client_secret=right',
    );
    expect(utf16.statusCode).toBe(429);
    const unreadable = await post('application/x-www-form-urlencoded', 'client_id=demo%FF&client_secret=x');
    expect(unreadable.statusCode).toBe(400);
    expect(JSON.parse(String(unreadable.body))).toMatchObject({ error: 'invalid_request' });
  });
});
