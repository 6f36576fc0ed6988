import { createHash } from 'node:crypto';
import { compactVerify, createLocalJWKSet, type JWK } from 'jose';
import * as z from 'zod';
import type { Clock } from '../clock.js';
import { epochSeconds } from '../clock.js';
import { signCompactJws } from '../crypto/compact-jws.js';
import type { Signer } from '../crypto/signer.js';
import type { Issuer } from '../issuers/issuer.js';
import { credentialKeyPublished, type PublishedIssuerKeys } from '../issuers/credential-key.js';
import type { LicenceStatus } from './licence.js';
import { pdfLayouts, type PdfLayout } from './pdf-layouts.js';

/** The `typ` of a printable licence's signature: a JWS whose payload names the PDF by its SHA-256. */
export const licencePdfSignatureType = 'licence-pdf+jws';

/** The signature's payload. */
export const licencePdfClaimsSchema = z
  .object({
    iss: z.string().meta({
      description: 'Who signed: the platform (its base URL) or the licence’s issuer (`<base>/issuers/<id>`)',
    }),
    iat: z.number().int().meta({ description: 'When it was signed (seconds since the epoch)' }),
    licenceId: z.string(),
    issuer: z.object({ id: z.string(), name: z.string(), creditCode: z.string() }),
    layout: z.enum(pdfLayouts),
    sha256: z.string().meta({ description: 'base64url of the SHA-256 of the PDF file’s bytes' }),
    size: z.number().int().meta({ description: 'The PDF file’s length in bytes' }),
  })
  .meta({ title: 'LicencePdfClaims' });
export type LicencePdfClaims = z.output<typeof licencePdfClaimsSchema>;

const digest = (pdf: Uint8Array) => createHash('sha256').update(pdf).digest('base64url');

/**
 * The detached signature of a printable licence: a compact JWS (`typ: licence-pdf+jws`, ES256) whose
 * payload names the PDF by its SHA-256 and length and says which licence of which issuer in which layout
 * it is. The PDF itself is unchanged: the signature travels beside it. Signed by the presentation key where
 * the holder downloads it (the platform vouches for its rendering; never the platform key, which signs ID
 * tokens), by the issuer's key where the issuer does (docs/printable-licence.md).
 *
 * @example
 * ```ts
 * const jws = await signLicencePdf(pdf, { licenceId, issuer, layout: 'a4' }, { signer: presentationSigner, clock, iss });
 * ```
 */
export function signLicencePdf(
  pdf: Uint8Array,
  subject: { licenceId: string; issuer: Pick<Issuer, 'id' | 'name' | 'creditCode'>; layout: PdfLayout },
  deps: { signer: Signer; clock: Clock; iss: string },
): Promise<string> {
  const { id, name, creditCode } = subject.issuer;
  return signCompactJws(
    { typ: licencePdfSignatureType },
    {
      iss: deps.iss,
      iat: epochSeconds(deps.clock),
      licenceId: subject.licenceId,
      issuer: { id, name, creditCode },
      layout: subject.layout,
      sha256: digest(pdf),
      size: pdf.byteLength,
    } satisfies LicencePdfClaims,
    deps.signer,
  );
}

/** The largest PDF `POST /verify/pdf` takes: a printable licence is 30–60 KB. */
export const maxPdfBytes = 1024 * 1024;
/** Its JSON body: the PDF in base64 (4/3 of it) and a signature. */
export const maxPdfBodyBytes = Math.ceil(maxPdfBytes / 3) * 4 + 8 * 1024;

/** `POST /verify/pdf`: a printable licence's file (base64) and its detached signature. */
export const verifyPdfRequest = z
  .strictObject({
    pdf: z
      .base64()
      .max(Math.ceil(maxPdfBytes / 3) * 4)
      .meta({ description: 'The PDF file, base64' }),
    jws: z.string().min(1).max(4096).meta({ description: 'Its signature (`…/pdf.jws`), a compact JWS' }),
  })
  .meta({ title: 'VerifyPdfRequest' });

/** What checking a PDF against its signature found. */
export const pdfCheckSchema = z
  .discriminatedUnion('valid', [
    z.object({
      valid: z.literal(true),
      signedBy: z.enum(['platform', 'issuer']).meta({
        description:
          'platform: the platform’s presentation key (the trust list’s presentationKeys), or for a file signed before it a key of /.well-known/jwks.json; issuer: a key the trust list gives the issuer named',
      }),
      claims: licencePdfClaimsSchema,
      licenceStatus: z.enum(['valid', 'suspended', 'revoked', 'expired', 'unknown']).meta({
        description:
          '`valid: true` says only that the file is intact and signed; this is the licence’s status now, as POST /verify words it (unknown: the platform holds no such licence of that issuer). A file outlives any status change: accept the licence only when this is `valid` (or scan its QR code)',
      }),
    }),
    z.object({
      valid: z.literal(false),
      reason: z
        .enum([
          'bad_signature',
          'wrong_type',
          'not_this_file',
          'issuer_withdrawn',
          'issuer_not_listed',
          'key_withdrawn',
        ])
        .meta({
          description:
            'bad_signature: not a JWS the platform’s or the named issuer’s keys verify; wrong_type: another kind of token; not_this_file: the PDF differs from the one signed; issuer_withdrawn: the licence’s issuer has been withdrawn from the trust list (its QR code verifies `unknown_issuer` too); issuer_not_listed: the licence’s issuer is not on the trust list (not yet onboarded, or no such issuer), so nothing vouches for it (its QR code verifies `unknown_issuer` too); key_withdrawn: the issuer key that signed the licence’s credential (its QR code) has been withdrawn from the trust list after a compromise, so its QR code verifies `unknown_issuer` (`key_not_trusted`) until the issuer issues it again',
        }),
    }),
  ])
  .meta({ title: 'LicencePdfCheck' });
