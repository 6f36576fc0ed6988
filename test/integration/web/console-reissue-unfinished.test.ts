import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { licences as licenceStoreFactory } from '../../../functions/composition/factories.js';
import { ConflictError } from '../../../shared/errors.js';
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
 * R40): the API's `409 reissue_pending`, `409 replacement_revoked`, `409 reissue_given_up` and `409 replacement_revocation_pending`
 * (review R56-1), each said in the page's own words
 * (the API's detail is English, for developers), on the licence's page.
 */

const faults: { failRevokeOfReissued: boolean; refuseRevokeOf?: string; failRevokeOf?: string } = {
  failRevokeOfReissued: false,
};

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
      if (faults.failRevokeOf === licence.id && licence.status === 'revoked') {
        faults.failRevokeOf = undefined;
        throw new Error('injected: died between the mark and the replacement’s revocation');
      }
      if (faults.refuseRevokeOf === licence.id && licence.status === 'revoked') {
        faults.refuseRevokeOf = undefined;
        // Another clerk changed the licence between this request's read and its write.
        throw new ConflictError('The licence changed meanwhile; read it again and retry', 'licence_changed');
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

  it('retrying a re-issue whose new licence’s revocation was refused (reissue_given_up): the new licence is said valid, not revoked', async () => {
    const { oldId, newId } = await halfDoneReissue();
    faults.refuseRevokeOf = newId;
    const revoked = await postJson(runtime, `/licences/${encodeURIComponent(newId)}/status`, token, {
      status: 'revoked',
      reasonCode: 'other',
      reason: '重复签发，作废新证',
    });
    expect(revoked.status).toBe(409);
    const refused = await ua.request(`${pagePath(oldId)}/reissue`, { form: { confirm: 'yes' } });
    expect(refused.status).toBe(409);
    const html = await refused.text();
    expect(html).toContain(
      '此前有人撤销重新签发生成的新证照，重新签发因此已放弃，但该撤销未成功，新证照未被撤销（有效或已暂扣，以新证照页面为准）：如保留此证照，请再次撤销新证照；如保留新证照，请撤销此证照。',
    );
    expect(html).not.toContain('新证照已被撤销');
    expect(html).not.toContain('两张证照目前均有效');
    expect(html).toContain('<span class="badge valid">');
  });

  it('a new licence’s revocation recorded and not made yet (replacement_revocation_pending): no advice to revoke this one, and its revocation refused (review R56-1)', async () => {
    const { oldId, newId } = await halfDoneReissue();
    faults.failRevokeOf = newId;
    const died = await postJson(runtime, `/licences/${encodeURIComponent(newId)}/status`, token, {
      status: 'revoked',
      reasonCode: 'other',
      reason: '重复签发，作废新证',
    });
    expect(died.status).toBe(500);
    const refused = await ua.request(`${pagePath(oldId)}/reissue`, { form: { confirm: 'yes' } });
    expect(refused.status).toBe(409);
    const html = await refused.text();
    const pending =
      '此前有人撤销重新签发生成的新证照，重新签发因此已放弃；该撤销已记录，系统将在稍后自动完成，原证照保持不变。在此之前该新证照不能重新签发，也无需再撤销任何证照。';
    expect(html).toContain(pending);
    expect(html).not.toContain('请撤销此证照');
    // Re-issuing the new licence, whose revocation is owed, is refused alike, in words that fit its page
    // (it is the one to be revoked: review R58).
    const again = await ua.request(`${pagePath(newId)}/reissue`, { form: { confirm: 'yes' } });
    expect(again.status).toBe(409);
    expect(await again.text()).toContain(pending);
    const revoke = await ua.request(`${pagePath(oldId)}/status`, {
      form: { status: 'revoked', reasonCode: 'other', reason: '保留新证', confirm: 'yes' },
    });
    expect(revoke.status).toBe(409);
    const page = await revoke.text();
    expect(page).toContain(
      '此前有人撤销了此证照重新签发生成的新证照，该撤销已记录，系统将在稍后自动完成；在此之前不能撤销此证照（否则两张证照都将被撤销），请待新证照撤销后再试。',
    );
    // The old licence is still valid: the holder keeps it once the new one is revoked.
    expect(page).toContain('<span class="badge valid">');
  });
});
