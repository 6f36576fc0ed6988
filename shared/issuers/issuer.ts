import type { JWK } from 'jose';
import * as z from 'zod';

/**
 * One signing key an issuer has had. The current key is also `Issuer.keyId`/`kid`/`publicJwk`; a key
 * rotated out keeps being published (its licences stay verifiable) until it is withdrawn.
 */
export interface IssuerKey {
  kid: string;
  /** KMS key id. */
  keyId: string;
  publicJwk: JWK;
  createdAt: string;
  /** When it stopped signing (a newer key took over). */
  retiredAt?: string;
  /** When it left the trust list (compromise): what it signed then verifies as `unknown_issuer`. */
  withdrawnAt?: string;
}

/**
 * A batch key as stored on its issuer (public half only: the private key lives in one container's memory
 * for at most its window, and is never stored).
 */
export interface IssuerBatchKey {
  kid: string;
  publicJwk: JWK;
  /** The window (epoch seconds) of the `iat` of every credential it may sign. */
  nbf: number;
  exp: number;
  /** `batch-key+jwt` by the issuer's KMS key over `{ iss, kid, jwk, nbf, exp }`. */
  certificate: string;
}

/**
 * An issuing agency (发证机关). `provisioning` while its key and OAuth client are being created; `active`
 * once it may issue; `withdrawn` when it may no longer (it stays in the trust list so old verdicts can be
 * explained).
 */
export interface Issuer {
  id: string;
  name: string;
  creditCode: string;
  /** Six-digit administrative division code (GB/T 2260) of the agency's jurisdiction. */
  region: string;
  /**
   * Division codes (GB/T 2260) whose holders it may issue regional licence types to (`jurisdiction.ts`);
   * its `region` alone when absent (issuers onboarded before jurisdictions existed).
   */
  jurisdiction?: string[];
  licenceTypes: string[];
  status: 'provisioning' | 'active' | 'withdrawn';
  /** KMS key id of the issuer's own signing key. */
  keyId?: string;
  /** RFC 7638 thumbprint of that key's public JWK. */
  kid?: string;
  /** The public half of that key, as published in the trust list (no KMS call to list issuers). */
  publicJwk?: JWK;
  /**
   * Every key it has had, the current one included, once a key was rotated (`shared/issuers/issuer-keys.ts`
   * reads an issuer without it as having only its current key).
   */
  keys?: IssuerKey[];
  /**
   * A key rotation under way (`shared/issuers/rotate-issuer-key.ts`): the lock that lets exactly one of
   * concurrent rotations create a key, and the alias that key gets.
   */
  rotation?: { startedAt: string; alias: string };
  /**
   * Batch keys its KMS key certified for bulk issuance (`shared/licence/batch-signer.ts`,
   * docs/batch-issuance.md): published in the trust list with their certificates; one removed from here
   * (withdrawn) leaves the trust list, and what it signed verifies as `unknown_issuer`.
   */
  batchKeys?: IssuerBatchKey[];
  /** When it was withdrawn, and why. */
  withdrawnAt?: string;
  withdrawalReason?: string;
  clientId?: string;
  createdAt: string;
  version: number;
}

/**
 * The members of an issuer listed with every other (`IssuerStore.listAll`): what the trust list publishes
 * (the current key as `issuer-keys.ts` reads it) and the peers' checks compare, without its OAuth client,
 * key rotation lock, withdrawal reason or version. The public functions that list issuers may read no more
 * of the index (`shared/adapters/dynamo/projections.ts`).
 */
export const issuerListingMembers = [
  'id',
  'name',
  'creditCode',
  'region',
  'status',
  'licenceTypes',
  'keyId',
  'kid',
  'publicJwk',
  'keys',
  'batchKeys',
  'createdAt',
] as const satisfies ReadonlyArray<keyof Issuer>;

/** An issuer as listed: {@link issuerListingMembers} only. */
export type IssuerListing = Pick<Issuer, (typeof issuerListingMembers)[number]>;

/**
 * `issuer` as listed (the members it has of {@link issuerListingMembers}).
 *
 * @example
 * ```ts
 * issuerListing(issuer).clientId; // does not compile: not listed
 * ```
 */
export function issuerListing(issuer: Issuer): IssuerListing {
  return Object.fromEntries(
    issuerListingMembers.filter((member) => issuer[member] !== undefined).map((m) => [m, issuer[m]]),
  ) as IssuerListing;
}

const publicJwkSchema = z
  .looseObject({ kty: z.string().optional() })
  .meta({ description: 'The public key (JWK); its RFC 7638 thumbprint is `kid`' });

/**
 * The issuer as the admin API answers it, without KMS key ids (an internal detail): {@link issuerView}
 * builds it and is typed by it; the OpenAPI document publishes it.
 */
export const issuerViewSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    creditCode: z.string(),
    region: z.string().meta({ description: 'GB/T 2260 division code of its jurisdiction' }),
    jurisdiction: z.array(z.string()).optional(),
    licenceTypes: z.array(z.string()),
    status: z.enum(['provisioning', 'active', 'withdrawn']),
    kid: z.string().optional(),
    publicJwk: publicJwkSchema.optional(),
    keys: z
      .array(
        z.object({
          kid: z.string(),
          publicJwk: publicJwkSchema,
          createdAt: z.string(),
          retiredAt: z.string().optional(),
          withdrawnAt: z.string().optional(),
        }),
      )
      .optional()
      .meta({ description: 'Every key it has had, once a key was rotated' }),
    withdrawnAt: z.string().optional(),
    withdrawalReason: z.string().optional(),
    clientId: z.string().optional().meta({ description: 'Its OAuth client (client credentials)' }),
    createdAt: z.string(),
  })
  .meta({
    title: 'Issuer',
    examples: [
      {
        id: 'iss_3kq9x',
        name: '北京市公安局公安交通管理局',
        creditCode: '11110000000021135M',
        region: '110000',
        licenceTypes: ['driving-licence'],
        status: 'active',
        kid: 'cW8pXk2D0u7mQ3oRZbHq1l9sJm8nVt4eXyAa5Bc6Dd0',
        publicJwk: {
          kty: 'EC',
          crv: 'P-256',
          x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU',
          y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0',
        },
        clientId: 'iss_3kq9x',
        createdAt: '2026-01-05T08:00:00.000Z',
      },
    ],
  });
export type IssuerView = z.output<typeof issuerViewSchema>;

/** The issuer as the admin API answers it (without KMS key ids, an internal detail). */
export function issuerView(issuer: Issuer): IssuerView {
  // Batch keys are published by the trust list; the admin view stays the size of an issuer.
  const { keyId: _keyId, version: _version, rotation: _rotation, batchKeys: _batch, keys, ...view } = issuer;
  return keys ? { ...view, keys: keys.map(({ keyId: _id, ...key }) => key) } : view;
}
