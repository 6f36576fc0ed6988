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

/**
 * The sector a client's subjects are computed for: the host of its registered `sector_identifier_uri`
 * when it has one (a platform's web and mobile clients that must see the same `sub`), otherwise the client
 * itself. OpenID Connect would default to the host of the redirect URI; we do not, because platforms of
 * different agencies are often served from one government host (and every local page from localhost), and
 * sharing a host must not make them see the same person under the same `sub`.
 *
 * @example
 * ```ts
 * pairwise(personId, sectorOf({ clientId: 'cl_1' })); // 'client:cl_1'
 * ```
 */
export function sectorOf(client: {
  clientId: string;
  sectorIdentifierUri?: string | undefined;
  sectorIdentifier?: string | undefined;
}): string {
  return client.sectorIdentifierUri && client.sectorIdentifier
    ? client.sectorIdentifier
    : `client:${client.clientId}`;
}
