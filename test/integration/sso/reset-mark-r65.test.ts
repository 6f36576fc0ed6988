import * as client from 'openid-client';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDependencies } from '../../../functions/composition/dependencies.js';
import { finishOwedCleanup } from '../../../shared/identity/owed-cleanup.js';
import { parseIdNumber } from '../../../shared/identifiers/id-number.js';
import { personLookupKey } from '../../../shared/identifiers/lookup-key.js';
import { newIdNumber } from '../../support/in-memory-identity.js';
import { CarrierOfNumbers } from '../../support/in-memory-sms.js';
import {
  adminToken,
  authorizationRequest,
  callbackOf,
  demoPlatform,
  exchange,
  registerPlatform,
  runFlow,
  sessionOf,
  type RelyingParty,
} from '../../support/oidc-flows.js';
import type { TestRuntime } from '../../support/runtime.js';
import { openAccount, putInRegistry, startRuntimeWithCarrier } from '../../support/sharing-flows.js';
import { UserAgent } from '../../support/user-agent.js';

/**
 * Review R65: the reconciler's ending of the sign-ins of a reset whose clean-up was owed (`endSignInsOf`
 * with a bound) raced an intruder holding a session of the mark's own second.
 * F1: it listed the grants, swept their tokens, and only then ended the sessions: a grant made from the
 * session meanwhile (after the listing) was never swept, and its refresh token outlived the reset.
 * F2: a refresh token rotated between the sweep's query and its delete left its successor (of the same
 * sign-in) under the spared grant.
 * It now ends the sessions first, then sweeps the grants again and again until a pass finds nothing more.
 */
let runtime: TestRuntime;
let platform: RelyingParty;
const carrier = new CarrierOfNumbers();
const browser = () => new UserAgent(runtime.baseUrl, [`${runtime.baseUrl}/demo/callback`]);

beforeAll(async () => {
  runtime = await startRuntimeWithCarrier(carrier);
  platform = await demoPlatform(runtime);
});
afterAll(() => runtime?.close());

async function withDeps<T>(work: (deps: ReturnType<typeof buildDependencies>) => Promise<T>): Promise<T> {
  const deps = buildDependencies(runtime.config);
  try {
    return await work(deps);
  } finally {
    deps.doc.destroy();
    deps.kms.destroy();
  }
}

async function userinfo(token: string) {
  const discovery = await fetch(`${runtime.baseUrl}/.well-known/openid-configuration`);
  const { userinfo_endpoint: endpoint } = (await discovery.json()) as { userinfo_endpoint: string };
  return fetch(endpoint, { headers: { authorization: `Bearer ${token}` } });
}

/**
 * An intruder who knows the password signs in at the demo platform in some second; the owner's reset
 * marks the account at the end of that second, and its clean-up fails after the save (owed). Answers the
 * intruder's browser, the account and the mark.
 */
async function intruderThenOwedReset(tag: string) {
  const person = { idNumber: newIdNumber(), name: '测试' + tag, password: 'old-pass-' + tag };
  await putInRegistry(runtime, person.idNumber, person.name);
  await openAccount(runtime, person);
  const intruder = browser();
  const first = await authorizationRequest(platform, { scope: 'openid profile' });
  await callbackOf(intruder, first.url, { username: person.idNumber, password: person.password });
  const loginTs = (await sessionOf(runtime, intruder)).payload.loginTs as number;
  const at = new Date(loginTs * 1000 + 999);
  const accountId = await withDeps(async (deps) => {
    const key = await personLookupKey(deps.lookupMac, parseIdNumber(person.idNumber, new Date()));
    const account = (await deps.accounts.findByLookupKey(key))!;
    await deps.accounts.save({
      ...account,
      proofCleanup: {},
      signInsEnded: { at: at.toISOString(), version: account.version + 1 },
    });
    return account.id;
  });
  // The intruder comes back after the mark, before the reconciler runs.
  await sleep(1100);
  return { intruder, accountId, at };
}

type Command = {
  input?: { ExpressionAttributeValues?: Record<string, unknown>; ProjectionExpression?: string };
};

/**
 * The reconciler finishing the owed clean-up, as its run does (functions/pending-work-reconciler.ts), with
 * the intruder acting (`during`) right after each of its DynamoDB calls `at` picks has answered.
 */
function reconcileWhile(
  accountId: string,
  mark: Date,
  at: (command: Command) => boolean,
  during: () => Promise<void>,
) {
  return withDeps((deps) => {
    const send = deps.doc.send.bind(deps.doc) as (command: unknown) => Promise<unknown>;
    (deps.doc as unknown as { send: typeof send }).send = async (command) => {
      const answer = await send(command);
      if (at(command as Command)) await during();
      return answer;
    };
    return finishOwedCleanup(accountId, mark.toISOString(), {
      accounts: deps.accounts,
      passkeys: deps.passkeys,
      signIns: deps.signIns,
      platformConsents: deps.platformConsents,
    });
  });
}

