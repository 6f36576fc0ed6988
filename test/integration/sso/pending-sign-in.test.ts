import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDependencies } from '../../../functions/composition/dependencies.js';
import { parseIdNumber } from '../../../shared/identifiers/id-number.js';
import { personLookupKey } from '../../../shared/identifiers/lookup-key.js';
import { userHandleOf } from '../../../shared/identity/passkeys.js';
import { phoneDigest } from '../../../shared/identity/sms-codes.js';
import { newIdNumber } from '../../support/in-memory-identity.js';
import { CarrierOfNumbers, outbox } from '../../support/in-memory-sms.js';
import {
  authorizationRequest,
  callbackOf,
  demoPlatform,
  exchange,
  runFlow,
  stepOf,
  type RelyingParty,
} from '../../support/oidc-flows.js';
import type { TestRuntime } from '../../support/runtime.js';
import { openAccount, putInRegistry, startRuntimeWithCarrier, uidOf } from '../../support/sharing-flows.js';
import { SoftwareAuthenticator } from '../../support/software-authenticator.js';
import { parseForm, UserAgent } from '../../support/user-agent.js';

/**
 * Review R44 F1: a sign-in step finished (the password, a passkey, an SMS code checked) but not yet resumed
 * (`/authorize/{uid}` not followed) lives in the browser's sealed interaction cookie for an hour. A
 * takeover or a password reset ends the account's sessions, grants and tokens, and now also every such
 * step: resumed after it, the step signs no one in (the sign-in page again), whereas the owner's own
 * sign-in, right after the reset, goes through. And a step's time is the sign-in's (`auth_time`), not the
 * resume's.
 */
let runtime: TestRuntime;
let platform: RelyingParty;
const carrier = new CarrierOfNumbers();
const browser = () =>
  new UserAgent(runtime.baseUrl, [`${runtime.baseUrl}/demo/callback`, 'https://platform.example/']);

beforeAll(async () => {
  runtime = await startRuntimeWithCarrier(carrier);
  platform = await demoPlatform(runtime);
});
afterAll(() => runtime?.close());

async function lastCodeTo(phone: string) {
  return (await outbox(runtime)).filter((m) => m.to === phone).at(-1)?.code;
}

/** The owner resets the password by a code to their phone, in a sign-in of `request` in browser `ua`. */
async function resetByPhone(
  ua: UserAgent,
  owner: { idNumber: string; phone: string },
  password: string,
  request: { url: URL | string },
) {
  const atLogin = await runFlow(ua, request.url, {});
  const reset = new URL(`/interaction/${uidOf(atLogin.page!.html)}/reset`, runtime.baseUrl);
  const fields = { idNumber: owner.idNumber, phone: owner.phone };
  await ua.navigate(reset, { form: { ...fields, send: '1' } });
  const done = await ua.navigate(reset, {
    form: { ...fields, code: (await lastCodeTo(owner.phone))!, password },
  });
  // Signed in by the reset at once: the platform's consent page next, then the platform.
  const page = done.page;
  const form = page && stepOf(page.html) === 'consent' ? parseForm(page.html) : undefined;
  if (!page || !form) return { callback: done.leftTo, page };
  const consented = await ua.navigate(new URL(form.action, page.url), { form: form.fields });
  return { callback: consented.leftTo, page: consented.page };
}

/** Follows a step's resume URL: the platform's code exchanged for tokens, or where the flow stopped. */
async function resumed(
  ua: UserAgent,
  resume: URL,
  request: Awaited<ReturnType<typeof authorizationRequest>>,
) {
  const outcome = await runFlow(ua, resume, {});
  if (!outcome.callback) return { stoppedAt: outcome.stoppedAt };
  return { claims: (await exchange(platform, request, outcome.callback)).claims()! };
}

