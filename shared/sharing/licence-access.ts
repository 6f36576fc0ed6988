import * as z from 'zod';
import type { AssuranceLevel } from '../identity/assurance.js';
import { personalDataProblem } from '../identifiers/personal-data-in-text.js';
import { findLicenceType, licenceTypes, minAssuranceOf, type LicenceType } from '../licence/catalogue.js';
import { unreadableText, unreadableTextMessage } from '../unreadable-text.js';

/** The Rich Authorization Request type (RFC 9396) a platform asks with to read a person's licences. */
export const licenceAccessType = 'licence_access';

/** How long a share lasts when the platform states no wish, and the longest it may ask for. */
export const defaultAccessSeconds = 30 * 86_400;
export const maxAccessSeconds = 90 * 86_400;

/**
 * One `licence_access` authorization detail, as a platform sends it in `authorization_details`:
 *
 * ```json
 * { "type": "licence_access", "licence_types": ["driving-licence"], "purpose": "办理车辆登记",
 *   "actions": ["read"], "expires_at": "2026-04-01T00:00:00Z" }
 * ```
 *
 * `licence_types` are catalogue codes (1 to 8, each once), `purpose` the platform's own words that the
 * consent page shows, `actions` only `read`, and `expires_at` how long the platform wishes to keep the
 * access (at most {@link maxAccessSeconds}; {@link defaultAccessSeconds} without it). Any other member
 * is refused: what the person sees on the consent page must be all that the grant says. A purpose holding
 * a resident ID number or a mobile number is refused too, by {@link parseLicenceAccess} (not here: the
 * grants already made are read with this schema, and must keep reading).
 */
export const licenceAccessDetailSchema = z.strictObject({
  type: z.literal(licenceAccessType),
  licence_types: z
    .array(
      z
        .string()
        .max(64)
        .refine((code) => findLicenceType(code) !== undefined, 'not a licence type of /licence-types'),
    )
    .min(1)
    .max(8)
    .refine((codes) => new Set(codes).size === codes.length, 'each licence type only once'),
  // Shown to the person on the consent page: one line of text, no control or invisible formatting
  // characters (a bidi override or a newline could make it read as something the platform did not say).
  purpose: z
    .string()
    .trim()
    .min(1)
    .max(200)
    .refine((text) => !/[\p{Cc}\p{Cf}\u2028\u2029]/u.test(text), 'no control or formatting characters')
    .refine((text) => !unreadableText.test(text), unreadableTextMessage),
  actions: z.array(z.literal('read')).min(1).max(1).optional(),
  expires_at: z.iso.datetime({ offset: true }).optional(),
});
export type LicenceAccessDetail = z.output<typeof licenceAccessDetailSchema>;

/** A detail refused: `field` is the member at fault (`licence_types[0]`), `message` why. */
export class LicenceAccessProblem extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'LicenceAccessProblem';
  }
}

/**
 * Checks one `licence_access` detail (the provider's RAR `validate` hook calls this): the schema above,
 * a purpose without a resident ID number or a mobile number in it (it is shown to the person, kept in the
 * grant and in the audit trail: `purpose: personal_data_in_text: …`, never the number), and an expiry
 * wish in the future and within {@link maxAccessSeconds} of `now`.
 *
 * @example
 * ```ts
 * parseLicenceAccess({ type: 'licence_access', licence_types: ['driving-licence'], purpose: '办理车辆登记' }, new Date());
 * ```
 */
