/**
 * Why a scanned text could not be read. Every parser of the verifier throws only this, with a stable
 * `code`; the verifier turns it into the verdict `malformed` (or `invalid_signature` where the code says
 * so) and never lets it escape.
 *
 * @example
 * ```ts
 * try {
 *   base45Decode('GGW');
 * } catch (error) {
 *   if (error instanceof FormatError) console.log(error.code); // 'invalid_base45'
 * }
 * ```
 */
export class FormatError extends Error {
  constructor(
    readonly code: FormatErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'FormatError';
  }
}

export type FormatErrorCode =
  | 'too_large'
  | 'not_a_credential'
  | 'invalid_base64url'
  | 'invalid_base45'
  | 'invalid_cbor'
  | 'invalid_cose'
  | 'invalid_jws'
  | 'invalid_claims'
  | 'unexpected_type'
  | 'invalid_url';
