import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import providerContext from 'oidc-provider/lib/helpers/als.js';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { CachingDocumentClient } from '../../../shared/adapters/dynamo/client.js';
import { endSignInsOf } from '../../../shared/adapters/dynamo/oidc-adapter.js';
import { authorizationRequest, exchange, runFlow, sessionOf } from '../../support/oidc-flows.js';
import { asReconciler, resetMarkRuntime } from '../../support/reset-mark.js';
import type { TestRuntime } from '../../support/runtime.js';

/**
 * Review R67: the reconciler ending the sign-ins of a reset whose clean-up was owed, against a sign-in
 * finishing in the intruder's browser at that moment (R67-2), and with its own IAM grant when the index
 * lists again what an earlier pass deleted (R67-3, R68-1).
 */
const marks = resetMarkRuntime();
const { withDeps, intruderThenOwedReset, reconcile, offlinePlatform, refreshWith, silentSignIn } = marks;
let runtime: TestRuntime;

beforeAll(async () => {
  ({ runtime } = await marks.start());
});
afterAll(() => runtime?.close());
afterEach(() => vi.restoreAllMocks());

describe('R67-2: a sign-in resumed in the intruder’s browser while the reconciler runs', () => {
  it('writes no code: nothing of that sign-in outlives the clean-up', async () => {
    const { intruder, accountId, at } = await intruderThenOwedReset('r67b');
    const uid = (await sessionOf(runtime, intruder)).payload.uid as string;
    const rp = await offlinePlatform('r67b');
    // When the intruder's resume has loaded its session (of the mark's second), the reconciler runs to
    // its end: it deletes that session, ends the sign-ins of that second and takes the mark off.
    const send = CachingDocumentClient.prototype.send;
    let outcome: string | undefined;
    vi.spyOn(CachingDocumentClient.prototype, 'send').mockImplementation(async function (
      this: CachingDocumentClient,
      ...args: Parameters<typeof send>
    ) {
      const answer = await (send as (...a: unknown[]) => Promise<unknown>).apply(this, args);
      const [command] = args;
      const route = (providerContext.getStore() as { oidc?: { route?: string } } | undefined)?.oidc?.route;
      if (
        outcome === undefined &&
        route === 'resume' &&
        command instanceof GetCommand &&
        command.input.Key?.pk === `oidc#Session#${uid}`
      ) {
        outcome = 'running';
        outcome = await reconcile(accountId, at);
      }
      return answer;
    } as typeof send);
    const request = await authorizationRequest(rp, {
      scope: 'openid profile offline_access',
      prompt: 'consent',
    });
    const flow = await runFlow(intruder, request.url, { consent: true });
    vi.restoreAllMocks();
    expect(outcome).toBe('finished');
    expect((await withDeps((deps) => deps.accounts.findById(accountId)))?.proofCleanup).toBeUndefined();
    // The callback's code redeems nothing: no refresh token to outlive the clean-up.
    const code = flow.callback?.searchParams.get('code');
    const tokens = code ? await exchange(rp, request, flow.callback!).catch(() => undefined) : undefined;
    expect(tokens?.refresh_token).toBeUndefined();
    // And the browser is signed out: the platform's next request asks for a sign-in.
    const silent = await silentSignIn(intruder, rp);
    expect(silent.callback?.searchParams.get('error')).toBe('login_required');
  });

  it('a sign-in again in a browser with a session still renews it: the code works, then single sign-on', async () => {
    const person = await marks.openedAccount('r67c', 'pass-');
    const ua = marks.browser();
    await marks.signInAtDemo(ua, person);
    const before = (await sessionOf(runtime, ua)).payload.jti as string;
    const rp = await offlinePlatform('r67c');
    const tokens = await marks.offlineTokens(ua, rp);
    expect(typeof (await refreshWith(rp, tokens.refresh_token!))).toBe('string');
    expect((await sessionOf(runtime, ua)).payload.jti).not.toBe(before);
    const silent = await silentSignIn(ua, rp);
    expect(silent.callback?.searchParams.get('code')).toBeTruthy();
  });
});

describe('R67-3 / R68-1: a grant’s code or token the index lists again after a pass deleted it', () => {
  it('is not read by key (the reconciler may not): the run finishes', async () => {
    const tableName = runtime.config.tableName;
    const person = 'p_r67stalegsi01';
    const markMs = Date.now() - 60_000;
    const second = Math.floor(markMs / 1000);
    const expiresAt = Math.floor(Date.now() / 1000) + 3600;
    const token = { pk: 'oidc#RefreshToken#r67-stale', sk: 'oidc' };
    // A grant made after the mark (spared), and a refresh token of a sign-in before it (ended).
    await withDeps(async (deps) => {
      await deps.doc.send(
        new PutCommand({
          TableName: tableName,
          Item: {
            pk: 'oidc#Grant#r67-stale',
            sk: 'oidc',
            gsi2pk: `oidc-account#${person}`,
            gsi2sk: 'Grant#r67-stale',
            payload: { iat: second + 10, madeAt: markMs + 10_000, accountId: person, clientId: 'c' },
            expiresAt,
          },
        }),
      );
      await deps.doc.send(
        new PutCommand({
          TableName: tableName,
          Item: {
            ...token,
            gsi2pk: 'oidc-grant#r67-stale',
            gsi2sk: 'RefreshToken#r67-stale',
            authTime: second - 100,
            payload: {},
            expiresAt,
          },
        }),
      );
    });
    const error = await withDeps(async (deps) => {
      asReconciler(deps.doc, runtime);
      // gsi2's lag in AWS: the grant's members, listed again by a later pass, still show the token.
      deps.doc.middlewareStack.add(
        (next) => async (args) => {
          const result = await next(args);
          const input = args.input as {
            IndexName?: string;
            ExpressionAttributeValues?: Record<string, unknown>;
          };
          const output = result.output as { Items?: Array<Record<string, unknown>> };
          if (
            input.IndexName === 'gsi2' &&
            input.ExpressionAttributeValues?.[':pk'] === 'oidc-grant#r67-stale' &&
            !(output.Items ?? []).some((item) => item.pk === token.pk)
          )
            output.Items = [...(output.Items ?? []), { ...token, authTime: second - 100 }];
          return result;
        },
        { step: 'initialize', name: 'r67-stale-gsi2', priority: 'high' },
      );
      const adapter = { doc: deps.doc, tableName, clock: deps.clock };
      const bound = { signedInBefore: second, grantsEndedBy: { at: new Date(markMs).toISOString() } };
      return endSignInsOf(adapter, person, bound).then(
        () => undefined,
        (caught: unknown) => caught,
      );
    });
    expect(error).toBeUndefined();
    const left = await withDeps((deps) =>
      deps.doc.send(new GetCommand({ TableName: tableName, Key: token, ConsistentRead: true })),
    );
    expect(left.Item).toBeUndefined();
  });
});
