import { createHash, createHmac } from 'node:crypto';

/** What TC3-HMAC-SHA256 signs of one Tencent Cloud API 3.0 request (a JSON POST to `/`). */
export interface Tc3Request {
  /** The product's service name, the first label of its endpoint: `sms` for `sms.tencentcloudapi.com`. */
  service: string;
  /** The host name the request goes to, without a port (what the `host` signed header carries). */
  host: string;
  /** The request's `Content-Type`, signed as sent. */
  contentType: string;
  /** The body exactly as sent. */
  payload: string;
  /** Seconds since the epoch, sent as `X-TC-Timestamp`; its UTC day scopes the credential. */
  timestamp: number;
}

/** A Tencent Cloud API key pair (CAM 访问密钥). */
export interface TencentCredentials {
  secretId: string;
  secretKey: string;
}

const sha256Hex = (data: string) => createHash('sha256').update(data, 'utf8').digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();

/**
 * The `Authorization` header of a Tencent Cloud API 3.0 request signed with TC3-HMAC-SHA256, as
 * Tencent's documentation (签名方法 v3) and its SDKs compute it: the canonical request (`POST`, path `/`,
 * no query, the signed headers `content-type` and `host`, the payload's SHA-256), the string to sign
 * scoped to `<UTC day>/<service>/tc3_request`, and a signing key derived from the secret key through
 * the day, the service and `tc3_request`. Only the `node:crypto` module: the Lambda bundles carry no SDK.
 *
 * @example
 * ```ts
 * const authorization = tc3Authorization(
 *   { service: 'sms', host: 'sms.tencentcloudapi.com', contentType: 'application/json', payload, timestamp },
 *   { secretId, secretKey },
 * );
 * ```
 */
export function tc3Authorization(request: Tc3Request, credentials: TencentCredentials): string {
  // 1. The canonical request.
  const signedHeaders = 'content-type;host';
  const canonicalRequest = [
    'POST',
    '/',
    '',
    `content-type:${request.contentType}\nhost:${request.host}\n`,
    signedHeaders,
    sha256Hex(request.payload),
  ].join('\n');
  // 2. The string to sign, scoped to the UTC day of the timestamp.
  const day = new Date(request.timestamp * 1000).toISOString().slice(0, 10);
  const scope = `${day}/${request.service}/tc3_request`;
  const stringToSign = [
    'TC3-HMAC-SHA256',
    String(request.timestamp),
    scope,
    sha256Hex(canonicalRequest),
  ].join('\n');
  // 3. The signing key, then the signature.
  const signingKey = hmac(hmac(hmac(`TC3${credentials.secretKey}`, day), request.service), 'tc3_request');
  const signature = createHmac('sha256', signingKey).update(stringToSign, 'utf8').digest('hex');
  return `TC3-HMAC-SHA256 Credential=${credentials.secretId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
}
