import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDependencies, type Dependencies } from '../../../functions/composition/dependencies.js';
import { CodeIds } from '../../../shared/sso/code-ids.js';
import { codeHintKey } from '../../../shared/sso/derived-secrets.js';
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
import { UserAgent } from '../../support/user-agent.js';

/**
 * Authorization codes name, sealed, the session, grant and person the token endpoint reads with them
 * (shared/sso/code-ids.ts), so that the exchange is one BatchGetItem. The names are hints for reading
 * ahead, never what the provider goes by: these tests forge them.
 */

let runtime: TestRuntime;
let victimPlatform: RelyingParty;
let attackerPlatform: RelyingParty;
let deps: Dependencies;
let codeIds: CodeIds;

beforeAll(async () => {
  runtime = await startTestRuntime();
  const admin = await adminToken(runtime);
  const platform = (name: string, host: string) =>
    registerPlatform(runtime, admin, {
      name,
      redirectUris: [`https://${host}/cb`],
      scopes: ['openid', 'profile'],
      firstParty: true,
    });
  victimPlatform = await platform('受害平台 Victim platform', 'victim.example');
  attackerPlatform = await platform('攻击平台 Attacker platform', 'attacker.example');
  deps = buildDependencies(runtime.config);
  codeIds = new CodeIds(await codeHintKey(deps.interactionMac));
});
afterAll(async () => {
  deps?.doc.destroy();
  deps?.kms.destroy();
  await runtime?.close();
});

const citizen = () => citizenAnswers(runtime);

/** A code of `rp` for the seeded citizen, not yet exchanged, with the request that asked for it. */
async function codeFor(rp: RelyingParty, ua = new UserAgent(runtime.baseUrl)) {
  const request = await authorizationRequest(rp, { scope: 'openid profile' });
  const { callback } = await callbackOf(ua, request.url, citizen());
  return { request, callback, code: callback.searchParams.get('code')! };
}

/** The token endpoint as a client calls it, its secret in HTTP Basic. */
function postToken(rp: RelyingParty, form: Record<string, string>) {
  const basic = Buffer.from(
    `${encodeURIComponent(rp.clientId)}:${encodeURIComponent(rp.clientSecret)}`,
  ).toString('base64');
  return fetch(new URL('/token', runtime.baseUrl), {
    method: 'POST',
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  });
}

async function counted<T>(run: () => Promise<T>) {
  runtime.dynamo!.resetStats();
  const result = await run();
  const stats = runtime.dynamo!.stats();
  return { result, stats, calls: Object.values(stats).reduce((sum, n) => sum + n, 0) };
}

