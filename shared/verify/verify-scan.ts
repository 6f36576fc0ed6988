/**
 * `POST /verify` (API.md), the use case: the verdict on what a scanner read, with live statuses, the
 * disclosure the caller is entitled to, and one audit entry.
 *
 * @packageDocumentation
 */
import * as z from 'zod';
import type { AuditTrail } from '../audit/audit-trail.js';
import type { Clock } from '../clock.js';
import type { Signer } from '../crypto/signer.js';
import type { IssuerStore } from '../issuers/issuer-store.js';
import { findLicenceType } from '../licence/catalogue.js';
import type { LicenceStore } from '../licence/licence-store.js';
import { logger } from '../logger.js';
import { createNodeVerifier } from './node.js';
import { recordStatus, storeTrust } from './online.js';
import type { VerificationResult } from './verdict.js';
import type { Verifier } from './verifier.js';

/** The body of `POST /verify`; the text is bounded by the verifier itself (a longer scan is `malformed`). */
export const verifyRequest = z.strictObject({ qr: z.string() });

/** Largest `POST /verify` body: a scan is at most 4 KiB, so 16 KiB leaves room for JSON escapes. */
export const maxVerifyBodyBytes = 16 * 1024;

export interface VerifyScanDependencies {
  issuers: Pick<IssuerStore, 'findById' | 'findByCreditCode'>;
  licences: Pick<LicenceStore, 'get'>;
  platformSigner: Pick<Signer, 'publicJwk'>;
  platformPreviousSigners: ReadonlyArray<Pick<Signer, 'publicJwk'>>;
  audit: AuditTrail;
  clock: Clock;
}

/** Who asked: a verifier client (scope `licences:verify`) sees the disclosed fields; anyone else does not. */
export interface VerifyCaller {
  clientId: string;
}

export interface VerifyResponse {
  verdict: VerificationResult['verdict'];
  /** The stable reason behind the verdict (see `shared/verify/verdict.ts`). */
  reason: VerificationResult['reason'];
  format?: VerificationResult['format'];
  checkedAt: string;
  licence?: {
    id: string;
    type: string;
    holder: { kind: 'person' | 'entity'; name: string; masked: string };
    fields?: Record<string, unknown>;
    validFrom: string;
    validUntil?: string;
  };
  issuer?: { id: string; name: string; creditCode: string };
}

/**
 * A person's name as anonymous callers see it: the first character and, for names of three characters
 * or more, the last, the rest starred (`王小明` → `王*明`, `李四` → `李*`). Entity names are public.
 *
 * @example
 * ```ts
 * maskPersonName('欧阳小明'); // '欧**明'
 * ```
 */
export function maskPersonName(name: string): string {
  const chars = Array.from(name);
  if (chars.length <= 1) return '*';
  if (chars.length === 2) return `${chars[0]}*`;
  return `${chars[0]}${'*'.repeat(chars.length - 2)}${chars.at(-1)}`;
}

/** Fields a verifier client may see: all the token discloses except lookup keys (pseudonyms, not data). */
function visibleFields(type: string, fields: Record<string, unknown>): Record<string, unknown> {
  const hidden = new Set(findLicenceType(type)?.sensitiveFields.map((field) => field.lookupKeyAs) ?? []);
  return Object.fromEntries(Object.entries(fields).filter(([name]) => !hidden.has(name)));
}

/** One verifier per set of dependencies: its imported keys are kept across requests. */
const verifiers = new WeakMap<VerifyScanDependencies, Verifier>();

function verifierFor(deps: VerifyScanDependencies): Verifier {
  let verifier = verifiers.get(deps);
  if (!verifier) {
    verifier = createNodeVerifier({
      trust: storeTrust(deps),
      status: recordStatus(deps.licences),
      clock: () => deps.clock.now(),
    });
    verifiers.set(deps, verifier);
  }
  return verifier;
}

/**
 * Verifies a scan online: signature and trust as the library does, the status from the licence record
 * (so a revocation counts at once, for credentials and presentations alike), then what the caller may
 * see: anonymous callers the type, issuer, masked holder, validity and verdict; verifier clients the
 * holder's name and the disclosed fields too. Audited as `licence.verified` with the caller, the licence
 * (only when its signature verified: anything else is a claim nobody made), the verdict and the time, and
 * nothing about the holder.
 *
 * @example
 * ```ts
 * const answer = await verifyScan(body.qr, caller, { requestId }, deps); // { verdict: 'valid', … }
 * ```
 */
export async function verifyScan(
  qr: string,
  caller: VerifyCaller | undefined,
  context: { requestId?: string },
  deps: VerifyScanDependencies,
): Promise<VerifyResponse> {
  const result = await verifierFor(deps).verify(qr);
  const response: VerifyResponse = {
    verdict: result.verdict,
    reason: result.reason,
    ...(result.format ? { format: result.format } : {}),
    checkedAt: result.checkedAt,
  };
  const { licence, issuer } = result;
  if (licence) {
    const holder = licence.holder;
    response.licence = {
      id: licence.id,
      type: licence.type,
      holder: {
        kind: holder.kind,
        name: caller || holder.kind === 'entity' ? holder.name : maskPersonName(holder.name),
        masked: holder.masked,
      },
      ...(caller ? { fields: visibleFields(licence.type, licence.fields) } : {}),
      validFrom: licence.validFrom,
      ...(licence.validUntil ? { validUntil: licence.validUntil } : {}),
    };
  }
  if (issuer) response.issuer = { id: issuer.id, name: issuer.name, creditCode: issuer.creditCode };

  await deps.audit
    .record({
      at: result.checkedAt,
      actor: caller?.clientId ?? 'anonymous',
      action: 'licence.verified',
      ...(licence ? { licenceId: licence.id } : {}),
      ...(issuer ? { issuerId: issuer.id } : {}),
      verdict: result.verdict,
      reason: result.reason,
      requestId: context.requestId,
    })
    .catch((error: unknown) => logger.error('audit entry not written', { error: String(error) }));
  return response;
}
