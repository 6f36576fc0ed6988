import { randomUUID } from 'node:crypto';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { beforeEach, describe, expect, it } from 'vitest';
import { ConflictError, ServiceError } from '../../../shared/errors.js';
import { parseLicenceId } from '../../../shared/identifiers/licence-id.js';
import {
  issueLicence,
  issueLicenceInput,
  type IssueLicenceInput,
} from '../../../shared/licence/issue-licence.js';
import { changeLicenceStatus } from '../../../shared/licence/change-status.js';
import type { LicenceRecord } from '../../../shared/licence/licence.js';
import { finishPendingWork } from '../../../shared/licence/pending-work.js';
import { newCreditCode } from '../../support/in-memory-identity.js';
import { issuerUrl, licenceWorld, type LicenceWorld } from '../../support/licence-world.js';
import { businessLicenceBody, drivingLicenceBody, newIdNumber } from '../../support/licences.js';

const context = (idempotencyKey = randomUUID()) => ({
  issuerId: 'iss_world1',
  clientId: 'cl_issuer',
  idempotencyKey,
  requestId: 'req-1',
});

const drivingLicence = (idNumber = newIdNumber(), overrides: Record<string, unknown> = {}) =>
  issueLicenceInput.parse(drivingLicenceBody(idNumber, overrides));

async function refusal(promise: Promise<unknown>): Promise<ServiceError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(ServiceError);
  return error as ServiceError;
}

