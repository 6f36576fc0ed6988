import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { licences as licenceStoreFactory } from '../../../functions/composition/factories.js';
import type { LicenceStore } from '../../../shared/licence/licence-store.js';
import { onboardIssuer, postJson } from '../../support/http-api.js';
import { listAll } from '../../support/licences.js';
import {
  clientCredentialsToken,
  clientSecretConsole,
  startTestRuntime,
  type TestRuntime,
} from '../../support/runtime.js';
import { UserAgent } from '../../support/user-agent.js';
import { changeStatus, issueDrivingLicence } from '../verify/helpers.js';

/**
 * What a clerk sees at the issuer console when a re-issue was left unfinished (security reviews R38 and
 * R40): the API's `409 reissue_pending` and `409 replacement_revoked`, each said in the page's own words
 * (the API's detail is English, for developers), on the licence's page.
 */

const faults = { failRevokeOfReissued: false };

/** The runtime's own licence store, failing the re-issue's revocation of the old licence once on request. */
function faultyLicences(store: LicenceStore): LicenceStore {
  return {
    create: (licence) => store.create(licence),
    get: (id) => store.get(id),
    save: async (licence) => {
      if (faults.failRevokeOfReissued && licence.status === 'revoked' && licence.replacedBy) {
        faults.failRevokeOfReissued = false;
        throw new Error('injected: died between writing the new licence and revoking the old');
      }
      return store.save(licence);
    },
    clearPending: (id, version) => store.clearPending(id, version),
    listByIssuer: (issuerId, query) => store.listByIssuer(issuerId, query),
    countByIssuer: (issuerId, filter, cap) => store.countByIssuer(issuerId, filter, cap),
    listByHolder: (key) => store.listByHolder(key),
  };
}

let runtime: TestRuntime;
let token: string;
let ua: UserAgent;

/** A re-issue that died after writing its replacement: both licences valid, the re-issue unfinished. */
async function halfDoneReissue(): Promise<{ oldId: string; newId: string }> {
  const old = await issueDrivingLicence(runtime, token);
  faults.failRevokeOfReissued = true;
  const reissued = await postJson(
    runtime,
    `/licences/${encodeURIComponent(old.id)}/reissue`,
    token,
    undefined,
  );
  expect(reissued.status).toBe(500);
  const replacement = (await listAll(runtime, token)).find(
    (licence) => (licence as { replaces?: string }).replaces === old.id,
  );
  return { oldId: old.id, newId: replacement!.id };
}

const pagePath = (id: string) => `/console/licences/${encodeURIComponent(id)}`;

beforeAll(async () => {
  runtime = await startTestRuntime(undefined, clientSecretConsole, {
    licences: (operator) => faultyLicences(licenceStoreFactory(operator)),
  });
  const admin = await clientCredentialsToken(runtime, runtime.credentials.admin, 'admin');
  const agency = await onboardIssuer(runtime, admin, { licenceTypes: ['driving-licence'] });
  token = await clientCredentialsToken(runtime, agency, 'licences:issue');
  ua = new UserAgent(runtime.baseUrl);
  const login = await ua.request('/console/login', {
    form: { clientId: agency.clientId, clientSecret: agency.clientSecret },
  });
  expect(login.status).toBe(303);
});
afterAll(() => runtime?.close());

describe('the console’s words for a re-issue left unfinished', () => {
  it('reinstating the old licence (reissue_pending): the suspension went to the new licence, finish the re-issue first', async () => {
    const { oldId } = await halfDoneReissue();
    await changeStatus(runtime, token, oldId, 'suspended');
    const refused = await ua.request(`${pagePath(oldId)}/status`, {
      form: { status: 'valid', reasonCode: 'other', reason: '调查结束' },
    });
    expect(refused.status).toBe(409);
    const html = await refused.text();
    expect(html).toContain(
      '此证照的重新签发尚未完成，暂扣已同步至新证照：请先再次提交重新签发，再恢复新证照。',
    );
    // Still the licence's page, suspended, its status unchanged.
    expect(html).toContain('<span class="badge suspended">');
  });

  it('re-issuing the new licence before the first re-issue is finished (reissue_pending)', async () => {
    const { newId } = await halfDoneReissue();
    const refused = await ua.request(`${pagePath(newId)}/reissue`, { form: { confirm: 'yes' } });
    expect(refused.status).toBe(409);
    const html = await refused.text();
    expect(html).toContain('此证照所替换的证照的重新签发尚未完成，请先完成那次重新签发。');
    expect(html).toContain('<span class="badge valid">');
  });

  it('retrying a re-issue whose new licence a clerk revoked (replacement_revoked): the old licence is left as it is', async () => {
    const { oldId, newId } = await halfDoneReissue();
    await changeStatus(runtime, token, newId, 'revoked');
    const refused = await ua.request(`${pagePath(oldId)}/reissue`, { form: { confirm: 'yes' } });
    expect(refused.status).toBe(409);
    const html = await refused.text();
    expect(html).toContain(
      '此前重新签发生成的新证照已被撤销，此证照保持不变；如需替换，请签发新证照后撤销此证照。',
    );
    expect(html).toContain('<span class="badge valid">');
  });
});
