import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { demoClerk, registryPeople } from '../../../infra/local/demo-data.js';
import { dependencies } from '../../../functions/composition/dependencies.js';
import { pointerKey, type PointerKind } from '../../../shared/adapters/dynamo/pending-work.js';
import type { AuditTrail } from '../../../shared/audit/audit-trail.js';
import { walletClientId } from '../../../shared/identifiers/client-ids.js';
import { maskIdNumber, parseIdNumber } from '../../../shared/identifiers/id-number.js';
import { auditEntriesOf } from '../../support/audit-entries.js';
import { postJson, scanItems } from '../../support/http-api.js';
import { outbox } from '../../support/in-memory-sms.js';
import {
  adminToken,
  authorizationRequest,
  citizenAnswers,
  demoPlatform,
  registerPlatform,
  runFlow,
  signIn,
  writtenAccessToken,
} from '../../support/oidc-flows.js';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.js';
import { licenceAccess, uidOf } from '../../support/sharing-flows.js';
import { UserAgent } from '../../support/user-agent.js';

/**
 * A registration, an agent appointed and withdrawn, and an operator's change of a client, each with its
 * trace, under the functions' own grants (the runtime's grant guard): an audit write that failed after the
 * change used to leave it made with nothing in the trail (the registration and the agents answered as if
 * all was well, the client change a 5xx). Now each change saves its entry in its own write, as pending
 * work (`pending-account-audit#`, accounts'; `pending-issuer-audit#`, admin's): the change stands and
 * answers, and the reconciler's next run writes every entry, once. Since: an issuer onboarded and a client
 * registered (which wrote no entry at all), and an account taken over by a password reset (the provider's,
 * `pending-provider-audit#`: it answered 5xx with the account changed and no entry).
 */

/** The actions whose next audit writes fail. */
const traced = [
  'account.registered',
  'agent.appointed',
  'agent.withdrawn',
  'client.updated',
  'client.registered',
  'issuer.created',
  'account.taken_over',
  'account.password_reset',
  'authorization.granted',
];
let failures = 0;

function faultyAudit(trail: AuditTrail): AuditTrail {
  return {
    record: async (entry, once) => {
      if (traced.includes(entry.action) && failures > 0) {
        failures -= 1;
        throw new Error('injected: the audit write failed');
      }
      await trail.record(entry, once);
    },
  };
}

let runtime: TestRuntime;

beforeAll(async () => {
  runtime = await startTestRuntime(undefined, {}, { audit: (operator) => faultyAudit(operator.audit) });
});
afterEach(() => {
  failures = 0;
});
afterAll(() => runtime?.close());

/** The entries of `actions` (the traced ones unless told) `actor` wrote. */
const entriesOf = (actor: string, actions = traced) =>
  auditEntriesOf(dependencies().doc, runtime.config.auditTableName, actor).then((entries) =>
    entries.filter((entry) => actions.includes(entry.action)).map((entry) => entry.action),
  );
/** The agents' entries (the citizen registered, at the seed). */
const agentActions = ['agent.appointed', 'agent.withdrawn'];

/** A person's account id, from a sign-in with their password. */
async function signedIn(idNumber: string, password: string): Promise<string> {
  const login = await dependencies().directory.checkPassword({ idNumber, password, source: '192.0.2.81' });
  if (!login.ok) throw new Error(`sign-in failed: ${login.reason}`);
  return login.person.id;
}

/** The changes' entries saved as pending work, not yet written: accounts', operators' and the provider's. */
const saved = async () => [
  ...(await scanItems('pending-account-audit#')).map((item) => ['accounts', String(item.sk)] as const),
  ...(await scanItems('pending-issuer-audit#')).map((item) => ['operators', String(item.sk)] as const),
  ...(await scanItems('pending-provider-audit#')).map((item) => ['provider', String(item.sk)] as const),
];

/** Moves every saved entry's time back two minutes, as the runtime's clock cannot be. */
async function aMinuteLater(): Promise<void> {
  const { doc, config } = dependencies();
  for (const [kind, id] of await saved()) {
    await doc.send(
      new UpdateCommand({
        TableName: config.tableName,
        Key: pointerKey(id, kind as PointerKind),
        UpdateExpression: 'SET since = :since',
        ExpressionAttributeValues: { ':since': new Date(Date.now() - 120_000).toISOString() },
      }),
    );
  }
}

