import { putInRegistry } from '../../support/sharing-flows.js';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDependencies, dependencies } from '../../../functions/composition/dependencies.js';
import { closeAccount } from '../../../shared/identity/close-account.js';
import { LoginThrottle, sourceDigest, type ThrottleKey } from '../../../shared/identity/login-throttle.js';
import { auditEntriesOf } from '../../support/audit-entries.js';
import { expectProblem, postJson, scanItems } from '../../support/http-api.js';
import { newIdNumber } from '../../support/in-memory-identity.js';
import { signIn, storedAccessToken, walletPlatform, type RelyingParty } from '../../support/oidc-flows.js';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.js';
import { UserAgent } from '../../support/user-agent.js';

/*
 * Privacy review R9, H2: there was no way to close an account (PIPL Art. 47; GB/T 35273 §8.5). Now
 * `DELETE /me/account`, with a fresh sign-in at the account's level, ends every sign-in, withdraws the
 * appointments naming the person, deletes the account and its ID-number claim (the number registers
 * again) and writes `account.closed`; `GET /me/account` shows what the account holds, masked.
 */

let runtime: TestRuntime;
let wallet: RelyingParty;

beforeAll(async () => {
  runtime = await startTestRuntime();
  wallet = await walletPlatform(runtime);
});
afterAll(() => runtime?.close());

