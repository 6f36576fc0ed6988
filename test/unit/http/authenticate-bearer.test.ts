import { describe, expect, it } from 'vitest';
import { errorResult } from '../../../shared/http/api-handler.js';
import { authenticateBearer, type AccessTokenRecord } from '../../../shared/http/authenticate.js';
import type { HttpEvent } from '../../../shared/http/types.js';
import { InMemoryDpopProofLedger } from '../../support/in-memory.js';

/** The one bearer check of the API's functions: audience from ISSUER_URL, expiry at the given clock. */

const issuerUrl = 'https://id.gov.example';
const nowSeconds = 1_800_000_000;
const token = 'tok_' + 'a'.repeat(40);
const record: AccessTokenRecord = {
  clientId: 'cl_issuer',
  scope: 'licences:issue',
  aud: issuerUrl,
  exp: nowSeconds + 60,
  extra: { issuer_id: 'iss_1' },
};
const deps = (at: number, audience = issuerUrl) => ({
  accessTokens: async (presented: string) => (presented === token ? record : undefined),
  config: { issuerUrl: audience },
  clock: { now: () => at * 1000 },
  dpopProofs: new InMemoryDpopProofLedger(),
});
const event = (authorization?: string) =>
  ({ headers: authorization ? { authorization } : {} }) as unknown as HttpEvent;

async function refusal(promise: Promise<unknown>) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  const result = errorResult(error, 'req-1');
  return {
    status: result.statusCode,
    code: (JSON.parse(String(result.body)) as { code: string }).code,
    challenge: result.headers?.['www-authenticate'],
  };
}

describe('authenticateBearer', () => {
  it('gives the caller of a token with the scope, meant for ISSUER_URL, unexpired at the clock', async () => {
    const caller = await authenticateBearer(event(`Bearer ${token}`), 'licences:issue', deps(nowSeconds));
    expect(caller).toMatchObject({ clientId: 'cl_issuer', issuerId: 'iss_1' });
  });

  it('refuses a token expired at the dependencies’ clock (401 invalid_token)', async () => {
    expect(
      await refusal(authenticateBearer(event(`Bearer ${token}`), 'licences:issue', deps(nowSeconds + 60))),
    ).toMatchObject({
      status: 401,
      code: 'invalid_token',
      challenge: expect.stringMatching(/^Bearer error="invalid_token"/),
    });
  });

  it('refuses a token meant for another origin than ISSUER_URL (401 invalid_token)', async () => {
    expect(
      await refusal(
        authenticateBearer(
          event(`Bearer ${token}`),
          'licences:issue',
          deps(nowSeconds, 'https://other.example'),
        ),
      ),
    ).toMatchObject({ status: 401, code: 'invalid_token' });
  });

  it('refuses a token without the scope (403 insufficient_scope) and no token (401, Bearer)', async () => {
    expect(
      await refusal(authenticateBearer(event(`Bearer ${token}`), 'admin', deps(nowSeconds))),
    ).toMatchObject({
      status: 403,
      code: 'insufficient_scope',
      challenge: expect.stringMatching(/^Bearer error="insufficient_scope"/),
    });
    expect(await refusal(authenticateBearer(event(), 'admin', deps(nowSeconds)))).toEqual({
      status: 401,
      code: 'invalid_request',
      challenge: 'Bearer',
    });
  });
});