describe('authorization codes that name their reads', () => {
  it('are the provider’s 256-bit random id and sealed hints, which name nothing in clear', async () => {
    const { code } = await codeFor(victimPlatform);
    const [random, sealed, ...rest] = code.split('.');
    expect(rest).toEqual([]);
    expect(random).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(sealed).toMatch(/^[A-Za-z0-9_-]+$/);
    // docs/openid-connect.md tells platforms: about 220 characters, never over 512.
    expect(code.length).toBeGreaterThan(150);
    expect(code.length).toBeLessThan(300);
    const hints = codeIds.hintsOf(code)!;
    expect(hints.sessionUid).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(hints.grantId).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(hints.personId).toMatch(/^acc_/);
    // The person's internal id and the session uid would let platforms correlate people: never in clear.
    for (const value of Object.values(hints)) expect(code).not.toContain(value);
  });

  it('a forged code naming another person’s session, grant and account gets invalid_grant and nothing of theirs', async () => {
    // The victim signs in on their platform; the code they get names their session, grant and account.
    const victim = await codeFor(victimPlatform);
    const hints = codeIds.hintsOf(victim.code)!;
    expect(hints.personId).toBeDefined();

    // The attacker (a platform of its own) holds even the sealing key: a code value of its making that
    // names all three, a random part of its own.
    const forged = codeIds.idFor(randomBytes(32).toString('base64url'), hints);
    const form = {
      grant_type: 'authorization_code',
      code: forged,
      redirect_uri: attackerPlatform.redirectUri,
    };
    // A code that names nothing at all first (which also has the container read the attacker's client).
    const junk = await postToken(attackerPlatform, { ...form, code: randomBytes(32).toString('base64url') });
    expect(junk.status).toBe(400);

    const { result: response, calls, stats } = await counted(() => postToken(attackerPlatform, form));
    expect(response.status).toBe(400);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body.error).toBe('invalid_grant');
    // The same answer as the code that names nothing.
    expect(body).toEqual(await junk.json());
    expect(JSON.stringify(body)).not.toContain(hints.personId!);
    // One round trip read the counter, the (absent) code and what the value named; nothing followed it.
    expect(stats, JSON.stringify(stats)).toEqual({ BatchGetItem: 1 });
    expect(calls).toBe(1);

    // The victim's own sealed hints grafted onto another random part do not even open.
    const [, sealed] = victim.code.split('.');
    expect(codeIds.hintsOf(`${randomBytes(32).toString('base64url')}.${sealed}`)).toBeUndefined();

    // The victim's code, untouched by all this, still works for the victim's platform.
    const tokens = await exchange(victimPlatform, victim.request, victim.callback);
    expect(tokens.claims()?.sub).toBeTypeOf('string');
  });

  it('an attacker’s own code with another person’s hints is no code at all', async () => {
    const victim = await codeFor(victimPlatform);
    const own = await codeFor(attackerPlatform);
    const [random] = own.code.split('.');
    const grafted = codeIds.idFor(random!, codeIds.hintsOf(victim.code)!);
    const response = await postToken(attackerPlatform, {
      grant_type: 'authorization_code',
      code: grafted,
      redirect_uri: attackerPlatform.redirectUri,
      code_verifier: own.request.codeVerifier,
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toBe('invalid_grant');
  });

  it('a code of the provider’s own shape (issued before codes named their reads) still works', async () => {
    const fresh = await codeFor(victimPlatform);
    const Adapter = deps.adapter;
    const codes = new Adapter('AuthorizationCode');
    const payload = (await codes.find(fresh.code))!;
    expect(payload).toBeDefined();
    // The same code as the provider stored it before: its own 256-bit id, nothing named.
    const old = randomBytes(32).toString('base64url');
    await codes.upsert(old, { ...payload, jti: old }, Number(payload.exp) - Math.floor(Date.now() / 1000));
    await codes.destroy(fresh.code);
    const callback = new URL(fresh.callback);
    callback.searchParams.set('code', old);

    const {
      result: tokens,
      calls,
      stats,
    } = await counted(() => exchange(victimPlatform, fresh.request, callback));
    expect(tokens.claims()?.sub).toBeTypeOf('string');
    // The counter and the code together, then what the stored code names: one round trip more.
    expect(calls, JSON.stringify(stats)).toBeLessThanOrEqual(4);
  });

  it('a code sealed under another key reads ahead only itself, and works', async () => {
    const fresh = await codeFor(victimPlatform);
    const codes = new deps.adapter('AuthorizationCode');
    const payload = (await codes.find(fresh.code))!;
    const other = new CodeIds(randomBytes(32)).idFor(
      randomBytes(32).toString('base64url'),
      codeIds.hintsOf(fresh.code)!,
    );
    await codes.upsert(
      other,
      { ...payload, jti: other },
      Number(payload.exp) - Math.floor(Date.now() / 1000),
    );
    await codes.destroy(fresh.code);
    const callback = new URL(fresh.callback);
    callback.searchParams.set('code', other);
    const tokens = await exchange(victimPlatform, fresh.request, callback);
    expect(tokens.claims()?.sub).toBeTypeOf('string');
  });
});