const call = (method: string, path: string, token: string, body?: unknown) =>
  fetch(`${runtime.baseUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

/** `DELETE /me/account` with the password typed again, as the closure asks (review R10). */
const close = (token: string, password: string) => call('DELETE', '/me/account', token, { password });

/** A new self-asserted person (level 1), registered through the API. */
async function registeredPerson() {
  const person = {
    idNumber: newIdNumber(),
    name: '钱注销',
    password: `Close-${randomBytes(4).toString('hex')}-26`,
  };
  const response = await postJson(runtime, '/accounts', undefined, { ...person, consent: true });
  expect(response.status, await response.clone().text()).toBe(201);
  return person;
}

/** A real sign-in in the wallet (the provider records the sign-in's `acr` and `auth_time` in the token). */
async function walletSignIn(person: { idNumber: string; password: string }, scope = 'openid licences') {
  return signIn(
    wallet,
    new UserAgent(runtime.baseUrl, [wallet.redirectUri]),
    { username: person.idNumber, password: person.password },
    {
      scope,
    },
  );
}

/** A token of the wallet as the provider writes one, with the sign-in's `extra` a test chooses. */
const mintedToken = (accountId: string, extra: Record<string, unknown>) =>
  storedAccessToken(accountId, { extra });

async function accountIdOf(person: { idNumber: string; password: string }): Promise<string> {
  const login = await dependencies().directory.checkPassword({ ...person, source: '192.0.2.81' });
  if (!login.ok) throw new Error(`sign-in failed: ${login.reason}`);
  return login.person.id;
}

describe('GET /me/account', () => {
  it('shows what the account holds, masked, to the person in the wallet', async () => {
    const person = await registeredPerson();
    const { tokens } = await walletSignIn(person);
    const response = await call('GET', '/me/account', tokens.access_token);
    const text = await response.text();
    expect(response.status, text).toBe(200);
    expect(text).not.toContain(person.idNumber);
    expect(JSON.parse(text)).toMatchObject({
      masked: `${person.idNumber.slice(0, 6)}********${person.idNumber.slice(14)}`,
      name: person.name,
      assurance: 'self-asserted',
      acr: 'urn:elicence:loa:1',
      phoneProven: false,
      passkeys: 0,
    });
  });
});

describe('DELETE /me/account', () => {
  it('closes the account: sign-ins end, the account and its claim go, the number registers again', async () => {
    const person = await registeredPerson();
    const signedIn = await walletSignIn(person);
    const id = await accountIdOf(person);
    const other = await walletSignIn(person);

    const response = await close(signedIn.tokens.access_token, person.password);
    const text = await response.text();
    expect(response.status, text).toBe(200);
    expect(JSON.parse(text)).toEqual({ closed: true, passkeysRemoved: 0, appointmentsWithdrawn: 0 });

    // Every token of every sign-in of the person stops working at once.
    for (const token of [signedIn.tokens.access_token, other.tokens.access_token]) {
      expect((await call('GET', '/me/licences', token)).status).toBe(401);
    }
    // Nothing of the account is left under its id or its number's claim.
    const left = (await scanItems('account#')).filter(
      (item) => item['id'] === id || item['pk'] === `account#${id}`,
    );
    expect(left).toEqual([]);
    // The password opens nothing any more.
    const login = await dependencies().directory.checkPassword({ ...person, source: '192.0.2.82' });
    expect(login.ok).toBe(false);

    // The trace names the closed account's opaque id, nothing else of the person.
    const entries = await auditEntriesOf(dependencies().doc, runtime.config.auditTableName, id);
    const closed = entries.find((entry) => entry.action === 'account.closed');
    expect(closed).toBeDefined();
    expect(JSON.stringify(closed)).not.toContain(person.idNumber);
    expect(JSON.stringify(closed)).not.toContain(person.name);

    // The same number registers again, as a new account.
    const again = await postJson(runtime, '/accounts', undefined, {
      consent: true,
      ...person,
      password: 'Again-2026-pass',
    });
    expect(again.status, await again.clone().text()).toBe(201);
    expect(await accountIdOf({ ...person, password: 'Again-2026-pass' })).not.toBe(id);
  });

  /** An appointment of `person` as the demo entity's agent, by its representative (the demo citizen). */
  async function appoint(person: { idNumber: string; name: string }) {
    // The agent named as the population registry has them (required: review R28 L5).
    await putInRegistry(runtime, person.idNumber, person.name);
    const citizenId = await accountIdOf({
      idNumber: runtime.credentials.citizen.idNumber,
      password: runtime.credentials.citizen.password,
    });
    const representative = await mintedToken(citizenId, { acr: 'urn:elicence:loa:3' });
    const agentsPath = `/me/entities/${runtime.credentials.entity.creditCode}/agents`;
    const appointed = await postJson(runtime, agentsPath, representative, {
      idNumber: person.idNumber,
      name: person.name,
      scope: ['licences'],
      expiresAt: new Date(Date.now() + 30 * 86_400_000).toISOString(),
    });
    expect(appointed.status, await appointed.clone().text()).toBe(201);
    const { agentId } = (await appointed.json()) as { agentId: string };
    return async () =>
      (
        (await (await call('GET', agentsPath, representative)).json()) as {
          items: Array<{ agentId: string; status: string }>;
        }
      ).items.find((agent) => agent.agentId === agentId)?.status;
  }

  it('leaves the appointments of the number alone when a squatter’s account of it (below level 3) closes', async () => {
    // The number's person was appointed; someone else registered the number (self-asserted, any name).
    const squatter = await registeredPerson();
    const statusOfAppointment = await appoint(squatter);
    const { tokens } = await walletSignIn(squatter);
    const response = await close(tokens.access_token, squatter.password);
    expect(response.status, await response.clone().text()).toBe(200);
    expect(await response.json()).toMatchObject({ appointmentsWithdrawn: 0 });
    expect(await statusOfAppointment()).toBe('active');
  });

  it('withdraws the appointments naming the person as an enterprise agent', async () => {
    const person = await registeredPerson();
    // Level 3: the account proved it is the number's person (an SMS code to the registry's phone), and
    // signed in at level 3 just now (a possession factor; minted as the provider writes it).
    const accounts = buildDependencies(runtime.config).accounts;
    const id = await accountIdOf(person);
    await accounts.save({ ...(await accounts.findById(id))!, assurance: 'possession-verified' });
    const statusOfAppointment = await appoint(person);
    const token = await mintedToken(id, {
      acr: 'urn:elicence:loa:3',
      auth_time: Math.floor(Date.now() / 1000),
    });
    const response = await close(token, person.password);
    expect(response.status, await response.clone().text()).toBe(200);
    expect(await response.json()).toMatchObject({ appointmentsWithdrawn: 1 });
    expect(await statusOfAppointment()).toBe('withdrawn');
    // Traced as a representative's withdrawal is (it used to leave the appointment withdrawn untraced):
    // by the closing account, the agent's number masked, never whole.
    const entries = await auditEntriesOf(dependencies().doc, runtime.config.auditTableName, id);
    expect(entries.filter((entry) => entry.action === 'agent.withdrawn')).toEqual([
      expect.objectContaining({
        actor: id,
        holderMasked: expect.stringMatching(/\*/),
        reason: `${runtime.credentials.entity.creditCode} account closed`,
        // A withdrawal in several writes: the appointment's, then the account's (docs/supervision.md).
        withdrawal: expect.any(String),
        part: 1,
        parts: 2,
      }),
    ]);
    const [withdrawn] = entries.filter((entry) => entry.action === 'agent.withdrawn');
    expect(entries.filter((entry) => entry.action === 'account.closed')).toEqual([
      expect.objectContaining({ withdrawal: withdrawn!.withdrawal, part: 2, parts: 2 }),
    ]);
    expect(JSON.stringify(entries)).not.toContain(person.idNumber);
  });

  it('refuses a sign-in that is not fresh or below the account’s level: 403 fresh_sign_in_required', async () => {
    const person = await registeredPerson();
    const id = await accountIdOf(person);
    const now = Math.floor(Date.now() / 1000);
    for (const extra of [
      // No auth_time: a token of before, or one that cannot say.
      { acr: 'urn:elicence:loa:1' },
      // An hour ago.
      { acr: 'urn:elicence:loa:1', auth_time: now - 3600 },
    ]) {
      await expectProblem(
        await close(await mintedToken(id, extra), person.password),
        403,
        'fresh_sign_in_required',
      );
    }
    // The demo citizen (proven in person, level 3) signed in at level 2 just now.
    const citizenId = await accountIdOf({
      idNumber: runtime.credentials.citizen.idNumber,
      password: runtime.credentials.citizen.password,
    });
    await expectProblem(
      await close(
        await mintedToken(citizenId, { acr: 'urn:elicence:loa:2', auth_time: now }),
        runtime.credentials.citizen.password,
      ),
      403,
      'fresh_sign_in_required',
    );
    // The account is still there.
    expect(
      (await call('GET', '/me/account', await mintedToken(id, { acr: 'urn:elicence:loa:1' }))).status,
    ).toBe(200);
  });

  it('refuses a platform other than a first-party app: 403 first_party_only', async () => {
    const person = await registeredPerson();
    const id = await accountIdOf(person);
    const jti = await storedAccessToken(id, {
      clientId: runtime.credentials.platform.clientId,
      scope: 'openid licences',
      extra: { acr: 'urn:elicence:loa:1', auth_time: Math.floor(Date.now() / 1000) },
    });
    await expectProblem(await close(jti, person.password), 403, 'first_party_only');
    await expectProblem(await call('GET', '/me/account', jti), 403, 'first_party_only');
  });
});