describe('changes whose audit entry fails to be written', () => {
  it('stand and are answered; the reconciler’s run writes each entry, once, a minute later', async () => {
    // A registration (its entry failing), then the demo citizen, the demo entity's representative,
    // appoints that person agent and withdraws them (both failing).
    const person = registryPeople[7]!;
    const password = 'Pass-7-2026';
    failures = 3;
    const registered = await postJson(runtime, '/accounts', undefined, {
      consent: true,
      ...person,
      password,
    });
    expect(registered.status, await registered.clone().text()).toBe(201);
    const accountId = await signedIn(person.idNumber, password);
    const citizen = await signedIn(
      runtime.credentials.citizen.idNumber,
      runtime.credentials.citizen.password,
    );
    const token = await writtenAccessToken({
      accountId: citizen,
      clientId: walletClientId,
      scope: 'openid entity',
      acr: 'urn:elicence:loa:3',
    });
    const agents = `/me/entities/${runtime.credentials.entity.creditCode}/agents`;
    const appointed = await postJson(runtime, agents, token, {
      idNumber: person.idNumber,
      name: person.name,
      scope: ['licences'],
      expiresAt: new Date(Date.now() + 30 * 86_400_000).toISOString(),
    });
    expect(appointed.status, await appointed.clone().text()).toBe(201);
    const { agentId } = (await appointed.json()) as { agentId: string };
    const withdrawn = await fetch(`${runtime.baseUrl}${agents}/${agentId}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(withdrawn.status).toBe(204);
    expect(failures).toBe(0);

    // An operator's change of a client's events endpoint (its entry failing).
    const admin = await adminToken(runtime);
    const platform = await registerPlatform(runtime, admin, {
      name: '留痕测试平台',
      redirectUris: ['https://trace.example/callback'],
      scopes: ['openid', 'profile'],
    });
    failures = 1;
    const patched = await fetch(`${runtime.baseUrl}/admin/clients/${platform.clientId}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ eventsUri: 'https://trace.example/events' }),
    });
    expect(patched.status, await patched.clone().text()).toBe(200);
    expect(failures).toBe(0);

    expect(await entriesOf(accountId)).toEqual([]);
    expect(await entriesOf(citizen, agentActions)).toEqual([]);
    const operator = runtime.credentials.admin.clientId;
    expect(await entriesOf(operator, ['client.updated'])).toEqual([]);
    expect((await saved()).map(([kind]) => kind).sort()).toEqual([
      'accounts',
      'accounts',
      'accounts',
      'operators',
    ]);

    // Left to the requests for a minute: not yet. A minute on: each entry, once.
    await runtime.runSchedule('pending-work-reconciler');
    expect(await entriesOf(citizen, agentActions)).toEqual([]);
    await aMinuteLater();
    await runtime.runSchedule('pending-work-reconciler');
    await runtime.runSchedule('pending-work-reconciler');
    expect(await entriesOf(accountId)).toEqual(['account.registered']);
    expect((await entriesOf(citizen, agentActions)).sort()).toEqual(agentActions);
    expect(await entriesOf(operator, ['client.updated'])).toEqual(['client.updated']);
    expect(await saved()).toEqual([]);
  });
});

