import * as z from 'zod';
import { ConflictError, NotFoundError } from '../errors.js';
import type { Issuer } from './issuer.js';
import { saveIssuerChange, type IssuerChangeDependencies } from './issuer-audit.js';
import type { ClientStore } from '../clients/client-store.js';
import { refusePersonalData } from '../identifiers/personal-data-in-text.js';
import { printableText } from '../printable-text.js';

export const withdrawIssuerInput = z.strictObject({
  reason: printableText(500, { multiLine: true }).superRefine(refusePersonalData).meta({
    description:
      'Why, for the audit trail (kept for good): text holding a resident ID number or a mobile number is refused (`personal_data_in_text`), and so is a control or format character, U+FFFD or a lone surrogate (`invalid_characters`)',
  }),
});
export type WithdrawIssuerInput = z.output<typeof withdrawIssuerInput>;

export interface WithdrawIssuerDependencies extends IssuerChangeDependencies {
  clients: ClientStore;
}

/**
 * Withdraws an issuing agency (撤销发证机关资格): it may no longer issue (issuance requires `active`), and
 * verifiers give its licences `unknown_issuer`. It stays in the trust list, marked `withdrawn`, so that
 * those verdicts can say who it was; its status lists stay served. Final: there is no way back, an
 * agency that is trusted again is onboarded anew. One conditional write, which saves its audit entry
 * (`issuer.withdrawn`) as pending work with it (./issuer-audit.ts): written at once, or by the reconciler.
 *
 * Its OAuth client ends first: no new token, and the tokens it holds stop on their next request (our API
 * accepts a token only while its client is registered, see `clientStillRegistered`). Deleting first fails
 * closed: if the status write then fails, the issuer cannot act and the withdrawal can be repeated. A
 * repeated withdrawal also deletes the client again, so an issuer withdrawn before clients were ended
 * with it loses its client too (and is answered 409 as before).
 *
 * @example
 * ```ts
 * await withdrawIssuer('iss_4Zq0bS0e6jyU2KQ1', { reason: '机构撤并' }, { clientId }, deps);
 * ```
 */
export async function withdrawIssuer(
  issuerId: string,
  input: WithdrawIssuerInput,
  context: { clientId: string; requestId?: string },
  deps: WithdrawIssuerDependencies,
): Promise<Issuer> {
  const issuer = await deps.issuers.findById(issuerId);
  if (!issuer) throw new NotFoundError(`No issuer ${issuerId}`, 'issuer_not_found');
  if (issuer.status !== 'provisioning' && issuer.clientId) await deps.clients.delete(issuer.clientId);
  if (issuer.status === 'withdrawn') {
    throw new ConflictError(`Issuer ${issuerId} is already withdrawn`, 'issuer_withdrawn');
  }
  if (issuer.status !== 'active') {
    throw new ConflictError(`Issuer ${issuerId} is still being onboarded`, 'issuer_not_active');
  }
  const now = new Date(deps.clock.now()).toISOString();
  return saveIssuerChange(
    { ...issuer, status: 'withdrawn', withdrawnAt: now, withdrawalReason: input.reason },
    {
      at: now,
      actor: context.clientId,
      action: 'issuer.withdrawn',
      issuerId,
      ...(context.requestId ? { requestId: context.requestId } : {}),
      reason: input.reason,
    },
    deps,
  );
}