describe('DELETE /me/account: a token alone closes nothing (review R10)', () => {
  it('asks for the password typed again: none is 400 password_required, a wrong one 403 wrong_password', async () => {
    const person = await registeredPerson();
    const { tokens } = await walletSignIn(person);
    // The token of a sign-in made just now, as one stolen from the browser would be.
    const alone = await expectProblem(
      await call('DELETE', '/me/account', tokens.access_token),
      400,
      'password_required',
    );
    expect(alone).toMatchObject({ errors: [{ path: 'password' }] });
    await expectProblem(await close(tokens.access_token, 'Not-the-password-26'), 403, 'wrong_password');
    // Nothing was closed: the account is whole and the person still signs in.
    expect((await call('GET', '/me/account', tokens.access_token)).status).toBe(200);
    expect((await dependencies().directory.checkPassword({ ...person, source: '192.0.2.85' })).ok).toBe(true);
    expect((await close(tokens.access_token, person.password)).status).toBe(200);
  });
});

describe('closing is not throttled by the address the wallet calls from (review R12)', () => {
  it('an address full of wrong passwords does not keep another person from closing', async () => {
    // Every closure reaches the API from the wallet's servers, one address for all. An attacker's own
    // accounts failing on purpose fill that address's counter past its 100 free tries.
    const wallet = '192.0.2.90';
    const deps = dependencies();
    const throttle = new LoginThrottle(deps.loginAttempts, deps.clock);
    const source: ThrottleKey = { kind: 'source', key: await sourceDigest(deps.lookupMac, wallet) };
    for (let i = 0; i < 130; i++) await throttle.failed(source);
    expect(await throttle.retryAfter(source)).toBeGreaterThan(0);

    const person = await registeredPerson();
    const proof = {
      acr: 'urn:elicence:loa:1',
      authTime: Math.floor(Date.now() / 1000),
      password: person.password,
      source: wallet,
    };
    await expect(closeAccount(await accountIdOf(person), proof, deps)).resolves.toMatchObject({});
    expect((await deps.directory.checkPassword({ ...person, source: '192.0.2.91' })).ok).toBe(false);
  });
});

