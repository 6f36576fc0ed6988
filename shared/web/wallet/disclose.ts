import * as z from 'zod';
import { InvalidInputError } from '../../errors.js';
import type { HttpEvent } from '../../http/types.js';
import type { WalletLicence } from './holder-api.js';
import { disclosableFields } from './licence-format.js';

/**
 * How long a wallet QR lives: 120 s. Long enough to hold a phone up to a counter's scanner and for a
 * clerk to read the verdict, short enough that a photo of the screen is useless within minutes; the page
 * refreshes it before it runs out (the API allows 30–600 s, 300 by default).
 */
export const walletPresentationSeconds = 120;

/** The page script fetches a new QR this long before the current one expires. */
export const refreshLeadSeconds = 15;

const fieldName = z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,63}$/, 'is not a field name');

/** The choice of fields to show: field names only, each once, at most 50 (as the API bounds it). */
export const discloseList = z
  .array(fieldName)
  .max(50)
  .transform((names) => [...new Set(names)]);

/** The refresh endpoint's JSON body. */
export const refreshBody = z.strictObject({ disclose: discloseList.default([]) });

/** A `disclose` choice that is malformed or names a field this licence cannot show: a 400 page. */
export class InvalidDiscloseError extends InvalidInputError {
  constructor(errors: ReadonlyArray<{ path: string; message: string }>) {
    super(`Cannot show: ${errors.map((e) => e.message).join('; ')}`, 'invalid_disclose', { errors });
    this.name = 'InvalidDiscloseError';
  }
}

/**
 * The repeated `disclose` query parameters of the QR page (`?disclose=vehicleClass&disclose=…`), read from
 * the raw query string since API Gateway joins repeated parameters with commas.
 *
 * @example
 * ```ts
 * discloseFromQuery(event); // ['vehicleClass']
 * ```
 */
export function discloseFromQuery(event: HttpEvent): string[] {
  const values = new URLSearchParams(event.rawQueryString ?? '').getAll('disclose');
  const parsed = discloseList.safeParse(values);
  if (!parsed.success) {
    throw new InvalidDiscloseError(
      parsed.error.issues.map((issue) => ({
        path: ['disclose', ...issue.path].join('.'),
        message: issue.code === 'too_big' ? 'too many fields' : `${issue.message}`,
      })),
    );
  }
  return parsed.data;
}

/**
 * Checks the chosen fields against the licence before asking the API, so that the page can name the
 * field that cannot be shown.
 *
 * @example
 * ```ts
 * checkDisclose(licence, ['vehicleClass']); // passes
 * checkDisclose(licence, ['legalRepresentativeLookupKey']); // throws InvalidDiscloseError
 * ```
 */
export function checkDisclose(
  licence: Pick<WalletLicence, 'type' | 'fields'>,
  disclose: readonly string[],
): void {
  const allowed = disclosableFields(licence);
  const errors = disclose.flatMap((name, index) =>
    allowed.has(name) ? [] : [{ path: `disclose.${index}`, message: name }],
  );
  if (errors.length > 0) throw new InvalidDiscloseError(errors);
}
