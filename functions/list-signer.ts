import { composition } from './composition/dependencies.js';
import {
  kms,
  doc,
  issuers,
  statusLists,
  trustList,
  platformSigner,
  presentationSigner,
  presentationPreviousSigners,
  signerFor,
  peers,
} from './composition/factories.js';
import { BusyError, InvalidInputError, NotFoundError } from '../shared/errors.js';
import { signList, type ListSignerAnswer } from '../shared/licence/list-signer.js';
import { logger } from '../shared/logger.js';

/** What this function's handler uses, built once per container. */
const dependencies = composition({
  kms,
  doc,
  issuers,
  statusLists,
  trustList,
  platformSigner,
  // Their public keys only: the trust list names the keys presentations are signed with.
  presentationSigner,
  presentationPreviousSigners,
  signerFor,
  peers,
});

/**
 * No route: invoked (Lambda `Invoke`, `RequestResponse`) by `trust-list` and `status-lists` alone (their
 * `invokes` grant) when the token they store is stale. It alone holds kms:Sign for the lists, on the
 * platform key (the trust list) and the issuer keys (status lists), so that no function reachable without
 * a token can sign with them (docs/security.md).
 *
 * The event names which list, nothing more (`{ kind: 'trust-list' }` or `{ kind: 'status-list', listId }`):
 * the content is computed here from the table, so a caller can at most have a correct list signed again.
 * Answers `{ jws, ttl }`, or `{ error }` with the code of a refusal (a malformed request, a list that does
 * not exist, a list changed faster than it can be dated); anything else is a function error the caller sees as the signer being unavailable.
 */
export async function handler(event: unknown): Promise<ListSignerAnswer> {
  try {
    return await signList(event, dependencies());
  } catch (error) {
    if (error instanceof InvalidInputError) {
      logger.warn('list signing request refused', { code: error.code, errors: error.errors });
      return { error: 'invalid_request' };
    }
    if (error instanceof NotFoundError) return { error: 'status_list_not_found' };
    if (error instanceof BusyError) return { error: 'status_list_busy' };
    throw error;
  }
}
