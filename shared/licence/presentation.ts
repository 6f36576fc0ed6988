/**
 * Presentations (亮证): the dynamic QR code a holder shows, signed by the presentation key (never the
 * platform key, which signs ID tokens: a holder API able to sign with it could mint an ID token for anyone;
 * docs/security.md). Verifiers take its public keys from the trust list's `presentationKeys`. Format and
 * size in `packages/verifier/src/presentation-format.ts`; verified by the same library as licence
 * credentials.
 *
 * @packageDocumentation
 */
import { parseListId } from './status-list-store.js';
import { randomBytes } from 'node:crypto';
import * as z from 'zod';
import type { AuditTrail } from '../audit/audit-trail.js';
import type { Clock } from '../clock.js';
import type { Signer } from '../crypto/signer.js';
import { ConflictError, InvalidInputError, NotFoundError, invalidRequest } from '../errors.js';
import { credentialKeyPublished, issuerPublishedKeys } from '../issuers/credential-key.js';
import type { IssuerStore } from '../issuers/issuer-store.js';
import { logger } from '../logger.js';
import { base64urlEncode } from '../../packages/verifier/src/base64url.js';
import {
  presentationIdLength,
  presentationLifetime,
  signPresentation,
  type PresentationClaims,
} from '../../packages/verifier/src/presentation-format.js';
import { acrOf } from '../identity/assurance.js';
import { findLicenceType, lookupKeyFields, minAssuranceOf } from './catalogue.js';
import {
  InsufficientAssuranceError,
  readerMay,
  requireLevelForLicenceId,
  type LicenceReader,
} from './licence-reader.js';
import type { LicenceStore } from './licence-store.js';

/** A presentation lives five minutes unless the holder asks otherwise (30 s to 10 min). */
export const DEFAULT_PRESENTATION_TTL_SECONDS = 300;

/** `POST /me/licences/{id}/presentations` (API.md): which fields to show, and for how long. */
export const createPresentationInput = z.strictObject({
  disclose: z
    .array(z.string().min(1).max(64))
    .max(50)
    .default([])
    .transform((names) => [...new Set(names)]),
  ttlSeconds: z
    .int()
    .min(presentationLifetime.min)
    .max(presentationLifetime.max)
    .default(DEFAULT_PRESENTATION_TTL_SECONDS),
});
export type CreatePresentationInput = z.input<typeof createPresentationInput>;

export interface CreatePresentationDependencies {
  licences: Pick<LicenceStore, 'get'>;
  /** The licence's issuer: only an active one's licences, signed by a key still published, are presented. */
  issuers: Pick<IssuerStore, 'findById'>;
  /** The presentation key (`PRESENTATION_KEY_ID`), whose public keys the trust list names. */
  presentationSigner: Signer;
  audit: AuditTrail;
  clock: Clock;
  /** Random bytes for the unique id; `crypto.randomBytes` unless a test fixes them. */
  randomBytes?: (size: number) => Uint8Array;
}

/** Who presents: a {@link LicenceReader} (whose licences, at what assurance level). */
export interface PresentationContext extends LicenceReader {
  /** Who asked (the account or client), for the audit trail. */
  actor: string;
  requestId?: string;
}

/** What `POST /me/licences/{id}/presentations` answers ({@link presentationAnswer}). */
export const presentationAnswerSchema = z
  .object({
    token: z.string().meta({ description: 'The QR text, `EL1:…`; what `POST /verify` takes as `qr`' }),
    qr: z.object({ text: z.string(), svg: z.string().meta({ description: 'The QR code as SVG' }) }),
    expiresAt: z.string().meta({ description: 'RFC 3339' }),
  })
  .meta({
    title: 'Presentation',
    examples: [
      {
        token: 'EL1:6BFOXN*TS0BI$ZD.P9UOL97O4-2HH77HRM3HSZ4PZH-SBQJ0',
        qr: {
          text: 'EL1:6BFOXN*TS0BI$ZD.P9UOL97O4-2HH77HRM3HSZ4PZH-SBQJ0',
          svg: '<svg xmlns="http://www.w3.org/2000/svg" …/>',
        },
        expiresAt: '2026-03-01T09:35:00.000Z',
      },
    ],
  });

/**
 * The answer to a presentation request: the token, its QR code (`svg`, rendered by the caller's
 * `renderQrSvg`) and when it expires.
 *
 * @example
 * ```ts
 * json(201, presentationAnswer(presentation, await renderQrSvg(presentation.token)));
 * ```
 */
export function presentationAnswer(
  presentation: Pick<CreatedPresentation, 'token' | 'expiresAt'>,
  svg: string,
): z.output<typeof presentationAnswerSchema> {
  return {
    token: presentation.token,
    qr: { text: presentation.token, svg },
    expiresAt: presentation.expiresAt,
  };
}

export interface CreatedPresentation {
  /** The QR text, `EL1:…` (alphanumeric mode); also what `POST /verify` takes as `qr`. */
  token: string;
  /** The unique id (base64url of 12 random bytes). */
  id: string;
  issuedAt: string;
  expiresAt: string;
  /** The fields it shows. */
  disclosed: string[];
}

