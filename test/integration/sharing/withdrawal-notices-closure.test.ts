import { randomBytes } from 'node:crypto';
import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withdrawalEvents } from '../../../shared/sharing/withdrawal-notices.js';
import { dependencies } from '../../../functions/composition/dependencies.js';
import { scanItems } from '../../support/http-api.js';
import { type FakeHttpServer } from '../../support/fake-http-server.js';
import { newIdNumber } from '../../support/in-memory-identity.js';
import { CarrierOfNumbers, outbox } from '../../support/in-memory-sms.js';
import {
  adminToken,
  authorizationRequest,
  callbackOf,
  exchange,
  runFlow,
  signIn,
  verifyNotice,
  walletPlatform,
  type RelyingParty,
} from '../../support/oidc-flows.js';
import { type TestRuntime } from '../../support/runtime.js';
import {
  licenceAccess,
  openAccount,
  putInRegistry,
  registerNotifiedPlatform,
  startRuntimeWithCarrier,
  uidOf,
} from '../../support/sharing-flows.js';
import { UserAgent } from '../../support/user-agent.js';

/**
 * A person's consents to platforms end without their withdrawing each one: when they close their account
 * (注销), and when the real owner of an ID number takes back the account someone else registered with it.
 * The platforms that registered an events endpoint are told then too, as at a withdrawal in the wallet: a
 * `share-withdrawn` or `sign-in-withdrawn` Security Event Token naming the person by the pairwise `sub`
 * the platform knows (they were told nothing before: the grants went with the sign-ins, silently).
 */

let runtime: TestRuntime;
let receiver: FakeHttpServer;
let platform: RelyingParty;
const carrier = new CarrierOfNumbers();
const browser = () =>
  new UserAgent(runtime.baseUrl, [`${runtime.baseUrl}/wallet/callback`, 'https://closure.example/callback']);
let seq = 0;

beforeAll(async () => {
  runtime = await startRuntimeWithCarrier(carrier);
  ({ platform, receiver } = await registerNotifiedPlatform(
    runtime,
    await adminToken(runtime),
    '注销通知测试平台',
    'https://closure.example',
  ));
  receiver.answer((_, res) => {
    res.writeHead(202).end();
  });
});
afterAll(async () => {
  await runtime?.close();
  await receiver?.close();
});

/** A person the registries know (name, phone), without an account yet. */
async function person() {
  seq += 1;
  const p = {
    idNumber: newIdNumber(),
    name: `注销${'甲乙丙丁戊'[seq % 5]}${seq}`,
    phone: `+861370000${String(1000 + seq)}`,
    password: `Close-${randomBytes(4).toString('hex')}-26`,
  };
  await putInRegistry(runtime, p.idNumber, p.name);
  carrier.add(p);
  return p;
}

/** The notices the platform received for `sub`, verified against the notices JWKS, by event. */
async function noticesFor(sub: string) {
  for (let i = 0; i < 10; i++) await runtime.deliverNotices();
  const verified = await Promise.all(
    receiver.received.map((request) =>
      verifyNotice(runtime.baseUrl, request.body, { audience: platform.clientId }),
    ),
  );
  return verified.map(({ payload }) => payload).filter((payload) => payload.sub === sub);
}

/** The person signs in to the platform in `ua`: the platform's `sub` for them. */
async function platformSignIn(ua: UserAgent, answers: { username: string; password: string }) {
  return (await signIn(platform, ua, answers, { scope: 'openid profile' })).claims.sub;
}

/** The person shares their driving licence with the platform in `ua`, stepping up by SMS (level 3). */
async function share(ua: UserAgent, phone: string) {
  const request = await authorizationRequest(platform, {
    scope: 'openid profile',
    authorization_details: JSON.stringify([licenceAccess(['driving-licence'], '办理注销测试业务')]),
  });
  const atStepUp = await runFlow(ua, request.url, {});
  const action = new URL(`/interaction/${uidOf(atStepUp.page!.html)}/stepup`, runtime.baseUrl);
  await ua.navigate(action, { form: { phone, send: '1' } });
  const code = (await outbox(runtime)).filter((m) => m.to === phone).at(-1)?.code;
  const done = await ua.navigate(action, { form: { phone, code: code! } });
  await exchange(platform, request, done.leftTo ?? (await callbackOf(ua, done.page!.url, {})).callback);
}

