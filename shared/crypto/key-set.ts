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

/** Which failures to read a retiring key leave it out of a set, and how each is logged. */
interface LeaveOut {
  leaves(error: unknown): boolean;
  log(keyId: string, error: unknown): void;
}

/** The default: only a generation KMS says is disabled or no longer granted ({@link retiredKeyRead}). */
const retiredLeftOut: LeaveOut = {
  leaves: retiredKeyRead,
  log: (keyId, error) =>
    logger.warn('a retiring key generation is disabled or no longer granted: left out', {
      keyId,
      error: (error as Error).name,
    }),
};

/**
 * `read` of each key generation being retired, in order, but for one KMS says is disabled or no longer
 * granted ({@link retiredKeyRead}: step 2 of a rotation, seen by the version still serving while its
 * rollout runs), left out and logged; any other failure rejects the whole with its own error (R49 F1).
 * `leaveOut` widens or narrows which failures leave a key out.
 *
 * @example
 * ```ts
 * const keys = await readRetiring(deps.platformPreviousSigners, (signer) => signer.publicKey());
 * ```
 */
export async function readRetiring<K extends object, T>(
  previous: ReadonlyArray<K>,
  read: (key: K) => Promise<T>,
  leaveOut: LeaveOut = retiredLeftOut,
): Promise<T[]> {
  const reads = await Promise.all(
    previous.map((key, index) =>
      read(key).then(
        (value) => ({ value }),
        (error: unknown) => {
          if (!leaveOut.leaves(error)) throw error;
          leaveOut.log((key as { keyId?: string }).keyId ?? `previous #${index + 1}`, error);
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
  const [first, rest] = await Promise.all([
    lenient
      ? signing.publicJwk().catch((cause: unknown) => {
          throw new UnavailableError(lenient.unavailable, 'temporarily_unavailable', { cause });
        })
      : signing.publicJwk(),
    readRetiring(
      previous,
      (key) => key.publicJwk(),
      lenient && {
        leaves: () => true,
        // A generation KMS says is disabled or no longer granted is step 2 of a planned rotation (its
        // rollout's expected lines: WARN, as `retiredLeftOut` logs it); any other failure is an ERROR.
        log: (keyId, error) =>
          (retiredKeyRead(error) ? logger.warn : logger.error).call(logger, lenient.leftOut, {
            keyId,
            error: (error as Error)?.name ?? 'Error',
            ...(lenient.logReason && {
              reason: String((error as Error)?.message ?? error).slice(0, 200),
            }),
          }),
      },
    ),
  ]);
  const keys = [first, ...rest];
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
