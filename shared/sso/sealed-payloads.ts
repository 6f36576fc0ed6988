import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const ivBytes = 12;
const tagBytes = 16;

/**
 * Seals what the OpenID provider stores of an authorization request (its parameters, `login_hint` and
 * `id_token_hint` included) with AES-256-GCM, bound to the item it belongs to (the additional data), so
 * that the table holds no ID number a platform put in a request and no payload opens under another key.
 */
export interface PayloadSealer {
  seal(boundTo: string, payload: unknown): Promise<string>;
  /** The payload sealed for `boundTo`; throws when it was not (altered, moved, or another key). */
  open(boundTo: string, sealed: string): Promise<unknown>;
}

/**
 * {@link PayloadSealer} with a key derived from KMS key material on first use (`derivedSecret` of the web
 * key), cached per container; nothing of the key is stored.
 *
 * @example
 * ```ts
 * const sealer = new AesGcmPayloadSealer(() => derivedSecret(webMac, 'oidc-payload/v1'));
 * const sealed = await sealer.seal('oidc#Interaction#abc', { params: { login_hint: '…' } });
 * ```
 */
export class AesGcmPayloadSealer implements PayloadSealer {
  #key: Promise<Buffer> | undefined;

  constructor(private readonly keyMaterial: () => Promise<Uint8Array>) {}

  async seal(boundTo: string, payload: unknown): Promise<string> {
    const iv = randomBytes(ivBytes);
    const cipher = createCipheriv('aes-256-gcm', await this.key(), iv);
    cipher.setAAD(Buffer.from(boundTo, 'utf8'));
    const plaintext = Buffer.from(JSON.stringify(payload), 'utf8');
    return Buffer.concat([iv, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]).toString(
      'base64url',
    );
  }

  async open(boundTo: string, sealed: string): Promise<unknown> {
    const bytes = Buffer.from(sealed, 'base64url');
    if (bytes.length < ivBytes + tagBytes) throw new Error('sealed payload too short');
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
      if (bytes.length < 32) throw new Error('The payload key material must be at least 32 bytes');
      return Buffer.from(bytes.subarray(0, 32));
    });
    this.#key.catch(() => (this.#key = undefined));
    return this.#key;
  }
}
