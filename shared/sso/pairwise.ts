import { createHmac } from 'node:crypto';

/**
 * Pairwise subject identifiers (OpenID Connect Core §8.1): each platform (sector) sees its own stable,
 * unlinkable `sub` for the same account. Computed locally with a secret derived once per container from
 * the KMS MAC key, so a login costs no KMS call for it.
 *
 * @example
 * ```ts
 * const pairwise = pairwiseSubjects(salt);
 * pairwise('ent_9…', 'platform-a.gov.cn'); // differs for 'platform-b.gov.cn'
 * ```
 */
export function pairwiseSubjects(salt: Uint8Array): (internalId: string, sectorIdentifier: string) => string {
  return (internalId, sectorIdentifier) =>
    createHmac('sha256', salt).update(`${sectorIdentifier}\0${internalId}`).digest('base64url');
}
