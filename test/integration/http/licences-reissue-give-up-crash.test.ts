import { afterAll, beforeAll, expect, it } from 'vitest';
import { licences as licenceStoreFactory } from '../../../functions/composition/factories.js';
import { ConflictError } from '../../../shared/errors.js';
import type { LicenceStore } from '../../../shared/licence/licence-store.js';
import { verifyAuditTrail } from '../../../shared/supervision/audit-chain-verify.js';
import { expectProblem, onboardIssuer, postJson } from '../../support/http-api.js';
import { expectJson, getWithToken, licencePath, listAll, type LicenceJson } from '../../support/licences.js';
import { clientCredentialsToken, startTestRuntime, type TestRuntime } from '../../support/runtime.js';
import { issueDrivingLicence, verified } from '../verify/helpers.js';

/**
 * The leftover of security review R40 F1: a clerk's revocation of the replacement of an unfinished re-issue
 * first marks the old licence (the re-issue given up), then revokes the replacement. A request that died
 * between the two left both licences valid until the clerk asked again. Now the mark holds the revocation
 * as asked and keeps the old licence's pending-work pointer, and the reconciler makes it; the mark has an
 * audit entry of its own (`licence.reissue_given_up`). A revocation refused instead (a 409: review R46-2)
 * is not made later by the reconciler in the clerk's name.
 */

const faults: { failRevokeOfReissued: boolean; failRevokeOf?: string; refuseRevokeOf?: string } = {
  failRevokeOfReissued: false,
};

