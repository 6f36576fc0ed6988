import { createHmac } from 'node:crypto';
import { signCompactJws } from '../../shared/crypto/compact-jws.js';
import { formatLicenceId } from '../../shared/identifiers/licence-id.js';
import type { PublicJwk } from '../../packages/verifier/src/crypto.js';
import {
  signPresentation,
  type PresentationClaims,
} from '../../packages/verifier/src/presentation-format.js';
import type {
  StatusAnswer,
  StatusQuery,
  StatusSource,
  TrustAnchors,
  TrustedIssuer,
} from '../../packages/verifier/src/trust.js';
import type { LicenceStatusValue } from '../../packages/verifier/src/verdict.js';
import { LocalSigner } from './local-signer.js';

/** 2025-06-01T08:00:00Z: the instant the tests' clocks read, in seconds. */
export const NOW = 1_748_764_800;
export const DAY = 86_400;

/** The demo issuer's credit code: valid by GB 32100. */
export const ISSUER_CREDIT_CODE = '11110000000013223T';

/** A licence id; type code `003` (driving licence) unless told. */
export function licenceId(serial: number, creditCode = ISSUER_CREDIT_CODE, typeCode = '003'): string {
  return formatLicenceId({ typeCode, issuerCreditCode: creditCode, serial, version: 1 });
}

/** Trust anchors in memory, whose issuers and platform keys a test changes at will. */
export class FakeTrust implements TrustAnchors {
  readonly issuers = new Map<string, TrustedIssuer>();
  platform: PublicJwk[] = [];
  /** The trust list's `presentationKeys`: `undefined`, a list that names none. */
  presentation: PublicJwk[] | undefined;

  issuerById(id: string) {
    return this.issuers.get(id);
  }

  issuerByCreditCode(creditCode: string) {
    return [...this.issuers.values()].find((issuer) => issuer.creditCode === creditCode);
  }

  platformKeys() {
    return this.platform;
  }

  presentationKeys() {
    return this.presentation;
  }
}

/** Statuses in memory, by licence id, as an online store would answer them. */
export class FakeStatus implements StatusSource {
  readonly statuses = new Map<string, LicenceStatusValue>();
  readonly queries: StatusQuery[] = [];

  status(query: StatusQuery): StatusAnswer | undefined {
    this.queries.push(query);
    const status = this.statuses.get(query.licenceId);
    return status && { status, source: 'online' };
  }
}

export interface CredentialOptions {
  claims?: Record<string, unknown>;
  header?: Record<string, unknown>;
  signer?: LocalSigner;
}

/**
 * A small world: one issuer with its key, the platform key, trust anchors naming both, and makers of
 * credentials and presentations signed as the service signs them.
 */
export async function createWorld() {
  const issuerSigner = new LocalSigner();
  const platformSigner = new LocalSigner();
  const trust = new FakeTrust();
  const issuer: TrustedIssuer = {
    id: 'iss_TestIssuer0000000',
    name: '北京市测试局',
    creditCode: ISSUER_CREDIT_CODE,
    region: '110000',
    status: 'active',
    keys: [(await issuerSigner.publicJwk()) as PublicJwk],
    licenceTypes: [
      { code: 'business-licence', typeCode: '001' },
      { code: 'driving-licence', typeCode: '003' },
    ],
  };
  trust.issuers.set(issuer.id, issuer);
  trust.platform = [(await platformSigner.publicJwk()) as PublicJwk];

  const credentialClaims = (overrides: Record<string, unknown> = {}) => ({
    iss: issuer.id,
    jti: licenceId(7),
    iat: NOW - 30 * DAY,
    nbf: NOW - 30 * DAY,
    exp: NOW + 365 * DAY,
    lt: 'driving-licence',
    hol: { k: 'p', n: '王小明', m: '110105********1239', lk: 'bG9va3VwLWtleQ' },
    f: { vehicleClass: 'C1', firstIssuedOn: '2012-05-04', archiveNumber: '110100123456' },
    status: { status_list: { idx: 7, uri: 'https://elicence.test/status-lists/iss_TestIssuer0000000.0' } },
    ...overrides,
  });

  const credential = (options: CredentialOptions = {}) =>
    signCompactJws(
      { typ: 'licence+jwt', ...options.header },
      credentialClaims(options.claims),
      options.signer ?? issuerSigner,
    );

  const presentationClaims = (
    overrides: Partial<PresentationClaims> = {},
    licence: Partial<PresentationClaims['licence']> = {},
  ): PresentationClaims => ({
    id: 'AAECAwQFBgcICQoL',
    issuedAt: NOW - 10,
    expiresAt: NOW + 290,
    ...overrides,
    licence: {
      id: licenceId(7),
      type: 'driving-licence',
      holder: { kind: 'person', name: '王小明', masked: '110105********1239' },
      status: 'valid',
      validFrom: NOW - 30 * DAY,
      validUntil: NOW + 365 * DAY,
      fields: { vehicleClass: 'C1', firstIssuedOn: '2012-05-04' },
      ...licence,
    },
  });

  const presentation = (
    overrides: Partial<PresentationClaims> = {},
    licence: Partial<PresentationClaims['licence']> = {},
    signer: LocalSigner = platformSigner,
  ) => signPresentation(presentationClaims(overrides, licence), signer);

  return {
    issuer,
    issuerSigner,
    platformSigner,
    trust,
    credentialClaims,
    credential,
    presentationClaims,
    presentation,
    clock: () => NOW * 1000,
  };
}
export type World = Awaited<ReturnType<typeof createWorld>>;

/** A JWS with any header and payload and an HMAC or no signature: what an attacker would send. */
export function forgedJws(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  secret?: Uint8Array,
): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const input = `${encode(header)}.${encode(payload)}`;
  const signature = secret ? createHmac('sha256', secret).update(input).digest('base64url') : '';
  return `${input}.${signature}`;
}
