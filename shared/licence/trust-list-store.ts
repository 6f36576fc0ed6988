/** The signed trust list as last stored, with what it was signed over. */
export interface SignedTrustList {
  jws: string;
  /** Hash of the content it was signed over (issuers, issuer URL, ttl, platform kid): re-sign when it differs. */
  contentHash: string;
  iat: number;
  exp: number;
}

/**
 * Where the signed trust list is kept between requests, so that the platform key signs it only when its
 * content changes or it nears expiry.
 *
 * `save` stores only if the stored version is still `expectedVersion` (0: nothing stored yet) and answers
 * whether it did; losing that race is harmless, the winner's token is as good.
 */
export interface TrustListStore {
  find(): Promise<(SignedTrustList & { version: number }) | undefined>;
  save(token: SignedTrustList, expectedVersion: number): Promise<boolean>;
}
