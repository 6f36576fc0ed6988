import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  issueLicence,
  issueLicenceInput,
  type IssueLicenceDependencies,
} from '../../../shared/licence/issue-licence.js';
import type { LicenceRecord } from '../../../shared/licence/licence.js';
import { licenceWorld } from '../../support/licence-world.js';
import { drivingLicenceBody, newIdNumber } from '../../support/licences.js';

/** The claims a stored credential carries (the text its QR code holds). */
function claims(licence: LicenceRecord): { jti: string; hol: { m: string } } {
  return JSON.parse(Buffer.from(licence.credential.split('.')[1]!, 'base64url').toString('utf8')) as {
    jti: string;
    hol: { m: string };
  };
}

/**
 * An issuance that holds its `Idempotency-Key` past the key's 30 s lock (a KMS call stalled) while another
 * request takes the key over: its writes to the key's record are fenced by its lock token, so it records
 * nothing into the other request's record and fails closed (409 `idempotency_key_taken_over`).
 */
describe('an issuance whose Idempotency-Key another request took over while it stalled', () => {
  it('is refused rather than storing the other request’s credential under its licence', async () => {
    const world = licenceWorld();
    const issuer = await world.addIssuer();
    const key = randomUUID();
    const [x, y] = [drivingLicenceBody(newIdNumber()), drivingLicenceBody(newIdNumber())];
    const context = { issuerId: issuer.id, clientId: 'cl_issuer', idempotencyKey: key };
    const issue = (body: object, deps: IssueLicenceDependencies = world.issueDeps) =>
      issueLicence(issueLicenceInput.parse(body), context, deps);

    // X's first attempt reserves its slot and dies at its signature (KMS unavailable).
    let kms: 'down' | 'stall' | 'up' = 'down';
    let other: { licence: LicenceRecord } | undefined;
    const deps: IssueLicenceDependencies = {
      ...world.issueDeps,
      signerFor: (keyId) => {
        const signer = world.issueDeps.signerFor(keyId);
        return Object.assign(Object.create(signer) as typeof signer, {
          sign: async (data: Uint8Array) => {
            if (kms === 'down') throw new Error('injected: KMS unavailable');
            if (kms === 'stall') {
              kms = 'up';
              // X's retry stalls past its lock, and past the record's 10 days: Y starts the key over and
              // is issued, all before X's signature returns.
              world.clock.advanceSeconds(31);
              other = await issue(y, deps);
            }
            return signer.sign(data);
          },
        });
      },
    };
    await expect(issue(x, deps)).rejects.toThrow('injected');
    // X's retry, ten seconds before the key's record expires.
    world.clock.advanceSeconds(10 * 86_400 - 10);
    kms = 'stall';
    const stale = await issue(x, deps).catch((error: unknown) => error);

    expect(stale).toMatchObject({ kind: 'conflict', code: 'idempotency_key_taken_over' });
    expect(other?.licence.holder.masked).toBe(claims(other!.licence).hol.m);
    // No licence carries another's credential, and Y's key still answers Y's licence.
    const stored = await Promise.all(
      [
        other!.licence.id,
        ...(stale instanceof Error ? [] : [(stale as { licence: LicenceRecord }).licence.id]),
      ].map((id) => world.licences.get(id)),
    );
    for (const licence of stored) expect(claims(licence!).jti).toBe(licence!.id);
    const again = await issue(y);
    expect(again).toMatchObject({ created: false, licence: { id: other!.licence.id } });
    expect(claims(again.licence).hol.m).toBe(other!.licence.holder.masked);
  });
});
