/**
 * Reads what a scanner gives: bounded before anything else, trimmed, taken out of a URL's fragment when
 * it came as a link (`https://host/verify#<qr>`, so a phone camera can open the verifier page), and
 * recognised as a licence credential (compact JWS) or a presentation (`EL1:` + base45).
 *
 * @packageDocumentation
 */
import { FormatError } from './errors.js';
import { presentationPrefix } from './presentation-format.js';

/** The largest scan accepted: a version 40 QR code holds at most 4,296 alphanumeric characters. */
export const maxScanLength = 4096;

export interface Scan {
  format: 'credential' | 'presentation';
  text: string;
}

/** A compact JWS's shape; its characters are checked as it is decoded (`readCompactJws`). */
function looksLikeJws(text: string): boolean {
  const first = text.indexOf('.');
  const second = first > 0 ? text.indexOf('.', first + 1) : -1;
  return second > first + 1 && second < text.length - 1 && text.indexOf('.', second + 1) < 0;
}
const urlPattern = /^https?:\/\//i;

/**
 * Recognises a scan, or throws {@link FormatError} (`too_large`, `invalid_url`, `not_a_credential`).
 * The size is checked before anything else touches the text.
 *
 * @example
 * ```ts
 * readScan('https://elicence.example/verify#EL1:6BFOXN…'); // { format: 'presentation', text: 'EL1:6BFOXN…' }
 * ```
 */
export function readScan(input: unknown): Scan {
  if (typeof input !== 'string') throw new FormatError('not_a_credential', 'A scan is text');
  if (input.length > maxScanLength) {
    throw new FormatError('too_large', `A scan is at most ${maxScanLength} characters`);
  }
  let text = input.trim();
  if (urlPattern.test(text)) {
    const hash = text.indexOf('#');
    if (hash < 0) throw new FormatError('invalid_url', 'A verification link carries the code after #');
    try {
      // Links percent-encode what base45 has and URLs may not (space, %), see presentationUrl.
      text = decodeURIComponent(text.slice(hash + 1)).trim();
    } catch (error) {
      throw new FormatError('invalid_url', 'The link fragment is not percent-encoded UTF-8', {
        cause: error,
      });
    }
  }
  if (text.startsWith(presentationPrefix)) return { format: 'presentation', text };
  if (looksLikeJws(text)) return { format: 'credential', text };
  throw new FormatError('not_a_credential', 'Neither a licence credential nor a presentation');
}

/**
 * A link that opens the verifier page at `base` with the code in its fragment (never sent to a server
 * by the browser). The code is percent-encoded, so base45's space and `%` survive the trip.
 *
 * @example
 * ```ts
 * verificationUrl('https://elicence.example/verify', token); // 'https://elicence.example/verify#EL1%3A6BF…'
 * ```
 */
export function verificationUrl(base: string, code: string): string {
  return `${base}#${encodeURIComponent(code)}`;
}
