import { randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { errorResult } from '../../../shared/http/api-handler.js';
import { credentialKeyPublished, issuerPublishedKeys } from '../../../shared/issuers/credential-key.js';
import { rotateIssuerKey } from '../../../shared/issuers/rotate-issuer-key.js';
import { withdrawIssuer } from '../../../shared/issuers/withdraw-issuer.js';
import type { Issuer } from '../../../shared/issuers/issuer.js';
import {
  issueLicence,
  issueLicenceInput,
  type IssueLicenceDependencies,
  type IssuerKeyWithdrawnError,
} from '../../../shared/licence/issue-licence.js';
import type { LicenceRecord } from '../../../shared/licence/licence.js';
import { listIssuedLicences, listLicencesQuery } from '../../../shared/licence/read-licences.js';
import { reissueLicence } from '../../../shared/licence/reissue-licence.js';
import { InMemoryClientStore, InMemoryKeyManager } from '../../support/in-memory.js';
import { licenceWorld, type LicenceWorld } from '../../support/licence-world.js';
import { drivingLicenceBody, newIdNumber } from '../../support/licences.js';

/**
 * Review R61 F2 (docs/security.md "Review R61"): an issuance whose issuer key is withdrawn between its read
 * of the issuer and its write once answered 201 with a credential that no longer verified. The issuance now
 * reads the issuer again after its write (strongly consistent) and answers 409 `issuer_key_withdrawn`; the
 * licence stays as every licence of the withdrawn key does, listed by `GET /licences?keyWithdrawn=true`.
 * The withdrawal runs through its own use case and the stores, interleaved with the issuance's steps.
 */
describe('an issuance racing the withdrawal of the key it signs with (review R61 F2)', () => {
  let world: LicenceWorld;
  let issuer: Issuer;
  const operator = { clientId: 'demo-admin' };

  /** `POST /admin/issuers/{id}/keys {"previousKey":"withdraw"}`: a new current key, the old one withdrawn. */
  async function rotateWithdrawing(): Promise<void> {
    const keys = new InMemoryKeyManager();
    await keys.createSigningKey(); // `key-1` is the world's own issuer key: the rotation's is `key-2`
    await rotateIssuerKey(issuer.id, { previousKey: 'withdraw' }, operator, {
      issuers: world.issuers,
      operatorAudit: world.issuers.pendingAudit,
      keys,
      signerFor: (keyId) => keys.signers.get(keyId)!,
      audit: world.audit,
      clock: world.clock,
    });
    // The new key signs the issuances after it.
    world.signers.set('key-2', keys.signers.get('key-2')!);
  }

  /** The issuance's stores, with `step` run once right before its licence is written. */
  function racing(step: () => Promise<void>): IssueLicenceDependencies {
    let ran = false;
    return {
      ...world.issueDeps,
      licences: Object.assign(Object.create(world.licences) as typeof world.licences, {
        create: async (licence: LicenceRecord) => {
          if (!ran) {
            ran = true;
            await step();
          }
          return world.licences.create(licence);
        },
      }),
    };
  }

  const issue = (
    deps: IssueLicenceDependencies,
    idempotencyKey = randomUUID(),
    body = drivingLicenceBody(newIdNumber()),
  ) =>
    issueLicence(
      issueLicenceInput.parse(body),
      { issuerId: issuer.id, clientId: 'cl_issuer', idempotencyKey },
      deps,
    );

  const withdrawnListed = async () =>
    (
      await listIssuedLicences(listLicencesQuery.parse({ keyWithdrawn: 'true' }), issuer.id, {
        ...world.issueDeps,
        licences: world.licences,
      })
    ).items.map((item) => item.id);

  beforeEach(async () => {
    world = licenceWorld();
    issuer = await world.addIssuer();
  });

  it('answers 409 issuer_key_withdrawn, not 201, when the key is withdrawn between its read and the write', async () => {
    const key = randomUUID();
    const body = drivingLicenceBody(newIdNumber());
    const refusal = await issue(racing(rotateWithdrawing), key, body).catch((error: unknown) => error);
    expect(refusal).toMatchObject({ kind: 'conflict', code: 'issuer_key_withdrawn' });
    const written = await world.licences.get((refusal as IssuerKeyWithdrawnError).licenceId);
    expect(String((refusal as Error).message)).toContain(written!.id);
    // The problem names it in a member of its own (review R70 F2): a client re-issues it, sends nothing again.
    const answered = errorResult(refusal, 'req-1');
    expect(answered.statusCode).toBe(409);
    expect(JSON.parse(String(answered.body))).toMatchObject({
      code: 'issuer_key_withdrawn',
      licenceId: written!.id,
    });
    // The licence is left as the withdrawal leaves every licence its key signed: not published, and
    // listed by the compromise runbook's first step for re-issue.
    const after = (await world.issuers.findById(issuer.id))!;
    expect(credentialKeyPublished(written!.credential, issuerPublishedKeys(after))).toBe(false);
    expect(await withdrawnListed()).toEqual([written!.id]);
    // A retry under the same key is refused the same way, never answered with that credential.
    await expect(issue(world.issueDeps, key, body)).rejects.toMatchObject({ code: 'issuer_key_withdrawn' });
    expect(await withdrawnListed()).toEqual([written!.id]);
    // And the next issuance signs with the new key.
    const { licence } = await issue(world.issueDeps);
    expect(credentialKeyPublished(licence.credential, issuerPublishedKeys(after))).toBe(true);
  });

  it('answers 409 when the key is withdrawn while the credential is signed', async () => {
    let rotated = false;
    const deps: IssueLicenceDependencies = {
      ...world.issueDeps,
      signerFor: (keyId) => {
        const signer = world.issueDeps.signerFor(keyId);
        return Object.assign(Object.create(signer) as typeof signer, {
          sign: async (data: Uint8Array) => {
            if (!rotated) {
              rotated = true;
              await rotateWithdrawing();
            }
            return signer.sign(data);
          },
        });
      },
    };
    await expect(issue(deps)).rejects.toMatchObject({ code: 'issuer_key_withdrawn' });
    expect(await withdrawnListed()).toHaveLength(1);
  });

  it('answers 409 when the issuer itself is withdrawn between the read and the write', async () => {
    const clients = new InMemoryClientStore();
    const refusal = issue(
      racing(async () => {
        await withdrawIssuer(issuer.id, { reason: '机构撤并' }, operator, {
          issuers: world.issuers,
          operatorAudit: world.issuers.pendingAudit,
          audit: world.audit,
          clock: world.clock,
          clients,
        });
      }),
    );
    await expect(refusal).rejects.toMatchObject({ code: 'issuer_key_withdrawn' });
  });

  it('answers 201 when the withdrawal comes after the check: the licence is then listed with the key’s others', async () => {
    const { licence, created } = await issue(world.issueDeps);
    expect(created).toBe(true);
    await rotateWithdrawing();
    expect(await withdrawnListed()).toEqual([licence.id]);
  });

  it('refuses a re-issue whose replacement’s key is withdrawn while it is written, finishing the re-issue', async () => {
    const { licence: old } = await issue(world.issueDeps);
    const deps = { ...world.statusDeps, ...racing(rotateWithdrawing) };
    await expect(
      reissueLicence(old.id, { issuerId: issuer.id, clientId: 'cl_issuer' }, deps),
    ).rejects.toMatchObject({ code: 'issuer_key_withdrawn' });
    const replaced = (await world.licences.get(old.id))!;
    // Finished as any re-issue is (the old licence revoked, naming its replacement): the replacement is
    // then the licence the runbook lists and re-issues in turn; a retry is refused the same way.
    expect(replaced).toMatchObject({ status: 'revoked', replacedBy: expect.any(String) });
    expect(await withdrawnListed()).toContain(replaced.replacedBy);
    await expect(
      reissueLicence(
        old.id,
        { issuerId: issuer.id, clientId: 'cl_issuer' },
        { ...world.statusDeps, ...world.issueDeps },
      ),
    ).rejects.toMatchObject({ code: expect.stringMatching(/issuer_key_withdrawn|licence_reissued/) });
  });
});