/** The runtime's own licence store, read as stored (`raw`, what no route shows: a recorded revocation). */
let raw: LicenceStore;
/** The runtime's own licence store, failing one write on request: the request dies there, as a crash would. */
function faultyLicences(store: LicenceStore): LicenceStore {
  raw = store;
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
        // Another clerk changed the replacement between this request's read and its write.
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
let adminToken: string;
let issuerClientId: string;
const reissue = (id: string) => postJson(runtime, `${licencePath(id)}/reissue`, token, undefined);
const read = async (id: string) =>
  expectJson<LicenceJson>(await getWithToken(runtime, licencePath(id), token), 200);
const verdictOf = async (id: string) => (await verified(runtime, (await read(id)).credential)).verdict;

/** The licence's audit entries (`GET /admin/audit`), oldest first, without the issuer's reads. */
async function auditOf(licenceId: string): Promise<Array<Record<string, unknown> & { action: string }>> {
  const response = await fetch(`${runtime.baseUrl}/admin/audit?licence=${encodeURIComponent(licenceId)}`, {
    headers: { authorization: `Bearer ${adminToken}` },
  });
  const { items } = await expectJson<{ items: Array<Record<string, unknown> & { action: string }> }>(
    response,
    200,
  );
  return items.filter(
    (entry) => entry.action !== 'licence.issuer_read' && entry.action !== 'licence.verified',
  );
}

beforeAll(async () => {
  runtime = await startTestRuntime(
    undefined,
    { PENDING_WORK_AGE_SECONDS: '0', AUDIT_CHECKPOINT_INTERVAL_SECONDS: '0' },
    { licences: (operator) => faultyLicences(licenceStoreFactory(operator)) },
  );
  adminToken = await clientCredentialsToken(runtime, runtime.credentials.admin, 'admin');
  const issuer = await onboardIssuer(runtime, adminToken, { licenceTypes: ['driving-licence'] });
  issuerClientId = issuer.clientId;
  token = await clientCredentialsToken(runtime, issuer, 'licences:issue');
});
afterAll(() => runtime?.close());

it('a clerk’s revocation of the replacement that died after the mark is made by the reconciler, as asked', async () => {
  const old = await issueDrivingLicence(runtime, token);
  faults.failRevokeOfReissued = true;
  expect((await reissue(old.id)).status).toBe(500);
  const [replacement] = (await listAll(runtime, token)).filter(
    (licence) => (licence as { replaces?: string }).replaces === old.id,
  );
  const newId = replacement!.id;

  // A clerk revokes the new licence as a duplicate; the request dies after marking the old one.
  faults.failRevokeOf = newId;
  const died = await postJson(runtime, `${licencePath(newId)}/status`, token, {
    status: 'revoked',
    reasonCode: 'other',
    reason: '重复签发，作废新证',
  });
  expect(died.status).toBe(500);
  expect(await verdictOf(newId)).toBe('valid');
  expect(await verdictOf(old.id)).toBe('valid');

  await runtime.runSchedule('pending-work-reconciler');
  expect(await verdictOf(newId)).toBe('revoked');
  expect(await read(newId)).toMatchObject({ status: 'revoked', statusReason: '重复签发，作废新证' });
  // The old licence stays the holder's valid licence: the re-issue was given up.
  expect(await verdictOf(old.id)).toBe('valid');
  await expectProblem(await reissue(old.id), 409, 'replacement_revoked');

  // The mark's own entry, on the old licence; the revocation in the clerk's name, with their reason.
  expect((await auditOf(old.id)).map((entry) => entry.action)).toEqual([
    'licence.issued',
    'licence.reissue_given_up',
  ]);
  expect((await auditOf(old.id)).at(-1)).toMatchObject({
    actor: issuerClientId,
    replacedBy: newId,
    reason: '重复签发，作废新证',
  });
  const revocations = (await auditOf(newId)).filter((entry) => entry.action === 'licence.revoked');
  expect(revocations).toEqual([
    expect.objectContaining({ actor: issuerClientId, reason: '重复签发，作废新证' }),
  ]);

  // Every entry on a chain of a writer that writes its action.
  const registered = await postJson(runtime, '/admin/clients', adminToken, {
    name: '电子监察 supervising office',
    scopes: ['supervision'],
  });
  const supervisor = (await registered.json()) as { clientId: string; clientSecret: string };
  const today = new Date().toISOString().slice(0, 10);
  const report = await verifyAuditTrail({
    base: runtime.baseUrl,
    ...supervisor,
    from: today,
    to: today,
    checkpointFirst: true,
  });
  expect(report.faults).toEqual([]);
  expect(report.ok).toBe(true);
});

it('a clerk’s revocation of the replacement refused (409) is not made by the reconciler later (review R46-2)', async () => {
  const old = await issueDrivingLicence(runtime, token);
  faults.failRevokeOfReissued = true;
  expect((await reissue(old.id)).status).toBe(500);
  const [replacement] = (await listAll(runtime, token)).filter(
    (licence) => (licence as { replaces?: string }).replaces === old.id,
  );
  const newId = replacement!.id;
  const revoke = () =>
    postJson(runtime, `${licencePath(newId)}/status`, token, {
      status: 'revoked',
      reasonCode: 'other',
      reason: '重复签发，作废新证',
    });

  // The replacement changed meanwhile: the clerk is told nothing was done...
  faults.refuseRevokeOf = newId;
  await expectProblem(await revoke(), 409, 'licence_changed');
  expect(await verdictOf(newId)).toBe('valid');
  // ...and a minute later the reconciler does not revoke it in their name either.
  await runtime.runSchedule('pending-work-reconciler');
  expect(await verdictOf(newId)).toBe('valid');
  expect((await auditOf(newId)).map((entry) => entry.action)).not.toContain('licence.revoked');
  // The re-issue stays given up (the old licence valid, never revoked by it), its mark's entry written once;
  // retried, it says so without claiming the replacement was revoked: it is valid (R46-2's leftover).
  expect(await verdictOf(old.id)).toBe('valid');
  const givenUp = await reissue(old.id);
  await expectProblem(givenUp, 409, 'reissue_given_up');
  expect((await auditOf(old.id)).map((entry) => entry.action)).toEqual([
    'licence.issued',
    'licence.reissue_given_up',
  ]);

  // Read again, the clerk asks once more; that request dies after the mark: the reconciler makes it.
  faults.failRevokeOf = newId;
  expect((await revoke()).status).toBe(500);
  await runtime.runSchedule('pending-work-reconciler');
  expect(await read(newId)).toMatchObject({ status: 'revoked', statusReason: '重复签发，作废新证' });
  expect((await auditOf(old.id)).map((entry) => entry.action)).toEqual([
    'licence.issued',
    'licence.reissue_given_up',
  ]);
});

it('a recorded revocation the reconciler is refused (409) stays recorded, and a later run makes it (review R48)', async () => {
  const old = await issueDrivingLicence(runtime, token);
  faults.failRevokeOfReissued = true;
  expect((await reissue(old.id)).status).toBe(500);
  const [replacement] = (await listAll(runtime, token)).filter(
    (licence) => (licence as { replaces?: string }).replaces === old.id,
  );
  const newId = replacement!.id;

  // The clerk's request dies after the mark: the revocation is recorded, for the reconciler to make.
  faults.failRevokeOf = newId;
  const died = await postJson(runtime, `${licencePath(newId)}/status`, token, {
    status: 'revoked',
    reasonCode: 'other',
    reason: '重复签发，作废新证',
  });
  expect(died.status).toBe(500);
  // The reconciler's run is refused: another clerk changed the replacement at the same moment.
  faults.refuseRevokeOf = newId;
  await runtime.runSchedule('pending-work-reconciler');
  expect(await verdictOf(newId)).toBe('valid');
  // The refusal gave nothing up: the clerk's revocation is still recorded, the re-issue still given up.
  expect((await raw.get(old.id))?.replacementRevocation).toMatchObject({ reason: '重复签发，作废新证' });
  // The replacement is not revoked yet, and its revocation is owed: the re-issue says so (review R56-1).
  await expectProblem(await reissue(old.id), 409, 'replacement_revocation_pending');

  // That other clerk's change was a suspension; a later run revokes the suspended replacement as asked.
  expect(
    (
      await postJson(runtime, `${licencePath(newId)}/status`, token, {
        status: 'suspended',
        reason: '核查中',
      })
    ).status,
  ).toBe(200);
  await runtime.runSchedule('pending-work-reconciler');
  expect(await read(newId)).toMatchObject({ status: 'revoked', statusReason: '重复签发，作废新证' });
  expect(await verdictOf(newId)).toBe('revoked');
  expect(await verdictOf(old.id)).toBe('valid');
  expect((await auditOf(newId)).map((entry) => entry.action)).toContain('licence.revoked');
  expect((await auditOf(old.id)).map((entry) => entry.action)).toEqual([
    'licence.issued',
    'licence.reissue_given_up',
  ]);
  // Nothing is owed any more: the old licence's pointer is gone.
  expect((await raw.get(old.id))?.pending).toBeUndefined();
});

it('a re-issue given up by a refused revocation: revoking the old licence keeps the valid replacement (R46-2’s leftover)', async () => {
  const old = await issueDrivingLicence(runtime, token);
  faults.failRevokeOfReissued = true;
  expect((await reissue(old.id)).status).toBe(500);
  const [replacement] = (await listAll(runtime, token)).filter(
    (licence) => (licence as { replaces?: string }).replaces === old.id,
  );
  const newId = replacement!.id;
  faults.refuseRevokeOf = newId;
  const refused = await postJson(runtime, `${licencePath(newId)}/status`, token, {
    status: 'revoked',
    reasonCode: 'other',
    reason: '重复签发，作废新证',
  });
  await expectProblem(refused, 409, 'licence_changed');
  const givenUp = await reissue(old.id);
  await expectProblem(givenUp, 409, 'reissue_given_up');

  // The clerk keeps the replacement: the old licence revoked, nothing passed on to the replacement...
  expect(
    (
      await postJson(runtime, `${licencePath(old.id)}/status`, token, {
        status: 'revoked',
        reasonCode: 'other',
        reason: '保留新证',
      })
    ).status,
  ).toBe(200);
  expect(await verdictOf(newId)).toBe('valid');
  // ...not by a retry of the re-issue, nor by the reconciler.
  await expectProblem(await reissue(old.id), 409, 'licence_revoked');
  await runtime.runSchedule('pending-work-reconciler');
  expect(await verdictOf(newId)).toBe('valid');
  expect(await verdictOf(old.id)).toBe('revoked');
});

it('a recorded revocation of the replacement: the re-issue says it will be made, and revoking the old licence is refused until it is (review R56-1)', async () => {
  const old = await issueDrivingLicence(runtime, token);
  faults.failRevokeOfReissued = true;
  expect((await reissue(old.id)).status).toBe(500);
  const [replacement] = (await listAll(runtime, token)).filter(
    (licence) => (licence as { replaces?: string }).replaces === old.id,
  );
  const newId = replacement!.id;
  // Clerk X's revocation of the replacement dies after the mark: recorded, for the reconciler to make.
  faults.failRevokeOf = newId;
  const died = await postJson(runtime, `${licencePath(newId)}/status`, token, {
    status: 'revoked',
    reasonCode: 'other',
    reason: '重复签发，作废新证',
  });
  expect(died.status).toBe(500);

  // Clerk Y retries the re-issue: told the replacement's revocation will be made, not to choose one.
  const retried = await reissue(old.id);
  const problem = await expectProblem(retried, 409, 'replacement_revocation_pending');
  expect(problem.detail).not.toMatch(/revoke .* to keep/);
  // Revoking the old licence now would leave the holder none once the reconciler revokes the replacement.
  const revokeOld = () =>
    postJson(runtime, `${licencePath(old.id)}/status`, token, {
      status: 'revoked',
      reasonCode: 'other',
      reason: '保留新证',
    });
  await expectProblem(await revokeOld(), 409, 'replacement_revocation_pending');
  expect(await verdictOf(old.id)).toBe('valid');

  // The reconciler makes clerk X's revocation: the holder keeps exactly one valid licence, the old one.
  await runtime.runSchedule('pending-work-reconciler');
  expect(await verdictOf(newId)).toBe('revoked');
  expect(await verdictOf(old.id)).toBe('valid');
  await expectProblem(await reissue(old.id), 409, 'replacement_revoked');
  // Then the old licence can be revoked as any other (the clerk's choice, told what it does).
  expect((await revokeOld()).status).toBe(200);
});

it('a re-issue given up by a refused revocation of a replacement suspended since: the answer says suspended, not valid (review R56-1)', async () => {
  const old = await issueDrivingLicence(runtime, token);
  faults.failRevokeOfReissued = true;
  expect((await reissue(old.id)).status).toBe(500);
  const [replacement] = (await listAll(runtime, token)).filter(
    (licence) => (licence as { replaces?: string }).replaces === old.id,
  );
  const newId = replacement!.id;
  faults.refuseRevokeOf = newId;
  const refused = await postJson(runtime, `${licencePath(newId)}/status`, token, {
    status: 'revoked',
    reasonCode: 'other',
    reason: '重复签发，作废新证',
  });
  await expectProblem(refused, 409, 'licence_changed');
  const suspended = await postJson(runtime, `${licencePath(newId)}/status`, token, {
    status: 'suspended',
    reason: '核查中',
  });
  expect(suspended.status).toBe(200);
  const problem = await expectProblem(await reissue(old.id), 409, 'reissue_given_up');
  expect(problem.detail).toContain(`${newId} is suspended`);
  expect(problem.detail).not.toMatch(/both licences are valid/);
});

it('a recorded revocation of the replacement: re-issuing the replacement is refused until it is made, leaving one valid licence (review R58)', async () => {
  const old = await issueDrivingLicence(runtime, token);
  faults.failRevokeOfReissued = true;
  expect((await reissue(old.id)).status).toBe(500);
  const [replacement] = (await listAll(runtime, token)).filter(
    (licence) => (licence as { replaces?: string }).replaces === old.id,
  );
  const newId = replacement!.id;
  // Clerk X's revocation of the replacement (a duplicate) dies after the mark: recorded, not made.
  faults.failRevokeOf = newId;
  const died = await postJson(runtime, `${licencePath(newId)}/status`, token, {
    status: 'revoked',
    reasonCode: 'other',
    reason: '重复签发，作废新证',
  });
  expect(died.status).toBe(500);

  // Clerk Y re-issues the replacement (its QR code leaked, say) before the reconciler runs: refused, as
  // its revocation will be made; re-issued, its own replacement would be left valid beside the old one.
  const problem = await expectProblem(await reissue(newId), 409, 'replacement_revocation_pending');
  expect(problem.detail).toContain(`${newId} is not re-issued`);
  const issued = (await listAll(runtime, token)).filter(
    (licence) => (licence as { replaces?: string }).replaces === newId,
  );
  expect(issued).toEqual([]);

  // The reconciler makes clerk X's revocation: exactly one valid licence, the old one.
  await runtime.runSchedule('pending-work-reconciler');
  expect(await verdictOf(newId)).toBe('revoked');
  expect(await verdictOf(old.id)).toBe('valid');
  const holders = (await listAll(runtime, token)).filter(
    (licence) =>
      licence.id === old.id || licence.id === newId || (licence as { replaces?: string }).replaces === newId,
  );
  expect(holders.filter((licence) => licence.status === 'valid').map((licence) => licence.id)).toEqual([
    old.id,
  ]);
  await expectProblem(await reissue(newId), 409, 'licence_revoked');
});

it('a recorded revocation of the replacement: suspending the replacement meanwhile does not stop it (review R58)', async () => {
  const old = await issueDrivingLicence(runtime, token);
  faults.failRevokeOfReissued = true;
  expect((await reissue(old.id)).status).toBe(500);
  const [replacement] = (await listAll(runtime, token)).filter(
    (licence) => (licence as { replaces?: string }).replaces === old.id,
  );
  const newId = replacement!.id;
  faults.failRevokeOf = newId;
  const died = await postJson(runtime, `${licencePath(newId)}/status`, token, {
    status: 'revoked',
    reasonCode: 'other',
    reason: '重复签发，作废新证',
  });
  expect(died.status).toBe(500);
  // Another clerk suspends it, then reinstates it: the revocation owed is made from either status.
  const change = (status: 'suspended' | 'valid') =>
    postJson(runtime, `${licencePath(newId)}/status`, token, { status, reason: '核查中' });
  expect((await change('suspended')).status).toBe(200);
  expect((await change('valid')).status).toBe(200);
  expect((await change('suspended')).status).toBe(200);
  await runtime.runSchedule('pending-work-reconciler');
  expect(await verdictOf(newId)).toBe('revoked');
  expect(await verdictOf(old.id)).toBe('valid');
});
