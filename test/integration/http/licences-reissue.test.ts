import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reissueIdempotencyKey } from '../../../shared/licence/reissue-licence.js';
import { expectProblem, onboardIssuer, postJson } from '../../support/http-api.js';
import {
  expectJson,
  getWithToken,
  licencePath,
  listAll,
  newIdNumber,
  type LicenceJson,
} from '../../support/licences.js';
import {
  startReissueWorld,
  type ReissueFaults,
  type ReissueWorld,
  type ReissuedLicence,
} from '../../support/reissue.js';
import { clientCredentialsToken, type TestRuntime } from '../../support/runtime.js';
import { changeStatus, issueDrivingLicence, verified, type IssuedLicence } from '../verify/helpers.js';

/**
 * Re-issuing licences after an issuer key is withdrawn (docs/operating.md, "Backup and key rotation"):
 * `GET /licences?keyWithdrawn=true` finds them, `POST /licences/{id}/reissue` issues each again under the
 * current key and revokes the old one (`reissued`), and a retry after a failure between the writes
 * finishes the same re-issue instead of issuing a second licence.
 */

let world: ReissueWorld;
let runtime: TestRuntime;
let faults: ReissueFaults;
let admin: string;
let issuer: ReissueWorld['issuer'];
let token: string;
let otherToken: string;
/** Signed by the key withdrawn below. */
let before: IssuedLicence[];
/** Signed by the current key. */
let after: IssuedLicence;

const reissue = (id: string, bearer = token) => world.reissue(id, bearer);
const read = (id: string) => world.read(id);
const replacementsOf = (id: string) => world.replacementsOf(id);

beforeAll(async () => {
  world = await startReissueWorld();
  ({ runtime, faults, admin, issuer, token } = world);
  const other = await onboardIssuer(runtime, admin, { licenceTypes: ['driving-licence'] });
  otherToken = await clientCredentialsToken(runtime, other, 'licences:issue');

  before = [];
  for (let i = 0; i < 4; i++) before.push(await issueDrivingLicence(runtime, token));
  const rotated = await postJson(runtime, `/admin/issuers/${encodeURIComponent(issuer.id)}/keys`, admin, {
    previousKey: 'withdraw',
  });
  expect(rotated.status, await rotated.clone().text()).toBe(201);
  after = await issueDrivingLicence(runtime, token);
});
afterAll(() => world?.close());

