import type { JWK } from 'jose';
import type { Issuer, IssuerBatchKey } from './issuer.js';
import { issuerKeyHistory } from './issuer-keys.js';

/** An issuer as a trust list publishes it: its keys (each with its `kid`) and its certified batch keys. */
export interface PublishedIssuerKeys {
  /** The keys published for it: withdrawn ones are not (`publishedKeys`, shared/issuers/issuer-keys.ts). */
  keys: readonly Pick<JWK, 'kid'>[];
  /** Batch keys (docs/batch-issuance.md), each with the certificate an issuer key made for it. */
  batchKeys?: readonly { kid: string; certificate: string }[];
}

/**
 * The `kid` of a compact JWS's protected header, read without checking anything else.
 *
 * @example
 * ```ts
 * credentialKid(licence.credential); // 'Xw3…' (an RFC 7638 thumbprint), or undefined if unreadable
 * ```
 */
export function credentialKid(jws: string): string | undefined {
  return headerKid(jws);
}

function headerKid(jws: string): string | undefined {
  const dot = jws.indexOf('.');
  if (dot <= 0) return undefined;
  try {
    const header = JSON.parse(Buffer.from(jws.slice(0, dot), 'base64url').toString('utf8')) as {
      kid?: unknown;
    };
    return typeof header?.kid === 'string' ? header.kid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether the key that signed a licence's recorded credential (the text its QR code carries) is still
 * one the trust list publishes for its issuer: an issuer key that was not withdrawn, or a batch key
 * certified by one. A key withdrawn after a compromise (`POST /admin/issuers/{id}/keys`
 * `{"previousKey":"withdraw"}`) makes the credential verify `unknown_issuer` (`key_not_trusted`), and a
 * printable licence of it must not say more than its QR code (docs/printable-licence.md). Reads only
 * the `kid`s of our own records (the credential's header, the batch certificate's header): the
 * signatures were checked when they were made and stored. Anything unreadable is `false` (fail closed).
 *
 * @example
 * ```ts
 * if (!credentialKeyPublished(record.credential, { keys: publishedKeys(issuer), batchKeys: issuer.batchKeys })) {
 *   // its QR code verifies unknown_issuer: the file vouches for nothing
 * }
 * ```
 */
export function credentialKeyPublished(credential: string, issuer: PublishedIssuerKeys): boolean {
  const kid = headerKid(credential);
  if (kid === undefined) return false;
  const published = (candidate: string | undefined) =>
    candidate !== undefined && issuer.keys.some((key) => key.kid === candidate);
  if (published(kid)) return true;
  // A batch key stands only while the issuer key that certified it is published (docs/batch-issuance.md).
  const batch = issuer.batchKeys?.find((key) => key.kid === kid);
  return batch !== undefined && published(headerKid(batch.certificate));
}

/**
 * An issuer record's keys as its trust list entry publishes them: every key not withdrawn (by the `kid`
 * the record keeps for it), and its batch keys.
 *
 * @example
 * ```ts
 * credentialKeyPublished(licence.credential, issuerPublishedKeys(issuer)); // false once its key is withdrawn
 * ```
 */
export function issuerPublishedKeys(issuer: Issuer): PublishedIssuerKeys {
  return {
    keys: issuerKeyHistory(issuer)
      .filter((key) => key.withdrawnAt === undefined)
      .map((key) => ({ kid: key.kid })),
    ...(issuer.batchKeys !== undefined && { batchKeys: issuer.batchKeys }),
  };
}

/**
 * The `kid`s whose credentials no longer verify because an issuer key was withdrawn: each withdrawn
 * issuer key, and each batch key it certified (a batch key stands only while its certifying key is
 * published). What `GET /licences?keyWithdrawn=true` looks for; empty when no key was withdrawn.
 *
 * @example
 * ```ts
 * withdrawnCredentialKids(issuer).includes(credentialKid(licence.credential) ?? ''); // signed by a withdrawn key
 * ```
 */
export function withdrawnCredentialKids(issuer: Issuer): string[] {
  const withdrawn = issuerKeyHistory(issuer)
    .filter((key) => key.withdrawnAt !== undefined)
    .map((key) => key.kid);
  const batch = (issuer.batchKeys ?? [])
    .filter((key) => {
      const certifiedBy = headerKid(key.certificate);
      return certifiedBy !== undefined && withdrawn.includes(certifiedBy);
    })
    .map((key) => key.kid);
  return [...withdrawn, ...batch];
}

/**
 * The batch keys an issuer's trust list entry (and `POST /verify`'s view of it) publishes: those that can
 * still verify something. None of a withdrawn issuer (its credentials answer `unknown_issuer` whatever
 * signed them), and none whose certifying issuer key was withdrawn (the verifier refuses its certificate,
 * `batch_key_not_certified`). Everything else stays: a batch key past its window still verifies what it
 * signed inside it, for as long as those licences may be valid (review R36 M1).
 *
 * Only left out, never removed from the issuer record: `GET /licences?keyWithdrawn=true`
 * ({@link withdrawnCredentialKids}) finds the licences of a withdrawn key's batch keys through the record.
 *
 * @example
 * ```ts
 * const batchKeys = publishedBatchKeys(issuer); // [] for a withdrawn issuer
 * ```
 */
export function publishedBatchKeys(
  issuer: Pick<Issuer, 'status' | 'batchKeys' | 'keys' | 'keyId' | 'kid' | 'publicJwk' | 'createdAt'>,
): IssuerBatchKey[] {
  if (issuer.status !== 'active' || !issuer.batchKeys || issuer.batchKeys.length === 0) return [];
  const published = new Set(
    issuerKeyHistory(issuer)
      .filter((key) => key.withdrawnAt === undefined)
      .map((key) => key.kid),
  );
  return issuer.batchKeys.filter((key) => {
    const certifiedBy = headerKid(key.certificate);
    return certifiedBy !== undefined && published.has(certifiedBy);
  });
}
