import { describe, expect, it } from 'vitest';
import { AuthenticationError } from '../../../shared/http/api-handler.js';
import { authenticate, type AccessTokenRecord } from '../../../shared/http/authenticate.js';
import type { HttpEvent } from '../../../shared/http/types.js';
import { InMemoryDpopProofLedger } from '../../support/in-memory.js';

const audience = 'https://id.gov.example';
const now = 1_800_000_000;
const token = 'tok_' + 'a'.repeat(40);
const records = new Map<string, AccessTokenRecord>([
  [token, { clientId: 'cl_admin', scope: 'admin licences:verify', aud: audience, exp: now + 60 }],
  ['expired_' + 'b'.repeat(30), { clientId: 'cl_admin', scope: 'admin', aud: audience, exp: now }],
  [
    'elsewhere_' + 'c'.repeat(30),
    { clientId: 'cl_admin', scope: 'admin', aud: 'https://other.example', exp: now + 60 },
  ],
]);
const lookup = async (t: string) => records.get(t);
const dpop = { proofs: new InMemoryDpopProofLedger(), publicUrl: audience };

const withAuthorization = (authorization?: string) =>
  ({ headers: authorization ? { authorization } : {} }) as unknown as HttpEvent;

async function refusal(authorization: string | undefined, requiredScope = 'admin') {
  const error = await authenticate(withAuthorization(authorization), lookup, {
    audience,
    requiredScope,
    nowSeconds: now,
    dpop,
  }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AuthenticationError);
  return error as AuthenticationError;
}

describe('authenticating a bearer token for our API', () => {
  it('names the client and its scopes', async () => {
    const caller = await authenticate(withAuthorization(`Bearer ${token}`), lookup, {
      audience,
      requiredScope: 'admin',
      nowSeconds: now,
      dpop,
    });
    expect(caller.clientId).toBe('cl_admin');
    expect([...caller.scopes]).toEqual(['admin', 'licences:verify']);
  });

  // RFC 7235 §2.1: the auth scheme is case-insensitive (a lowercase `bearer` was a 401), then 1*SP.
  it.each([`bearer ${token}`, `BEARER ${token}`, `BeArEr ${token}`, `Bearer  ${token}`])(
    'takes the scheme in any case: %s',
    async (authorization) => {
      const caller = await authenticate(withAuthorization(authorization), lookup, {
        audience,
        requiredScope: 'admin',
        nowSeconds: now,
        dpop,
      });
      expect(caller.clientId).toBe('cl_admin');
    },
  );

  it('asks for a token when there is none, with a bare challenge', async () => {
    const error = await refusal(undefined);
    expect([error.status, error.challenge]).toEqual([401, 'Bearer']);
  });

  it.each([
    ['a Basic header', 'Basic dXNlcjpwYXNz'],
    ['a scheme run into the token', `Bearer${token}`],
    ['another scheme ending in bearer', `xbearer ${token}`],
    ['an unknown token', `Bearer ${'z'.repeat(43)}`],
    ['an expired token', `Bearer expired_${'b'.repeat(30)}`],
    ['a token for another audience', `Bearer elsewhere_${'c'.repeat(30)}`],
  ])('refuses %s as invalid_token', async (_what, authorization) => {
    const error = await refusal(authorization);
    expect([error.status, error.code]).toEqual([401, 'invalid_token']);
    expect(error.challenge).toMatch(/^Bearer error="invalid_token"/);
  });

  // Review R25, L7: `Bearer bogus` was told "not a Bearer token"; it is one, only not valid.
  it.each([
    ['Bearer bogus', 'Bearer'],
    ['bearer not-ours-but-long-enough-0123456789', 'Bearer'],
    [`Bearer ${token}!`, 'Bearer'],
    ['DPoP bogus', 'DPoP'],
  ])(
    'refuses the malformed token of %s as an invalid one, not as another scheme',
    async (authorization, scheme) => {
      const error = await refusal(authorization);
      expect([error.status, error.code, error.message]).toEqual([
        401,
        'invalid_token',
        'The access token is unknown, revoked or expired',
      ]);
      expect(error.challenge.startsWith(`${scheme} error="invalid_token"`)).toBe(true);
    },
  );

  it('tells a header of another scheme to send a Bearer token', async () => {
    const error = await refusal('Basic dXNlcjpwYXNz');
    expect(error.message).toBe(
      'The Authorization header is not of the Bearer or DPoP scheme: send Authorization: Bearer <token>',
    );
  });

  it('refuses a valid token without the scope as insufficient_scope (403)', async () => {
    const error = await refusal(`Bearer ${token}`, 'licences:issue');
    expect([error.status, error.code]).toEqual([403, 'insufficient_scope']);
    expect(error.challenge).toContain('error="insufficient_scope"');
  });
});