describe('GET /licences?keyWithdrawn=true', () => {
  it('lists exactly the licences whose signing key was withdrawn, across pages, and counts them', async () => {
    const listed = await listAll(runtime, token, 'keyWithdrawn=true');
    expect(listed.map((licence) => licence.id).sort()).toEqual(before.map((licence) => licence.id).sort());
    expect(listed.every((licence) => (licence as ReissuedLicence).keyWithdrawn === true)).toBe(true);

    // One a page: each page resumes where the last stopped, none twice, none lost.
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await expectJson<{ items: LicenceJson[]; cursor?: string }>(
        await getWithToken(
          runtime,
          `/licences?keyWithdrawn=true&limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
          token,
        ),
        200,
      );
      seen.push(...page.items.map((licence) => licence.id));
      cursor = page.cursor;
    } while (cursor);
    expect(seen.sort()).toEqual(before.map((licence) => licence.id).sort());

    const counted = await expectJson<{ total: { count: number; capped: boolean } }>(
      await getWithToken(runtime, '/licences?keyWithdrawn=true&total=true', token),
      200,
    );
    expect(counted.total).toEqual({ count: before.length, capped: false });
    // Without the filter, the licence of the current key is listed too.
    expect((await listAll(runtime, token)).map((licence) => licence.id)).toContain(after.id);
  });

  it('lists nothing for an issuer that never withdrew a key, and refuses a bad value naming it', async () => {
    expect(await listAll(runtime, otherToken, 'keyWithdrawn=true')).toEqual([]);
    const bad = await expectProblem(await getWithToken(runtime, '/licences?keyWithdrawn=yes', token), 400);
    expect(bad.errors?.[0]?.path).toBe('keyWithdrawn');
  });
});

describe('POST /licences/{id}/reissue', () => {
  it('issues the licence again under the current key and revokes the old one, each naming the other', async () => {
    const old = before[0]!;
    const oldFull = await read(old.id);
    const response = await reissue(old.id);
    const renewed = await expectJson<ReissuedLicence>(response, 201);
    expect(response.headers.get('location')).toBe(licencePath(renewed.id));

    expect(renewed.id).not.toBe(old.id);
    expect(renewed).toMatchObject({
      type: oldFull.type,
      holder: oldFull.holder,
      fields: oldFull.fields,
      validFrom: oldFull.validFrom,
      validUntil: oldFull.validUntil,
      status: 'valid',
      replaces: old.id,
    });
    expect(renewed.keyWithdrawn).toBeUndefined();
    expect(decodeProtectedHeader(renewed.credential).kid).toBe(decodeProtectedHeader(after.credential).kid);

    expect((await verified(runtime, renewed.credential)).verdict).toBe('valid');
    expect(await verified(runtime, old.credential)).toMatchObject({
      verdict: 'unknown_issuer',
      reason: 'key_not_trusted',
    });

    const revoked = await read(old.id);
    expect(revoked).toMatchObject({ status: 'revoked', replacedBy: renewed.id, keyWithdrawn: true });
    expect(revoked.history?.at(-1)).toMatchObject({
      action: 'revoked',
      reasonCode: 'reissued',
      replacedBy: renewed.id,
    });
    expect((await read(renewed.id)).history).toEqual([
      expect.objectContaining({ action: 'issued', replaces: old.id }),
    ]);

    // Still to re-issue: the withdrawn-key licences that are still valid.
    const pending = await listAll(runtime, token, 'keyWithdrawn=true&status=valid');
    expect(pending.map((licence) => licence.id).sort()).toEqual(
      before
        .slice(1)
        .map((licence) => licence.id)
        .sort(),
    );

    // The audit trail tells both licences' story, each naming the other.
    const trail = async (id: string) =>
      (
        await expectJson<{ items: Array<{ action: string; reason?: string; actor: string }> }>(
          await getWithToken(runtime, `/admin/audit?licence=${encodeURIComponent(id)}`, admin),
          200,
        )
      ).items;
    expect(await trail(old.id)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          action: 'licence.revoked',
          actor: issuer.clientId,
          reason: expect.stringContaining(renewed.id),
        }),
      ]),
    );
    expect(
      (await trail(renewed.id)).filter(
        (entry) => entry.action !== 'licence.verified' && entry.action !== 'licence.issuer_read',
      ),
    ).toEqual([
      expect.objectContaining({ action: 'licence.issued', reason: expect.stringContaining(old.id) }),
    ]);
  });

  it('refuses a licence already re-issued (409 naming the replacement) and a revoked one (409)', async () => {
    const [replacement] = await replacementsOf(before[0]!.id);
    const refused = await reissue(before[0]!.id);
    expect(refused.headers.get('link')).toBe(`<${licencePath(replacement!.id)}>; rel="successor-version"`);
    const again = await expectProblem(refused, 409, 'licence_reissued');
    expect(again.detail).toContain(replacement!.id);

    const revoked = await issueDrivingLicence(runtime, token);
    await changeStatus(runtime, token, revoked.id, 'revoked');
    await expectProblem(await reissue(revoked.id), 409, 'licence_revoked');

    const suspended = await issueDrivingLicence(runtime, token);
    await changeStatus(runtime, token, suspended.id, 'suspended');
    await expectProblem(await reissue(suspended.id), 409, 'licence_suspended');
    expect(await replacementsOf(suspended.id)).toEqual([]);
  });

  it('another issuer’s licence is not found, as on the other /licences/{id} routes', async () => {
    const victim = before[3]!;
    await expectProblem(await reissue(victim.id, otherToken), 404, 'licence_not_found');
    await expectProblem(await getWithToken(runtime, licencePath(victim.id), otherToken), 404);
    expect((await read(victim.id)).status).toBe('valid');
    expect(await replacementsOf(victim.id)).toEqual([]);
  });

  it('a retry after a failure between the new licence and the revocation finishes with one new licence', async () => {
    const old = before[1]!;
    faults.failRevokeOfReissued = true;
    expect((await reissue(old.id)).status).toBe(500);
    expect(faults.failRevokeOfReissued).toBe(false);
    // Half done: the new licence is written, the old one still valid.
    expect((await read(old.id)).status).toBe('valid');
    const [written] = await replacementsOf(old.id);
    expect(written).toBeDefined();

    const retried = await expectJson<ReissuedLicence>(await reissue(old.id), 200);
    expect(retried.id).toBe(written!.id);
    expect((await replacementsOf(old.id)).map((licence) => licence.id)).toEqual([written!.id]);
    expect(await read(old.id)).toMatchObject({ status: 'revoked', replacedBy: written!.id });
    expect((await verified(runtime, retried.credential)).verdict).toBe('valid');
  });

  it('a retry after a failure before the new licence is written issues it once', async () => {
    const old = before[2]!;
    faults.failCreateOfReplacement = true;
    expect((await reissue(old.id)).status).toBe(500);
    expect(faults.failCreateOfReplacement).toBe(false);
    expect(await replacementsOf(old.id)).toEqual([]);

    const retried = await expectJson<ReissuedLicence>(await reissue(old.id), 201);
    expect((await replacementsOf(old.id)).map((licence) => licence.id)).toEqual([retried.id]);
    expect(await read(old.id)).toMatchObject({ status: 'revoked', replacedBy: retried.id });
  });

  it('a licence revoked by a clerk while its re-issue runs leaves no valid replacement, and every retry says so', async () => {
    const old = await issueDrivingLicence(runtime, token);
    faults.afterReplacementWritten = () => changeStatus(runtime, token, old.id, 'revoked');
    const refused = await reissue(old.id);
    const [replacement] = await replacementsOf(old.id);
    expect(refused.headers.get('link')).toBe(`<${licencePath(replacement!.id)}>; rel="successor-version"`);
    await expectProblem(refused, 409, 'licence_revoked_during_reissue');
    expect(await read(replacement!.id)).toMatchObject({ status: 'revoked' });
    expect((await verified(runtime, replacement!.credential)).verdict).toBe('revoked');
    expect((await read(old.id)).history?.at(-1)).toMatchObject({ action: 'revoked', reason: 'test' });

    await expectProblem(await reissue(old.id), 409, 'licence_revoked_during_reissue');
    expect(await replacementsOf(old.id)).toHaveLength(1);
  });

  it('a licence suspended while its re-issue runs passes its suspension to the replacement', async () => {
    const old = await issueDrivingLicence(runtime, token);
    faults.afterReplacementWritten = () => changeStatus(runtime, token, old.id, 'suspended');
    await expectProblem(await reissue(old.id), 409, 'licence_suspended_during_reissue');
    const [replacement] = await replacementsOf(old.id);
    expect(await read(replacement!.id)).toMatchObject({ status: 'suspended' });
    expect((await verified(runtime, replacement!.credential)).verdict).toBe('suspended');
    expect(await read(old.id)).toMatchObject({ status: 'revoked', replacedBy: replacement!.id });
    await expectProblem(await reissue(old.id), 409, 'licence_reissued');
    expect(await read(replacement!.id)).toMatchObject({ status: 'suspended' });
  });

  it('a licence suspended between a failed revocation and the retry: the retry does not end the suspension', async () => {
    const old = await issueDrivingLicence(runtime, token);
    faults.failRevokeOfReissued = true;
    expect((await reissue(old.id)).status).toBe(500);
    await changeStatus(runtime, token, old.id, 'suspended');
    await expectProblem(await reissue(old.id), 409, 'licence_suspended_during_reissue');
    const [replacement] = await replacementsOf(old.id);
    expect(await read(replacement!.id)).toMatchObject({ status: 'suspended' });
  });

  it('no client of the issuer can take the re-issue’s idempotency key first and block it', async () => {
    const old = await issueDrivingLicence(runtime, token);
    const derived = reissueIdempotencyKey(old.id);
    const body = {
      type: 'driving-licence',
      holder: { idNumber: newIdNumber() },
      holderName: '王抢先',
      fields: { vehicleClass: 'C1', firstIssuedOn: '2015-03-01', archiveNumber: '110100123457' },
    };
    // The derived key itself is no Idempotency-Key a client may send; its UUID alone is another key.
    await expectProblem(
      await postJson(runtime, '/licences', token, body, { 'idempotency-key': derived }),
      400,
      'idempotency_key_invalid',
    );
    const uuid = derived.slice(derived.indexOf(':') + 1);
    expect((await postJson(runtime, '/licences', token, body, { 'idempotency-key': uuid })).status).toBe(201);

    const renewed = await expectJson<ReissuedLicence>(await reissue(old.id), 201);
    expect(renewed.replaces).toBe(old.id);
  });

  it('re-issues a valid licence of the current key too (a lost licence’s QR code stops working)', async () => {
    const renewed = await expectJson<ReissuedLicence>(await reissue(after.id), 201);
    expect((await verified(runtime, renewed.credential)).verdict).toBe('valid');
    expect((await verified(runtime, after.credential)).verdict).toBe('revoked');
  });
});

describe('scripts/reissue-withdrawn.ts: every withdrawn-key licence of an issuer, in one run', () => {
  it('lists on a dry run, re-issues the valid ones, leaves the suspended one, and a second run finds nothing', async () => {
    const agency = await onboardIssuer(runtime, admin, { licenceTypes: ['driving-licence'] });
    const agencyToken = await clientCredentialsToken(runtime, agency, 'licences:issue');
    const valid = [
      await issueDrivingLicence(runtime, agencyToken),
      await issueDrivingLicence(runtime, agencyToken),
    ];
    const suspended = await issueDrivingLicence(runtime, agencyToken);
    await changeStatus(runtime, agencyToken, suspended.id, 'suspended');
    const rotated = await postJson(runtime, `/admin/issuers/${encodeURIComponent(agency.id)}/keys`, admin, {
      previousKey: 'withdraw',
    });
    expect(rotated.status).toBe(201);

    const run = (...args: string[]) =>
      promisify(execFile)(
        'npx',
        ['tsx', 'scripts/reissue-withdrawn.ts', '--base', runtime.baseUrl, ...args],
        {
          env: {
            ...process.env,
            ISSUER_CLIENT_ID: agency.clientId,
            ISSUER_CLIENT_SECRET: agency.clientSecret,
          },
        },
      );
    const listAgency = (query: string) => listAll(runtime, agencyToken, query);

    const dry = JSON.parse((await run('--dry-run', '--json')).stdout.split('\n').slice(0, -2).join('\n')) as {
      pending: string[];
      suspended: number;
      reissued: unknown[];
    };
    expect(dry.pending.sort()).toEqual(valid.map((licence) => licence.id).sort());
    expect(dry).toMatchObject({ suspended: 1, reissued: [] });
    expect(await listAgency('keyWithdrawn=true&status=valid')).toHaveLength(2);

    const { stdout } = await run();
    expect(stdout).toContain('2 re-issued, 0 already re-issued, 0 failed, 0 left, 1 suspended');
    for (const licence of valid) {
      const line = stdout.split('\n').find((text) => text.startsWith(`${licence.id} -> `));
      const renewed = line!.split(' -> ')[1]!;
      const replacement = await expectJson<ReissuedLicence>(
        await getWithToken(runtime, licencePath(renewed), agencyToken),
        200,
      );
      expect(replacement.replaces).toBe(licence.id);
      expect((await verified(runtime, replacement.credential)).verdict).toBe('valid');
    }
    expect(await listAgency('keyWithdrawn=true&status=valid')).toEqual([]);

    expect((await run()).stdout).toContain('0 re-issued, 0 already re-issued, 0 failed, 0 left, 1 suspended');
    expect((await listAgency('')).filter((licence) => (licence as ReissuedLicence).replaces)).toHaveLength(2);
  }, 60_000);
});
