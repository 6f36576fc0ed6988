import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import * as client from 'openid-client';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'vitest';
import { functionGrants } from '../../functions/grants.js';
import { guardGrants } from '../../infra/local/grant-guard.js';
import { table } from '../../shared/adapters/dynamo/table.js';
import { finishOwedCleanup } from '../../shared/identity/owed-cleanup.js';
import { newIdNumber } from './in-memory-identity.js';
import { CarrierOfNumbers } from './in-memory-sms.js';
import {
  adminToken,
  authorizationRequest,
  callbackOf,
  exchange,
  registerPlatform,
  runFlow,
  sessionOf,
  type RelyingParty,
} from './oidc-flows.js';
import { resetTestRuntime } from './reset-cleanup.js';
import { openAccount, putInRegistry, startRuntimeWithCarrier } from './sharing-flows.js';
import type { TestRuntime } from './runtime.js';
import type { UserAgent } from './user-agent.js';

/** A DynamoDB command the reconciler sends, as much of it as a test picks one by. */
export type Command = {
  input?: { ExpressionAttributeValues?: Record<string, unknown>; ProjectionExpression?: string };
};

/**
 * Gives `doc` the reconciler's own IAM grant (`functionGrants['pending-work-reconciler']`, through the
 * local grant guard): a DynamoDB call AWS would refuse the reconciler fails here too (review R67-3).
 */
export function asReconciler(doc: DynamoDBDocumentClient, runtime: TestRuntime): void {
  const { config } = runtime;
  guardGrants(
    { doc },
    {
      functionName: 'pending-work-reconciler',
      grants: functionGrants['pending-work-reconciler'],
      keyRoles: new Map(),
      partitionKey: table.partitionKey,
      tables: {
        table: config.tableName,
        auditTable: config.auditTableName,
        batchTable: config.batchTableName,
      },
    },
  );
}

/**
 * The local runtime of the tests of a reset's mark (`signInsEnded`) whose clean-up is owed: the test
 * plants the mark itself (as a reset whose clean-up failed after the account's save leaves it) and runs
 * the reconciler's finishing of it when it chooses. A plain runtime ({@link resetTestRuntime}: its
 * carrier knows no phone, its own reconciler keeps the default age), and the steps of those tests.
 * `start()` in `beforeAll`, then the runtime's `close()` in `afterAll`.
 */
export function resetMarkRuntime() {
  const carrier = new CarrierOfNumbers();
  const base = resetTestRuntime(() => startRuntimeWithCarrier(carrier));
  const { current, browser, withDeps } = base;

  /** A person in the registry, their account opened with the password `<passwordPrefix><tag>`. */
  async function openedAccount(tag: string, passwordPrefix: string) {
    const person = { idNumber: newIdNumber(), name: '测试' + tag, password: passwordPrefix + tag };
    await putInRegistry(current().runtime, person.idNumber, person.name);
    await openAccount(current().runtime, person);
    return person;
  }

  /** `person` signs in by password at the demo platform in the browser `ua`, consent given. */
  async function signInAtDemo(ua: UserAgent, person: { idNumber: string; password: string }) {
    const request = await authorizationRequest(current().platform, { scope: 'openid profile' });
    await callbackOf(ua, request.url, { username: person.idNumber, password: person.password });
  }

  /** A reset's mark at `at` on the account, its clean-up owed (it failed after the account's save). */
  function markOwedReset(accountId: string, at: Date) {
    return withDeps(async (deps) => {
      const account = (await deps.accounts.findById(accountId))!;
      await deps.accounts.save({
        ...account,
        proofCleanup: {},
        signInsEnded: { at: at.toISOString(), version: account.version + 1 },
      });
    });
  }

  /**
   * The reconciler finishing the owed clean-up, as its run does (functions/pending-work-reconciler.ts), with
   * the intruder acting (`during`) right after each of its DynamoDB calls `at` picks has answered. With the
   * reconciler's own IAM grant (`functionGrants['pending-work-reconciler']`, the local grant guard): a call
   * AWS would refuse it fails the run here too (review R67-3).
   */
  function reconcileWhile(
    accountId: string,
    mark: Date,
    at: (command: Command) => boolean,
    during: () => Promise<void>,
  ) {
    return withDeps((deps) => {
      asReconciler(deps.doc, current().runtime);
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

  return {
    ...base,
    carrier,
    openedAccount,
    signInAtDemo,
    markOwedReset,
    reconcileWhile,

    /** The reconciler finishing the owed clean-up, undisturbed. */
    reconcile(accountId: string, mark: Date) {
      return reconcileWhile(
        accountId,
        mark,
        () => false,
        async () => {},
      );
    },

    /**
     * An intruder who knows the password signs in at the demo platform in some second; the owner's reset
     * marks the account at the end of that second, and its clean-up fails after the save (owed). Answers
     * the intruder's browser, the account and the mark, a second later: the intruder comes back after the
     * mark, before the reconciler runs.
     */
    async intruderThenOwedReset(tag: string) {
      const person = await openedAccount(tag, 'old-pass-');
      const intruder = browser();
      await signInAtDemo(intruder, person);
      const loginTs = (await sessionOf(current().runtime, intruder)).payload.loginTs as number;
      const at = new Date(loginTs * 1000 + 999);
      const accountId = await base.accountIdOf(person.idNumber);
      await markOwedReset(accountId, at);
      await sleep(1100);
      return { intruder, accountId, at };
    },

    /** Another platform, registered for refresh tokens (`offline_access`), its callback the demo's. */
    async offlinePlatform(name: string) {
      const { runtime } = current();
      return registerPlatform(runtime, await adminToken(runtime), {
        name,
        redirectUris: [`${runtime.baseUrl}/demo/callback`],
        scopes: ['openid', 'profile', 'offline_access'],
      });
    },

    /** The browser `ua` gets a refresh token at `rp` (consent asked: a grant made now). */
    async offlineTokens(ua: UserAgent, rp: RelyingParty) {
      const request = await authorizationRequest(rp, {
        scope: 'openid profile offline_access',
        prompt: 'consent',
      });
      const flow = await runFlow(ua, request.url, { consent: true });
      expect(flow.stoppedAt).toBeUndefined();
      const tokens = await exchange(rp, request, flow.callback!);
      expect(tokens.refresh_token).toBeDefined();
      return tokens;
    },

    /** A refresh at `rp` with `refreshToken`: the new access token, or the error's code. */
    refreshWith(rp: RelyingParty, refreshToken: string) {
      return client.refreshTokenGrant(rp.config, refreshToken).then(
        (answer) => answer.access_token,
        (error: unknown) => (error as { error?: string }).error,
      );
    },

    /** `rp` asks the browser `ua` for a sign-in without a page (`prompt=none`): the flow, to its callback. */
    async silentSignIn(ua: UserAgent, rp: RelyingParty) {
      const silent = await authorizationRequest(rp, { scope: 'openid profile', prompt: 'none' });
      return runFlow(ua, silent.url);
    },
  };
}
