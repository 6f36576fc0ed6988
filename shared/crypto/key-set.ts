import type { JWK } from 'jose';
import * as z from 'zod';
import { UnavailableError } from '../errors.js';
import { logger } from '../logger.js';
import type { Signer } from './signer.js';

/** A key whose public half is published: the signing one, or one being retired (`keyId` names it in logs). */
export type PublishedKey = Pick<Signer, 'publicJwk'> & { keyId?: string };

/**
 * What to do when a key being retired cannot be read: leave it out and log `leftOut` (with the key id,
 * which is no secret), rather than failing the whole set. The signing key unreadable is then an
 * {@link UnavailableError} (`temporarily_unavailable`) saying `unavailable`, never a set without it.
 */
export interface RetiringKeysLeftOut {
  unavailable: string;
  leftOut: string;
  /** Log the first 200 characters of the read's error message too. */
  logReason?: boolean;
}

/**
 * Whether a public key's read failed as KMS answers for a generation retired meanwhile: disabled
 * (`DisabledException`, `KMSInvalidStateException`) or no longer granted (`AccessDeniedException`).
 */
export function retiredKeyRead(error: unknown): boolean {
  const name = (error as { name?: unknown } | undefined)?.name;
  return (
    name === 'DisabledException' || name === 'KMSInvalidStateException' || name === 'AccessDeniedException'
  );
}

/**
 * `read` of each key generation being retired, in order, but for one KMS says is disabled or no longer
 * granted ({@link retiredKeyRead}: step 2 of a rotation, seen by the version still serving while its
 * rollout runs), left out and logged; any other failure rejects the whole with its own error (R49 F1).
 *
 * @example
 * ```ts
 * const keys = await readRetiring(deps.platformPreviousSigners, (signer) => signer.publicKey());
 * ```
 */
export async function readRetiring<K extends object, T>(
  previous: ReadonlyArray<K>,
  read: (key: K) => Promise<T>,
): Promise<T[]> {
  const reads = await Promise.all(
    previous.map((key, index) =>
      read(key).then(
        (value) => ({ value }),
        (error: unknown) => {
          if (!retiredKeyRead(error)) throw error;
          logger.warn('a retiring key generation is disabled or no longer granted: left out', {
            keyId: (key as { keyId?: string }).keyId ?? `previous #${index + 1}`,
            error: (error as Error).name,
          });
          return undefined;
        },
      ),
    ),
  );
  return reads.flatMap((read) => (read ? [read.value] : []));
}

/**
 * The public keys of a signing key and of the generations being retired (`PREVIOUS_KEY_IDS`), the
 * signing one first and a `kid` given twice named once: the one list behind the JWK Sets we publish
 * (notice keys, audit keys, the trust list's presentation keys) and the keys /verify checks against.
 * Without `lenient`, a key that cannot be read rejects the whole with its own error, but for a retiring
 * one KMS says is disabled or no longer granted ({@link retiredKeyRead}: step 2 of a rotation, seen by
 * the version still serving), left out and logged; with it, see
 * {@link RetiringKeysLeftOut}, and `complete` is false when a retiring key was left out (the answer is
 * then not to be cached).
 *
 * @example
 * ```ts
 * const { keys } = await signingKeySet(deps.presentationSigner, deps.presentationPreviousSigners);
 * ```
 */
export async function signingKeySet(
  signing: PublishedKey,
  previous: ReadonlyArray<PublishedKey>,
  lenient?: RetiringKeysLeftOut,
): Promise<{ keys: JWK[]; complete: boolean }> {
  const signers = [signing, ...previous];
  let keys: JWK[];
  if (lenient) {
    const [first, ...rest] = await Promise.allSettled(signers.map((signer) => signer.publicJwk()));
    if (first!.status === 'rejected') {
      throw new UnavailableError(lenient.unavailable, 'temporarily_unavailable', { cause: first!.reason });
    }
    keys = [first!.value];
    rest.forEach((read, index) => {
      if (read.status === 'fulfilled') {
        keys.push(read.value);
        return;
      }
      logger.error(lenient.leftOut, {
        keyId: previous[index]!.keyId ?? `previous #${index + 1}`,
        error: (read.reason as Error)?.name ?? 'Error',
        ...(lenient.logReason && {
          reason: String((read.reason as Error)?.message ?? read.reason).slice(0, 200),
        }),
      });
    });
  } else {
    const [first, rest] = await Promise.all([
      signing.publicJwk(),
      readRetiring(previous, (key) => key.publicJwk()),
    ]);
    keys = [first, ...rest];
  }
  const complete = keys.length === signers.length;
  const seen = new Set<string>();
  return { keys: keys.filter((jwk) => !seen.has(String(jwk.kid)) && seen.add(String(jwk.kid))), complete };
}

/**
 * The schema of a published ES256 public key on P-256 (RFC 7638 thumbprint `kid`, `use: sig`), named
 * `title` in the OpenAPI document, its `kid` described by `kidDescription`.
 *
 * @example
 * ```ts
 * const noticeKeySchema = es256PublicJwkSchema('NoticeKey', 'The RFC 7638 thumbprint of the key');
 * ```
 */
export function es256PublicJwkSchema(title: string, kidDescription: string) {
  return z
    .looseObject({
      kty: z.literal('EC'),
      crv: z.literal('P-256'),
      x: z.string(),
      y: z.string(),
      kid: z.string().meta({ description: kidDescription }),
      alg: z.literal('ES256'),
      use: z.literal('sig'),
    })
    .meta({ title });
}
