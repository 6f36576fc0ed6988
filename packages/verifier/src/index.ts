/**
 * The e-licence verifier (扫码核验), for apps in browsers and in Node: give it whatever a scanner read and
 * get a verdict. Nothing here uses a Node API; `./node.ts` adds the faster Node crypto. The package
 * depends on nothing and imports nothing from outside its folder (its codecs, CBOR, COSE, base45,
 * base64url, the status list and the trust list, are its own), so it runs wherever modern JavaScript does.
 *
 * @example
 * ```ts
 * import { createVerifier, OfflineTrustStore, webCryptoEs256 } from '@elicence/verifier';
 *
 * const crypto = webCryptoEs256();
 * const store = new OfflineTrustStore({ baseUrl: 'https://elicence.example.gov.cn', crypto });
 * await store.sync();
 * const verifier = createVerifier({ crypto, trust: store, status: store });
 * const { verdict, licence, stale } = await verifier.verify(scannedText);
 * ```
 *
 * @packageDocumentation
 */
export {
  createVerifier,
  DEFAULT_CLOCK_SKEW_SECONDS,
  type Verifier,
  type VerifierOptions,
  type VerifyOptions,
} from './verifier.js';
export {
  onlineVerdicts,
  verdicts,
  type OnlineVerdict,
  type DisclosedLicence,
  type LicenceStatusValue,
  type StatusCheck,
  type Verdict,
  type VerdictReason,
  type VerificationResult,
} from './verdict.js';
export { webCryptoEs256, type Es256Verifier, type PublicJwk } from './crypto.js';
export type {
  Freshness,
  StatusAnswer,
  StatusQuery,
  StatusSource,
  LicenceTypeGrant,
  TrustAnchors,
  TrustedIssuer,
} from './trust.js';
export {
  DEFAULT_MAX_TRUST_LIST_BYTES,
  DEFAULT_REQUEST_TIMEOUT_MS,
  OfflineTrustStore,
  statusListTokenMaxBytes,
  SyncError,
  type OfflineSnapshot,
  type OfflineTrustStoreOptions,
  type RefreshInit,
  type SyncErrorCode,
  type SyncReport,
} from './offline-store.js';
export { maxScanLength, readScan, verificationUrl, type Scan } from './input.js';
export { issuerIdOf, issuerUrlOf } from './claims.js';
export {
  presentationPrefix,
  presentationLifetime,
  presentationJwksKid,
  readPresentationClaims,
  readPresentationEnvelope,
  signPresentation,
  presentationToBeSigned,
  presentationText,
  type PresentationClaims,
} from './presentation-format.js';
export { streamCompression } from './status-list-streams.js';
export { FormatError, type FormatErrorCode } from './errors.js';
