import { describe, expect, it } from 'vitest';
import { signCompactJws } from '../../../shared/crypto/compact-jws.js';
import {
  checkLicencePdf,
  signLicencePdf,
  type PdfSignatureAnchors,
} from '../../../shared/licence/licence-pdf-signature.js';
import { TestClock } from '../../support/in-memory-identity.js';
import { LocalSigner } from '../../support/local-signer.js';

/**
 * `checkLicencePdf` over its ports: a file the platform signed, checked against what the trust list says
 * of the licence's issuer now. Whatever its QR code would verify as `unknown_issuer`, the file must not
 * vouch for.
 */

const issuer = { id: 'iss_pdfcheck', name: '测试发证机关', creditCode: '11100000000000000X' };
const pdf = new TextEncoder().encode('%PDF-1.7 a printable licence');

async function world() {
  const platform = new LocalSigner();
  const issuerKey = new LocalSigner();
  const clock = new TestClock();
  const jws = await signLicencePdf(
    pdf,
    { licenceId: 'lic_1', issuer, layout: 'a4' },
    { signer: platform, clock, iss: 'https://elicence.example' },
  );
  // The licence's credential (its QR code), signed by the issuer's key: only its `kid` is read here.
  const credential = await signCompactJws({ typ: 'vc+jwt' }, { sub: 'lic_1' }, issuerKey);
  const anchors = (trusted: Awaited<ReturnType<PdfSignatureAnchors['issuer']>>): PdfSignatureAnchors => ({
    platformKeys: async () => [await platform.publicJwk()],
    issuer: async (id) => (id === issuer.id ? trusted : undefined),
    licence: async (id, issuerId) =>
      id === 'lic_1' && issuerId === issuer.id ? { status: 'valid', credential } : undefined,
  });
  return { jws, anchors, issuerKey: await issuerKey.publicJwk() };
}

describe('checkLicencePdf', () => {
  it('vouches for a licence of an active issuer whose credential key is published', async () => {
    const { jws, anchors, issuerKey } = await world();
    const check = await checkLicencePdf(
      pdf,
      jws,
      anchors({ id: issuer.id, status: 'active', keys: [issuerKey] }),
    );
    expect(check).toMatchObject({ valid: true, signedBy: 'platform', licenceStatus: 'valid' });
  });

  it('answers issuer_not_listed when the trust list does not list the issuer (provisioning, or no record)', async () => {
    // storeTrust gives `undefined` for a provisioning issuer and for one with no record: its QR code
    // verifies `unknown_issuer`, and the platform's signature of the file must not say more (fail
    // closed), but it was never withdrawn, and a clerk reading the reason must not be told it was.
    const { jws, anchors } = await world();
    expect(await checkLicencePdf(pdf, jws, anchors(undefined))).toEqual({
      valid: false,
      reason: 'issuer_not_listed',
    });
  });

  it('answers issuer_withdrawn for a withdrawn issuer, key_withdrawn for a withdrawn credential key', async () => {
    const { jws, anchors, issuerKey } = await world();
    expect(
      await checkLicencePdf(pdf, jws, anchors({ id: issuer.id, status: 'withdrawn', keys: [issuerKey] })),
    ).toEqual({ valid: false, reason: 'issuer_withdrawn' });
    expect(await checkLicencePdf(pdf, jws, anchors({ id: issuer.id, status: 'active', keys: [] }))).toEqual({
      valid: false,
      reason: 'key_withdrawn',
    });
  });
});
