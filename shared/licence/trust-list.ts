import type { JWK } from 'jose';
import * as z from 'zod';
import type { Issuer } from '../issuers/issuer.js';
import { publishedKeys } from '../issuers/issuer-keys.js';

/** The JOSE `typ` of the trust list. */
export const trustListTokenType = 'trust-list+jwt';
/** The media type it is served with, after its `typ` (RFC 7515 §4.1.9). */
export const trustListMediaType = 'application/trust-list+jwt';

const publicJwk = z.object({
  kty: z.literal('EC'),
  crv: z.literal('P-256'),
  x: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  y: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  kid: z.string().min(1),
  alg: z.literal('ES256').optional(),
  use: z.literal('sig').optional(),
});

/** One issuer as the trust list names it: who it is, whether it may still issue, and its public keys. */
export const trustListIssuer = z.object({
  id: z.string().min(1),
  name: z.string(),
  creditCode: z.string(),
  region: z.string(),
  status: z.enum(['active', 'withdrawn']),
  jwks: z.object({ keys: z.array(publicJwk).min(1) }),
  /**
   * The licence types it may issue, each with the three-digit type code its licence ids carry
   * (`1.2.156.3005.2.<typeCode>.<creditCode>.…`): an offline verifier refuses a credential of any other
   * type, or whose id names another type code or another credit code than the signer's. Absent from lists
   * signed before it was published: a verifier then accepts no licence of that issuer (fail closed).
   */
  licenceTypes: z
    .array(z.object({ code: z.string().min(1).max(64), typeCode: z.string().regex(/^\d{3}$/) }))
    .max(200)
    .optional(),
  /**
   * How many status lists an active issuer has (`<id>.0` to `<id>.<n-1>`), so that a verifier fetches
   * exactly those. Absent from lists signed before it was published: then a verifier probes to a 404.
   */
  statusLists: z.number().int().min(0).max(10_000).optional(),
});
export type TrustListIssuer = z.output<typeof trustListIssuer>;

/**
 * The trust list's claims, for verifiers to check after the signature (`jwtVerify` with the platform JWKS
 * and `typ: 'trust-list+jwt'`): private members of a JWK are refused, as is any key but ES256 on P-256.
 *
 * @example
 * ```ts
 * const { payload } = await jwtVerify(token, platformJwks, { typ: 'trust-list+jwt', algorithms: ['ES256'] });
 * const trustList = trustListPayload.parse(payload);
 * ```
 */
export const trustListPayload = z.object({
  iss: z.string(),
  iat: z.number().int(),
  exp: z.number().int(),
  ttl: z.number().int().positive(),
  issuers: z.array(trustListIssuer),
});
export type TrustListPayload = z.output<typeof trustListPayload>;

/** The public members of an issuer key, in a fixed order whatever order the store returned them in. */
function publicMembers(jwk: JWK): TrustListIssuer['jwks']['keys'][number] {
  return {
    kty: 'EC',
    crv: 'P-256',
    x: String(jwk.x),
    y: String(jwk.y),
    kid: String(jwk.kid),
    alg: 'ES256',
    use: 'sig',
  };
}

/**
 * The issuers a trust list names, sorted by id: every issuer that finished onboarding, the withdrawn ones
 * included (verdicts on what they issued must still be explainable), never one still `provisioning` or
 * without a key. Each with every key whose licences may still be valid: its current key and those
 * rotated out, not those withdrawn (`issuers/issuer-keys.ts`). Only public key members are copied. An
 * active issuer whose count is in `statusListCounts` also says how many status lists it has. Each says
 * the licence types it may issue with their type codes, from `typeCodeOf` (the catalogue, given by the
 * caller so that verifiers importing this module do not load it); a type without a code is left out, so
 * a verifier refuses its licences rather than guess.
 *
 * @example
 * ```ts
 * const entries = trustListIssuers(await issuers.listAll(), counts, (code) => findLicenceType(code)?.typeCode);
 * ```
 */
export function trustListIssuers(
  issuers: readonly Issuer[],
  statusListCounts: ReadonlyMap<string, number> = new Map(),
  typeCodeOf: (code: string) => string | undefined = () => undefined,
): TrustListIssuer[] {
  return issuers
    .filter(
      (issuer): issuer is Issuer & { status: 'active' | 'withdrawn'; publicJwk: JWK } =>
        issuer.status !== 'provisioning' && issuer.publicJwk !== undefined,
    )
    .map((issuer) => {
      const statusLists = issuer.status === 'active' ? statusListCounts.get(issuer.id) : undefined;
      return {
        id: issuer.id,
        name: issuer.name,
        creditCode: issuer.creditCode,
        region: issuer.region,
        status: issuer.status,
        jwks: { keys: publishedKeys(issuer).map(publicMembers) },
        licenceTypes: issuer.licenceTypes.flatMap((code) => {
          const typeCode = typeCodeOf(code);
          return typeCode === undefined ? [] : [{ code, typeCode }];
        }),
        ...(statusLists !== undefined && { statusLists }),
      };
    })
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

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