/**
 * Makes a presentation of one of the caller's licences: signed by the presentation key (one KMS signature),
 * valid for `ttlSeconds` (30–600, default 300), with a random 96-bit unique id, the licence's status now,
 * the masked holder number, and only the fields named in `disclose` (none unless asked). A field the
 * licence does not carry, or a lookup key, is a 400 `field_not_disclosable`; a licence of a type that needs
 * a higher assurance level than the caller's is a 403 `insufficient_assurance`; a licence the caller does
 * not hold is a 404, as if it did not exist. Any status may be presented: a suspended or revoked licence
 * shows as such to the verifier. But a licence whose issuer is not active is a 409 `issuer_withdrawn`,
 * and one whose credential was signed by an issuer key withdrawn since (a compromise) a 409
 * `key_withdrawn`: such a key vouches for nothing (its QR code verifies `unknown_issuer`), so neither
 * does a presentation of what it signed, until the issuer issues the licence again. Audited as `licence.presented`, written before the token is answered:
 * an entry that cannot be written fails the request, and the token is never shown.
 *
 * @example
 * ```ts
 * const { token, expiresAt } = await createPresentation(
 *   licenceId,
 *   { disclose: ['vehicleClass'], ttlSeconds: 120 },
 *   { ...(await licenceReader(subject, caller, deps)), actor: caller.accountId },
 *   deps,
 * );
 * const svg = await renderQrSvg(token);
 * ```
 */
export async function createPresentation(
  licenceId: string,
  input: CreatePresentationInput,
  context: PresentationContext,
  deps: CreatePresentationDependencies,
): Promise<CreatedPresentation> {
  const { disclose, ttlSeconds } = parseInput(input);
  requireLevelForLicenceId(context, licenceId);
  const licence = await deps.licences.get(licenceId);
  const may = licence ? readerMay(context, licence) : 'not_holder';
  if (!licence || may === 'not_holder') {
    throw new NotFoundError(`No licence ${licenceId} of this holder`, 'licence_not_found');
  }
  if (may === 'insufficient_assurance') {
    throw new InsufficientAssuranceError(acrOf(minAssuranceOf(findLicenceType(licence.type) ?? {})));
  }
  // The platform signs for the licence only where its credential still verifies (R32 M2): an active
  // issuer, and a key the trust list still publishes for it (as cachedPdfSignature refuses a PDF's).
  const issuer = await deps.issuers.findById(licence.issuerId);
  if (issuer?.status !== 'active') {
    throw new ConflictError(
      `The licence's issuer ${licence.issuerId} is ${issuer?.status ?? 'not listed'}: it is not presented`,
      'issuer_withdrawn',
    );
  }
  if (!credentialKeyPublished(licence.credential, issuerPublishedKeys(issuer))) {
    throw new ConflictError(
      `The key that signed licence ${licence.id} was withdrawn: it is not presented until it is issued again`,
      'key_withdrawn',
    );
  }
  const hidden = lookupKeyFields(findLicenceType(licence.type));
  const errors = disclose.flatMap((name, index) =>
    Object.hasOwn(licence.fields, name) && !hidden.has(name)
      ? []
      : [{ path: `disclose.${index}`, message: `${licence.type} ${licenceId} has no field ${name} to show` }],
  );
  if (errors.length > 0) {
    throw new InvalidInputError(errors.map((error) => error.message).join('; '), 'field_not_disclosable', {
      errors,
    });
  }

  // The audit entry keeps the milliseconds the token's whole seconds drop: the usage record (用证记录) orders
  // a presentation among the verifications around it by this time.
  const now = deps.clock.now();
  const issuedAt = Math.floor(now / 1000);
  const expiresAt = issuedAt + ttlSeconds;
  const claims: PresentationClaims = {
    id: base64urlEncode((deps.randomBytes ?? randomBytes)(presentationIdLength)),
    issuedAt,
    expiresAt,
    licence: {
      id: licence.id,
      type: licence.type,
      holder: { kind: licence.holder.kind, name: licence.holder.name, masked: licence.holder.masked },
      status: licence.status,
      validFrom: Math.floor(Date.parse(licence.validFrom) / 1000),
      ...(licence.validUntil ? { validUntil: Math.floor(Date.parse(licence.validUntil) / 1000) } : {}),
      fields: Object.fromEntries(disclose.map((name) => [name, licence.fields[name]])),
      ...statusEntry(licence.statusList),
    },
  };
  const token = await signPresentation(claims, deps.presentationSigner);
  const at = new Date(issuedAt * 1000).toISOString();
  // A disclosure, as a licence read is (nothing is stored but this entry): the token is answered only
  // once its entry is written, never without it (fail closed; docs/architecture.md, "Every change and
  // disclosure leaves a trace"). A failed write is a 5xx (the alarm's line, as a verification's) and the
  // token, signed, is dropped unseen.
  const entry = {
    at: new Date(now).toISOString(),
    actor: context.actor,
    action: 'licence.presented',
    licenceId: licence.id,
    licenceType: licence.type,
    issuerId: licence.issuerId,
    holderKey: licence.holder.lookupKey,
    requestId: context.requestId,
    reason: `presentation ${claims.id}, ${ttlSeconds} s, fields: ${disclose.join(',') || 'none'}`,
  };
  await deps.audit.record(entry).catch((error: unknown) => {
    logger.error('audit entry not written: no presentation is given', { licenceId, error: String(error) });
    throw error;
  });
  return {
    token,
    id: claims.id,
    issuedAt: at,
    expiresAt: new Date(expiresAt * 1000).toISOString(),
    disclosed: disclose,
  };
}

function parseInput(input: CreatePresentationInput) {
  const parsed = createPresentationInput.safeParse(input);
  if (parsed.success) return parsed.data;
  const errors = parsed.error.issues.map((issue) => ({
    path: issue.path.length > 0 ? issue.path.join('.') : '(body)',
    message: issue.message,
  }));
  throw invalidRequest(errors);
}

/** The licence's status list entry as a presentation carries it: the list's number under its issuer. */
function statusEntry(entry: { listId: string; idx: number }): { statusList?: { list: number; idx: number } } {
  const parsed = parseListId(entry.listId);
  return parsed ? { statusList: { list: parsed.list, idx: entry.idx } } : {};
}
