import { randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { decodeStatusList, readStatus, StatusType } from '../../../packages/verifier/src/status-list.js';
import { zlibCompression } from '../../../packages/verifier/src/status-list-zlib.js';
import { ConflictError, NotFoundError } from '../../../shared/errors.js';
import { changeLicenceStatus, type ChangeStatusInput } from '../../../shared/licence/change-status.js';
import { issueLicence, issueLicenceInput } from '../../../shared/licence/issue-licence.js';
import type { LicenceRecord } from '../../../shared/licence/licence.js';
import { licenceWorld, type LicenceWorld } from '../../support/licence-world.js';
import { drivingLicenceBody, newIdNumber } from '../../support/licences.js';

const caller = { issuerId: 'iss_world1', clientId: 'cl_issuer', requestId: 'req-2' };

describe('changeLicenceStatus', () => {
  let world: LicenceWorld;
  let licence: LicenceRecord;
  beforeEach(async () => {
    world = licenceWorld();
    await world.addIssuer();
    ({ licence } = await issueLicence(
      issueLicenceInput.parse(drivingLicenceBody(newIdNumber())),
      { issuerId: caller.issuerId, clientId: caller.clientId, idempotencyKey: randomUUID() },
      world.issueDeps,
    ));
  });

  const change = (input: ChangeStatusInput, context = caller) =>
    changeLicenceStatus(licence.id, input, context, world.statusDeps);

  /** The licence's entry in its status list, as a verifier decodes it. */
  async function listEntry(): Promise<number> {
    const { statusList } = await world.statusLists.find(licence.statusList.listId);
    const list = await decodeStatusList(statusList, zlibCompression, { maxBytes: 64 * 1024 });
    return readStatus(list.bytes, licence.statusList.idx, list.bits);
  }

  async function refusal(promise: Promise<unknown>): Promise<unknown> {
    return promise.then(
      () => expect.unreachable('the change was accepted'),
      (error: unknown) => error,
    );
  }

  it('suspends and reinstates: the record, its history, the status list and the audit trail follow', async () => {
    world.clock.advanceSeconds(60);
    const suspended = await change({ status: 'suspended', reason: '交通违法记满12分' });
    expect(suspended).toMatchObject({ status: 'suspended', statusReason: '交通违法记满12分', version: 2 });
    expect(suspended.history.at(-1)).toEqual({
      at: '2026-03-01T08:01:00.000Z',
      action: 'suspended',
      actor: 'cl_issuer',
      reason: '交通违法记满12分',
      requestId: 'req-2',
    });
    expect(await world.licences.get(licence.id)).toEqual(suspended);
    expect(await listEntry()).toBe(StatusType.SUSPENDED);

    const reinstated = await change({ status: 'valid', reason: '暂扣期满' });
    expect(reinstated).toMatchObject({ status: 'valid', version: 3 });
    expect(reinstated.history.map((event) => event.action)).toEqual(['issued', 'suspended', 'reinstated']);
    expect(await listEntry()).toBe(StatusType.VALID);
    expect(world.audit.entries.map((entry) => entry.action)).toEqual([
      'licence.issued',
      'licence.suspended',
      'licence.reinstated',
    ]);
  });

  it('revokes for good: any later change is licence_revoked and changes nothing', async () => {
    await change({ status: 'suspended', reason: '调查中' });
    const revoked = await change({ status: 'revoked', reason: '以欺骗手段取得' });
    expect(revoked.status).toBe('revoked');
    expect(await listEntry()).toBe(StatusType.INVALID);
    for (const status of ['valid', 'suspended'] as const) {
      const error = await refusal(change({ status, reason: '撤销吊销' }));
      expect(error).toBeInstanceOf(ConflictError);
      expect(error).toMatchObject({ code: 'licence_revoked' });
    }
    expect(await world.licences.get(licence.id)).toEqual(revoked);
    expect(await listEntry()).toBe(StatusType.INVALID);
  });

  it('asking for the status it has changes no record and repairs a status list left behind', async () => {
    const suspended = await change({ status: 'suspended', reason: '调查中' });
    // A failure after the record's write left the list as it was.
    await world.statusLists.setStatus(licence.statusList.listId, licence.statusList.idx, StatusType.VALID);
    const again = await change({ status: 'suspended', reason: '再次暂扣' });
    expect(again).toEqual(suspended);
    expect(await listEntry()).toBe(StatusType.SUSPENDED);
    expect(world.audit.entries.filter((entry) => entry.action === 'licence.suspended')).toHaveLength(1);
  });

  it('answers another issuer’s licence, or an unknown one, as not found (licence_not_found)', async () => {
    const other = await world.addIssuer();
    for (const [id, context] of [
      [licence.id, { ...caller, issuerId: other.id }],
      ['no-such-licence', caller],
    ] as const) {
      const error = await refusal(
        changeLicenceStatus(id, { status: 'revoked', reason: '吊销' }, context, world.statusDeps),
      );
      expect(error).toBeInstanceOf(NotFoundError);
      expect(error).toMatchObject({ code: 'licence_not_found' });
    }
    expect((await world.licences.get(licence.id))?.status).toBe('valid');
    expect(await listEntry()).toBe(StatusType.VALID);
  });

  it('a reinstatement that lost a race to a revocation never publishes the revoked licence as valid', async () => {
    await change({ status: 'suspended', reason: '调查中' });
    const write = world.statusLists.setStatus.bind(world.statusLists);
    let afterLateWrite: number | undefined;
    // Officer A reinstates (record v3, valid); before A's list write lands, officer B revokes (v4) and
    // B's list write lands first. A's write then carries the value of an out-of-date version.
    world.statusLists.setStatus = async (listId, idx, value) => {
      if (value !== StatusType.VALID || afterLateWrite !== undefined) return write(listId, idx, value);
      await changeLicenceStatus(licence.id, { status: 'revoked', reason: '吊销' }, caller, world.statusDeps);
      await write(listId, idx, value);
      // What a list token signed right now would say, before A's loop sees v4 (or if A died here).
      afterLateWrite = await listEntry();
    };
    const reinstated = await change({ status: 'valid', reason: '调查结束' });
    expect(reinstated.status).toBe('valid');
    expect((await world.licences.get(licence.id))?.status).toBe('revoked');
    expect(afterLateWrite).toBe(StatusType.INVALID);
    expect(await listEntry()).toBe(StatusType.INVALID);
  });

  it('loses a race to a concurrent change with licence_changed, and the list shows the winner', async () => {
    const read = world.licences.get.bind(world.licences);
    let raced = false;
    // Another request suspends the licence between this one's read and its write.
    world.licences.get = async (id) => {
      const current = await read(id);
      if (!raced && current) {
        raced = true;
        await changeLicenceStatus(id, { status: 'suspended', reason: '并发' }, caller, world.statusDeps);
      }
      return current;
    };
    const error = await refusal(change({ status: 'revoked', reason: '吊销' }));
    expect(error).toBeInstanceOf(ConflictError);
    expect(error).toMatchObject({ code: 'licence_changed' });
    world.licences.get = read;
    expect((await world.licences.get(licence.id))?.status).toBe('suspended');
    expect(await listEntry()).toBe(StatusType.SUSPENDED);
  });
});
