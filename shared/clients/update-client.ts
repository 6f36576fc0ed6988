import { InvalidInputError, NotFoundError } from '../errors.js';
import { saveClientChange, type ClientChangeDependencies } from './client-audit.js';
import { eventsUriNeedsSignIn, type UpdateClientInput, type UpdatedClient } from './register-client.js';
import type { RotationContext } from './rotate-client-secret.js';

/**
 * Changes what an operator may change on a registered client: today its events endpoint (`events_uri`,
 * where withdrawal notices go: shared/sharing/withdrawal-notices.ts), set, replaced or removed (`null`).
 * The new endpoint passed the same checks as at registration (`updateClientInput`: https, a public host);
 * a client that signs nobody in may not have one. Every other member of the record stays as it was.
 *
 * 1. Finds the client (404 `client_not_found` for one not registered: the service's built-in clients are
 *    not, and have no endpoint to tell).
 * 2. Refuses an endpoint on a machine client (400, `errors[].path` `eventsUri`), as registration does.
 * 3. Writes the change alone (`ClientStore.update`: the endpoint set or removed, nothing else), never the
 *    record as read: a secret rotated meanwhile (`rotateClientSecret`) stays rotated, where saving the
 *    record read in step 1 would put the old secret's version back. A client deleted meanwhile is 404.
 *    The provider's storage forgets its cached copy in this process; other containers read it within
 *    `CLIENT_CACHE_SECONDS`.
 * 4. With it, in the same write, its trace, `client.updated` (the operator's client, the client changed,
 *    what changed: `saveClientChange`), then written: never a change without it. An entry that cannot be
 *    written now is written by the reconciler a minute later; the change stands and is answered (it used
 *    to answer 5xx with the change made and no entry, unless the operator asked again).
 *
 * @example
 * ```ts
 * await updateClient('cl_8Hk2mQ0xV3', { eventsUri: 'https://platform.example/events' }, { clientId: 'cl_op' }, deps);
 * ```
 */
export async function updateClient(
  clientId: string,
  input: UpdateClientInput,
  context: RotationContext,
  deps: ClientChangeDependencies,
): Promise<UpdatedClient> {
  // 1. The client as registered.
  const found = clientId.length <= 200 ? await deps.clients.find(clientId) : undefined;
  if (!found) throw new NotFoundError(`No client ${clientId.slice(0, 64)}`, 'client_not_found');
  // 2. Notices are about people's consents: only a platform people sign in to has any.
  if (input.eventsUri && (found.redirect_uris ?? []).length === 0) {
    throw new InvalidInputError(`Invalid request: eventsUri: ${eventsUriNeedsSignIn}`, 'invalid_request', {
      errors: [{ path: 'eventsUri', message: eventsUriNeedsSignIn, code: 'invalid' }],
    });
  }
  // 3, 4. The change, and only it, with its trace: who changed which client, to what (an endpoint is no
  // one's personal data).
  await saveClientChange(
    clientId,
    input.eventsUri ? { set: { events_uri: input.eventsUri } } : { remove: ['events_uri'] },
    {
      at: new Date(deps.clock.now()).toISOString(),
      actor: context.clientId,
      action: 'client.updated',
      targetClientId: clientId,
      reason: input.eventsUri ? `eventsUri ${input.eventsUri}` : 'eventsUri removed',
      ...(context.requestId !== undefined && { requestId: context.requestId }),
    },
    deps,
  );
  return { clientId, eventsUri: input.eventsUri ?? null };
}
