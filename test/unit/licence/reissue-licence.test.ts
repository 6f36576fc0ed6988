import { randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { ConflictError } from '../../../shared/errors.js';
import { idempotencyKey, issueLicence, issueLicenceInput } from '../../../shared/licence/issue-licence.js';
import { findLicenceType } from '../../../shared/licence/catalogue.js';
import { changeLicenceStatus } from '../../../shared/licence/change-status.js';
import {
  finishUnfinishedReissue,
  LicenceReissuedError,
  reconcilerActor,
  ReissueOvertakenError,
  reissueIdempotencyKey,
  reissueLicence,
  ReplacementRevokedError,
} from '../../../shared/licence/reissue-licence.js';
import { reconcilePendingWork } from '../../../shared/reconciler/reconcile-pending-work.js';
import type { LicenceRecord } from '../../../shared/licence/licence.js';
import { licenceWorld, type LicenceWorld } from '../../support/licence-world.js';
import { drivingLicenceBody, newIdNumber } from '../../support/licences.js';

const context = { issuerId: 'iss_world1', clientId: 'cl_issuer', requestId: 'req-r' };

describe('reissueLicence', () => {
  let world: LicenceWorld;
  let old: LicenceRecord;
  let failCreates = 0;
  /** Run once right after the replacement is written: a clerk's change between the claim and the revocation. */
  let afterReplacementWritten: ((licence: LicenceRecord) => Promise<void>) | undefined;
  /** Run once right before the replacement is written (after the claim). */
  let beforeReplacementWritten: (() => Promise<void>) | undefined;
  /** The attempt dies at its revocation of the old licence (a Lambda timeout, a DynamoDB error). */
  let failRevokeOfOld = false;
  const deps = () => ({
    ...world.issueDeps,
    licences: {
      ...world.licences,
      get: (id: string) => world.licences.get(id),
      save: (licence: LicenceRecord) => {
        if (failRevokeOfOld && licence.status === 'revoked' && licence.replacedBy) {
          failRevokeOfOld = false;
          return Promise.reject(new Error('injected: died before revoking the old licence'));
        }
        return world.licences.save(licence);
      },
      clearPending: world.licences.clearPending.bind(world.licences),
      listByIssuer: world.licences.listByIssuer.bind(world.licences),
      countByIssuer: world.licences.countByIssuer.bind(world.licences),
      listByHolder: world.licences.listByHolder.bind(world.licences),
      create: async (licence: LicenceRecord) => {
        if (failCreates > 0) {
          failCreates -= 1;
          throw new Error('injected: died before writing the new licence');
        }
        const before = licence.replaces ? beforeReplacementWritten : undefined;
        beforeReplacementWritten = undefined;
        await before?.();
        const created = await world.licences.create(licence);
        const hook = licence.replaces ? afterReplacementWritten : undefined;
        afterReplacementWritten = undefined;
        await hook?.(created);
        return created;
      },
    },
  });
  const replacements = () =>
    [...world.licences.byId.values()].filter((licence) => licence.replaces === old.id);
  /** A re-issue that died at its revocation of the old licence, its replacement written: the replacement. */
  const diedBeforeRevokingOld = async () => {
    failRevokeOfOld = true;
    await expect(reissueLicence(old.id, context, deps())).rejects.toThrow('injected');
    const [replacement] = replacements();
    return replacement;
  };

  beforeEach(async () => {
    world = licenceWorld();
    await world.addIssuer();
    failCreates = 0;
    afterReplacementWritten = undefined;
    beforeReplacementWritten = undefined;
    failRevokeOfOld = false;
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
      /^reissue:[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    // Outside the clients' keys: an Idempotency-Key must be a bare UUID.
    expect(idempotencyKey.safeParse(reissueIdempotencyKey(old.id)).success).toBe(false);
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

  const clerk = (status: 'revoked' | 'suspended', reasonCode: 'holder-ceased' | 'investigation') => () =>
    changeLicenceStatus(
      old.id,
      { status, reasonCode },
      { issuerId: context.issuerId, clientId: 'cl_clerk' },
      world.issueDeps,
    ).then(() => undefined);

  it('the old licence revoked between the claim and its revocation: the replacement is revoked too, every retry says so', async () => {
    afterReplacementWritten = clerk('revoked', 'holder-ceased');
    const error = await reissueLicence(old.id, context, deps()).catch((reason: unknown) => reason);
    expect(error).toBeInstanceOf(ReissueOvertakenError);
    expect(error).toMatchObject({ code: 'licence_revoked_during_reissue', status: 'revoked' });
    const [replacement] = replacements();
    expect((error as ReissueOvertakenError).replacedBy).toBe(replacement!.id);
    expect(await world.licences.get(replacement!.id)).toMatchObject({ status: 'revoked' });
    expect((await world.licences.get(replacement!.id))!.history.at(-1)).toMatchObject({
      action: 'revoked',
      reasonCode: 'holder-ceased',
    });
    // The old one keeps the clerk's revocation, not a re-issue's.
    expect((await world.licences.get(old.id))!.history.at(-1)).toMatchObject({ reasonCode: 'holder-ceased' });

    const again = await reissueLicence(old.id, context, deps()).catch((reason: unknown) => reason);
    expect(again).toMatchObject({ code: 'licence_revoked_during_reissue' });
    expect(replacements()).toHaveLength(1);
  });

  it('the old licence suspended between the claim and its revocation: the suspension moves to the replacement', async () => {
    afterReplacementWritten = clerk('suspended', 'investigation');
    const error = await reissueLicence(old.id, context, deps()).catch((reason: unknown) => reason);
    expect(error).toMatchObject({ code: 'licence_suspended_during_reissue', status: 'suspended' });
    const [replacement] = replacements();
    expect(await world.licences.get(replacement!.id)).toMatchObject({ status: 'suspended' });
    expect(await world.licences.get(old.id)).toMatchObject({
      status: 'revoked',
      replacedBy: replacement!.id,
    });
    await expect(reissueLicence(old.id, context, deps())).rejects.toBeInstanceOf(LicenceReissuedError);
    expect(await world.licences.get(replacement!.id)).toMatchObject({ status: 'suspended' });
  });

  it('a revocation that would overwrite a suspension made after it read the licence is made over the suspension', async () => {
    // The suspension lands after the re-issue has read the old licence as valid: the revocation, written
    // only over the status read, is refused and the next turn carries the suspension over.
    let reads = 0;
    const base = deps();
    const racing = {
      ...base,
      licences: {
        ...base.licences,
        get: async (id: string) => {
          const found = await world.licences.get(id);
          if (id === old.id && found?.replacedBy && found.status === 'valid' && ++reads === 1) {
            await clerk('suspended', 'investigation')();
          }
          return found;
        },
      },
    };
    const error = await reissueLicence(old.id, context, racing).catch((reason: unknown) => reason);
    expect(error).toMatchObject({ code: 'licence_suspended_during_reissue' });
    const [replacement] = replacements();
    expect(await world.licences.get(replacement!.id)).toMatchObject({ status: 'suspended' });
  });

  it('keeps a stored licence without an end date without one, whatever the type’s default', async () => {
    expect(findLicenceType('driving-licence')?.defaultValidityYears).toEqual(expect.any(Number));
    const stored = await world.licences.get(old.id);
    const { validUntil: _dropped, ...withoutEnd } = stored!;
    await world.licences.save(withoutEnd);
    const { licence } = await reissueLicence(old.id, context, deps());
    expect(licence.validFrom).toBe(old.validFrom);
    expect(licence.validUntil).toBeUndefined();
  });

  it('refuses (409 credential_too_large) a stored licence too large for a QR code, issuing nothing', async () => {
    const stored = await world.licences.get(old.id);
    await world.licences.save({ ...stored!, fields: { ...stored!.fields, archiveNumber: '档'.repeat(900) } });
    const error = await reissueLicence(old.id, context, deps()).catch((reason: unknown) => reason);
    expect(error).toBeInstanceOf(ConflictError);
    expect(error).toMatchObject({ code: 'credential_too_large' });
    expect((error as Error).message).toContain('fields.archiveNumber');
    expect(replacements()).toEqual([]);
    expect(await world.licences.get(old.id)).toMatchObject({ status: 'valid' });
    expect((await world.licences.get(old.id))?.replacedBy).toBeUndefined();
  });

  describe('a re-issue left unfinished, finished by the reconciler (review R38 M1)', () => {
    const reconcile = async () => {
      world.clock.advanceSeconds(61);
      return reconcilePendingWork(world.statusDeps, { minAgeSeconds: 60, limit: 10 });
    };
    const pointers = () => world.pendingWork.olderThan(new Date(world.clock.now() + 1), 10);
    /**
     * The status change's dependencies of a clerk's request that writes its mark on the old licence, then
     * dies before revoking the replacement `replacementId`: every time, or with `once` the first time only.
     */
    const dyingBeforeRevoking = (replacementId: string, { once = false } = {}) => {
      let crash = true;
      return {
        ...world.statusDeps,
        licences: {
          ...world.statusDeps.licences,
          get: (id: string) => world.licences.get(id),
          save: (licence: LicenceRecord) => {
            if (crash && licence.id === replacementId && licence.status === 'revoked') {
              crash = !once;
              return Promise.reject(new Error('injected: died before revoking the replacement'));
            }
            return world.licences.save(licence);
          },
          clearPending: world.licences.clearPending.bind(world.licences),
        },
      };
    };
    /** A clerk's revocation of the replacement at the console (`clerk-ref-1`), dead after its mark on the old licence. */
    const clerkRevocationDiedAfterMark = (
      replacementId: string,
      change: Parameters<typeof changeLicenceStatus>[1],
      requestId: string,
    ) =>
      expect(
        changeLicenceStatus(
          replacementId,
          change,
          { issuerId: context.issuerId, clientId: 'cl_console', clerk: 'clerk-ref-1', requestId },
          dyingBeforeRevoking(replacementId),
        ),
      ).rejects.toThrow('injected');

    it('revokes the old licence (reissued) when the attempt died after writing the replacement', async () => {
      const replacement = await diedBeforeRevokingOld();
      expect(await world.licences.get(old.id)).toMatchObject({
        status: 'valid',
        replacedBy: replacement!.id,
      });

      await reconcile();
      const finished = await world.licences.get(old.id);
      expect(finished).toMatchObject({ status: 'revoked', replacedBy: replacement!.id });
      expect(finished!.history.at(-1)).toMatchObject({ reasonCode: 'reissued', replacedBy: replacement!.id });
      expect(await world.licences.get(replacement!.id)).toMatchObject({ status: 'valid' });
      expect(world.audit.entries.filter((entry) => entry.action === 'licence.revoked')).toEqual([
        expect.objectContaining({ licenceId: old.id, actor: reconcilerActor, replacedBy: replacement!.id }),
      ]);
      await reconcile();
      expect(await pointers()).toEqual([]);
      // A retry finds the re-issue done.
      await expect(reissueLicence(old.id, context, deps())).rejects.toBeInstanceOf(LicenceReissuedError);
    });

    it('passes on a suspension made before the replacement was written, when the attempt died after writing it', async () => {
      // The clerk suspends the old licence while the new one is being written: nothing to pass on yet.
      beforeReplacementWritten = clerk('suspended', 'investigation');
      afterReplacementWritten = () =>
        Promise.reject(new Error('injected: died after writing the replacement'));
      await expect(reissueLicence(old.id, context, deps())).rejects.toThrow('injected');
      const [replacement] = replacements();
      expect(await world.licences.get(old.id)).toMatchObject({ status: 'suspended' });
      expect(await world.licences.get(replacement!.id)).toMatchObject({ status: 'valid' });

      await reconcile();
      expect(await world.licences.get(replacement!.id)).toMatchObject({ status: 'suspended' });
      expect(await world.licences.get(old.id)).toMatchObject({
        status: 'revoked',
        replacedBy: replacement!.id,
      });
      await reconcile();
      expect(await pointers()).toEqual([]);
    });

    it('leaves the old licence valid when the replacement was revoked since (R38 L1), and drops the pointer', async () => {
      const replacement = await diedBeforeRevokingOld();
      await changeLicenceStatus(
        replacement!.id,
        { status: 'revoked', reasonCode: 'holder-ceased' },
        { issuerId: context.issuerId, clientId: 'cl_clerk' },
        world.issueDeps,
      );
      await reconcile();
      expect(await world.licences.get(old.id)).toMatchObject({ status: 'valid' });
      expect(await pointers()).toEqual([]);
      const error = await reissueLicence(old.id, context, deps()).catch((reason: unknown) => reason);
      expect(error).toBeInstanceOf(ReplacementRevokedError);
      expect(error).toMatchObject({ code: 'replacement_revoked', replacedBy: replacement!.id });
      expect(await world.licences.get(old.id)).toMatchObject({ status: 'valid' });
    });

    it('leaves the old licence valid when a clerk revokes the replacement after the reconciler read it (R40 F1)', async () => {
      const replacement = await diedBeforeRevokingOld();
      let revokeOnRead = true;
      const racing = {
        ...world.statusDeps,
        licences: {
          ...world.statusDeps.licences,
          get: async (id: string) => {
            const got = await world.licences.get(id);
            // The reconciler's first read of the replacement finds it valid; then a clerk revokes it.
            if (id === replacement!.id && revokeOnRead) {
              revokeOnRead = false;
              await changeLicenceStatus(
                id,
                { status: 'revoked', reasonCode: 'holder-ceased' },
                { issuerId: context.issuerId, clientId: 'cl_clerk' },
                world.issueDeps,
              );
            }
            return got;
          },
          save: world.licences.save.bind(world.licences),
          clearPending: world.licences.clearPending.bind(world.licences),
        },
      };
      await finishUnfinishedReissue(old.id, racing);
      expect(await world.licences.get(old.id)).toMatchObject({ status: 'valid' });
      expect(await world.licences.get(replacement!.id)).toMatchObject({ status: 'revoked' });
      await reconcile();
      expect(await world.licences.get(old.id)).toMatchObject({ status: 'valid' });
      expect(await pointers()).toEqual([]);
    });

    it('records the give-up in the trail: one licence.reissue_given_up on the old licence, naming the clerk and the replacement', async () => {
      const replacement = await diedBeforeRevokingOld();
      await changeLicenceStatus(
        replacement!.id,
        { status: 'revoked', reasonCode: 'holder-ceased', reason: '重复签发' },
        { issuerId: context.issuerId, clientId: 'cl_console', clerk: 'clerk-ref-1', requestId: 'req-dup' },
        world.issueDeps,
      );
      const givenUp = world.audit.entries.filter((entry) => entry.action === 'licence.reissue_given_up');
      expect(givenUp).toEqual([
        expect.objectContaining({
          licenceId: old.id,
          replacedBy: replacement!.id,
          actor: 'cl_console',
          clerk: 'clerk-ref-1',
          reasonCode: 'holder-ceased',
          requestId: 'req-dup',
          holderMasked: old.holder.masked,
        }),
      ]);
      expect((await world.licences.get(old.id))?.pending).toBeUndefined();
      // Written once, whoever completes the work afterwards.
      await reconcile();
      expect(world.audit.entries.filter((entry) => entry.action === 'licence.reissue_given_up')).toHaveLength(
        1,
      );
      expect(await pointers()).toEqual([]);
    });

    it('a clerk’s revocation of the replacement that died after the mark: the reconciler revokes it as asked', async () => {
      const replacement = await diedBeforeRevokingOld();
      // The clerk's request writes the mark on the old licence, then dies before revoking the replacement.
      await clerkRevocationDiedAfterMark(
        replacement!.id,
        { status: 'revoked', reasonCode: 'holder-ceased', reason: '重复签发' },
        'req-dup',
      );
      expect(await world.licences.get(old.id)).toMatchObject({
        status: 'valid',
        reissueGivenUp: replacement!.id,
      });
      expect(await world.licences.get(replacement!.id)).toMatchObject({ status: 'valid' });

      await reconcile();
      const revoked = await world.licences.get(replacement!.id);
      expect(revoked).toMatchObject({ status: 'revoked' });
      expect(revoked!.history.at(-1)).toMatchObject({
        action: 'revoked',
        actor: 'cl_console',
        clerk: 'clerk-ref-1',
        reasonCode: 'holder-ceased',
        reason: '持证人死亡或主体终止：重复签发',
        requestId: 'req-dup',
      });
      // The old licence stays valid: the re-issue was given up, not finished.
      expect(await world.licences.get(old.id)).toMatchObject({ status: 'valid' });
      expect(world.audit.entries.filter((entry) => entry.action === 'licence.revoked')).toEqual([
        expect.objectContaining({
          licenceId: replacement!.id,
          actor: 'cl_console',
          reasonCode: 'holder-ceased',
        }),
      ]);
      expect(world.audit.entries.filter((entry) => entry.action === 'licence.reissue_given_up')).toEqual([
        expect.objectContaining({ licenceId: old.id, replacedBy: replacement!.id }),
      ]);
      await reconcile();
      expect(await pointers()).toEqual([]);
      await expect(reissueLicence(old.id, context, deps())).rejects.toBeInstanceOf(ReplacementRevokedError);
      expect(await world.licences.get(old.id)).toMatchObject({ status: 'valid' });
    });

    it('a revocation recorded before the printable-text rule, its reason holding a tab, is carried out by the reconciler (review R64-2)', async () => {
      const replacement = await diedBeforeRevokingOld();
      await clerkRevocationDiedAfterMark(
        replacement!.id,
        { status: 'revoked', reasonCode: 'other', reason: '重复签发' },
        'req-tab',
      );
      // As a clerk's reason was recorded before session 27's rule refused a tab (or a zero-width space).
      const marked = await world.licences.get(old.id);
      const reason = '重复签发\t见档案\u200b';
      await world.licences.save({
        ...marked!,
        replacementRevocation: { ...marked!.replacementRevocation!, reason },
      });

      await reconcile();
      const revoked = await world.licences.get(replacement!.id);
      expect(revoked).toMatchObject({ status: 'revoked' });
      expect(revoked!.history.at(-1)).toMatchObject({
        action: 'revoked',
        actor: 'cl_console',
        clerk: 'clerk-ref-1',
        reasonCode: 'other',
        reason,
        requestId: 'req-tab',
      });
      expect(await world.licences.get(old.id)).toMatchObject({ status: 'valid' });
      await reconcile();
      expect(await pointers()).toEqual([]);
    });

    it('the clerk retrying that revocation finishes it at once: revoked once, the give-up recorded once', async () => {
      const replacement = await diedBeforeRevokingOld();
      const crashing = dyingBeforeRevoking(replacement!.id, { once: true });
      const revoke = () =>
        changeLicenceStatus(
          replacement!.id,
          { status: 'revoked', reasonCode: 'holder-ceased' },
          { issuerId: context.issuerId, clientId: 'cl_console' },
          crashing,
        );
      await expect(revoke()).rejects.toThrow('injected');
      await expect(revoke()).resolves.toMatchObject({ status: 'revoked' });
      expect(world.audit.entries.filter((entry) => entry.action === 'licence.reissue_given_up')).toHaveLength(
        1,
      );
      expect(world.audit.entries.filter((entry) => entry.action === 'licence.revoked')).toHaveLength(1);
      expect(await world.licences.get(old.id)).toMatchObject({ status: 'valid' });
      await reconcile();
      expect(await pointers()).toEqual([]);
    });

    it('a re-issue of the replacement is refused once a clerk’s revocation of it is recorded after its claim, and the reconciler leaves one valid licence (review R58)', async () => {
      const replacement = await diedBeforeRevokingOld();
      const replacementId = replacement!.id;
      // A clerk's earlier revocation of the replacement was refused (R46-2): the re-issue given up, nothing owed.
      const given = await world.licences.get(old.id);
      await world.licences.save({ ...given!, reissueGivenUp: replacementId });
      // Clerk Y re-issues the replacement. Clerk X revokes it again, having read it before Y's claim (so
      // nothing to pass on): X's mark records the revocation on the old licence after Y wrote its
      // replacement, and X's request dies before revoking it.
      afterReplacementWritten = async () => {
        const held = await world.pendingWork.mark(old.id, new Date(world.clock.now()));
        const current = await world.licences.get(old.id);
        await world.licences.save({
          ...current!,
          replacementRevocation: {
            at: new Date(world.clock.now()).toISOString(),
            actor: 'cl_console',
            reasonCode: 'other',
            reason: '重复签发',
          },
        });
        if (held) await world.pendingWork.release(old.id, held);
      };
      await expect(reissueLicence(replacementId, context, deps())).rejects.toMatchObject({
        code: 'replacement_revocation_pending',
      });
      // Its retry (the `claimed` path) is refused alike.
      await expect(reissueLicence(replacementId, context, deps())).rejects.toMatchObject({
        code: 'replacement_revocation_pending',
      });
      const second = [...world.licences.byId.values()].find((licence) => licence.replaces === replacementId);

      await reconcile();
      expect(await world.licences.get(old.id)).toMatchObject({ status: 'valid' });
      expect(await world.licences.get(replacementId)).toMatchObject({ status: 'revoked' });
      expect(await world.licences.get(second!.id)).toMatchObject({ status: 'revoked' });
    });

    it('drops the pointer of a claim whose licence was never written, the old licence untouched', async () => {
      failCreates = 1;
      await expect(reissueLicence(old.id, context, deps())).rejects.toThrow('injected');
      await reconcile();
      expect(await world.licences.get(old.id)).toMatchObject({ status: 'valid' });
      expect(await pointers()).toEqual([]);
    });
  });

  it('a revocation of the old licence reaches the licence standing in for a replacement re-issued before R38', async () => {
    const replacement = await diedBeforeRevokingOld();
    // Stored before R38 refused it: the replacement re-issued in turn while its own re-issue was unfinished.
    const { replaces: _replaces, ...unlinked } = (await world.licences.get(replacement!.id))!;
    await world.licences.save(unlinked);
    const { licence: grandchild } = await reissueLicence(replacement!.id, context, deps());
    const relinked = (await world.licences.get(replacement!.id))!;
    await world.licences.save({ ...relinked, replaces: old.id });

    await changeLicenceStatus(
      old.id,
      { status: 'revoked', reasonCode: 'holder-ceased' },
      { issuerId: context.issuerId, clientId: 'cl_clerk' },
      world.issueDeps,
    );
    expect(await world.licences.get(grandchild.id)).toMatchObject({ status: 'revoked' });
    expect((await world.licences.get(grandchild.id))!.history.at(-1)).toMatchObject({
      action: 'revoked',
      reasonCode: 'holder-ceased',
    });
  });
});
