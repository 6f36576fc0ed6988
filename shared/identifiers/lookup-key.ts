import type { Mac } from '../crypto/mac.js';
import type { CreditCode } from './credit-code.js';
import type { IdNumber } from './id-number.js';
import type { PhoneNumber } from './phone.js';

/**
 * The key under which a person or entity is found: HMAC-SHA-256 (in KMS) of the normalised number, in
 * base64url. No raw ID number is ever a table key or an index value; without the KMS key, a table copy
 * cannot be searched by number either.
 *
 * @example
 * ```ts
 * const key = await personLookupKey(mac, parseIdNumber(input, today));
 * ```
 */
export function personLookupKey(mac: Mac, idNumber: IdNumber): Promise<string> {
  return lookupKey(mac, 'person', idNumber);
}

export function entityLookupKey(mac: Mac, creditCode: CreditCode): Promise<string> {
  return lookupKey(mac, 'entity', creditCode);
}

/**
 * The keyed digest of a mobile number (HMAC in KMS, like the ID-number lookup key, under its own label):
 * how a phone is found or compared without being stored in clear.
 */
export function phoneLookupKey(mac: Mac, phone: PhoneNumber): Promise<string> {
  return lookupKey(mac, 'phone', phone);
}

async function lookupKey(mac: Mac, kind: string, normalised: string): Promise<string> {
  const bytes = await mac.mac(new TextEncoder().encode(`elicence/lookup/${kind}\0${normalised}`));
  return Buffer.from(bytes).toString('base64url');
}
