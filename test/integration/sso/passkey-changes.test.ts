import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDependencies } from '../../../functions/composition/dependencies.js';
import { parseIdNumber } from '../../../shared/identifiers/id-number.js';
import { personLookupKey } from '../../../shared/identifiers/lookup-key.js';
import { maskPhone, type PhoneNumber } from '../../../shared/identifiers/phone.js';
import { phoneDigest } from '../../../shared/identity/sms-codes.js';
import { auditEntriesOf } from '../../support/audit-entries.js';
import { postJson } from '../../support/http-api.js';
import { CarrierOfNumbers, outbox } from '../../support/in-memory-sms.js';
import {
  authorizationRequest,
  demoPlatform,
  getWithToken,
  runFlow,
  signIn,
  walletPlatform,
  type RelyingParty,
} from '../../support/oidc-flows.js';
import type { TestRuntime } from '../../support/runtime.js';
import { startRuntimeWithCarrier, uidOf } from '../../support/sharing-flows.js';
import { SoftwareAuthenticator } from '../../support/software-authenticator.js';
import { UserAgent } from '../../support/user-agent.js';

/**
 * Review R28 H1: a passkey could be enrolled from any level-3 wallet token (a session left open, its
 * refresh token) with no password, and a password reset left it in place, so that it kept signing in
 * at level 3 after the owner had shut everyone else out. Enrolling and removing now ask for the password
 * again, each is traced, and a reset removes every passkey.
 */
let runtime: TestRuntime;
let wallet: RelyingParty;
let platform: RelyingParty;
const carrier = new CarrierOfNumbers();
/**
 * The carrier's phone for the demo citizen (level 3 in person), proven for the account here as a step-up
 * would record it: only a proven phone resets an account at level 3 (review R28 M1).
 */
const citizenPhone = '+8613800077001';

beforeAll(async () => {
  runtime = await startRuntimeWithCarrier(carrier);
  carrier.add({ ...runtime.credentials.citizen, phone: citizenPhone });
  [wallet, platform] = await Promise.all([walletPlatform(runtime), demoPlatform(runtime)]);
  const deps = buildDependencies(runtime.config);
  try {
    const id = parseIdNumber(runtime.credentials.citizen.idNumber, new Date());
    const account = (await deps.accounts.findByLookupKey(await personLookupKey(deps.lookupMac, id)))!;
    await deps.accounts.save({
      ...account,
      provenPhone: await phoneDigest(deps.lookupMac, citizenPhone),
      provenPhoneMasked: maskPhone(citizenPhone as PhoneNumber),
    });
  } finally {
    deps.doc.destroy();
    deps.kms.destroy();
  }
});
afterAll(() => runtime?.close());

/** A wallet token of the citizen, signed in now with `password` (level 3: proven in person). */
async function walletTokenWith(password: string): Promise<string> {
  const ua = new UserAgent(runtime.baseUrl, [wallet.redirectUri]);
  const { idNumber } = runtime.credentials.citizen;
  const { tokens } = await signIn(wallet, ua, { username: idNumber, password }, { scope: 'openid licences' });
  expect(tokens.claims()!.acr).toBe('urn:elicence:loa:3');
  return tokens.access_token;
}

/** Whether `authenticator`'s passkey signs a new browser in to the demo platform (the answer's status). */
async function passkeySignIn(authenticator: SoftwareAuthenticator): Promise<number> {
  const ua = new UserAgent(runtime.baseUrl);
  const page = await ua.navigate((await authorizationRequest(platform)).url);
  const uid = /\/interaction\/([^/?]+)/.exec(page.page!.url.pathname)![1];
  const post = (path: string, body: unknown) =>
    ua.request(path, {
      method: 'POST',
      headers: {
        accept: 'application/json',
        origin: new URL(runtime.baseUrl).origin,
        'content-type': 'application/json',
      },
      body: JSON.stringify(body),
    });
  const options = await post(`/interaction/${uid}/passkeyoptions`, {});
  return (await post(`/interaction/${uid}/passkey`, authenticator.assert((await options.json()) as never)))
    .status;
}

async function enrolWith(
  token: string,
  authenticator: SoftwareAuthenticator,
  extra: Record<string, unknown>,
) {
  const options = await postJson(runtime, '/me/passkeys/options', token, {});
  expect(options.status).toBe(200);
  return postJson(runtime, '/me/passkeys', token, {
    name: '我的手机',
    response: authenticator.register((await options.json()) as never),
    ...extra,
  });
}

