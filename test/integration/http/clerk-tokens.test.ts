import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agencyHead, registryPeople } from '../../../infra/local/demo-data.js';
import { dependencies } from '../../../functions/composition/dependencies.js';
import { consoleClientId, walletClientId } from '../../../shared/identifiers/client-ids.js';
import { basisOf, formatAccountId } from '../../../shared/identifiers/account-id.js';
import { auditEntriesOf, licenceAuditEntries } from '../../support/audit-entries.js';
import {
  accountIdOf,
  agencyHeadToken,
  appointAgent,
  appointClerk,
  clerkToken,
  withdrawClerk,
} from '../../support/clerks.js';
import { expectProblem, onboardIssuer, postJson } from '../../support/http-api.js';
import { adminToken, citizenAnswers, writtenAccessToken } from '../../support/oidc-flows.js';
import { clientCredentialsToken, startTestRuntime, type TestRuntime } from '../../support/runtime.js';
import { searchLicences } from '../../support/licences.js';

let runtime: TestRuntime;
let headToken: string;

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const get = (path: string, token: string) => fetch(`${runtime.baseUrl}${path}`, { headers: bearer(token) });

/** A driving licence for one of the synthetic people, issued with `token` under a fresh key. */
function issue(token: string, holder = registryPeople[3]!) {
  return postJson(
    runtime,
    '/licences',
    token,
    {
      type: 'driving-licence',
      holder: { idNumber: holder.idNumber },
      holderName: holder.name,
      fields: { vehicleClass: 'C1', firstIssuedOn: '2016-04-01', archiveNumber: '110100765432' },
    },
    { 'idempotency-key': randomUUID() },
  );
}

/** An access token written as the provider writes one, for the cases no sign-in can produce. */
const handMadeToken = writtenAccessToken;

beforeAll(async () => {
  runtime = await startTestRuntime();
  headToken = await agencyHeadToken(runtime);
});
afterAll(() => runtime?.close());

