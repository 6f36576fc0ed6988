/**
 * The shape of a licence identifier (GB/T 36904), as a verifier reads it:
 * `1.2.156.3005.2.<type code>.<issuer credit code>.<serial>.<version>.<check>`. The service writes and
 * fully parses ids (check character included) in `shared/identifiers/licence-id.ts`, which takes its root
 * from here; a verifier only needs the shape, because the id it reads was signed.
 *
 * @packageDocumentation
 */

/** The OID arc of electronic licences (GB/T 36904): every licence identifier starts with it. */
export const licenceIdRoot = '1.2.156.3005.2';

/**
 * A licence id after the root and its dot: three-digit type code, issuer credit code (GB 32100 alphabet),
 * serial (decimal, no leading zero), three-digit version, check character. Captures the type code and
 * the credit code.
 */
const afterRoot = String.raw`(\d{3})\.([0-9A-HJ-NPQRTUWXY]{18})\.(?:0|[1-9]\d{0,15})\.\d{3}\.[0-9A-Z]`;

/**
 * A whole licence id; group 1 is the type code, group 2 the issuer's credit code.
 *
 * @example
 * ```ts
 * licenceIdPattern.exec('1.2.156.3005.2.001.91330100716105852F.42.001.D')?.slice(1); // ['001', '91330100716105852F']
 * ```
 */
export const licenceIdPattern = new RegExp(`^${licenceIdRoot.replaceAll('.', '\\.')}\\.${afterRoot}$`);

/** A licence id without its root and dot (as a presentation carries it); groups as {@link licenceIdPattern}. */
export const licenceIdSuffixPattern = new RegExp(`^${afterRoot}$`);
