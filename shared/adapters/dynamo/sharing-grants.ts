import { DeleteCommand, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { AuditEntry } from '../../audit/audit-trail.js';
import { epochSeconds, type Clock } from '../../clock.js';
import {
  sharingGrantOf,
  type ClientNames,
  type SharingGrant,
  type SharingGrants,
  type StoredGrant,
  type UnrecordedWithdrawal,
} from '../../sharing/authorizations.js';
import type { WithdrawalNotice } from '../../sharing/withdrawal-notices.js';
import { writeAllButRefused } from './conditional.js';
import { fixedPartitions, keys } from './keys.js';
import { queryAll } from './query-all.js';
import { noticeItem } from './notice-queue.js';
import { createDynamoAdapter, grantsOfPerson, oidcItemKey, type DynamoAdapterDeps } from './oidc-adapter.js';

/** TransactWriteItems takes 100 items: the grants' deletes, the notice's put and the kept audit entry's. */
const maxWrites = 100;

/**
 * {@link SharingGrants} on the OpenID provider's own storage: a share is a provider Grant (`oidc#Grant#…`)
 * carrying `licence_access` details, listed per person through gsi2, and withdrawn as the provider revokes
 * a grant (`revokeByGrantId`: every code and token of it), then the grants deleted, the platform's notice
 * put (the notice item is the queue's own, `notice-queue.ts`) and the withdrawal's audit entry kept
 * (`withdrawals-unrecorded` / `<grant id>`) in one transaction.
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
    unrecorded?: UnrecordedWithdrawal,
  ): Promise<void> {
    // 1. Tokens first: were a grant deleted first and this fail half way, its tokens would outlive it
    //    unseen; a grant outliving its tokens is withdrawn again by asking again.
    for (const id of grantIds) await this.#grants.revokeByGrantId(id);
    // 2. What goes with the grants: the notice, and the audit entry kept until it is written.
    const alongside = [
      ...(notice
        ? [{ Put: { TableName: this.#deps.tableName, Item: noticeItem(notice, this.#deps.clock.now()) } }]
        : []),
      ...(unrecorded ? [{ Put: { TableName: this.#deps.tableName, Item: unrecordedItem(unrecorded) } }] : []),
    ];
    // 3. Past what one transaction holds (a platform's sign-ins of years), the oldest go alone first: the
    //    last ones still go with the notice and the entry.
    const left = [...grantIds];
    while (left.length > maxWrites - alongside.length) await this.#grants.destroy(left.shift()!);
    // 4. The grants deleted (each only if still there) with what goes with them, all or nothing. A grant
    //    another withdrawal deleted meanwhile fails its condition: the write is made again without it.
    await writeAllButRefused(this.#deps.doc, {
      members: left,
      itemOf: (id) => ({
        Delete: {
          TableName: this.#deps.tableName,
          Key: oidcItemKey('Grant', id),
          ConditionExpression: 'attribute_exists(pk)',
        },
      }),
      alongside: () => alongside,
      what: 'withdrawal',
    });
  }

  async unrecorded(grantId: string): Promise<UnrecordedWithdrawal | undefined> {
    const { Item } = await this.#deps.doc.send(
      new GetCommand({
        TableName: this.#deps.tableName,
        Key: keys.unrecordedWithdrawal(grantId),
        ConsistentRead: true,
      }),
    );
    return Item ? keptOf(Item) : undefined;
  }

  async keptBefore(before: string, limit: number): Promise<UnrecordedWithdrawal[]> {
    // One small partition (each item lives the moment between two writes, unless the second failed).
    const items = await queryAll(this.#deps.doc, {
      TableName: this.#deps.tableName,
      KeyConditionExpression: 'pk = :pk',
      FilterExpression: '#entry.#at < :before',
      ExpressionAttributeNames: { '#entry': 'entry', '#at': 'at' },
      ExpressionAttributeValues: { ':pk': fixedPartitions.unrecordedWithdrawals, ':before': before },
      ConsistentRead: true,
    });
    return items.slice(0, limit).flatMap((item) => {
      const kept = keptOf(item);
      return kept ? [kept] : [];
    });
  }

  async recorded(grantId: string): Promise<void> {
    await this.#deps.doc.send(
      new DeleteCommand({ TableName: this.#deps.tableName, Key: keys.unrecordedWithdrawal(grantId) }),
    );
  }
}

/** A kept withdrawal as stored, or undefined for an item that is not one. */
function keptOf(item: Record<string, unknown>): UnrecordedWithdrawal | undefined {
  if (typeof item.sk !== 'string' || typeof item.personId !== 'string') return undefined;
  if (typeof item.entry !== 'object' || item.entry === null) return undefined;
  return { grantId: item.sk, personId: item.personId, entry: item.entry as AuditEntry };
}

/** The item of a withdrawal kept until its audit entry is written. */
function unrecordedItem(unrecorded: UnrecordedWithdrawal): Record<string, unknown> {
  return {
    ...keys.unrecordedWithdrawal(unrecorded.grantId),
    personId: unrecorded.personId,
    entry: unrecorded.entry,
  };
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