const partitionOf = (command: Command) => command.input?.ExpressionAttributeValues?.[':pk'];

async function offlinePlatform(name: string) {
  return registerPlatform(runtime, await adminToken(runtime), {
    name,
    redirectUris: [`${runtime.baseUrl}/demo/callback`],
    scopes: ['openid', 'profile', 'offline_access'],
  });
}

/** The reconciler finishing the owed clean-up, undisturbed. */
function reconcile(accountId: string, mark: Date) {
  return reconcileWhile(
    accountId,
    mark,
    () => false,
    async () => {},
  );
}

/** The intruder's browser gets a refresh token at `rp` (consent asked: a grant made now). */
async function offlineTokens(intruder: UserAgent, rp: RelyingParty) {
  const request = await authorizationRequest(rp, {
    scope: 'openid profile offline_access',
    prompt: 'consent',
  });
  const flow = await runFlow(intruder, request.url, { consent: true });
  expect(flow.stoppedAt).toBeUndefined();
  const tokens = await exchange(rp, request, flow.callback!);
  expect(tokens.refresh_token).toBeDefined();
  return tokens;
}

async function refreshWith(rp: RelyingParty, refreshToken: string) {
  return client.refreshTokenGrant(rp.config, refreshToken).then(
    (answer) => answer.access_token,
    (error: unknown) => (error as { error?: string }).error,
  );
}

describe('review R65: no refresh token of the mark’s second outlives the reconciler, raced as it runs', () => {
  it('F1: a grant and refresh token got from the session after the reconciler listed the grants', async () => {
    const { intruder, accountId, at } = await intruderThenOwedReset('r65a');
    const rp = await offlinePlatform('other r65a');
    let tokens: Awaited<ReturnType<typeof offlineTokens>> | undefined;
    let listings = 0;
    // The second listing of the person's sign-ins: the first is the platforms' consents' (withdrawAll),
    // the second the ending of the sign-ins', while the session of the mark's second still stands.
    const outcome = await reconcileWhile(
      accountId,
      at,
      (command) => String(partitionOf(command)).startsWith('oidc-account#') && ++listings === 2,
      async () => {
        tokens = await offlineTokens(intruder, rp);
      },
    );
    expect(outcome).toBe('finished');
    expect(tokens).toBeDefined();
    expect(await refreshWith(rp, tokens!.refresh_token!)).toBe('invalid_grant');
    expect((await userinfo(tokens!.access_token)).status).toBe(401);
    const silent = await authorizationRequest(rp, { scope: 'openid profile', prompt: 'none' });
    const again = await runFlow(intruder, silent.url);
    expect(again.callback?.searchParams.get('error')).toBe('login_required');
  });

  it('F2: a refresh token rotated between the sweep’s query and its delete', async () => {
    const { intruder, accountId, at } = await intruderThenOwedReset('r65b');
    const rp = await offlinePlatform('rotating r65b');
    const tokens = await offlineTokens(intruder, rp);
    let rotated: string | undefined;
    let sweeps = 0;
    // Right after the first sweep of the spared grant's codes and tokens by their sign-in (`authTime`) is read.
    const outcome = await reconcileWhile(
      accountId,
      at,
      (command) => JSON.stringify(command.input ?? {}).includes('authTime') && ++sweeps === 1,
      async () => {
        rotated = (await client.refreshTokenGrant(rp.config, tokens.refresh_token!)).refresh_token;
      },
    );
    expect(outcome).toBe('finished');
    expect(rotated).toBeDefined();
    expect(rotated).not.toBe(tokens.refresh_token);
    expect(await refreshWith(rp, rotated!)).toBe('invalid_grant');
  });

  it('F2: an intruder rotating at every pass keeps the mark on (fail closed); the next run ends it', async () => {
    const { intruder, accountId, at } = await intruderThenOwedReset('r65c');
    const rp = await offlinePlatform('rotating r65c');
    let current = (await offlineTokens(intruder, rp)).refresh_token!;
    const run = reconcileWhile(
      accountId,
      at,
      (command) => JSON.stringify(command.input ?? {}).includes('authTime'),
      async () => {
        current = (await client.refreshTokenGrant(rp.config, current)).refresh_token!;
      },
    );
    await expect(run).rejects.toThrow(/still more to end/);
    const marked = await withDeps((deps) => deps.accounts.findById(accountId));
    expect(marked?.signInsEnded?.at).toBe(at.toISOString());
    expect(marked?.proofCleanup).toBeDefined();
    // The next run, undisturbed, ends the last token.
    expect(await reconcile(accountId, at)).toBe('finished');
    expect(await refreshWith(rp, current)).toBe('invalid_grant');
  });
});
