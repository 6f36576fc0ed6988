import * as z from 'zod';
import type { KeyManager } from '../crypto/key-manager.js';
import type { Signer } from '../crypto/signer.js';
import { ConflictError, NotFoundError } from '../errors.js';
import { logger } from '../logger.js';
import type { Issuer } from './issuer.js';
import { saveIssuerChange, type IssuerChangeDependencies } from './issuer-audit.js';
import { issuerKeyHistory } from './issuer-keys.js';

export const rotateIssuerKeyInput = z.strictObject({
  /**
   * `keep` (a scheduled rotation): the previous key stops signing but stays published, so everything it
   * signed still verifies. `withdraw` (the current key is compromised, or lost): it leaves the trust list
   * at once, and everything it signed verifies as `unknown_issuer` until the issuer signs it again. A key
   * retired earlier is withdrawn on its own (`withdrawIssuerKey`, ./withdraw-issuer-key.ts), never by this.
   */
  previousKey: z.enum(['keep', 'withdraw']).default('keep'),
});
export type RotateIssuerKeyInput = z.output<typeof rotateIssuerKeyInput>;

export interface RotateIssuerKeyDependencies extends IssuerChangeDependencies {
  keys: KeyManager;
  signerFor(keyId: string): Signer;
}

/**
 * How long a rotation holds its issuer's lock. A rotation takes seconds (one CreateKey, one GetPublicKey,
 * two writes); a lock older than this belongs to one that crashed, and the next rotation takes it over.
 */
export const rotationLockMs = 5 * 60_000;

const inProgress = (issuerId: string, cause?: unknown) =>
  new ConflictError(
    `A key rotation of issuer ${issuerId} is in progress; retry once it is done`,
    'rotation_in_progress',
    { cause },
  );

/**
 * Gives an active issuer a new KMS signing key, which signs its licences and status lists from now on
 * (issuance signs with `issuer.keyId`, the current key). The previous key stays in the issuer's `keys`,
 * published or withdrawn as asked.
 *
 * Exactly one of concurrent rotations wins. Before any key exists, a conditional write of the issuer
 * (its `version`) records the rotation (`rotation`: when, and the alias the new key gets); every other
 * rotation then fails that write, or sees the lock, and is answered `409 rotation_in_progress` having
 * created nothing. The winner creates the key and, in a second conditional write, makes it current and
 * drops the lock, its audit entry saved with it as pending work (`saveIssuerChange`, ./issuer-audit.ts:
 * written at once, or by the reconciler if that fails). If anything fails after the key exists and before
 * that write, the key is scheduled for deletion and the lock released, so a key that never became current
 * never signs. A crash leaves the lock, which expires after
 * {@link rotationLockMs}; the rotation that takes it over names its alias apart, since the crashed one
 * may have taken the usual name.
 *
 * @example
 * ```ts
 * const issuer = await rotateIssuerKey('iss_4Zq0bS0e6jyU2KQ1', { previousKey: 'keep' }, { clientId }, deps);
 * ```
 */
export async function rotateIssuerKey(
  issuerId: string,
  input: RotateIssuerKeyInput,
  context: { clientId: string; requestId?: string },
  deps: RotateIssuerKeyDependencies,
): Promise<Issuer> {
  const issuer = await deps.issuers.findById(issuerId);
  if (!issuer) throw new NotFoundError(`No issuer ${issuerId}`, 'issuer_not_found');
  const history = issuerKeyHistory(issuer);
  if (issuer.status !== 'active' || history.length === 0) {
    throw new ConflictError(
      `Issuer ${issuerId} is ${issuer.status}: only an active issuer's key rotates`,
      'issuer_not_active',
    );
  }
  const startedAt = deps.clock.now();
  const held = issuer.rotation;
  if (held && startedAt - Date.parse(held.startedAt) < rotationLockMs) throw inProgress(issuerId);

  const alias = `alias/elicence/issuer/${issuer.id}/${history.length + 1}${held ? `.${issuer.version + 1}` : ''}`;
  let locked: Issuer;
  try {
    locked = await deps.issuers.save({
      ...issuer,
      rotation: { startedAt: new Date(startedAt).toISOString(), alias },
    });
  } catch (error) {
    if (error instanceof ConflictError) throw inProgress(issuerId, error);
    throw error;
  }
  const release = () =>
    deps.issuers
      .save(withoutLock(locked))
      .then(() => undefined)
      .catch((cleanup: unknown) =>
        logger.error('issuer key rotation lock not released', { issuerId, error: String(cleanup) }),
      );

  let key: { keyId: string };
  try {
    key = await deps.keys.createSigningKey({
      description: `elicence issuer ${issuer.id} (${issuer.creditCode}), key ${history.length + 1}`,
      tags: { service: 'elicence', role: 'issuer-signing', issuer: issuer.id },
      alias,
    });
  } catch (error) {
    await release();
    throw error;
  }
  try {
    const signer = deps.signerFor(key.keyId);
    const publicJwk = await signer.publicJwk();
    const kid = await signer.kid();
    const now = new Date(deps.clock.now()).toISOString();
    // The current key retires (and is withdrawn, if asked); keys retired before stay as they are.
    const keys = history.map((previous) =>
      previous.kid === issuer.kid
        ? {
            ...previous,
            retiredAt: now,
            ...(input.previousKey === 'withdraw' ? { withdrawnAt: now } : {}),
          }
        : previous,
    );
    keys.push({ kid, keyId: key.keyId, publicJwk, createdAt: now });
    // Once this write is made the key is current: nothing after it may undo it (it never throws for
    // the entry's own write, which stays saved for the reconciler).
    return await saveIssuerChange(
      { ...withoutLock(locked), keyId: key.keyId, kid, publicJwk, keys },
      {
        at: now,
        actor: context.clientId,
        action:
          input.previousKey === 'withdraw' ? 'issuer.key-rotated.previous-withdrawn' : 'issuer.key-rotated',
        issuerId: issuer.id,
        ...(context.requestId ? { requestId: context.requestId } : {}),
        reason: `kid ${issuer.kid} → ${kid}`,
      },
      deps,
    );
  } catch (error) {
    await deps.keys
      .scheduleDeletion(key.keyId)
      .catch((cleanup: unknown) =>
        logger.error('unused issuer key not scheduled for deletion', { issuerId, error: String(cleanup) }),
      );
    await release();
    throw error;
  }
}

function withoutLock(issuer: Issuer): Issuer {
  const { rotation: _lock, ...rest } = issuer;
  return rest;
}
