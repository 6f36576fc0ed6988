import { afterAll, beforeAll, expect, it } from 'vitest';
import { licences as licenceStoreFactory } from '../../../functions/composition/factories.js';
import type { LicenceRecord } from '../../../shared/licence/licence.js';
import type { LicenceStore } from '../../../shared/licence/licence-store.js';
import { expectProblem, onboardIssuer, postJson } from '../../support/http-api.js';
import { expectJson, getWithToken, licencePath, listAll, type LicenceJson } from '../../support/licences.js';
import { clientCredentialsToken, startTestRuntime, type TestRuntime } from '../../support/runtime.js';
import { changeStatus, issueDrivingLicence, verified } from '../verify/helpers.js';

/**
 * A clerk revoking the replacement of an unfinished re-issue while that re-issue (its first attempt, or a
 * retry) is still running (security review R40 F1): the re-issue is given up (409 `replacement_revoked`) and
 * the old licence stays valid, whichever of the re-issue's reads the revocation falls after. Before the
 * fix, the old licence was revoked `reissued` too, and the holder was left with no valid licence.
 */

const faults: {
  failRevokeOfReissued: boolean;
  /** Run once right after a replacement is written (between the claim and the old licence's revocation). */
  afterReplacementWritten?: (replacement: LicenceRecord) => Promise<void>;
  /** Run once right after the `nth` read of licence `id` answers (the read answers what it read before). */
  afterRead?: { id: string; nth: number; run: () => Promise<void> };
} = { failRevokeOfReissued: false };

/** The runtime's own licence store, with the faults above. */
function faultyLicences(store: LicenceStore): LicenceStore {
  return {
    create: async (licence) => {
      const created = await store.create(licence);
      const hook = licence.replaces ? faults.afterReplacementWritten : undefined;
      if (hook) faults.afterReplacementWritten = undefined;
      await hook?.(created);
      return created;
    },
    get: async (id) => {
      const got = await store.get(id);
      const hook = faults.afterRead?.id === id ? faults.afterRead : undefined;
      if (hook && --hook.nth === 0) {
        faults.afterRead = undefined;
        await hook.run();
      }
      return got;
    },
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
const reissue = (id: string) => postJson(runtime, `${licencePath(id)}/reissue`, token, undefined);
const read = async (id: string) =>
  expectJson<LicenceJson & { replaces?: string }>(await getWithToken(runtime, licencePath(id), token), 200);
const verdictOf = async (id: string) => (await verified(runtime, (await read(id)).credential)).verdict;

/** A re-issue of a fresh licence that dies after writing its replacement: the two licences, both valid. */
async function halfDoneReissue(): Promise<{ oldId: string; newId: string }> {
  const old = await issueDrivingLicence(runtime, token);
  faults.failRevokeOfReissued = true;
  expect((await reissue(old.id)).status).toBe(500);
  const [replacement] = (await listAll(runtime, token)).filter(
    (licence) => (licence as { replaces?: string }).replaces === old.id,
  );
  return { oldId: old.id, newId: replacement!.id };
}

/** The end every case must reach: the old licence valid, its replacement revoked, the re-issue given up. */
async function expectGivenUp(response: Response, oldId: string, newId: string): Promise<void> {
  const problem = await expectProblem(response, 409, 'replacement_revoked');
  expect(problem.detail).toContain(newId);
  expect((await read(oldId)).status).toBe('valid');
  expect(await verdictOf(oldId)).toBe('valid');
  expect((await read(newId)).status).toBe('revoked');
  // On every retry too.
  await expectProblem(await reissue(oldId), 409, 'replacement_revoked');
  expect((await read(oldId)).status).toBe('valid');
}

beforeAll(async () => {
  runtime = await startTestRuntime(
    undefined,
    {},
    { licences: (operator) => faultyLicences(licenceStoreFactory(operator)) },
  );
  const admin = await clientCredentialsToken(runtime, runtime.credentials.admin, 'admin');
  const issuer = await onboardIssuer(runtime, admin, { licenceTypes: ['driving-licence'] });
  token = await clientCredentialsToken(runtime, issuer, 'licences:issue');
});
afterAll(() => runtime?.close());

it('a retry that read the replacement valid before a clerk revoked it leaves the old licence valid', async () => {
  const { oldId, newId } = await halfDoneReissue();
  // The retry's first read of the replacement finds it valid; right after, a clerk revokes it as a duplicate.
  faults.afterRead = { id: newId, nth: 1, run: () => changeStatus(runtime, token, newId, 'revoked') };
  await expectGivenUp(await reissue(oldId), oldId, newId);
});

it('a clerk revoking the replacement between the retry’s last read of it and its revocation of the old one', async () => {
  const { oldId, newId } = await halfDoneReissue();
  // The second read is the one just before the old licence's revocation is written.
  faults.afterRead = { id: newId, nth: 2, run: () => changeStatus(runtime, token, newId, 'revoked') };
  await expectGivenUp(await reissue(oldId), oldId, newId);
});

it('a clerk revoking the new licence before the first attempt revokes the old one (no failure at all)', async () => {
  const old = await issueDrivingLicence(runtime, token);
  let newId = '';
  faults.afterReplacementWritten = async (replacement) => {
    newId = replacement.id;
    await changeStatus(runtime, token, replacement.id, 'revoked');
  };
  await expectGivenUp(await reissue(old.id), old.id, newId);
});

it('a clerk revoking the replacement between the revocation’s own read of the old licence and its write', async () => {
  const { oldId, newId } = await halfDoneReissue();
  // The retry reads the old licence three times: on its way in, in its turn, and in the revocation itself.
  faults.afterRead = { id: oldId, nth: 3, run: () => changeStatus(runtime, token, newId, 'revoked') };
  await expectGivenUp(await reissue(oldId), oldId, newId);
});