describe('a closure that fails part-way (review R10)', () => {
  /** A passkey put in the store directly (enrolling one needs a browser's authenticator). */
  const passkeyOf = (accountId: string) => ({
    id: randomBytes(16).toString('base64url'),
    accountId,
    publicKey: 'pk',
    counter: 0,
    transports: ['internal'],
    deviceType: 'singleDevice' as const,
    backedUp: false,
    name: '我的手机',
    createdAt: new Date().toISOString(),
  });
  const proofOf = (person: { password: string }) => ({
    acr: 'urn:elicence:loa:1',
    authTime: Math.floor(Date.now() / 1000),
    password: person.password,
    source: '192.0.2.86',
  });

  it('leaves an account that opens nothing, and asking again completes the closure', async () => {
    const person = await registeredPerson();
    const id = await accountIdOf(person);
    const deps = dependencies();
    await deps.passkeys.add(passkeyOf(id));
    const { tokens } = await walletSignIn(person);
    // The table fails when the sign-ins are to end: the passkeys and appointments went already.
    const failing = {
      ...deps,
      signIns: {
        endAll: () => Promise.reject(new Error('injected: ending the sign-ins failed')),
      },
    };
    await expect(closeAccount(id, proofOf(person), failing)).rejects.toThrow('injected');

    // The account opens nothing from the first write on: no password sign-in, no passkey or token
    // refresh (the provider finds no account), no route of the live token. (Before review R10 it stayed
    // whole and open, only stripped of its passkeys.)
    const login = await deps.directory.checkPassword({ ...person, source: '192.0.2.87' });
    expect(login.ok).toBe(false);
    expect(await deps.directory.findPerson(id)).toBeUndefined();
    await expectProblem(await call('GET', '/me/licences', tokens.access_token), 403, 'account_not_found');
    expect(await deps.passkeys.listFor(id)).toEqual([]);

    // Asking again, with the same token and the password, completes it.
    const again = await close(tokens.access_token, person.password);
    expect(again.status, await again.clone().text()).toBe(200);
    const left = (await scanItems('account#')).filter(
      (item) => item['id'] === id || item['pk'] === `account#${id}`,
    );
    expect(left).toEqual([]);
  });

  it('one whose sign-ins had ended before it failed is completed by registering the number again', async () => {
    const person = await registeredPerson();
    const id = await accountIdOf(person);
    const deps = dependencies();
    const { tokens } = await walletSignIn(person);
    // The last step fails: the sign-ins have ended, so the person cannot ask again with a token.
    const accounts = Object.assign(Object.create(deps.accounts) as typeof deps.accounts, {
      remove: () => Promise.reject(new Error('injected: deleting the account failed')),
    });
    await expect(closeAccount(id, proofOf(person), { ...deps, accounts })).rejects.toThrow('injected');
    expect((await call('GET', '/me/account', tokens.access_token)).status).toBe(401);
    expect((await deps.directory.checkPassword({ ...person, source: '192.0.2.88' })).ok).toBe(false);

    // The number registers again (not 409): registering completes the closure first.
    const again = await postJson(runtime, '/accounts', undefined, {
      ...person,
      consent: true,
      password: 'Again-2026-pass',
    });
    expect(again.status, await again.clone().text()).toBe(201);
    expect(await accountIdOf({ ...person, password: 'Again-2026-pass' })).not.toBe(id);
    expect(await deps.accounts.findById(id, { includeClosing: true })).toBeUndefined();
    // One entry, however often the closure was asked: the deletion alone saves it (a retry used to write
    // a second one, the first attempt having written its entry before its deletion failed).
    const entries = await auditEntriesOf(deps.doc, runtime.config.auditTableName, id);
    expect(entries.filter((entry) => entry.action === 'account.closed')).toHaveLength(1);
  });
});
