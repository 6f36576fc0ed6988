import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { licences as licenceStoreFactory } from '../../../functions/composition/factories.js';
import type { LicenceRecord } from '../../../shared/licence/licence.js';
import type { LicenceStore } from '../../../shared/licence/licence-store.js';
import { expectProblem, onboardIssuer, postJson } from '../../support/http-api.js';
import { expectJson, getWithToken, licencePath, listAll, type LicenceJson } from '../../support/licences.js';
import { clientCredentialsToken, startTestRuntime, type TestRuntime } from '../../support/runtime.js';
import { changeStatus, issueDrivingLicence, verified } from '../verify/helpers.js';

/**
 * A re-issue left unfinished (its replacement written, the old licence not yet revoked by it) and the
 * status changes made meanwhile (security review R38 M1 and L1, docs/operating.md "Re-issuing licences"):
 * a suspension or revocation of the old licence reaches its replacement, the replacement is not re-issued
 * in turn, and a retry does not revoke the old licence for a replacement revoked since.
 */

const faults: {
  failRevokeOfReissued: boolean;
  /** Run once right after a replacement is written: what happens between the claim and the revocation. */
  afterReplacementWritten?: (replacement: LicenceRecord) => Promise<void>;
} = { failRevokeOfReissued: false };

/** The runtime's own licence store, failing one write on request: the request dies there, as a crash would. */
function faultyLicences(store: LicenceStore): LicenceStore {
  return {
    create: async (licence) => {
      const created = await store.create(licence);
      const hook = licence.replaces ? faults.afterReplacementWritten : undefined;
      if (hook) faults.afterReplacementWritten = undefined;
      await hook?.(created);
      return created;
    },
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

interface FullLicence extends LicenceJson {
  replaces?: string;
  replacedBy?: string;
}

let runtime: TestRuntime;
let token: string;
const reissue = (id: string) => postJson(runtime, `${licencePath(id)}/reissue`, token, undefined);
const read = async (id: string) =>
  expectJson<FullLicence>(await getWithToken(runtime, licencePath(id), token), 200);
const replacementsOf = async (id: string) =>
  (await listAll(runtime, token)).filter((licence) => (licence as FullLicence).replaces === id);
const verdictOf = async (id: string) => (await verified(runtime, (await read(id)).credential)).verdict;
/** A re-issue of a fresh licence that dies after writing its replacement: the two licences, both valid. */
async function halfDoneReissue(): Promise<{ oldId: string; newId: string }> {
  const old = await issueDrivingLicence(runtime, token);
  faults.failRevokeOfReissued = true;
  expect((await reissue(old.id)).status).toBe(500);
  const [replacement] = await replacementsOf(old.id);
  expect(await verdictOf(replacement!.id)).toBe('valid');
  expect(await verdictOf(old.id)).toBe('valid');
  return { oldId: old.id, newId: replacement!.id };
}

beforeAll(async () => {
  runtime = await startTestRuntime(
    undefined,
    {},
    {
      licences: (operator) => faultyLicences(licenceStoreFactory(operator)),
    },
  );
  const admin = await clientCredentialsToken(runtime, runtime.credentials.admin, 'admin');
  const issuer = await onboardIssuer(runtime, admin, { licenceTypes: ['driving-licence'] });
  token = await clientCredentialsToken(runtime, issuer, 'licences:issue');
});
afterAll(() => runtime?.close());

describe('a status change of a licence whose re-issue is unfinished (R38 M1)', () => {
  it('suspending the old licence suspends its replacement; reinstating waits for the re-issue', async () => {
    const { oldId, newId } = await halfDoneReissue();
    await changeStatus(runtime, token, oldId, 'suspended');
    expect(await verdictOf(oldId)).toBe('suspended');
    expect(await verdictOf(newId)).toBe('suspended');
    const replacement = await read(newId);
    expect(replacement.status).toBe('suspended');

    // Reinstating the old one alone would leave the replacement suspended and the re-issue pending.
    const reinstated = await postJson(runtime, `${licencePath(oldId)}/status`, token, {
      status: 'valid',
      reason: '调查结束',
    });
    await expectProblem(reinstated, 409, 'reissue_pending');
    expect((await read(oldId)).status).toBe('suspended');

    // Retrying the re-issue finishes it; the replacement is the one to reinstate.
    await expectProblem(await reissue(oldId), 409, 'licence_suspended_during_reissue');
    expect((await read(oldId)).status).toBe('revoked');
    await changeStatus(runtime, token, newId, 'valid');
    expect(await verdictOf(newId)).toBe('valid');
  });

  it('revoking the old licence for cause revokes its replacement', async () => {
    const { oldId, newId } = await halfDoneReissue();
    await changeStatus(runtime, token, oldId, 'revoked');
    expect(await verdictOf(oldId)).toBe('revoked');
    expect(await verdictOf(newId)).toBe('revoked');
    expect((await read(newId)).status).toBe('revoked');
    // The re-issue is over: on retry too.
    await expectProblem(await reissue(oldId), 409, 'licence_revoked_during_reissue');
  });

  it('suspending then revoking the old one leaves no valid licence (both orders of the report)', async () => {
    const { oldId, newId } = await halfDoneReissue();
    await changeStatus(runtime, token, oldId, 'suspended');
    await changeStatus(runtime, token, oldId, 'revoked');
    expect(await verdictOf(newId)).toBe('revoked');
  });

  it('a replacement is not re-issued before its own re-issue is finished', async () => {
    const old = await issueDrivingLicence(runtime, token);
    let second: Response | undefined;
    faults.afterReplacementWritten = async (replacement) => {
      // Another tab re-issues the fresh replacement (valid and listed already), then the old one is revoked.
      second = await reissue(replacement.id);
      await changeStatus(runtime, token, old.id, 'revoked');
    };
    await expectProblem(await reissue(old.id), 409, 'licence_revoked_during_reissue');
    await expectProblem(second!, 409, 'reissue_pending');
    const [replacement] = await replacementsOf(old.id);
    expect(await verdictOf(replacement!.id)).toBe('revoked');
    expect(await replacementsOf(replacement!.id)).toEqual([]);
  });

  it('a finished re-issue’s replacement may be re-issued again', async () => {
    const old = await issueDrivingLicence(runtime, token);
    const first = await expectJson<FullLicence>(await reissue(old.id), 201);
    const second = await expectJson<FullLicence>(await reissue(first.id), 201);
    expect(second.replaces).toBe(first.id);
    expect(await verdictOf(second.id)).toBe('valid');
    expect(await verdictOf(first.id)).toBe('revoked');
  });
});

describe('a retry after the unfinished re-issue’s replacement was revoked (R38 L1)', () => {
  it('answers 409 replacement_revoked and leaves the old licence valid', async () => {
    const { oldId, newId } = await halfDoneReissue();
    // A clerk sees two valid licences and revokes the new one as a duplicate.
    await changeStatus(runtime, token, newId, 'revoked');
    const retried = await reissue(oldId);
    const problem = await expectProblem(retried, 409, 'replacement_revoked');
    expect(problem.detail).toContain(newId);
    const old = await read(oldId);
    expect(old.status).toBe('valid');
    expect(await verdictOf(oldId)).toBe('valid');
    // On every retry.
    await expectProblem(await reissue(oldId), 409, 'replacement_revoked');
  });
});
