/**
 * The service's side of the trust list: which issuers it names, built from the issuer store. Its format
 * (claims, types, the reader verifiers use) belongs to the verifier package, `packages/verifier/src/trust-list.ts`.
 *
 * @packageDocumentation
 */
import * as z from 'zod';
import { NotFoundError } from '../errors.js';
import type { IssuerStore } from '../issuers/issuer-store.js';
import { trustListIssuers } from '../issuers/trust-list-entries.js';
import { findLicenceType } from './catalogue.js';

// Built in the issuers' area, so that a peer's registration can weigh our list too (docs/peers.md).
export { trustListIssuers };

/** The media type it is served with, after its `typ` (RFC 7515 §4.1.9). */
export const trustListMediaType = 'application/trust-list+jwt';

/**
 * JSON with object members in code-point order at every level, so that equal content always has equal
 * text (and hash), whatever order its members were built or stored in.
 *
 * @example
 * ```ts
 * canonicalJson({ b: 1, a: [{ d: 2, c: 3 }] }); // '{"a":[{"c":3,"d":2}],"b":1}'
 * ```
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const members = Object.entries(value as Record<string, unknown>)
      .filter(([, member]) => member !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, member]) => `${JSON.stringify(key)}:${canonicalJson(member)}`);
    return `{${members.join(',')}}`;
  }
  return JSON.stringify(value);
}

const publicEcKey = z.object({
  kty: z.literal('EC'),
  crv: z.literal('P-256'),
  x: z.string(),
  y: z.string(),
  kid: z.string(),
  alg: z.literal('ES256').optional(),
  use: z.literal('sig').optional(),
});

/** What `GET /issuers/{id}` answers (for the OpenAPI document; {@link issuerMetadata} builds it). */
export const issuerMetadataSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    creditCode: z.string(),
    region: z.string(),
    status: z.enum(['active', 'withdrawn']),
    jwks: z.object({ keys: z.array(publicEcKey) }),
    licenceTypes: z.array(z.object({ code: z.string(), typeCode: z.string() })).optional(),
    batchKeys: z
      .array(
        z.object({
          kid: z.string(),
          jwk: publicEcKey,
          nbf: z.number().int().meta({ description: 'Start of its signing window (epoch seconds)' }),
          exp: z.number().int().meta({ description: 'End of its signing window (epoch seconds)' }),
          certificate: z.string().meta({
            description:
              'Compact JWS (typ batch-key+jwt) by one of the issuer’s keys over { iss, kid, jwk, nbf, exp }',
          }),
        }),
      )
      .optional()
      .meta({
        description: 'The certified batch keys of bulk issuance (docs/batch-issuance.md), public halves only',
      }),
  })
  .meta({
    title: 'IssuerMetadata',
    description:
      'An issuer as the trust list names it: the document a credential’s `iss` URL answers. Unsigned: trust its keys through the signed trust list',
  });

/**
 * `GET /issuers/{id}`, the document a credential's `iss` URL answers: the issuer as the trust list names
 * it (id, name, credit code, region, status, public keys, the licence types it may issue), nothing more.
 * A withdrawn issuer still answers, with `status: 'withdrawn'`, as it stays in the trust list: credentials
 * it signed before must still say who signed them. One still being onboarded, or unknown, is a 404.
 *
 * @example
 * ```ts
 * const metadata = await issuerMetadata('iss_8kq2', deps); // { id, name, creditCode, region, status, jwks, licenceTypes }
 * ```
 */
export async function issuerMetadata(
  id: string,
  deps: { issuers: Pick<IssuerStore, 'findById'> },
): Promise<z.output<typeof issuerMetadataSchema>> {
  const issuer = await deps.issuers.findById(id);
  const [entry] = issuer
    ? trustListIssuers([issuer], new Map(), (code) => findLicenceType(code)?.typeCode)
    : [];
  if (!entry) throw new NotFoundError(`No issuer ${id}`, 'issuer_not_found');
  // Member by member, typed by the schema the OpenAPI document serves (additionalProperties: false), so
  // a member the trust list gains is not answered here until the schema says it (batchKeys was, unsaid).
  const { name, creditCode, region, status, jwks, licenceTypes, batchKeys } = entry;
  return {
    id: entry.id,
    name,
    creditCode,
    region,
    status,
    jwks: jwks as z.output<typeof issuerMetadataSchema>['jwks'],
    ...(licenceTypes !== undefined && { licenceTypes }),
    ...(batchKeys !== undefined && {
      batchKeys: batchKeys as NonNullable<z.output<typeof issuerMetadataSchema>['batchKeys']>,
    }),
  };
}