export function parseLicenceAccess(detail: unknown, now: Date): LicenceAccessDetail {
  const parsed = licenceAccessDetailSchema.safeParse(detail);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.reduce<string>(
      (path, part) =>
        typeof part === 'number' ? `${path}[${part}]` : path ? `${path}.${String(part)}` : String(part),
      '',
    );
    // A member this type does not have is named itself.
    const unknown = issue.code === 'unrecognized_keys' ? issue.keys[0] : undefined;
    throw new LicenceAccessProblem(unknown ?? (field || 'authorization_details'), issue.message);
  }
  const personal = personalDataProblem(parsed.data.purpose);
  if (personal) throw new LicenceAccessProblem('purpose', `${personal.code}: ${personal.message}`);
  if (parsed.data.expires_at !== undefined) {
    const seconds = (Date.parse(parsed.data.expires_at) - now.getTime()) / 1000;
    if (seconds <= 60) throw new LicenceAccessProblem('expires_at', 'must be in the future');
    if (seconds > maxAccessSeconds) {
      throw new LicenceAccessProblem('expires_at', `at most ${maxAccessSeconds / 86_400} days ahead`);
    }
  }
  return parsed.data;
}

/**
 * The `licence_access` details among authorization details already validated by the provider (a grant's
 * or a token's `rar`, or the request's parameter); other types are left out.
 */
export function licenceAccessDetails(details: unknown): LicenceAccessDetail[] {
  if (!Array.isArray(details)) return [];
  return details.flatMap((detail) => {
    const parsed = licenceAccessDetailSchema.safeParse(detail);
    return parsed.success ? [parsed.data] : [];
  });
}

/** The licence type codes the details grant, each once, in the catalogue's order. */
export function grantedLicenceTypes(details: readonly LicenceAccessDetail[]): string[] {
  const asked = new Set(details.flatMap((detail) => detail.licence_types));
  return licenceTypes.filter((type) => asked.has(type.code)).map((type) => type.code);
}

/**
 * The assurance level approving these details needs: the highest `minAssurance` of their licence types
 * (`licence-reader.ts` reads them at that level too), or 1 when nothing is asked.
 */
export function levelToShare(details: readonly LicenceAccessDetail[]): AssuranceLevel {
  const types = grantedLicenceTypes(details).map((code) => findLicenceType(code)!);
  return Math.max(1, ...types.map(minAssuranceOf)) as AssuranceLevel;
}

/**
 * How long access granted with these details lasts, in seconds from `now`: the earliest expiry the
 * platform wished for, or {@link defaultAccessSeconds}.
 */
export function accessSeconds(details: readonly LicenceAccessDetail[], now: Date): number {
  const wishes = details
    .map((detail) => detail.expires_at)
    .filter((at): at is string => at !== undefined)
    .map((at) => Math.floor((Date.parse(at) - now.getTime()) / 1000));
  const seconds = wishes.length > 0 ? Math.min(...wishes) : defaultAccessSeconds;
  return Math.max(60, Math.min(seconds, maxAccessSeconds));
}

/**
 * The fields a shared licence of this type hands the platform, as the catalogue names them (the stored
 * form: a sensitive field's masked form, never the clear number the issuer sent), besides the holder's
 * name and masked number, the issuer, the validity and the credential.
 */
export function sharedFieldNames(type: LicenceType): string[] {
  const schema = z.toJSONSchema(type.fields, { io: 'input' }) as { properties?: Record<string, unknown> };
  const sensitive = new Map(type.sensitiveFields.map((field) => [field.field, field.maskedAs]));
  return Object.keys(schema.properties ?? {}).map((name) => sensitive.get(name) ?? name);
}

/**
 * Whether a person acting for an enterprise may share these details: a licence type held by enterprises
 * only as the enterprise's legal representative, or as an agent whose appointment covers licences (its
 * `scope`); `right` undefined means they may not act for it (any more). Person types are the person's own.
 *
 * @example
 * ```ts
 * mayShareForEntity(details, { role: 'agent', scope: ['licences'] }); // true
 * ```
 */
export function mayShareForEntity(
  details: readonly LicenceAccessDetail[],
  right: { role: 'legal_representative' | 'agent'; scope?: readonly string[] } | undefined,
): boolean {
  const entityTypes = grantedLicenceTypes(details).some(
    (code) => findLicenceType(code)?.holderKind === 'entity',
  );
  if (!entityTypes) return true;
  return right?.role === 'legal_representative' || Boolean(right?.scope?.includes('licences'));
}
