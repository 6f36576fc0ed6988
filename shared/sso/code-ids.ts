import { createCipheriv, createDecipheriv, createHash } from 'node:crypto';
import { parseAccountId } from '../identifiers/account-id.js';

/** What an authorization code's id names besides its randomness: where the token endpoint reads next. */
export interface CodeReadHints {
  /** The uid of the session the code is bound to. */
  sessionUid?: string;
  /** The grant the code was issued under. */
  grantId?: string;
  /** The person whose account the token endpoint looks up (an entity account's acting person). */
  personId?: string;
}

/**
 * One named id: the provider's ids (session uids, grant ids) and our person ids (`acc_…`) are all of the
 * URL-safe base64 alphabet, so `.` never occurs in one and separates them.
 */
const idPart = /^[A-Za-z0-9_-]{1,128}$/;
/** The random part: what the provider's own `generateTokenId` made (43 characters at 256 bits). */
const randomPart = /^[A-Za-z0-9_-]{32,512}$/;
const sealedPart = /^[A-Za-z0-9_-]{22,1024}$/;
const TAG_BYTES = 16;

/**
 * Authorization-code ids that name what the token endpoint reads with the code, sealed:
 * `<random>.<sealed hints>`. The random part is the provider's own id, unchanged (256 bits): it alone makes
 * the code a secret, and the code is stored under the SHA-256 of the whole value, so the hints can be
 * neither read from the table nor changed without losing the code. The hints (session uid, grant id,
 * person id) are sealed with AES-256-GCM under a key every container derives (`codeHintKey`), the nonce
 * taken from the random part and the random part bound as associated data: a code travels through the
 * browser and the platform, and a person's internal account id or session uid in clear would let two
 * platforms (whose `sub` is pairwise) tie their users together. Hints are for reading ahead only: what
 * the provider uses is what the stored code says.
 *
 * @example
 * ```ts
 * const codes = new CodeIds(await codeHintKey(interactionMac));
 * const id = codes.idFor('q3…', { sessionUid: 'Ua…', grantId: 'Gb…', personId: 'acc_7f…' }); // 'q3….Xk…'
 * codes.hintsOf(id); // { sessionUid: 'Ua…', grantId: 'Gb…', personId: 'acc_7f…' }
 * ```
 */
export class CodeIds {
  readonly #key: Buffer;

  constructor(key: Uint8Array) {
    if (key.byteLength < 32) throw new Error('the code hint key needs 32 bytes');
    this.#key = Buffer.from(key.subarray(0, 32));
  }

  /** The id of a code whose random part is `random` and whose reads are `hints` (a malformed one left out). */
  idFor(random: string, hints: CodeReadHints): string {
    const named = (value: string | undefined) => (value !== undefined && idPart.test(value) ? value : '');
    const plain = [named(hints.sessionUid), named(hints.grantId), named(hints.personId)].join('.');
    const cipher = createCipheriv('aes-256-gcm', this.#key, nonceOf(random), { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(random));
    const sealed = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return `${random}.${sealed.toString('base64url')}`;
  }

  /**
   * The hints a code id carries, or undefined for an id of another shape (the provider's own, from before
   * codes named their reads) or one that does not open (made up, or sealed under another key). Nothing
   * here says the code exists: the caller may use them to read ahead and never to answer.
   */
  hintsOf(id: string): CodeReadHints | undefined {
    const dot = id.indexOf('.');
    if (dot < 0 || id.length > 2048) return undefined;
    const random = id.slice(0, dot);
    const sealed = id.slice(dot + 1);
    if (!randomPart.test(random) || !sealedPart.test(sealed)) return undefined;
    const bytes = Buffer.from(sealed, 'base64url');
    if (bytes.length <= TAG_BYTES) return undefined;
    let plain: string;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, nonceOf(random), {
        authTagLength: TAG_BYTES,
      });
      decipher.setAAD(Buffer.from(random));
      decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
      plain = Buffer.concat([
        decipher.update(bytes.subarray(0, bytes.length - TAG_BYTES)),
        decipher.final(),
      ]).toString('utf8');
    } catch {
      return undefined;
    }
    const parts = plain.split('.');
    if (parts.length !== 3 || !parts.every((value) => value === '' || idPart.test(value))) return undefined;
    const [sessionUid, grantId, personId] = parts as [string, string, string];
    return {
      ...(sessionUid && { sessionUid }),
      ...(grantId && { grantId }),
      ...(personId && { personId }),
    };
  }
}

/** A GCM nonce of its own for each code: the first 96 bits of the SHA-256 of its 256-bit random part. */
function nonceOf(random: string): Buffer {
  return createHash('sha256')
    .update('elicence/code-hints/nonce\u0000')
    .update(random)
    .digest()
    .subarray(0, 12);
}

/** The person an account id names (an entity account's acting person), or undefined. */
export function personOfAccountId(accountId: unknown): string | undefined {
  if (typeof accountId !== 'string' || accountId.length === 0) return undefined;
  return parseAccountId(accountId).personId;
}
