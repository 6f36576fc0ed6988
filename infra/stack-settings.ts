/**
 * The checks of the stack's settings that both the stack (its props) and `./context.ts` (the `cdk.json`
 * and `-c` values) apply: in a module of their own, so that neither imports the other.
 */

/**
 * Whether `url` is an issuer URL the functions can serve under: `https://` and a host (a port allowed),
 * exactly its origin: no path (the routes are at the root: a path would be dropped from every URL the
 * service builds with `new URL('/…', issuer)`), no trailing slash, query, fragment or credentials, the host
 * in lower case (as every credential's `iss` and every RP's configuration will spell it, for ever).
 */
export function isIssuerUrl(url: string): boolean {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' && parsed.origin === url;
  } catch {
    return false;
  }
}

/** An administrative division code (GB/T 2260) as the functions' `PLATFORM_REGION` accepts it: six digits. */
export const platformRegionPattern = /^\d{6}$/;
