/**
 * The single DynamoDB table: the one declaration that the CDK stack and the local bootstrap both read.
 *
 * Items are addressed by `pk`/`sk`. Two overloaded global secondary indexes (`gsi1`, `gsi2`) serve the
 * secondary access patterns; an item sets the index attributes only for the patterns it takes part in.
 * `expiresAt` (epoch seconds) is the TTL attribute; DynamoDB deletes expired items late and the local
 * runtime never does, so every read of expiring data checks it (see {@link isExpired}).
 *
 * Access patterns (key prefixes are the contract; `#` separates parts):
 *
 * | pattern                                  | index  | partition key                 | sort key            |
 * | ---------------------------------------- | ------ | ----------------------------- | ------------------- |
 * | OIDC model by id (tokens by id hash)     | table  | `oidc#<Model>#<id>`           | `oidc`              |
 * | OIDC Session by uid                      | gsi1   | `oidc-uid#<uid>`              | `oidc`              |
 * | OIDC DeviceCode by user code             | gsi1   | `oidc-user-code#<userCode>`   | `oidc`              |
 * | OIDC tokens and codes by grant id        | gsi2   | `oidc-grant#<grantId>`        | `<Model>#<id>`      |
 * | issuer by credit code (uniqueness claim) | table  | `issuer#<creditCode>`         | `issuer`            |
 * | issuer by id                             | gsi1   | `issuer-id#<id>`              | `issuer`            |
 * | all issuers (trust list)                 | gsi2   | `issuers`                     | `<creditCode>`      |
 * | licence by id                            | table  | `licence#<id>`                | `licence`           |
 * | licences of a holder, newest first       | gsi1   | `holder#<lookupKey>`          | `licence#<issuedAt>#<id>` |
 * | licences of an issuer, newest first      | gsi2   | `issuer-licences#<issuerId>`  | `<issuedAt>#<id>`   |
 * | issuance by Idempotency-Key (24 h TTL)   | table  | `idempotency#<issuerId>#<key>`| `idempotency`       |
 * | audit entries of a day (16 shards)       | table  | `audit#<YYYY-MM-DD>#<0-15>`   | `<at>#<random>`     |
 * | audit entries of a licence               | gsi1   | `audit-licence#<licenceId>`   | `<at>#<random>`     |
 * | status-list serial counter of an issuer  | table  | `status-list-counter#<issuerId>` | `status-list-counter` |
 * | status list (bitmap, revision, token)    | table  | `status-list#<issuerId>.<n>`  | `status-list`       |
 * | signed trust list (cache)                | table  | `trust-list`                  | `trust-list`        |
 * | registry person by lookup key (HMAC)     | table  | `registry-person#<lookupKey>` | `person`            |
 * | registry entity by credit code           | table  | `registry-entity#<creditCode>`| `entity`            |
 * | registry entities by representative      | gsi1   | `registry-representative#<lookupKey>` | `<creditCode>` |
 * | person account by ID-number lookup key (uniqueness claim) | table | `account#<lookupKey>` | `person`   |
 * | person account by opaque id              | gsi1   | `account-id#<id>`             | `person`            |
 * | entity account by credit code (uniqueness claim) | table | `entity-account#<creditCode>` | `entity`     |
 * | entity account by opaque id              | gsi1   | `entity-account-id#<id>`      | `entity`            |
 * | agent appointments of an entity, one per person | table | `entity-agents#<creditCode>` | `person#<lookupKey>` |
 * | agent appointments naming a person       | gsi1   | `agent-person#<lookupKey>`    | `<creditCode>`      |
 * | agent appointments of an entity          | gsi2   | `entity-agents#<creditCode>`  | `<lookupKey>`       |
 * | login throttle counter (TTL)             | table  | `login-attempts#<kind>#<key>`: kind `pair`, `account`, `source`, `registration` or `client`; addresses as keyed digests | `login-attempts` |
 * | open page session (TTL), by SHA-256 of its id | table | `web-session#<sha256>`   | `web-session`       |
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

export type IndexName = (typeof table.globalSecondaryIndexes)[number]['indexName'];

/** True when an item carrying the TTL attribute has passed it at `nowSeconds`. */
export function isExpired(item: { expiresAt?: number } | undefined, nowSeconds: number): boolean {
  return item?.expiresAt !== undefined && item.expiresAt <= nowSeconds;
}
