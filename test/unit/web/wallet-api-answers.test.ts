import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccountApi } from '../../../shared/web/wallet/account-api.js';
import { AgentsApi } from '../../../shared/web/wallet/agents-api.js';
import { AuthorizationsApi } from '../../../shared/web/wallet/authorizations-api.js';
import { HolderApiUnavailableError } from '../../../shared/web/wallet/holder-api.js';
import { PasskeysApi } from '../../../shared/web/wallet/passkeys-api.js';
import { startFakeHttpServer, type FakeHttpServer } from '../../support/fake-http-server.js';

/*
 * The wallet's clients of the holder API take a 200 whose body is not the API's JSON (a proxy's HTML error
 * page, a truncated answer) for the API being unavailable, which the pages explain; before, the passkey
 * and authorization lists and the account threw a bare SyntaxError that became a 500.
 */

let api: FakeHttpServer;

beforeAll(async () => {
  api = await startFakeHttpServer();
  api.answer((_, res) => {
    res.writeHead(200, { 'content-type': 'text/html' }).end('<html>upstream busy</html>');
  });
});
afterAll(() => api.close());

describe('an answer that is not JSON', () => {
  const base = () => api.url('').replace(/\/$/, '');
  it.each([
    ['the passkey list', () => new PasskeysApi(base(), 'token').list()],
    ['the authorization list', () => new AuthorizationsApi(base(), 'token').list()],
    ['the account', () => new AccountApi(base(), 'token').read()],
    ['the agents', () => new AgentsApi(base(), 'token').authorities()],
  ])('%s: the holder API is unavailable', async (_, call) => {
    await expect(call()).rejects.toBeInstanceOf(HolderApiUnavailableError);
  });
});
