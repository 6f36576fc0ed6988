import { randomUUID } from 'node:crypto';
import { epochSeconds, type Clock } from '../../clock.js';
import type { CarriedAudit } from '../../pending-work/pending-work.js';
import {
  sharingGrantOf,
  type ClientNames,
  type SharingGrant,
  type SharingGrants,
  type StoredGrant,
  type WithdrawnGrants,
  withdrawalParts,
  withdrawalRoom,
} from '../../sharing/authorizations.js';
import type { WithdrawalNotice } from '../../sharing/withdrawal-notices.js';
import { writeAllButRefused } from './conditional.js';
import { noticeItem } from './notice-queue.js';
import { carriedAuditCondition, carriedAuditItem } from './pending-work.js';
import { createDynamoAdapter, grantsOfPerson, oidcItemKey, type DynamoAdapterDeps } from './oidc-adapter.js';

/**
 * {@link SharingGrants} on the OpenID provider's own storage: a share is a provider Grant (`oidc#Grant#…`)
 * carrying `licence_access` details, listed per person through gsi2, and withdrawn as the provider revokes
 * a grant (`revokeByGrantId`: every code and token of it), then the grants deleted, the platform's notice
 * put (the notice item is the queue's own, `notice-queue.ts`) and the withdrawal's audit entry saved as
 * pending work that carries it (`pending-audit#<shard>` / `authorization-withdrawn#<grant id>#<withdrawal>`,
 * the item `pending-work.ts` makes, put only where none is, claimed for the request) in one transaction;
 * past 100 items, in several, each with a notice and an entry of its own (`…#<withdrawal>-<part>`) for
 * the grants it deletes.
 */
export class DynamoSharingGrants implements SharingGrants {
  readonly #deps: DynamoAdapterDeps;
  readonly #grants;

  constructor(deps: { doc: DynamoAdapterDeps['doc']; tableName: string; clock: Clock }) {
    this.#deps = deps;
    this.#grants = new (createDynamoAdapter(deps))('Grant');
  }

  async listOf(personId: string): Promise<SharingGrant[]> {
    const found = await grantsOfPerson(this.#deps, personId);
    return found.flatMap(({ id, payload }) => {
      const grant = sharingGrantOf(id, payload as StoredGrant, epochSeconds(this.#deps.clock));
      return grant ? [grant] : [];
    });
  }

  async find(grantId: string): Promise<SharingGrant | undefined> {
    const payload = await this.#grants.find(grantId);
    return payload
      ? sharingGrantOf(grantId, payload as StoredGrant, epochSeconds(this.#deps.clock))
      : undefined;
  }

  async withdraw(
    grantIds: readonly string[],
    notice?: (deleted: readonly string[]) => WithdrawalNotice,
    pending?: (deleted: readonly string[], part: number, parts: number) => CarriedAudit,
  ): Promise<WithdrawnGrants> {
    // 1. Tokens first: were a grant deleted first and this fail half way, its tokens would outlive it
    //    unseen; a grant outliving its tokens is withdrawn again by asking again.
    for (const id of grantIds) await this.#grants.revokeByGrantId(id);
    // 2. The grants deleted (each only if still there) with what goes with them, all or nothing, in as
    //    many writes as they need (a platform's sign-ins of years), each with the platform's notice of
    //    the grants it deletes (review R17 M3: never a grant deleted untold, whichever write fails after
    //    it) and the audit entry saved until it is written, naming them, its pointer claimed for this
    //    request (so that it needs no claim write of its own before writing the entry). A grant another
    //    withdrawal deleted meanwhile fails its condition: the write is made again without it, and its
    //    notice and entry made anew for the grants left (that withdrawal told and traced it). Every one of
    //    a write's gone: nothing is written by it, and nothing to finish. A write is 100 items at most:
    //    its grants, its notice's put and its pointer's (`withdrawalRoom`).
    const room = withdrawalRoom(notice !== undefined, pending !== undefined);
    const withdrawn: WithdrawnGrants = { deleted: [], saved: [] };
    const parts = withdrawalParts(grantIds, room);
    for (const { part, ids } of parts) {
      const claim = randomUUID();
      let carried: CarriedAudit | undefined;
      const kept = await writeAllButRefused(this.#deps.doc, {
        members: ids,
        itemOf: (id) => ({
          Delete: {
            TableName: this.#deps.tableName,
            Key: oidcItemKey('Grant', id),
            ConditionExpression: 'attribute_exists(pk)',
          },
        }),
        alongside: (members) => {
          carried = pending?.(members, part, parts.length);
          const told = notice?.(members);
          return [
            ...(told
              ? [{ Put: { TableName: this.#deps.tableName, Item: noticeItem(told, this.#deps.clock.now()) } }]
              : []),
            ...(carried
              ? [
                  {
                    Put: {
                      TableName: this.#deps.tableName,
                      // The lease from now, the write's moment: revoking the tokens may have taken long.
                      Item: carriedAuditItem(carried, claim, new Date(this.#deps.clock.now())),
                      ConditionExpression: carriedAuditCondition,
                    },
                  },
                ]
              : []),
          ];
        },
        what: 'withdrawal',
      });
      withdrawn.deleted.push(...kept);
      if (kept.length > 0 && carried) withdrawn.saved.push({ carried, claim });
    }
    return withdrawn;
  }
}

/** The registered platforms' names (`client_name`), read from the provider's client records. */
export class DynamoClientNames implements ClientNames {
  readonly #clients;

  constructor(deps: { doc: DynamoAdapterDeps['doc']; tableName: string; clock: Clock }) {
    this.#clients = new (createDynamoAdapter(deps))('Client');
  }

  async nameOf(clientId: string): Promise<string | undefined> {
    const client = await this.#clients.find(clientId);
    return typeof client?.client_name === 'string' ? client.client_name : undefined;
  }
}