describe('the issuer API with a clerk’s token (the issuer console’s, acting for the agency)', () => {
  it('maps an appointed clerk to the agency’s issuer, and names the clerk in the licence’s history and the audit trail', async () => {
    const { token, claims } = await clerkToken(runtime, runtime.credentials.clerk);
    const reference = (claims.act as { sub: string }).sub;
    expect(reference).toMatch(/^[A-Za-z0-9_-]{20,}$/);

    const who = await get('/issuer', token);
    expect(who.status, await who.clone().text()).toBe(200);
    expect(await who.json()).toEqual({
      issuerId: runtime.credentials.issuer.id,
      name: expect.any(String),
      creditCode: runtime.credentials.issuer.creditCode,
      clerk: reference,
    });

    const issued = await issue(token);
    expect(issued.status, await issued.clone().text()).toBe(201);
    const { id } = (await issued.json()) as { id: string };
    const suspended = await postJson(runtime, `/licences/${encodeURIComponent(id)}/status`, token, {
      status: 'suspended',
      reasonCode: 'investigation',
    });
    expect(suspended.status, await suspended.clone().text()).toBe(200);

    const read = await get(`/licences/${encodeURIComponent(id)}`, token);
    const { history } = (await read.json()) as { history: Array<Record<string, unknown>> };
    expect(history).toEqual([
      expect.objectContaining({ action: 'issued', actor: consoleClientId, clerk: reference }),
      expect.objectContaining({ action: 'suspended', actor: consoleClientId, clerk: reference }),
    ]);

    const trail = await licenceAuditEntries(dependencies().auditPages, id);
    expect(trail.map((entry) => [entry.action, entry.actor, entry.clerk, entry.issuerId])).toEqual([
      ['licence.issued', consoleClientId, reference, runtime.credentials.issuer.id],
      ['licence.suspended', consoleClientId, reference, runtime.credentials.issuer.id],
      // The clerk's read of it above, recorded for the holder too (privacy review L4).
      ['licence.issuer_read', consoleClientId, reference, runtime.credentials.issuer.id],
    ]);
    // A reference, never the clerk's number or name.
    const text = JSON.stringify(trail);
    expect(text).not.toContain(runtime.credentials.clerk.idNumber);
    expect(text).not.toContain(runtime.credentials.clerk.name);

    // A search by holder is traced to the clerk too.
    const listed = await searchLicences(runtime, token, { holder: registryPeople[3]!.idNumber });
    expect(listed.status).toBe(200);
    const { doc, config } = dependencies();
    const reads = await auditEntriesOf(doc, config.auditTableName, consoleClientId);
    expect(reads.filter((entry) => entry.action === 'licences.listed')).toContainEqual(
      expect.objectContaining({
        clerk: reference,
        issuerId: runtime.credentials.issuer.id,
        filters: 'sort=-issuedAt&holder',
      }),
    );
  });

  it('refuses the clerk’s still-valid token at the next call once the appointment is withdrawn (403 clerk_not_appointed)', async () => {
    const clerk = await appointClerk(
      runtime,
      headToken,
      runtime.credentials.clerk.creditCode,
      registryPeople[8]!,
    );
    const { token } = await clerkToken(runtime, clerk);
    expect((await issue(token)).status).toBe(201);

    await withdrawClerk(runtime, headToken, clerk);

    await expectProblem(await issue(token), 403, 'clerk_not_appointed');
    await expectProblem(await get('/licences', token), 403, 'clerk_not_appointed');
    await expectProblem(await get('/issuer', token), 403, 'clerk_not_appointed');

    // Appointed again (review R42): a new appointment; the token of the withdrawn one stays refused.
    await appointAgent(runtime, headToken, clerk.creditCode, registryPeople[8]!, ['licences:issue']);
    await expectProblem(await issue(token), 403, 'clerk_not_appointed');
    // Signing in again under the new appointment issues.
    expect((await issue((await clerkToken(runtime, clerk)).token)).status).toBe(201);
  });

  /**
   * The account of `personId` acting for the clerk's agency, as the provider names it: under the authority
   * the person holds now (their appointment, or the representative's role: review R42).
   */
  async function actingForAgency(personId: Promise<string>): Promise<string> {
    const { creditCode } = runtime.credentials.clerk;
    const agency = await dependencies().entities.findEntityByCreditCode(creditCode);
    const right = await dependencies().directory.canActFor(await personId, creditCode);
    return formatAccountId({
      kind: 'entity',
      entityId: agency!.id,
      personId: await personId,
      ...(right ? { basis: basisOf(right) } : {}),
    });
  }
  const clerkId = () => accountIdOf(runtime.credentials.clerk.idNumber, runtime.credentials.clerk.password);
  /** A token of `accountId` through `clientId` at `acr`, hand-made as the provider would write it. */
  const tokenOf = async (
    accountId: Promise<string>,
    { clientId = consoleClientId, scope = 'openid entity licences:issue', acr = 'urn:elicence:loa:3' } = {},
  ) => handMadeToken({ accountId: await accountId, clientId, scope, acr });

  // A person who is no clerk of the agency: not appointed to issue, its head, or acting for another entity.
  it.each<[who: string, code: string, token: () => Promise<string>]>([
    [
      'a clerk appointed to read the agency’s licences (`licences`), not to issue',
      'clerk_not_appointed',
      async () => {
        const agency = runtime.credentials.clerk.creditCode;
        const reader = await appointClerk(runtime, headToken, agency, registryPeople[9]!, ['licences']);
        return (await clerkToken(runtime, reader)).token;
      },
    ],
    [
      'the demo citizen, acting for the entity he represents, which is no issuing agency',
      'not_an_issuer',
      async () => {
        const { username, password } = citizenAnswers(runtime);
        const creditCode = runtime.credentials.entity.creditCode;
        return (await clerkToken(runtime, { idNumber: username, password, creditCode })).token;
      },
    ],
    [
      'the agency’s head, who acts for it by role and appoints clerks, but does not issue',
      'clerk_not_appointed',
      () => tokenOf(actingForAgency(accountIdOf(agencyHead.idNumber, 'Head-2026!'))),
    ],
    [
      'a clerk’s personal token (not acting for the agency)',
      'not_a_clerk',
      () => tokenOf(clerkId(), { scope: 'openid licences:issue' }),
    ],
    [
      'the clerk acting for the agency, but through another client than the console',
      'not_an_issuer',
      () => tokenOf(actingForAgency(clerkId()), { clientId: walletClientId }),
    ],
    [
      'the clerk acting for the agency below level 3 (a sign-in the provider would have stepped up)',
      'insufficient_assurance',
      () => tokenOf(actingForAgency(clerkId()), { acr: 'urn:elicence:loa:2' }),
    ],
  ])('refuses %s (403 %s)', async (_who, code, token) => {
    await expectProblem(await issue(await token()), 403, code);
  });

  it('keeps a clerk of agency A away from agency B’s licences, and out of bulk issuance', async () => {
    const other = await onboardIssuer(runtime, await adminToken(runtime), {
      licenceTypes: ['driving-licence'],
    });
    const otherToken = await clientCredentialsToken(runtime, other, 'licences:issue');
    const theirs = await issue(otherToken, registryPeople[4]!);
    expect(theirs.status, await theirs.clone().text()).toBe(201);
    const { id } = (await theirs.json()) as { id: string };

    const { token } = await clerkToken(runtime, runtime.credentials.clerk);
    await expectProblem(await get(`/licences/${encodeURIComponent(id)}`, token), 404, 'licence_not_found');
    await expectProblem(
      await postJson(runtime, `/licences/${encodeURIComponent(id)}/status`, token, {
        status: 'revoked',
        reasonCode: 'violation',
      }),
      404,
      'licence_not_found',
    );
    await expectProblem(
      await postJson(runtime, `/licences/${encodeURIComponent(id)}/reissue`, token, {}),
      404,
      'licence_not_found',
    );
    await expectProblem(
      await postJson(runtime, '/licences/batches', token, { items: [] }, { 'idempotency-key': randomUUID() }),
      403,
      'clerk_not_allowed',
    );
  });

  it('still serves an agency’s own client (client credentials) as before: no clerk named', async () => {
    const token = await clientCredentialsToken(runtime, runtime.credentials.issuer, 'licences:issue');
    const who = await get('/issuer', token);
    expect(await who.json()).toEqual({
      issuerId: runtime.credentials.issuer.id,
      name: expect.any(String),
      creditCode: runtime.credentials.issuer.creditCode,
    });
    const issued = await issue(token, registryPeople[6]!);
    expect(issued.status).toBe(201);
    const { id } = (await issued.json()) as { id: string };
    const [entry] = await licenceAuditEntries(dependencies().auditPages, id);
    expect(entry).toMatchObject({ action: 'licence.issued', actor: runtime.credentials.issuer.clientId });
    expect(entry).not.toHaveProperty('clerk');
  });
});