export type PdfCheck = z.output<typeof pdfCheckSchema>;

/** Whose keys may have signed a printable licence. */
export interface PdfSignatureAnchors {
  /**
   * The platform's own keys a holder's download may be signed with: the presentation keys (the trust
   * list's `presentationKeys`) and, for files signed before them, the platform keys of
   * `/.well-known/jwks.json`.
   */
  platformKeys(): Promise<readonly JWK[]>;
  /**
   * An issuer as the trust list gives it (its id, status and public keys); `undefined` for one it does
   * not list. A withdrawn issuer is listed (so that verdicts can say who it was) but trusts nothing.
   */
  issuer(
    issuerId: string,
  ): Promise<
    | ({ id: string; status: 'active' | 'withdrawn'; keys: readonly JWK[] } & Pick<
        PublishedIssuerKeys,
        'batchKeys'
      >)
    | undefined
  >;
  /**
   * The licence on record: its effective status now (expired past its `validUntil`) and its credential
   * (the text of its QR code, whose signing key must still be published); `undefined` when there is no
   * such licence of that issuer. Asked only once the file is found intact and signed.
   */
  licence(
    licenceId: string,
    issuerId: string,
  ): Promise<{ status: LicenceStatus; credential: string } | undefined>;
}

/**
 * Checks a PDF against its detached signature: the signature must verify (ES256 only) with a platform
 * key or a key of the issuer its payload names, be of type `licence-pdf+jws`, and name exactly these
 * bytes; and the licence's issuer must be on the trust list (`issuer_not_listed`) and not withdrawn
 * (`issuer_withdrawn`), nor the key that signed the licence's recorded
 * credential (whoever signed the file: the QR code of such a licence verifies `unknown_issuer`, and the
 * file must not say more than its QR code). Any other answer says why, never which byte.
 *
 * @example
 * ```ts
 * const check = await checkLicencePdf(pdf, jws, { platformKeys, issuer, licence });
 * if (check.valid && check.licenceStatus === 'valid') console.log(check.signedBy, check.claims.licenceId);
 * ```
 */
export async function checkLicencePdf(
  pdf: Uint8Array,
  jws: string,
  anchors: PdfSignatureAnchors,
): Promise<PdfCheck> {
  const named = unverifiedClaims(jws);
  if (!named) return { valid: false, reason: 'bad_signature' };
  const verifiedBy = async (keys: readonly JWK[]) => {
    if (keys.length === 0) return undefined;
    try {
      return await compactVerify(jws, createLocalJWKSet({ keys: [...keys] }), { algorithms: ['ES256'] });
    } catch {
      return undefined;
    }
  };
  let signedBy: 'platform' | 'issuer' = 'platform';
  let verified = await verifiedBy(await anchors.platformKeys());
  let signer: Awaited<ReturnType<PdfSignatureAnchors['issuer']>>;
  if (!verified) {
    // The issuer's keys are looked up only for the issuer the signed payload itself names.
    signedBy = 'issuer';
    signer = named.issuerId ? await anchors.issuer(named.issuerId) : undefined;
    verified = signer ? await verifiedBy(signer.keys) : undefined;
  }
  if (!verified) return { valid: false, reason: 'bad_signature' };
  if (verified.protectedHeader.typ !== licencePdfSignatureType) return { valid: false, reason: 'wrong_type' };
  let claims: LicencePdfClaims;
  try {
    claims = licencePdfClaimsSchema.parse(JSON.parse(new TextDecoder().decode(verified.payload)));
  } catch {
    return { valid: false, reason: 'wrong_type' };
  }
  // The keys that verified must be those of the issuer the signed payload names (the trust record's id).
  if (signedBy === 'issuer' && claims.issuer.id !== signer?.id)
    return { valid: false, reason: 'bad_signature' };
  if (claims.size !== pdf.byteLength || claims.sha256 !== digest(pdf)) {
    return { valid: false, reason: 'not_this_file' };
  }
  // A withdrawn issuer's licences are not vouched for, by its key or by the platform's rendering; nor
  // are those of an issuer the trust list does not list (one still provisioning, a record gone): their
  // QR codes verify `unknown_issuer` just the same, and the file must not say more (fail closed). The
  // reasons differ so that a clerk is not told an issuer was withdrawn that never stood.
  const issuer = signedBy === 'issuer' ? signer : await anchors.issuer(claims.issuer.id);
  if (!issuer) return { valid: false, reason: 'issuer_not_listed' };
  if (issuer.status !== 'active') return { valid: false, reason: 'issuer_withdrawn' };
  // The file is what was signed; whether the licence still holds is its record's to say (a PDF of a
  // licence revoked since still verifies as a file).
  const licence = await anchors.licence(claims.licenceId, claims.issuer.id);
  // Its QR code is the recorded credential: once the key that signed it is withdrawn (a compromise), that
  // code verifies `unknown_issuer`, and a fresh signature of the file (a new key's, the platform's) must
  // not vouch for more. The holder needs the licence issued again (docs/printable-licence.md).
  if (licence && !credentialKeyPublished(licence.credential, issuer)) {
    return { valid: false, reason: 'key_withdrawn' };
  }
  return { valid: true, signedBy, claims, licenceStatus: licence?.status ?? 'unknown' };
}

/** The issuer a compact JWS's payload names, read before its signature is checked (only to pick keys). */
function unverifiedClaims(jws: string): { issuerId?: string } | undefined {
  const parts = jws.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const payload = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as {
      issuer?: { id?: unknown };
    };
    const id = payload?.issuer?.id;
    return typeof id === 'string' && id.length > 0 && id.length <= 200 ? { issuerId: id } : {};
  } catch {
    return undefined;
  }
}