describe('a sign-in step left unresumed, then the owner takes the account back (review R44 F1)', () => {
  it('the squatter’s password step, resumed after, signs no one in; the owner’s own sign-in does', async () => {
    const owner = { idNumber: newIdNumber(), name: '测试甲一', phone: '+8613900071001', password: 'x' };
    await putInRegistry(runtime, owner.idNumber, owner.name);
    carrier.add(owner);
    // The squatter registers the owner's number (they know number and name) with a password of theirs.
    await openAccount(runtime, {
      idNumber: owner.idNumber,
      name: owner.name,
      password: 'squatter-password-9',
    });

    // The squatter types the password on a sign-in page and keeps the resume URL, not following it.
    const attacker = browser();
    const request = await authorizationRequest(platform, { scope: 'openid profile' });
    const uid = uidOf((await runFlow(attacker, request.url, {})).page!.html);
    const typed = await attacker.request(`/interaction/${uid}/login`, {
      form: { username: owner.idNumber, password: 'squatter-password-9' },
    });
    expect(typed.status).toBe(303);
    const resume = new URL(typed.headers.get('location')!, runtime.baseUrl);

    // The real owner takes the account back (a reset by a code to the phone the carrier confirms), and is
    // signed in by it at once, in the same second or the next: the reset's own sign-in goes through.
    const mine = browser();
    const ownRequest = await authorizationRequest(platform, { scope: 'openid profile' });
    const done = await resetByPhone(mine, owner, 'owner-new-password-9', ownRequest);
    expect(done.callback).toBeDefined();
    const ownClaims = (await exchange(platform, ownRequest, done.callback!)).claims()!;
    expect(ownClaims.amr).toEqual(['sms']);

    // The step typed before the takeover is resumed now: the sign-in page again, no code, no session.
    const after = await resumed(attacker, resume, request);
    expect(after).toEqual({ stoppedAt: 'login' });
    const later = await runFlow(attacker, (await authorizationRequest(platform)).url, {});
    expect(later.stoppedAt).toBe('login');

    // The owner's session goes on (single sign-on), and the new password signs in anywhere.
    const silent = await authorizationRequest(platform, { scope: 'openid profile' });
    const again = await runFlow(mine, silent.url, {});
    expect(again.callback).toBeDefined();
    expect((await exchange(platform, silent, again.callback!)).claims()!.sub).toBe(ownClaims.sub);
    const elsewhere = browser();
    const fresh = await authorizationRequest(platform, { scope: 'openid profile' });
    const signedIn = await callbackOf(elsewhere, fresh.url, {
      username: owner.idNumber,
      password: 'owner-new-password-9',
    });
    expect((await exchange(platform, fresh, signedIn.callback)).claims()!.sub).toBe(ownClaims.sub);
  });

  it('an intruder’s passkey step, resumed after the reset that removed the passkey, signs no one in', async () => {
    const owner = {
      idNumber: newIdNumber(),
      name: '测试乙二',
      phone: '+8613900072002',
      password: 'owner-pass-2a',
    };
    await putInRegistry(runtime, owner.idNumber, owner.name);
    carrier.add(owner);
    await openAccount(runtime, owner);
    // The owner's account at level 3, proven by this phone (as a reset by it would leave it), and an
    // intruder's passkey on it (enrolled through a stolen session and password; put in the store directly,
    // as step-up.test.ts does, with a real key behind it).
    const authenticator = new SoftwareAuthenticator(new URL(runtime.baseUrl).origin);
    const deps = buildDependencies(runtime.config);
    try {
      const id = parseIdNumber(owner.idNumber, new Date());
      const account = (await deps.accounts.findByLookupKey(await personLookupKey(deps.lookupMac, id)))!;
      await deps.accounts.save({
        ...account,
        assurance: 'possession-verified',
        provenPhone: await phoneDigest(deps.lookupMac, owner.phone),
      });
      await deps.passkeys.add({
        id: authenticator.credentialId,
        accountId: account.id,
        publicKey: authenticator.publicKey(),
        counter: 0,
        transports: ['internal'],
        deviceType: 'singleDevice',
        backedUp: false,
        name: 'intruder',
        createdAt: new Date().toISOString(),
      });
      authenticator.userHandle = userHandleOf(account.id);
    } finally {
      deps.doc.destroy();
      deps.kms.destroy();
    }

    // The intruder signs in with it, and keeps the answer's `location` without going there.
    const intruder = browser();
    const request = await authorizationRequest(platform, { scope: 'openid profile' });
    const uid = uidOf((await runFlow(intruder, request.url, {})).page!.html);
    const post = (path: string, body: unknown) =>
      intruder.request(`/interaction/${uid}/${path}`, {
        body: JSON.stringify(body),
        headers: { origin: new URL(runtime.baseUrl).origin, 'content-type': 'application/json' },
      });
    const options = await post('passkeyoptions', {});
    const signedIn = await post('passkey', authenticator.assert((await options.json()) as never));
    expect(signedIn.status).toBe(200);
    const { location } = (await signedIn.json()) as { location: string };

    // The owner sees 添加了通行密钥 and resets the password by the phone: every passkey removed, every
    // sign-in ended, the step above too.
    const mine = browser();
    const done = await resetByPhone(mine, owner, 'owner-new-pass-2b', await authorizationRequest(platform));
    expect(done.callback).toBeDefined();

    const after = await resumed(intruder, new URL(location, runtime.baseUrl), request);
    expect(after).toEqual({ stoppedAt: 'login' });
  });
});

describe('a step’s time is the sign-in’s', () => {
  it('auth_time is when the password was typed, not when the browser went on', async () => {
    const person = { idNumber: newIdNumber(), name: '测试丙三', password: 'person-pass-3c' };
    await putInRegistry(runtime, person.idNumber, person.name);
    await openAccount(runtime, person);
    const ua = browser();
    // `max_age` for `auth_time` in the ID token, which says it only when asked.
    const request = await authorizationRequest(platform, { scope: 'openid profile', max_age: '86400' });
    const uid = uidOf((await runFlow(ua, request.url, {})).page!.html);
    const typed = await ua.request(`/interaction/${uid}/login`, {
      form: { username: person.idNumber, password: person.password },
    });
    expect(typed.status).toBe(303);
    const typedBy = Math.floor(Date.now() / 1000);
    // The browser goes on later (here a second and a bit; an hour at most, the interaction's life).
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const { callback } = await callbackOf(ua, new URL(typed.headers.get('location')!, runtime.baseUrl), {});
    const claims = (await exchange(platform, request, callback)).claims()!;
    // What a platform's `max_age` and the service's own fresh sign-in rules (closing the account,
    // managing passkeys: the access token's `auth_time`) count from.
    expect(claims.auth_time).toBeLessThanOrEqual(typedBy);
  });
});
