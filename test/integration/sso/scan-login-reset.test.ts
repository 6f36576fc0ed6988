import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDependencies } from '../../../functions/composition/dependencies.js';
import { parseIdNumber } from '../../../shared/identifiers/id-number.js';
import { personLookupKey } from '../../../shared/identifiers/lookup-key.js';
import { exchange, type RelyingParty } from '../../support/oidc-flows.js';
import type { TestRuntime } from '../../support/runtime.js';
import {
  answerScan as answer,
  pollScan as poll,
  showSignIn as showPlatformSignIn,
  startScanLoginRuntime,
  walletSignedIn as walletSignedInAs,
} from '../../support/scan-login.js';

/*
 * Review R47 F2: a takeover or a reset marks the account (`signInsEnded`, review R44), and a sign-in made
 * before the mark counts for nothing. Scan-to-login lent the confirming wallet's sign-in time to the
 * sign-in it completes, and nothing else: a scan confirmed in the second of the reset, just before it,
 * completed afterwards (a time in the mark's second counts as after it), and a wallet whose token outlived
 * a clean-up that failed after the reset's save still confirmed. The confirmation now records the account
 * version it read, which the sign-in names (refused at the resume when a reset saved since), and a wallet
 * sign-in from before the mark confirms nothing.
 */

let runtime: TestRuntime;
let rp: RelyingParty;
beforeAll(async () => {
  ({ runtime, rp } = await startScanLoginRuntime(20, 1));
});
afterAll(() => runtime?.close());

/**
 * The owner's takeover or reset as its save writes it: the mark, its time `at` (now unless given); its
 * clean-up (every sign-in ended) when `cleanUp`, else left owed (it failed after the save).
 */
async function markReset(idNumber: string, options: { at?: string; cleanUp: boolean }) {
  const deps = buildDependencies(runtime.config);
  try {
    const id = parseIdNumber(idNumber, new Date());
    const account = (await deps.accounts.findByLookupKey(await personLookupKey(deps.lookupMac, id)))!;
    await deps.accounts.save({
      ...account,
      signInsEnded: { at: options.at ?? new Date().toISOString(), version: account.version + 1 },
    });
    if (options.cleanUp) await deps.signIns.endAll(account.id);
  } finally {
    deps.doc.destroy();
    deps.kms.destroy();
  }
}

describe('scan-to-login and a takeover or a reset (review R47 F2)', () => {
  it('a wallet signed in before the reset confirms nothing, its clean-up failed; signed in again, it does', async () => {
    const { citizen } = runtime.credentials;
    const before = await walletSignedInAs(runtime, citizen.idNumber, citizen.password);
    // The mark in a later second than the wallet's sign-in; the clean-up failed: its token is still stored.
    await sleep(1100);
    await markReset(citizen.idNumber, { cleanUp: false });

    const shown = await showPlatformSignIn(runtime, rp, {});
    expect((await answer(before, shown.link, 'confirm')).status).not.toBe(200);
    // The showing browser is still waiting: no sign-in.
    const waiting = await poll(shown);
    expect(waiting.leftTo).toBeUndefined();

    const after = await walletSignedInAs(runtime, citizen.idNumber, citizen.password);
    expect((await answer(after, shown.link, 'confirm')).status).toBe(200);
    const done = await poll(shown, 'continue');
    expect(done.leftTo).toBeDefined();
    expect((await exchange(rp, shown.request, done.leftTo!)).claims()?.acr).toBe('urn:elicence:loa:3');
  });

  it('a scan confirmed in the reset’s second, before its save, completes no sign-in after it', async () => {
    const { citizen } = runtime.credentials;
    const signingIn = Date.now();
    const agent = await walletSignedInAs(runtime, citizen.idNumber, citizen.password);
    const shown = await showPlatformSignIn(runtime, rp, {});
    expect((await answer(agent, shown.link, 'confirm')).status).toBe(200);
    // The reset saved after the confirmation, dated in the second the wallet sign-in began (its last
    // millisecond), no later than the wallet sign-in's: its time alone does not tell it came first.
    const second = Math.floor(signingIn / 1000);
    await markReset(citizen.idNumber, { at: new Date(second * 1000 + 999).toISOString(), cleanUp: true });

    const done = await poll(shown, 'continue');
    expect(done.leftTo).toBeUndefined();
  });
});
