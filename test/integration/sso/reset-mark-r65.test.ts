import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resetMarkRuntime, type Command } from '../../support/reset-mark.js';
import type { TestRuntime } from '../../support/runtime.js';

/**
 * Review R65: the reconciler's ending of the sign-ins of a reset whose clean-up was owed (`endSignInsOf`
 * with a bound) raced an intruder holding a session of the mark's own second.
 * F1: it listed the grants, swept their tokens, and only then ended the sessions: a grant made from the
 * session meanwhile (after the listing) was never swept, and its refresh token outlived the reset.
 * F2: a refresh token rotated between the sweep's query and its delete left its successor (of the same
 * sign-in) under the spared grant.
 * It now ends the sessions first, then sweeps the grants again and again until a pass finds nothing more.
 */
const marks = resetMarkRuntime();
const { withDeps, userinfo, intruderThenOwedReset, offlinePlatform, offlineTokens } = marks;
const { reconcile, reconcileWhile, refreshWith, silentSignIn } = marks;
let runtime: TestRuntime;

beforeAll(async () => {
  ({ runtime } = await marks.start());
});
afterAll(() => runtime?.close());

const partitionOf = (command: Command) => command.input?.ExpressionAttributeValues?.[':pk'];

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
    const again = await silentSignIn(intruder, rp);
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