describe('enrolling and removing a passkey (review R28 H1)', () => {
  it('asks for the password again: none is a 400 naming it, a wrong one 403 wrong_password', async () => {
    const token = await walletTokenWith(runtime.credentials.citizen.password);
    const intruder = new SoftwareAuthenticator(new URL(runtime.baseUrl).origin);
    const none = await enrolWith(token, intruder, {});
    expect(none.status).toBe(400);
    expect(JSON.stringify(await none.json())).toContain('password');
    const wrong = await enrolWith(token, intruder, { password: 'a-guess-1' });
    expect(wrong.status).toBe(403);
    expect(await wrong.json()).toMatchObject({ code: 'wrong_password' });
    const listed = (await (await getWithToken(runtime, '/me/passkeys', token)).json()) as {
      items: unknown[];
    };
    expect(listed.items).toEqual([]);
    expect(await passkeySignIn(intruder)).toBe(401);

    const owners = new SoftwareAuthenticator(new URL(runtime.baseUrl).origin);
    const enrolled = await enrolWith(token, owners, { password: runtime.credentials.citizen.password });
    expect(enrolled.status).toBe(201);
    const { id } = (await enrolled.json()) as { id: string };
    const remove = (body?: unknown) =>
      fetch(`${runtime.baseUrl}/me/passkeys/${id}`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    const bare = await remove();
    expect(bare.status).toBe(400);
    expect(await bare.json()).toMatchObject({ code: 'password_required' });
    expect((await remove({ password: 'a-guess-2' })).status).toBe(403);
    expect((await remove({ password: runtime.credentials.citizen.password })).status).toBe(204);

    // Both changes traced, under the account, with no name or credential id.
    const deps = buildDependencies(runtime.config);
    try {
      const id17 = parseIdNumber(runtime.credentials.citizen.idNumber, new Date());
      const account = await deps.accounts.findByLookupKey(await personLookupKey(deps.lookupMac, id17));
      const actions = (await auditEntriesOf(deps.doc, runtime.config.auditTableName, account!.id))
        .filter((entry) => entry.action.startsWith('passkey.'))
        .map((entry) => ({ action: entry.action, leaks: JSON.stringify(entry).includes(id) }));
      expect(actions).toEqual([
        { action: 'passkey.enrolled', leaks: false },
        { action: 'passkey.removed', leaks: false },
      ]);
    } finally {
      deps.doc.destroy();
      deps.kms.destroy();
    }
  });

  it('a password reset removes every passkey: one enrolled meanwhile by whoever held the wallet signs in no more', async () => {
    const { idNumber, password } = runtime.credentials.citizen;
    // Someone at the open wallet, who knows the password too (the owner's reason to reset it).
    const token = await walletTokenWith(password);
    const intruder = new SoftwareAuthenticator(new URL(runtime.baseUrl).origin);
    expect((await enrolWith(token, intruder, { password })).status).toBe(201);
    expect(await passkeySignIn(intruder)).toBe(200);

    // The owner resets the password with a code to their phone.
    const owner = new UserAgent(runtime.baseUrl, [`${runtime.baseUrl}/demo/callback`]);
    const atLogin = await runFlow(owner, (await authorizationRequest(platform)).url, {});
    const reset = new URL(`/interaction/${uidOf(atLogin.page!.html)}/reset`, runtime.baseUrl);
    // The page says so before anything is reset.
    expect(await (await owner.request(reset)).text()).toContain('已添加的通行密钥将全部删除');
    const sent = await owner.navigate(reset, { form: { idNumber, phone: citizenPhone, send: '1' } });
    expect(sent.page?.status).toBe(200);
    const code = (await outbox(runtime)).filter((m) => m.to === citizenPhone).at(-1)?.code;
    expect(code).toMatch(/^\d{6}$/);
    const done = await owner.navigate(reset, {
      form: { idNumber, phone: citizenPhone, code: code!, password: 'a-brand-new-password-9' },
    });
    expect(done.page?.status ?? 302).toBeLessThan(400);

    expect(await passkeySignIn(intruder)).toBe(401);
    const after = await walletTokenWith('a-brand-new-password-9');
    const listed = (await (await getWithToken(runtime, '/me/passkeys', after)).json()) as {
      items: unknown[];
    };
    expect(listed.items).toEqual([]);
  });
});
