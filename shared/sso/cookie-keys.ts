import type { Mac } from '../crypto/mac.js';

/**
 * The keys that sign the provider's cookies, derived from the KMS MAC key so that every container
 * agrees on them without a stored secret. Newest first: add a version to rotate, keep the old to verify.
 */
export async function cookieKeys(mac: Mac): Promise<string[]> {
  const versions = ['v1'];
  return Promise.all(
    versions.map(async (version) =>
      Buffer.from(await mac.mac(new TextEncoder().encode(`elicence/cookie-key/${version}`))).toString(
        'base64url',
      ),
    ),
  );
}
