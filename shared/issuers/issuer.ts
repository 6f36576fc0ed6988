import type { JWK } from 'jose';

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
  /** When it was withdrawn, and why. */
  withdrawnAt?: string;
  withdrawalReason?: string;
  clientId?: string;
  createdAt: string;
  version: number;
}

/** The issuer as the admin API answers it (without KMS key ids, an internal detail). */
export function issuerView(issuer: Issuer): Omit<
  Issuer,
  'keyId' | 'version' | 'status' | 'keys' | 'rotation'
> & {
  status: string;
  keys?: Array<Omit<IssuerKey, 'keyId'>>;
} {
  const { keyId: _keyId, version: _version, rotation: _rotation, keys, ...view } = issuer;
  return keys ? { ...view, keys: keys.map(({ keyId: _id, ...key }) => key) } : view;
}
