import type { HttpResult } from './types.js';

/**
 * A file to download: its bytes (base64 through API Gateway), its media type and the name to save it
 * under. Private and never stored by caches: a licence is personal data.
 *
 * @example
 * ```ts
 * return download(pdf, 'application/pdf', 'licence-123-a4.pdf');
 * ```
 */
export function download(body: Uint8Array | string, contentType: string, fileName: string): HttpResult {
  const bytes = typeof body === 'string' ? Buffer.from(body) : Buffer.from(body);
  return {
    statusCode: 200,
    headers: {
      'content-type': contentType,
      // The name is ours (letters, digits, dashes and dots), so it needs no quoting rules beyond these.
      'content-disposition': `attachment; filename="${fileName}"`,
      'cache-control': 'private, no-store',
      'x-content-type-options': 'nosniff',
    },
    body: bytes.toString('base64'),
    isBase64Encoded: true,
  };
}
