import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const ivBytes = 12;
const tagBytes = 16;

/**
 * Seals a JSON value with AES-256-GCM, bound to a label (the additional data), under a key derived from
 * KMS key material on first use and cached per container; nothing of the key is stored. A value sealed
 * for one label does not open under another. The wire form is base64url of `iv ‖ ciphertext ‖ tag`.
 * The one sealing mechanism of the service: page cookies (`web/sealed-cookie.ts`), the OpenID provider's
 * stored requests (`sso/sealed-payloads.ts`) and the console's relayed visitor address use it.
 *
 * @example
 * ```ts
 * const sealer = new AesGcmSealer(() => derivedSecret(webMac, 'oidc-payload/v1'));
 * const sealed = await sealer.seal('oidc#Interaction#abc', { params: { login_hint: '…' } });
 * await sealer.open('oidc#Interaction#abc', sealed); // the value; throws for anything else
 * ```
 */
export class AesGcmSealer {
  #key: Promise<Buffer> | undefined;

  constructor(private readonly keyMaterial: () => Promise<Uint8Array>) {}

  async seal(boundTo: string, value: unknown): Promise<string> {
    const iv = randomBytes(ivBytes);
    const cipher = createCipheriv('aes-256-gcm', await this.key(), iv);
    cipher.setAAD(Buffer.from(boundTo, 'utf8'));
    const plaintext = Buffer.from(JSON.stringify(value), 'utf8');
    return Buffer.concat([iv, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]).toString(
      'base64url',
    );
  }

  /** The value sealed for `boundTo`; throws when it was not (altered, moved, or another key). */
  async open(boundTo: string, sealed: string): Promise<unknown> {
    const bytes = Buffer.from(sealed, 'base64url');
    if (bytes.length < ivBytes + tagBytes) throw new Error('sealed value too short');
    const decipher = createDecipheriv('aes-256-gcm', await this.key(), bytes.subarray(0, ivBytes));
    decipher.setAAD(Buffer.from(boundTo, 'utf8'));
    decipher.setAuthTag(bytes.subarray(bytes.length - tagBytes));
    const plaintext = Buffer.concat([
      decipher.update(bytes.subarray(ivBytes, bytes.length - tagBytes)),
      decipher.final(),
    ]);
    return JSON.parse(plaintext.toString('utf8')) as unknown;
  }

  private key(): Promise<Buffer> {
    this.#key ??= this.keyMaterial().then((bytes) => {
      if (bytes.length < 32) throw new Error('The sealing key material must be at least 32 bytes');
      return Buffer.from(bytes.subarray(0, 32));
    });
    this.#key.catch(() => (this.#key = undefined));
    return this.#key;
  }
}
