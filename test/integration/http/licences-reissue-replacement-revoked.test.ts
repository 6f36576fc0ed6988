import { afterAll, beforeAll, expect, it } from 'vitest';
import { expectProblem } from '../../support/http-api.js';
import { startReissueWorld, type ReissueFaults, type ReissueWorld } from '../../support/reissue.js';
import type { TestRuntime } from '../../support/runtime.js';
import { changeStatus, issueDrivingLicence } from '../verify/helpers.js';

/**
 * A clerk revoking the replacement of an unfinished re-issue while that re-issue (its first attempt, or a
 * retry) is still running (security review R40 F1): the re-issue is given up (409 `replacement_revoked`) and
 * the old licence stays valid, whichever of the re-issue's reads the revocation falls after. Before the
 * fix, the old licence was revoked `reissued` too, and the holder was left with no valid licence.
 */

let world: ReissueWorld;
let runtime: TestRuntime;
let token: string;
let faults: ReissueFaults;
const reissue = (id: string) => world.reissue(id);
const read = (id: string) => world.read(id);
const verdictOf = (id: string) => world.verdictOf(id);
const halfDoneReissue = () => world.halfDoneReissue();

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
  world = await startReissueWorld();
  ({ runtime, token, faults } = world);
});
afterAll(() => world?.close());

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