describe('issueLicence', () => {
  let world: LicenceWorld;
  let issuer: Awaited<ReturnType<LicenceWorld['addIssuer']>>;
  beforeEach(async () => {
    world = licenceWorld();
    issuer = await world.addIssuer();
  });
  const issue = (input: IssueLicenceInput, ctx = context()) => issueLicence(input, ctx, world.issueDeps);

  it('signs a credential with the issuer’s key and stores the licence, its history and its audit entry', async () => {
    const idNumber = newIdNumber();
    const { licence, created } = await issue(drivingLicence(idNumber));
    expect(created).toBe(true);
    expect(parseLicenceId(licence.id)).toMatchObject({
      issuerCreditCode: issuer.creditCode,
      typeCode: '003',
    });
    expect(licence).toMatchObject({
      type: 'driving-licence',
      issuerId: issuer.id,
      status: 'valid',
      statusList: { listId: `${issuer.id}.0`, idx: 0 },
      issuedAt: '2026-03-01T08:00:00.000Z',
      validFrom: '2026-03-01T08:00:00.000Z',
      history: [{ action: 'issued', actor: 'cl_issuer', requestId: 'req-1' }],
      version: 1,
    });
    expect(licence.holder).toMatchObject({
      kind: 'person',
      name: '李测试',
      masked: `${idNumber.slice(0, 6)}********${idNumber.slice(14)}`,
    });
    expect(await world.licences.get(licence.id)).toEqual(licence);

    const keys = createLocalJWKSet({ keys: [await issuer.signer.publicJwk()] });
    const { payload } = await jwtVerify(licence.credential, keys, {
      typ: 'licence+jwt',
      algorithms: ['ES256'],
    });
    expect(payload).toMatchObject({
      // API.md v2: the issuer's URL and the type's URI, not internal ids.
      iss: `${issuerUrl}/issuers/${issuer.id}`,
      vct: `${issuerUrl}/licence-types/driving-licence`,
      jti: licence.id,
      lt: 'driving-licence',
      hol: { k: 'p', n: '李测试', m: licence.holder.masked },
      status: { status_list: { idx: 0, uri: `${issuerUrl}/status-lists/${issuer.id}.0` } },
    });
    // Neither the number nor the lookup key that would link one person's licences is in the credential.
    expect(JSON.stringify(payload)).not.toContain(idNumber);
    expect(JSON.stringify(payload)).not.toContain(licence.holder.lookupKey);

    expect(world.audit.entries).toEqual([
      expect.objectContaining({ action: 'licence.issued', licenceId: licence.id, issuerId: issuer.id }),
    ]);
  });

  it('answers a replay of the same key and body with the same licence, creating nothing', async () => {
    const input = drivingLicence();
    const key = randomUUID();
    const first = await issue(input, context(key));
    world.clock.advanceSeconds(120);
    const replay = await issue(input, context(key));
    expect(replay.created).toBe(false);
    expect(replay.licence).toEqual(first.licence);
    expect(await world.statusLists.allocated(issuer.id)).toBe(1);
    expect(world.audit.entries).toHaveLength(1);
  });

  it('refuses the same key with another body (idempotency_key_reused), and while another request holds it', async () => {
    const key = randomUUID();
    await issue(drivingLicence(), context(key));
    const reused = await refusal(issue(drivingLicence(), context(key)));
    expect(reused).toBeInstanceOf(ConflictError);
    expect(reused.code).toBe('idempotency_key_reused');

    const held = randomUUID();
    await world.idempotency.acquire({ issuerId: issuer.id, key: held, requestHash: 'another request' });
    const inUse = await refusal(issue(drivingLicence(), context(held)));
    expect(inUse).toBeInstanceOf(ConflictError);
    expect(inUse.code).toBe('idempotency_key_in_use');
    // Not for good: the edge answers it with Retry-After (test/unit/http/error-mapping.test.ts).
    expect(inUse.retryAfterSeconds).toBe(1);
    expect(reused.retryAfterSeconds).toBeUndefined();
  });

  it('gives each key its own serial, and a retry after a failed write the same serial and credential', async () => {
    const other = await issue(drivingLicence());
    expect(other.licence.statusList.idx).toBe(0);

    const input = drivingLicence();
    const key = randomUUID();
    const create = world.licences.create.bind(world.licences);
    let attempted: LicenceRecord | undefined;
    world.licences.create = async (licence) => {
      attempted = licence;
      throw new Error('the table is unavailable');
    };
    await expect(issue(input, context(key))).rejects.toThrow('the table is unavailable');
    world.licences.create = create;
    world.clock.advanceSeconds(5);

    const retried = await issue(input, context(key));
    expect(retried.created).toBe(true);
    expect(retried.licence).toMatchObject({
      id: attempted?.id,
      credential: attempted?.credential,
      issuedAt: attempted?.issuedAt,
      statusList: { idx: 1 },
    });
    expect(await world.statusLists.allocated(issuer.id)).toBe(2);
  });

  it('refuses an issuer that is unknown, still provisioning or withdrawn (issuer_inactive)', async () => {
    const provisioning = await world.addIssuer({ status: 'provisioning' });
    for (const issuerId of ['iss_unknown', provisioning.id]) {
      const error = await refusal(
        issueLicence(drivingLicence(), { ...context(), issuerId }, world.issueDeps),
      );
      expect(error.code).toBe('issuer_inactive');
    }
    await world.issuers.save({ ...(await world.issuers.findById(issuer.id))!, status: 'withdrawn' });
    expect((await refusal(issue(drivingLicence()))).code).toBe('issuer_inactive');
    expect(await world.statusLists.allocated(issuer.id)).toBe(0);
  });

  it('refuses a type that is unknown or not the issuer’s, or a holder of the wrong kind', async () => {
    expect((await refusal(issue(drivingLicence(undefined, { type: 'fishing-licence' })))).code).toBe(
      'unknown_licence_type',
    );
    const marriage = drivingLicence(undefined, { type: 'marriage-certificate' });
    expect((await refusal(issue(marriage))).code).toBe('licence_type_not_allowed');
    const toEntity = issueLicenceInput.parse({
      ...drivingLicenceBody(newIdNumber()),
      holder: { creditCode: newCreditCode() },
    });
    expect((await refusal(issue(toEntity))).code).toBe('holder_kind_mismatch');
    expect(world.audit.entries).toEqual([]);
  });

  it('issues a regional type only to holders in the issuer’s jurisdiction', async () => {
    const creditCode = newCreditCode(); // registered in Beijing (110105)
    const body = issueLicenceInput.parse(businessLicenceBody(creditCode, newIdNumber()));
    const shanghai = await world.addIssuer({ region: '310000' });
    const outside = await refusal(
      issueLicence(body, { ...context(), issuerId: shanghai.id }, world.issueDeps),
    );
    expect(outside.code).toBe('outside_jurisdiction');

    const { licence } = await issue(body);
    expect(licence.holder).toMatchObject({ kind: 'entity', masked: creditCode });
  });

  it('stores and signs a third person’s ID number only masked', async () => {
    const representative = newIdNumber();
    const { licence } = await issue(
      issueLicenceInput.parse(businessLicenceBody(newCreditCode(), representative)),
    );
    expect(JSON.stringify(await world.licences.get(licence.id))).not.toContain(representative);
    expect(licence.credential).not.toContain(Buffer.from(representative).toString('base64url'));
    expect(licence.fields.legalRepresentativeIdNumber).toBeUndefined();
    expect(licence.fields.legalRepresentativeIdMasked).toBe(
      `${representative.slice(0, 6)}********${representative.slice(14)}`,
    );
  });

  it('review R57 F1: a replayed issuance (a redelivered batch item) finishes the issuance’s work alone, never a later change’s', async () => {
    const input = drivingLicence();
    const key = randomUUID();
    const { licence } = await issue(input, context(key));
    // The issuer revokes it; the revocation's entry cannot be written now and is left pending.
    const record = world.audit.record.bind(world.audit);
    world.audit.record = () => Promise.reject(new Error('the audit table is unavailable'));
    world.clock.advanceSeconds(60);
    await changeLicenceStatus(
      licence.id,
      { status: 'revoked', reason: '吊销' },
      { issuerId: issuer.id, clientId: 'cl_issuer', requestId: 'req-2' },
      world.statusDeps,
    );
    world.audit.record = record;
    expect((await world.licences.get(licence.id))?.pending?.audit).toHaveLength(1);

    // The batch item is delivered again: the issuance is answered, the revocation's entry (its mark one
    // `batches` may not put) is left, pointer and all, to the licences function or the reconciler.
    world.clock.advanceSeconds(60);
    const replay = await issue(input, context(key));
    expect(replay).toMatchObject({ created: false, licence: { id: licence.id, status: 'revoked' } });
    expect(world.audit.entries.map((entry) => entry.action)).toEqual(['licence.issued']);
    expect((await world.licences.get(licence.id))?.pending?.audit).toHaveLength(1);
    expect(world.pendingWork.pointers.has(licence.id)).toBe(true);

    // The reconciler's completion (every licence mark) writes it.
    await finishPendingWork((await world.licences.get(licence.id))!, world.statusDeps);
    expect(world.audit.entries.map((entry) => entry.action)).toEqual(['licence.issued', 'licence.revoked']);
  });
});
