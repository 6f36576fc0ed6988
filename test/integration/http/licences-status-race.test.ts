import { setTimeout as sleep } from 'node:timers/promises';
import { randomInt } from 'node:crypto';
import { jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeStatusList, readStatus, StatusType } from '../../../packages/verifier/src/status-list.js';
import { zlibCompression } from '../../../packages/verifier/src/status-list-zlib.js';
import { postJson } from '../../support/http-api.js';
import {
  drivingLicenceBody,
  expectJson,
  getWithToken,
  issued,
  issuerKeySet,
  licencePath,
  newIdNumber,
  verifyCredential,
  type KeySet,
  type LicenceJson,
} from '../../support/licences.js';
import { clientCredentialsToken, startTestRuntime, type TestRuntime } from '../../support/runtime.js';

const LICENCES = 40;

let runtime: TestRuntime;
let token: string;
let keys: KeySet;

beforeAll(async () => {
  runtime = await startTestRuntime();
  token = await clientCredentialsToken(runtime, runtime.credentials.issuer, 'licences:issue');
  keys = await issuerKeySet(runtime, runtime.credentials.issuer.id);
});
afterAll(async () => {
  await runtime?.close();
});

/**
 * Asks for `status` until the answer is final: a 5xx (the record may have changed before the status list
 * write gave up) and 409 `licence_changed` (another change won the version) are retried, as a client does.
 */
async function changeUntilAnswered(id: string, status: string): Promise<number> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const response = await postJson(runtime, `${licencePath(id)}/status`, token, {
      status,
      reason: '并发测试',
    });
    const body = (await response.json()) as { code?: string };
    const retry = response.status >= 500 || (response.status === 409 && body.code === 'licence_changed');
    if (!retry) return response.status;
    if (Date.now() > deadline) throw new Error(`${id}: still ${response.status} ${body.code}`);
    await sleep(randomInt(5, 30));
  }
}

describe('concurrent status changes of licences sharing one status list', () => {
  it(
    'leaves every list entry at the status of its licence record (a revoked licence never reads as suspended)',
    { timeout: 90_000 },
    async () => {
      const licences: LicenceJson[] = [];
      for (let i = 0; i < LICENCES; i++) {
        licences.push(await issued(runtime, token, drivingLicenceBody(newIdNumber())));
      }

      // Per licence, a suspension and a revocation race; across licences, all write the same list.
      const answers = await Promise.all(
        licences.map((licence) =>
          Promise.all([
            changeUntilAnswered(licence.id, 'suspended'),
            changeUntilAnswered(licence.id, 'revoked'),
          ]),
        ),
      );
      for (const [suspended, revoked] of answers) {
        expect([200, 409]).toContain(suspended);
        expect(revoked).toBe(200);
      }

      const slots = await Promise.all(
        licences.map(
          async (licence) => (await verifyCredential(licence.credential, keys)).status.status_list,
        ),
      );
      const uri = slots[0]!.uri;
      expect(slots.every((slot) => slot.uri === uri)).toBe(true);
      const response = await fetch(uri);
      const { payload } = await jwtVerify(await response.text(), keys, {
        typ: 'statuslist+jwt',
        algorithms: ['ES256'],
      });
      const list = await decodeStatusList(payload.status_list, zlibCompression);

      const mismatches: string[] = [];
      for (const [i, licence] of licences.entries()) {
        const record = await expectJson<LicenceJson>(
          await getWithToken(runtime, licencePath(licence.id), token),
          200,
        );
        expect(record.status).toBe('revoked');
        const listed = readStatus(list.bytes, slots[i]!.idx, list.bits);
        if (listed !== StatusType.INVALID) mismatches.push(`${licence.id}: list ${listed}`);
      }
      expect(mismatches).toEqual([]);
    },
  );
});
