import type { JWK } from 'jose';

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
  licenceTypes: string[];
  status: 'provisioning' | 'active' | 'withdrawn';
  /** KMS key id of the issuer's own signing key. */
  keyId?: string;
  /** RFC 7638 thumbprint of that key's public JWK. */
  kid?: string;
  /** The public half of that key, as published in the trust list (no KMS call to list issuers). */
  publicJwk?: JWK;
  clientId?: string;
  createdAt: string;
  version: number;
}

/** The issuer as the admin API answers it (without the key id, an internal detail). */
export function issuerView(
  issuer: Issuer,
): Omit<Issuer, 'keyId' | 'version' | 'status'> & { status: string } {
  const { keyId: _keyId, version: _version, ...view } = issuer;
  return view;
}
