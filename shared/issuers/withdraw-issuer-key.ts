import * as z from 'zod';
import { ConflictError, NotFoundError } from '../errors.js';
import type { Issuer } from './issuer.js';
import { saveIssuerChange, type IssuerChangeDependencies } from './issuer-audit.js';
import { issuerKeyHistory } from './issuer-keys.js';
import { rotationLockMs } from './rotate-issuer-key.js';
import { refusePersonalData } from '../identifiers/personal-data-in-text.js';
import { printableText } from '../printable-text.js';

export const withdrawIssuerKeyInput = z.strictObject({
  reason: printableText(500, { multiLine: true }).superRefine(refusePersonalData).meta({
    description:
      'Why (the incident), for the audit trail (kept for good): text holding a resident ID number or a mobile number is refused (`personal_data_in_text`), and so is a control or format character, U+FFFD or a lone surrogate (`invalid_characters`)',
  }),
});
export type WithdrawIssuerKeyInput = z.output<typeof withdrawIssuerKeyInput>;

export type WithdrawIssuerKeyDependencies = IssuerChangeDependencies;

/**
 * Withdraws one key an issuer rotated out earlier (`kid`), found compromised after its rotation: it leaves
 * the trust list at once (`publishedKeys` publishes no withdrawn key), so what it signed, and any forgery
 * under it, verifies as `unknown_issuer` (`key_not_trusted`); its licences' PDFs are refused
 * (`key_withdrawn`) and `GET /licences?keyWithdrawn=true` lists them for re-issue. The issuer's other keys,
 * the current one included, are untouched.
 *
 * The current key is never withdrawn here (409 `issuer_key_current`): an issuer must always have a key
 * that signs, so it is withdrawn by rotating with `previousKey: withdraw` (./rotate-issuer-key.ts), which
 * makes a new key current in the same write. Idempotent: a key withdrawn already answers the issuer as it
 * is, with no second audit entry. Refused while a rotation holds the issuer's lock (409
 * `rotation_in_progress`: this write would make that rotation fail), for an issuer not active (409
 * `issuer_not_active`, as a rotation is), and for a `kid` the issuer never had (404 `issuer_key_not_found`).
 * One conditional write, its audit entry (`issuer.key-withdrawn`) saved with it (./issuer-audit.ts).
 *
 * @example
 * ```ts
 * const issuer = await withdrawIssuerKey('iss_4Zq0bS0e6jyU2KQ1', kid, { reason: '密钥泄露（事件 42）' }, { clientId }, deps);
 * ```
 */
export async function withdrawIssuerKey(
  issuerId: string,
  kid: string,
  input: WithdrawIssuerKeyInput,
  context: { clientId: string; requestId?: string },
  deps: WithdrawIssuerKeyDependencies,
): Promise<Issuer> {
  const issuer = await deps.issuers.findById(issuerId);
  if (!issuer) throw new NotFoundError(`No issuer ${issuerId}`, 'issuer_not_found');
  if (issuer.status !== 'active') {
    throw new ConflictError(
      `Issuer ${issuerId} is ${issuer.status}: only an active issuer's keys are withdrawn one by one`,
      'issuer_not_active',
    );
  }
  const history = issuerKeyHistory(issuer);
  const key = history.find((candidate) => candidate.kid === kid);
  if (!key) throw new NotFoundError(`Issuer ${issuerId} has no key ${kid}`, 'issuer_key_not_found');
  if (key.withdrawnAt !== undefined) return issuer;
  if (kid === issuer.kid) {
    throw new ConflictError(
      `Key ${kid} is issuer ${issuerId}'s current key: withdraw it by rotating, ` +
        `POST /admin/issuers/${issuerId}/keys {"previousKey":"withdraw"}, which makes a new key current with it`,
      'issuer_key_current',
    );
  }
  const now = deps.clock.now();
  if (issuer.rotation && now - Date.parse(issuer.rotation.startedAt) < rotationLockMs) {
    throw new ConflictError(
      `A key rotation of issuer ${issuerId} is in progress; retry once it is done`,
      'rotation_in_progress',
    );
  }
  const at = new Date(now).toISOString();
  return saveIssuerChange(
    {
      ...issuer,
      keys: history.map((candidate) =>
        candidate.kid === kid ? { ...candidate, withdrawnAt: at } : candidate,
      ),
    },
    {
      at,
      actor: context.clientId,
      action: 'issuer.key-withdrawn',
      issuerId,
      ...(context.requestId ? { requestId: context.requestId } : {}),
      reason: `kid ${kid}: ${input.reason}`,
    },
    deps,
  );
}
