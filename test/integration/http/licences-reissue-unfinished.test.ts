import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem, postJson } from '../../support/http-api.js';
import { expectJson, licencePath } from '../../support/licences.js';
import {
  startReissueWorld,
  type ReissueFaults,
  type ReissueWorld,
  type ReissuedLicence,
} from '../../support/reissue.js';
import type { TestRuntime } from '../../support/runtime.js';
import { changeStatus, issueDrivingLicence } from '../verify/helpers.js';

/**
 * A re-issue left unfinished (its replacement written, the old licence not yet revoked by it) and the
 * status changes made meanwhile (security review R38 M1 and L1, docs/operating.md "Re-issuing licences"):
 * a suspension or revocation of the old licence reaches its replacement, the replacement is not re-issued
 * in turn, and a retry does not revoke the old licence for a replacement revoked since.
 */

let world: ReissueWorld;
let runtime: TestRuntime;
let token: string;
let faults: ReissueFaults;
const reissue = (id: string) => world.reissue(id);
const read = (id: string) => world.read(id);
const replacementsOf = (id: string) => world.replacementsOf(id);
const verdictOf = (id: string) => world.verdictOf(id);
/** A re-issue of a fresh licence that dies after writing its replacement: the two licences, both valid. */
async function halfDoneReissue(): Promise<{ oldId: string; newId: string }> {
  const { oldId, newId } = await world.halfDoneReissue();
  expect(await verdictOf(newId)).toBe('valid');
  expect(await verdictOf(oldId)).toBe('valid');
  return { oldId, newId };
}

beforeAll(async () => {
  world = await startReissueWorld();
  ({ runtime, token, faults } = world);
});
afterAll(() => world?.close());

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
    const first = await expectJson<ReissuedLicence>(await reissue(old.id), 201);
    const second = await expectJson<ReissuedLicence>(await reissue(first.id), 201);
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
