import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { credentialKeyPublished } from '../../../shared/issuers/credential-key.js';
import { issuerKeyHistory, publishedKeys } from '../../../shared/issuers/issuer-keys.js';
import { issueLicence, issueLicenceInput } from '../../../shared/licence/issue-licence.js';
import { listIssuedLicences, listLicencesQuery } from '../../../shared/licence/read-licences.js';
import { licenceWorld } from '../../support/licence-world.js';
import { drivingLicenceBody, newIdNumber } from '../../support/licences.js';
import { LocalSigner } from '../../support/local-signer.js';

/**
 * Review R61 F2, left open (docs/security.md "Review R61"): an issuance whose issuer key is withdrawn
 * between its read of the issuer and its write answers 201 with a credential that no longer verifies.
 * What stands meanwhile: that licence is one of those the compromise runbook re-issues, as a licence
 * issued a moment before the withdrawal is.
 */
describe('an issuance racing a rotation that withdraws the key it signs with (review R61 F2)', () => {
  it('leaves a licence that GET /licences?keyWithdrawn=true lists, for the runbook to re-issue', async () => {
    const world = licenceWorld();
    const issuer = await world.addIssuer();
    const deps = { ...world.issueDeps };
    let rotated = false;
    // The rotation (previousKey: withdraw) lands between the issuance's read of the issuer and its signature.
    deps.signerFor = (keyId) => {
      const signer = world.issueDeps.signerFor(keyId);
      return Object.assign(Object.create(signer) as typeof signer, {
        sign: async (data: Uint8Array) => {
          if (!rotated) {
            rotated = true;
            const current = (await world.issuers.findById(issuer.id))!;
            const next = { ...(await new LocalSigner().publicJwk()), kid: 'kid-new' };
            const now = new Date(world.clock.now()).toISOString();
            await world.issuers.save({
              ...current,
              keyId: 'key-new',
              kid: 'kid-new',
              publicJwk: next,
              keys: [
                ...issuerKeyHistory(current).map((key) => ({ ...key, withdrawnAt: now })),
                { kid: 'kid-new', keyId: 'key-new', publicJwk: next, createdAt: now },
              ],
            });
          }
          return signer.sign(data);
        },
      });
    };
    const { licence } = await issueLicence(
      issueLicenceInput.parse(drivingLicenceBody(newIdNumber())),
      { issuerId: issuer.id, clientId: 'cl_issuer', idempotencyKey: randomUUID() },
      deps,
    );
    const after = (await world.issuers.findById(issuer.id))!;
    // The race happened: the licence's credential is signed by a key no longer published.
    expect(credentialKeyPublished(licence.credential, { keys: publishedKeys(after), batchKeys: [] })).toBe(
      false,
    );
    // Found by the runbook's first step, with the licences the key signed before.
    const listed = await listIssuedLicences(listLicencesQuery.parse({ keyWithdrawn: 'true' }), issuer.id, {
      ...world.issueDeps,
      licences: world.licences,
    });
    expect(listed.items.map((item) => item.id)).toEqual([licence.id]);
  });
});
