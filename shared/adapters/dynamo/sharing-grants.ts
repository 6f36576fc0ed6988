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
} from '../../sharing/authorizations.js';
import type { WithdrawalNotice } from '../../sharing/withdrawal-notices.js';
import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import { writeAllButRefused, writeIf } from './conditional.js';
import { noticeItem } from './notice-queue.js';
import { carriedAuditCondition, carriedAuditItem } from './pending-work.js';
import { createDynamoAdapter, grantsOfPerson, oidcItemKey, type DynamoAdapterDeps } from './oidc-adapter.js';

/** TransactWriteItems takes 100 items: the grants' deletes, the notice's put and the audit entry's. */
const maxWrites = 100;

/**
 * {@link SharingGrants} on the OpenID provider's own storage: a share is a provider Grant (`oidc#Grant#…`)
 * carrying `licence_access` details, listed per person through gsi2, and withdrawn as the provider revokes
 * a grant (`revokeByGrantId`: every code and token of it), then the grants deleted, the platform's notice
 * put (the notice item is the queue's own, `notice-queue.ts`) and the withdrawal's audit entry saved as
 * pending work that carries it (`pending-audit#<shard>` / `authorization-withdrawn#<grant id>#<withdrawal>`,
 * the item `pending-work.ts` makes, put only where none is, claimed for the request) in one transaction.
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
    notice?: WithdrawalNotice,
    pending?: (deleted: readonly string[]) => CarriedAudit,
  ): Promise<WithdrawnGrants> {
    // 1. Tokens first: were a grant deleted first and this fail half way, its tokens would outlive it
    //    unseen; a grant outliving its tokens is withdrawn again by asking again.
    for (const id of grantIds) await this.#grants.revokeByGrantId(id);
    // 2. Past what one transaction holds (a platform's sign-ins of years), the first go alone first, each
    //    only if still there (the entry names those this withdrawal deleted): the last ones, the one the
    //    caller looks up again among them, still go with the notice and the entry.
    const room = maxWrites - (notice ? 1 : 0) - (pending ? 1 : 0);
    const early: string[] = [];
    for (const id of grantIds.slice(0, Math.max(0, grantIds.length - room))) {
      const Key = oidcItemKey('Grant', id);
      const condition = 'attribute_exists(pk)';
      const gone = new DeleteCommand({
        TableName: this.#deps.tableName,
        Key,
        ConditionExpression: condition,
      });
      if (await writeIf(this.#deps.doc, gone)) early.push(id);
    }
    // 3. The grants deleted (each only if still there) with what goes with them, all or nothing: the
    //    notice, and the audit entry saved until it is written, naming the grants this write deletes, its
    //    pointer claimed for this request (so that it needs no claim write of its own before writing the
    //    entry). A grant another withdrawal deleted meanwhile fails its condition: the write is made again
    //    without it. Every one gone: nothing is written, and the caller has nothing to finish.
    const claim = randomUUID();
    const kept = await writeAllButRefused(this.#deps.doc, {
      members: grantIds.slice(Math.max(0, grantIds.length - room)),
      itemOf: (id) => ({
        Delete: {
          TableName: this.#deps.tableName,
          Key: oidcItemKey('Grant', id),
          ConditionExpression: 'attribute_exists(pk)',
        },
      }),
      alongside: (members) => [
        ...(notice
          ? [{ Put: { TableName: this.#deps.tableName, Item: noticeItem(notice, this.#deps.clock.now()) } }]
          : []),
        ...(pending
          ? [
              {
                Put: {
                  TableName: this.#deps.tableName,
                  Item: carriedAuditItem(pending([...early, ...members]), claim),
                  ConditionExpression: carriedAuditCondition,
                },
              },
            ]
          : []),
      ],
      what: 'withdrawal',
    });
    if (kept.length === 0) return { deleted: [] };
    return { deleted: [...early, ...kept], ...(pending ? { claim } : {}) };
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
