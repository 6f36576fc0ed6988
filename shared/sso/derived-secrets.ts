import type { Mac } from '../crypto/mac.js';

/**
 * Secrets every container agrees on without storing them: the KMS MAC of a fixed label. Rotating one
 * means a new label version; keep the old one where old values must still verify.
 */
export async function derivedSecret(mac: Mac, label: string): Promise<Uint8Array> {
  return mac.mac(new TextEncoder().encode(`elicence/${label}`));
}

/**
 * The keys that sign the provider's cookies (its SSO session cookie among them), newest first, derived from
 * the interaction key, which only the OpenID provider holds. Session ids are stored in the table and other
 * functions can list a person's sessions, so whoever derives these keys could sign a person's session
 * cookie: they must never come from the lookup key (they did, as `v1`; the change signed everyone out once).
 */
export async function cookieKeys(interactionMac: Mac): Promise<string[]> {
  const versions = ['v2'];
  return Promise.all(
    versions.map(async (version) =>
      Buffer.from(await derivedSecret(interactionMac, `cookie-key/${version}`)).toString('base64url'),
    ),
  );
}

/** The salt of pairwise subjects: changing it would change every platform's `sub`, so it never rotates. */
export function pairwiseSalt(mac: Mac): Promise<Uint8Array> {
  return derivedSecret(mac, 'pairwise-salt/v1');
}

/**
 * The key that seals the read hints in authorization codes (shared/sso/code-ids.ts), derived from the
 * interaction key: hints carry no authority (they only say where to read; the stored code decides), but
 * they name a person's account id and session uid, which only the OpenID provider needs to open.
 * Rotating it (or its source) costs nothing but a read more for codes sealed under the old one (their
 * hints no longer open).
 */
export function codeHintKey(interactionMac: Mac): Promise<Uint8Array> {
  return derivedSecret(interactionMac, 'code-hints/v1');
}

/**
 * The key that seals the state of sign-ins under way into the browser's cookies
 * (shared/sso/interaction-cookies.ts). Derived from the interaction key, which only the OpenID provider
 * may use: a sealed interaction carries its login result, so whoever can derive this key can sign anyone
 * in (the lookup key, which five other functions hold, must never be its source). Rotating it ends the
 * sign-ins under way (their cookies no longer open; the person starts again from the platform), nothing
 * else.
 */
export function interactionCookieKey(interactionMac: Mac): Promise<Uint8Array> {
  return derivedSecret(interactionMac, 'interaction-state/v1');
}

/**
 * The key of the scan-to-login cookie's MAC (shared/sso/scan-login.ts): the cookie the sign-in page sets
 * names a code, its binding and the interaction it was issued for, under this MAC, so that the QR fetch
 * stores only a code the service issued to that browser for that sign-in. Derived from the interaction
 * key (only the OpenID provider holds it). Rotating it makes the codes shown at that moment unstorable
 * (the page, shown again, issues new ones).
 */
export function scanLoginCookieKey(interactionMac: Mac): Promise<Uint8Array> {
  return derivedSecret(interactionMac, 'scan-login-cookie/v1');
}

/**
 * The secret of the token endpoint's DPoP nonces (RFC 9449 §8; oidc-provider's `features.dPoP.nonceSecret`,
 * 32 bytes): each nonce is an HKDF of it and the minute, so every container issues and accepts the same
 * ones with no storage. Derived from the interaction key, which only the OpenID provider holds: whoever
 * derives it can compute the nonces of any minute to come, and so pre-make proofs again (a stolen key's
 * proofs for later), which the nonces are there to stop. Rotating it costs each DPoP client one
 * `use_dpop_nonce` answer more (the nonce it holds no longer checks; it retries with the new one).
 */
export function dpopNonceSecret(interactionMac: Mac): Promise<Uint8Array> {
  return derivedSecret(interactionMac, 'dpop-nonce/v1');
}
