import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { CachingDocumentClient } from '../../../shared/adapters/dynamo/client.js';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  citizenAnswers,
  adminToken,
  authorizationRequest,
  callbackOf,
  exchange,
  registerPlatform,
  type RelyingParty,
} from '../../support/oidc-flows.js';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.js';
import { parseForm, UserAgent } from '../../support/user-agent.js';

/**
 * The end of a sign-in (the provider's `resume`): the interaction, kept in the browser's sealed cookie,
 * is marked used with one conditional put (so one resume of it makes a code), and the grant, code and
 * session are written together (one BatchWriteItem) when the request ends, before its answer leaves
 * (shared/adapters/dynamo/oidc-adapter.ts, `withRequestReads`).
 */

let runtime: TestRuntime;
let platform: RelyingParty;

beforeAll(async () => {
  runtime = await startTestRuntime();
  platform = await registerPlatform(runtime, await adminToken(runtime), {
    name: '续签 Resume',
    redirectUris: ['https://resume.example/cb'],
    scopes: ['openid', 'profile'],
    firstParty: true,
  });
});
afterAll(() => runtime?.close());
afterEach(() => vi.restoreAllMocks());

/** A browser that has typed the right password: the answer is the 303 to the provider's resume. */
async function signedInUpToResume() {
  const ua = new UserAgent(runtime.baseUrl);
  const request = await authorizationRequest(platform);
  const { page } = await ua.navigate(request.url);
  const form = parseForm(page!.html)!;
  expect(form.action).toMatch(/\/login$/);
  const answer = await ua.request(new URL(form.action, page!.url), {
    form: citizenAnswers(runtime),
  });
  expect(answer.status).toBe(303);
  return { ua, request, resume: new URL(answer.headers.get('location')!, runtime.baseUrl) };
}

const codeIn = (response: Response) => {
  const location = response.headers.get('location');
  if (!location || !location.startsWith(platform.redirectUri)) return undefined;
  return new URL(location).searchParams.get('code') ?? undefined;
};

describe('the end of a sign-in', () => {
  it('gives one code for two resumes of one interaction at once', async () => {
    const { ua, resume } = await signedInUpToResume();
    const answers = await Promise.all([ua.request(resume), ua.request(resume), ua.request(resume)]);
    const codes = answers.map(codeIn).filter((code) => code !== undefined);
    expect(codes, answers.map((a) => a.status).join(',')).toHaveLength(1);
  });

  it('answers with the code only once the grant, code and session are written', async () => {
    const { ua, resume } = await signedInUpToResume();
    // The project's document client (shared/adapters/dynamo/client.ts), whose `send` every module calls.
    const send = CachingDocumentClient.prototype.send;
    let refused = 0;
    vi.spyOn(CachingDocumentClient.prototype, 'send').mockImplementation(function (
      this: CachingDocumentClient,
      ...args: Parameters<typeof send>
    ) {
      const [command] = args;
      if (command instanceof BatchWriteCommand && JSON.stringify(command.input).includes('PutRequest')) {
        refused += 1;
        return Promise.reject(new Error('the table refused the batch'));
      }
      return (send as (...a: unknown[]) => Promise<unknown>).apply(this, args);
    } as typeof send);
    const answer = await ua.request(resume);
    expect(refused).toBe(1);
    expect(codeIn(answer)).toBeUndefined();
    expect(answer.status).toBeGreaterThanOrEqual(500);
  });

  it('a sign-in ends as before: the code works', async () => {
    const ua = new UserAgent(runtime.baseUrl);
    const request = await authorizationRequest(platform);
    const { callback } = await callbackOf(ua, request.url, citizenAnswers(runtime));
    const tokens = await exchange(platform, request, callback);
    expect(tokens.claims()?.sub).toBeTypeOf('string');
    // The session was written too: the next authorization is single sign-on, no sign-in page.
    const again = await authorizationRequest(platform);
    const outcome = await callbackOf(ua, again.url);
    expect(outcome.steps).toEqual([]);
  });
});