describe('closing an account', () => {
  it('tells each platform of the shares and sign-ins it ends, by the pairwise sub', async () => {
    const p = await person();
    await openAccount(runtime, p);
    const ua = browser();
    const sub = await platformSignIn(ua, { username: p.idNumber, password: p.password });
    await share(ua, p.phone);
    // The closure asks for a fresh sign-in at the account's level (3 now): the same browser's.
    const wallet = await walletPlatform(runtime);
    const { tokens } = await signIn(wallet, ua, {}, { scope: 'openid licences' });

    const closed = await fetch(`${runtime.baseUrl}/me/account`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${tokens.access_token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ password: p.password }),
    });
    expect(closed.status, await closed.clone().text()).toBe(200);

    const told = await noticesFor(sub);
    expect(told.map((payload) => Object.keys(payload.events as object)[0]).sort()).toEqual(
      [withdrawalEvents['share-withdrawn'], withdrawalEvents['sign-in-withdrawn']].sort(),
    );
    const shared = told.find((payload) => withdrawalEvents['share-withdrawn'] in (payload.events as object))!;
    expect(shared.events).toEqual({
      [withdrawalEvents['share-withdrawn']]: {
        share_id: expect.any(String),
        licence_types: ['driving-licence'],
        scopes: ['openid', 'profile'],
        withdrawn_at: expect.any(Number),
      },
    });
    // Nothing of the person but the platform's own pairwise sub.
    for (const request of receiver.received) {
      const decoded = Buffer.from(request.body.split('.')[1]!, 'base64url').toString();
      for (const secret of [p.idNumber, p.name, 'acc_']) expect(decoded).not.toContain(secret);
    }
  });
});

/** As if a minute had passed since the last code was sent: the phones' send intervals forgotten. */
async function aMinuteBetweenCodes() {
  const { doc, config } = dependencies();
  for (const item of await scanItems('login-attempts#sms-send#')) {
    if (!String(item.pk).endsWith('#interval')) continue;
    await doc.send(new DeleteCommand({ TableName: config.tableName, Key: { pk: item.pk, sk: item.sk } }));
  }
}

/** The person resets their password by a code to `phone`, from a platform's sign-in page, in a new browser. */
async function resetPassword(p: { idNumber: string; phone: string }, password: string) {
  const ua = browser();
  const atLogin = await runFlow(ua, (await authorizationRequest(platform, { scope: 'openid' })).url, {});
  const reset = new URL(`/interaction/${uidOf(atLogin.page!.html)}/reset`, runtime.baseUrl);
  const fields = { idNumber: p.idNumber, phone: p.phone };
  await ua.navigate(reset, { form: { ...fields, send: '1' } });
  const code = (await outbox(runtime)).filter((m) => m.to === p.phone).at(-1)?.code;
  const done = await ua.navigate(reset, { form: { ...fields, code: code!, password } });
  const said = done.page?.html.match(/class="[^"]*(?:problem|error|alert)[^"]*"[^>]*>([\s\S]{0,300})/)?.[1];
  expect(done.page?.status ?? 302, said ?? done.page?.html.slice(0, 500)).toBeLessThan(400);
  if (!done.leftTo) await callbackOf(ua, done.page!.url, {});
}

describe('a password reset by the account’s own person', () => {
  it('tells each platform of the shares and sign-ins it ends, as a closure does', async () => {
    const p = await person();
    await openAccount(runtime, p);
    const ua = browser();
    const sub = await platformSignIn(ua, { username: p.idNumber, password: p.password });
    // The share's step-up proves the account by this phone (level 3, ending the sign-ins before it): the
    // reset is then no takeover. A sign-in on another device after it: a grant of its own.
    await share(ua, p.phone);
    await platformSignIn(browser(), { username: p.idNumber, password: p.password });
    receiver.received.length = 0;
    await aMinuteBetweenCodes();

    await resetPassword(p, `Reset-${randomBytes(4).toString('hex')}-26`);

    const told = await noticesFor(sub);
    expect(told.map((payload) => Object.keys(payload.events as object)[0]).sort()).toEqual(
      [withdrawalEvents['share-withdrawn'], withdrawalEvents['sign-in-withdrawn']].sort(),
    );
    // Told once each: the grants are gone, and another round sends nothing.
    expect(await runtime.deliverNotices()).toEqual({ delivered: 0, retried: 0, abandoned: 0 });
  });
});

describe('the real owner taking an account back', () => {
  it('tells each platform of the squatter’s sign-ins it ends', async () => {
    const owner = await person();
    // Someone registers the owner's number and name with a password of their own, and signs in to a
    // platform (sharing licences would need the owner's phone).
    const squatter = { ...owner, password: 'squatter-password-9' };
    await openAccount(runtime, squatter);
    const sub = await platformSignIn(browser(), { username: owner.idNumber, password: squatter.password });

    // The owner resets the password by a code to their phone: the account is theirs.
    await resetPassword(owner, 'owner-password-9');

    const told = await noticesFor(sub);
    expect(told.map((payload) => payload.events)).toEqual([
      {
        [withdrawalEvents['sign-in-withdrawn']]: {
          grant_ids: [expect.any(String)],
          scopes: expect.arrayContaining(['openid', 'profile']),
          withdrawn_at: expect.any(Number),
        },
      },
    ]);
  });
});
