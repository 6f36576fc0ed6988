import { randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { ConflictError } from '../../../shared/errors.js';
import { issueLicence, issueLicenceInput } from '../../../shared/licence/issue-licence.js';
import {
  LicenceReissuedError,
  reissueIdempotencyKey,
  reissueLicence,
} from '../../../shared/licence/reissue-licence.js';
import type { LicenceRecord } from '../../../shared/licence/licence.js';
import { licenceWorld, type LicenceWorld } from '../../support/licence-world.js';
import { drivingLicenceBody, newIdNumber } from '../../support/licences.js';

const context = { issuerId: 'iss_world1', clientId: 'cl_issuer', requestId: 'req-r' };

describe('reissueLicence', () => {
  let world: LicenceWorld;
  let old: LicenceRecord;
  let failCreates = 0;
  const deps = () => ({
    ...world.issueDeps,
    licences: {
      ...world.licences,
      get: (id: string) => world.licences.get(id),
      save: (licence: LicenceRecord) => world.licences.save(licence),
      listByIssuer: world.licences.listByIssuer.bind(world.licences),
      countByIssuer: world.licences.countByIssuer.bind(world.licences),
      listByHolder: world.licences.listByHolder.bind(world.licences),
      create: async (licence: LicenceRecord) => {
        if (failCreates > 0) {
          failCreates -= 1;
          throw new Error('injected: died before writing the new licence');
        }
        return world.licences.create(licence);
      },
    },
  });
  const replacements = () =>
    [...world.licences.byId.values()].filter((licence) => licence.replaces === old.id);

  beforeEach(async () => {
    world = licenceWorld();
    await world.addIssuer();
    failCreates = 0;
    ({ licence: old } = await issueLicence(
      issueLicenceInput.parse(drivingLicenceBody(newIdNumber())),
      { ...context, idempotencyKey: randomUUID() },
      world.issueDeps,
    ));
  });

  it('derives one UUID per licence id: every attempt of a re-issue uses the same idempotency key', () => {
    expect(reissueIdempotencyKey(old.id)).toBe(reissueIdempotencyKey(old.id));
    expect(reissueIdempotencyKey(old.id)).not.toBe(reissueIdempotencyKey(`${old.id}x`));
    expect(reissueIdempotencyKey(old.id)).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });

  it('keeps the holder as stored (lookup key, masked number), never asking for the raw number', async () => {
    const { licence, replaced } = await reissueLicence(old.id, context, deps());
    expect(licence.holder).toEqual(old.holder);
    expect(licence.fields).toEqual(old.fields);
    expect(replaced).toMatchObject({ status: 'revoked', replacedBy: licence.id });
    expect(world.audit.entries.map((entry) => [entry.action, entry.licenceId])).toEqual(
      expect.arrayContaining([
        ['licence.issued', licence.id],
        ['licence.revoked', old.id],
      ]),
    );
  });

  it('a claim whose licence was never written, its issuance record expired, is taken over: one licence', async () => {
    failCreates = 1;
    await expect(reissueLicence(old.id, context, deps())).rejects.toThrow('injected');
    const claimed = (await world.licences.get(old.id))?.replacedBy;
    expect(claimed).toEqual(expect.any(String));
    expect(await world.licences.get(claimed!)).toBeUndefined();

    // A day later the issuance record (24 hours) is gone: the retry gets another slot and id.
    world.clock.advanceSeconds(25 * 3600);
    const { licence } = await reissueLicence(old.id, context, deps());
    expect(replacements().map((replacement) => replacement.id)).toEqual([licence.id]);
    expect(await world.licences.get(old.id)).toMatchObject({ status: 'revoked', replacedBy: licence.id });
  });

  it('a claim naming a licence that exists stops a second re-issue (licence_reissued)', async () => {
    const { licence } = await reissueLicence(old.id, context, deps());
    const error = await reissueLicence(old.id, context, deps()).catch((reason: unknown) => reason);
    expect(error).toBeInstanceOf(LicenceReissuedError);
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as LicenceReissuedError).replacedBy).toBe(licence.id);
    expect(replacements()).toHaveLength(1);
  });
});
