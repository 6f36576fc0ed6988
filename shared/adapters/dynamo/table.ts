/**
 * The DynamoDB tables' one declaration, which the CDK stack and the local bootstrap both read. Three tables
 * are built from it: the service table (`TABLE_NAME`, no stream); the audit table (`AUDIT_TABLE_NAME`),
 * which holds the audit trail alone (entries `audit#`, the chains' registry `audit-chain#`, the
 * checkpoints `audit-checkpoint*`); and the batch table (`BATCH_TABLE_NAME`), which holds bulk issuance
 * jobs alone (`batch#`, `batch-items#`). A stream can be granted only whole: the audit table's feeds
 * supervision and carries nothing but audit data (docs/supervision.md), the batch table's feeds the batch
 * pipe and carries nothing but jobs (docs/batch-issuance.md). Same keys and indexes: the audit items use
 * gsi1 (a licence's entries) and gsi2 (a holder's, the usage record); the batch items neither.
 *
 * Items are addressed by `pk`/`sk`. Two overloaded global secondary indexes (`gsi1`, `gsi2`) serve the
 * secondary access patterns; an item sets the index attributes only for the patterns it takes part in.
 * `expiresAt` (epoch seconds) is the TTL attribute; DynamoDB deletes expired items late and the local
 * runtime never does, so every read of expiring data checks it (see {@link isExpired}).
 *
 * The access patterns, and every key prefix and sort key they use, are declared in `./keys.ts`: the
 * adapters build their keys from there, and `functions/grants.ts` its IAM `LeadingKeys` patterns.
 */
export const table = {
  partitionKey: 'pk',
  sortKey: 'sk',
  ttlAttribute: 'expiresAt',
  globalSecondaryIndexes: [
    { indexName: 'gsi1', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' },
    { indexName: 'gsi2', partitionKey: 'gsi2pk', sortKey: 'gsi2sk' },
  ],
} as const;

/**
 * The audit table's declaration: the table's, plus `gsi3`, a holder's usage entries of one action
 * (`audit-holder-action#<lookupKey>#<action>`, sorted as gsi2), so that a page of the usage record
 * filtered by kind is one query however many entries of other kinds are newer (docs/usage-record.md).
 * Only the audit table has it: nothing else is indexed there.
 */
export const auditTable = {
  ...table,
  globalSecondaryIndexes: [
    ...table.globalSecondaryIndexes,
    { indexName: 'gsi3', partitionKey: 'gsi3pk', sortKey: 'gsi3sk' },
  ],
} as const;

/** A table's keys, indexes and TTL attribute: {@link table} or {@link auditTable}. */
export interface TableDeclaration {
  readonly partitionKey: string;
  readonly sortKey: string;
  readonly ttlAttribute: string;
  readonly globalSecondaryIndexes: ReadonlyArray<{
    readonly indexName: string;
    readonly partitionKey: string;
    readonly sortKey: string;
  }>;
}

export type IndexName = (typeof auditTable.globalSecondaryIndexes)[number]['indexName'];

/** True when an item carrying the TTL attribute has passed it at `nowSeconds`. */
export function isExpired(item: { expiresAt?: number } | undefined, nowSeconds: number): boolean {
  return item?.expiresAt !== undefined && item.expiresAt <= nowSeconds;
}