describe('changes that wrote no entry, or lost it', () => {
  it('an issuer onboarded and a client registered: traced, written by the reconciler when the write fails', async () => {
    const admin = await adminToken(runtime);
    const operator = runtime.credentials.admin.clientId;
    failures = 2;
    const platform = await registerPlatform(runtime, admin, {
      name: '登记留痕平台',
      redirectUris: ['https://registered.example/callback'],
      scopes: ['openid'],
    });
    const onboarded = await postJson(runtime, '/admin/issuers', admin, {
      name: '留痕测试发证机关',
      creditCode: '11310000000024686D',
      region: '310000',
      licenceTypes: ['business-licence'],
    });
    expect(onboarded.status, await onboarded.clone().text()).toBe(201);
    const issuer = (await onboarded.json()) as { id: string; clientSecret: string };
    expect(issuer.clientSecret).toBeTruthy();
    expect(failures).toBe(0);
    const actions = ['client.registered', 'issuer.created'];
    /** The operator's entries of these two changes (it registered other clients before). */
    const theirs = async () =>
      (await auditEntriesOf(dependencies().doc, runtime.config.auditTableName, operator))
        .filter((entry) => entry.targetClientId === platform.clientId || entry.issuerId === issuer.id)
        .map((entry) => entry.action)
        .sort();
    expect(await theirs()).toEqual([]);
    expect((await saved()).map(([, id]) => id).sort()).toEqual(
      [`client-changed#${platform.clientId}#registered`, `issuer-changed#${issuer.id}#2`].sort(),
    );

    await aMinuteLater();
    await runtime.runSchedule('pending-work-reconciler');
    await runtime.runSchedule('pending-work-reconciler');
    expect(await theirs()).toEqual(actions);
    expect(await saved()).toEqual([]);
  });

  it('an account taken over by a password reset: traced, written by the reconciler when the write fails', async () => {
    // A person the registries know, registered (level 2: no phone proved it), then reset by a code to the
    // phone the carrier confirms: the account changes hands, its password with it.
    const person = registryPeople[9]!;
    const registered = await postJson(runtime, '/accounts', undefined, {
      consent: true,
      idNumber: person.idNumber,
      name: person.name,
      password: 'Squat-9-2026',
    });
    expect(registered.status, await registered.clone().text()).toBe(201);
    const accountId = await signedIn(person.idNumber, 'Squat-9-2026');
    const ua = new UserAgent(runtime.baseUrl, [`${runtime.baseUrl}/demo/callback`]);
    const atLogin = await runFlow(ua, (await authorizationRequest(await demoPlatform(runtime))).url, {});
    const reset = new URL(`/interaction/${uidOf(atLogin.page!.html)}/reset`, runtime.baseUrl);
    const fields = { idNumber: person.idNumber, phone: person.phone };
    expect((await ua.navigate(reset, { form: { ...fields, send: '1' } })).page!.status).toBe(200);
    const code = (await outbox(runtime)).filter((m) => m.to === person.phone).at(-1)!.code!;
    // The first entry's write fails (the second is then left with it, saved).
    failures = 1;
    const done = await ua.navigate(reset, { form: { ...fields, code, password: 'Owner-9-2026' } });
    expect(done.page?.status ?? 302, done.page?.html).toBeLessThan(400);
    expect(failures).toBe(0);
    expect(await signedIn(person.idNumber, 'Owner-9-2026')).toBe(accountId);

    const takeover = ['account.taken_over', 'account.password_reset'];
    expect(await entriesOf(accountId, takeover)).toEqual([]);
    const pending = await scanItems('pending-provider-audit#');
    expect(pending.map((item) => String(item.sk))).toEqual([
      expect.stringMatching(`^phone-proof#${accountId}#`),
    ]);
    // Saved as pending work: the account's id and what happened, never the number or the phone.
    for (const personal of [person.idNumber, person.phone.slice(3), person.name]) {
      expect(JSON.stringify(pending)).not.toContain(personal);
    }

    await aMinuteLater();
    await runtime.runSchedule('pending-work-reconciler');
    await runtime.runSchedule('pending-work-reconciler');
    expect((await entriesOf(accountId, takeover)).sort()).toEqual(takeover.sort());
    expect(await saved()).toEqual([]);
  });

  it('a consent to share licences: saved with its grant, written by the reconciler when the write fails', async () => {
    // The entry used to be written after the grant's save: its write failing (or the function dying in
    // between) left a platform able to read the person's licences with no `authorization.granted` at all.
    const platform = await registerPlatform(runtime, await adminToken(runtime), {
      name: '授权留痕平台',
      redirectUris: ['https://granted.example/callback'],
      scopes: ['openid', 'profile'],
      authorizationDetailsTypes: ['licence_access'],
    });
    const citizen = await signedIn(
      runtime.credentials.citizen.idNumber,
      runtime.credentials.citizen.password,
    );
    failures = 1;
    const shared = await signIn(
      platform,
      new UserAgent(runtime.baseUrl, [`${runtime.baseUrl}/wallet/callback`]),
      citizenAnswers(runtime),
      {
        scope: 'openid profile',
        authorization_details: JSON.stringify([licenceAccess(['driving-licence'], '留痕测试业务')]),
      },
    );
    expect(shared.tokens.access_token).toBeTruthy();
    expect(failures).toBe(0);
    const granted = ['authorization.granted'];
    /** The citizen's consents to this platform (the citizen shared with others before). */
    const theirs = async () =>
      (await auditEntriesOf(dependencies().doc, runtime.config.auditTableName, citizen))
        .filter((entry) => entry.action === 'authorization.granted')
        .filter((entry) => String(entry.reason).includes(`client ${platform.clientId},`));
    expect(await theirs()).toEqual([]);
    const pending = await saved();
    expect(pending).toEqual([['provider', expect.stringMatching(/^authorization-granted#/)]]);
    const grantId = pending[0]![1].slice('authorization-granted#'.length);

    await aMinuteLater();
    await runtime.runSchedule('pending-work-reconciler');
    await runtime.runSchedule('pending-work-reconciler');
    expect(await theirs()).toEqual([
      expect.objectContaining({
        actor: citizen,
        reason: `client ${platform.clientId}, grant ${grantId}, types driving-licence`,
        purpose: '留痕测试业务',
      }),
    ]);
    expect((await theirs()).map((entry) => entry.action)).toEqual(granted);
    expect(await saved()).toEqual([]);
  });

  it('the demo seed’s clerk, issuer and proofs in person are traced as the API’s are', async () => {
    // The seed appointed its clerk with no entry at all: a right to issue in force, untraced.
    const seeded = await auditEntriesOf(dependencies().doc, runtime.config.auditTableName, 'seed');
    const clerk = maskIdNumber(parseIdNumber(demoClerk.idNumber, new Date()));
    expect(seeded).toContainEqual(
      expect.objectContaining({
        action: 'agent.appointed',
        holderMasked: clerk,
        reason: expect.stringContaining(
          `${runtime.credentials.issuer.creditCode} licences:issue accounts:prove-in-person until`,
        ),
      }),
    );
    expect(seeded).toContainEqual(
      expect.objectContaining({ action: 'issuer.created', issuerId: runtime.credentials.issuer.id }),
    );
    expect(seeded).toContainEqual(
      expect.objectContaining({ action: 'account.proven', holderMasked: clerk, reason: 'in-person' }),
    );
  });
});
