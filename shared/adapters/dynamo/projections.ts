import { verdicts } from '../../../packages/verifier/src/verdict.js';
import { issuerListingMembers } from '../../issuers/issuer.js';
import { table, type IndexName } from './table.js';

/*
 * The attributes some index queries ask for, spelled once: the adapters send them as the query's
 * `ProjectionExpression` (with `Select: SPECIFIC_ATTRIBUTES`), and `functions/grants.ts` grants the
 * functions reachable without a token (or by a stream) `Query` on those indexes for these attribute names
 * only (IAM `dynamodb:Attributes`, `infra/constructs/table.ts`; locally `infra/local/grant-guard.ts`).
 *
 * `gsi1` and `gsi2` are overloaded: one index partition holds issuers, another a holder's licences, another
 * a person's sessions and grants, and both project every attribute. A grant to query an index is a grant to
 * read any partition of it (`dynamodb:LeadingKeys` is not relied on for an index's key), so what bounds a
 * public function's index reads is which attribute names it may ask for. Each list is chosen so that no
 * other item kind of the index yields anything sensitive through it: a licence's holder, fields,
 * credential and history, an OIDC item's `payload`, an account's or appointment's personal attributes are
 * named by none of them. (A licence read through `issuerListing` yields its `id` and `status`; an
 * appointment its `creditCode` and `status`.)
 */
export const projections = {
  /** An issuer found by id (gsi1 `issuer-id#`): its credit code, then the item itself is read by key. */
  issuerById: ['creditCode'],
  /**
   * Every issuer (gsi2 `issuers`): what the trust list publishes (`shared/licence/trust-list.ts`, the
   * current key as `issuers/issuer-keys.ts` reads it) and what the peers' checks compare (ids, credit
   * codes): `IssuerListing`. Not `clientId`, `rotation`, `withdrawalReason` or `version`.
   */
  issuerListing: issuerListingMembers,
  /**
   * Supervision counters read for the issuance rule (gsi1 `stats-month#`): the day, issuer and type a
   * counter is of, and how many were issued.
   */
  issuedCounters: ['day', 'issuerId', 'licenceType', 'issued'],
  /**
   * Supervision counters as the supervisor's API reads them (gsi1 `stats-month#`, statistics-store.ts
   * `toRow`): what a counter is of, its counts, and one count per verdict the verifier gives
   * (`verified_<verdict>`). Nothing else of the index: no licence's holder, no passkey (review R31 L3).
   */
  statisticsCounters: [
    'day',
    'issuerId',
    'licenceType',
    'issued',
    'suspended',
    'reinstated',
    'revoked',
    'shared',
    ...verdicts.map((verdict) => `verified_${verdict}` as const),
  ],
  /** Supervision alerts of a month (gsi1 `alerts-month#`, alert-store.ts): what the listing answers. */
  alerts: ['at', 'id', 'rule', 'severity', 'subject', 'detail'],
  /**
   * A person's account of the first layout by id (gsi1 `account-id#`): its lookup key, then the claim
   * itself is read by key (account-store.ts `findLegacyById`): the wallet's whole use of the index (R31 L3).
   */
  accountById: ['lookupKey'],
  /**
   * The passkeys of an account (gsi1 `passkeys-of#`): each one's credential id and enrolment time, what
   * the reconciler removes a reset's passkeys by (passkey-store.ts `enrolmentsOf`, review R54-3).
   */
  passkeyEnrolments: ['id', 'createdAt'],
  /**
   * The keys alone (gsi2 `oidc-account#`, `oidc-grant#`: a person's sessions and grants, a grant's codes
   * and tokens, oidc-adapter.ts `gsi2Members`), each item then read by key if at all: the reconciler's
   * whole use of gsi2, never a payload through it (review R54-3).
   */
  keys: [],
  /**
   * A grant's codes and tokens (gsi2 `oidc-grant#`): with their keys, when the sign-in behind each was
   * made (`authTime`, epoch seconds, stored beside the payload: oidc-adapter.ts), what the reconciler
   * ends those of a grant it spares by (review R63 F1), never reading a token.
   */
  grantMemberTimes: ['authTime'],
} as const satisfies Record<string, readonly string[]>;

export type Projection = keyof typeof projections;

/**
 * Every attribute name a query on `index` with `projection` names: the table's and the index's keys (a
 * query's key condition names the index's; the keys of every item it reads come back in
 * `LastEvaluatedKey` whatever it asks for, so they are no secret from whoever may query) and the
 * projection's. What a grant restricted to `projection` allows (`dynamodb:Attributes`).
 *
 * @example
 * ```ts
 * indexAttributes('gsi1', 'issuerById'); // ['pk', 'sk', 'gsi1pk', 'gsi1sk', 'creditCode']
 * ```
 */
export function indexAttributes(index: IndexName, projection: Projection): string[] {
  const declared = table.globalSecondaryIndexes.find((gsi) => gsi.indexName === index)!;
  return [
    table.partitionKey,
    table.sortKey,
    declared.partitionKey,
    declared.sortKey,
    ...projections[projection],
  ];
}

/**
 * The parts of a `Query` input that ask for `projection` alone: `Select: SPECIFIC_ATTRIBUTES` and a
 * `ProjectionExpression` of placeholders (several names are DynamoDB reserved words), merged with the
 * query's own `names`.
 *
 * @example
 * ```ts
 * new QueryCommand({ TableName, IndexName: 'gsi1', KeyConditionExpression: 'gsi1pk = :pk', ExpressionAttributeValues, ...projectionOf('issuerById') });
 * ```
 */
export function projectionOf(
  projection: Projection,
  names: Record<string, string> = {},
): {
  Select: 'SPECIFIC_ATTRIBUTES';
  ProjectionExpression: string;
  ExpressionAttributeNames: Record<string, string>;
} {
  const attributes = projections[projection];
  const placeholders = attributes.map((_, i) => `#p${i}`);
  return {
    Select: 'SPECIFIC_ATTRIBUTES',
    ProjectionExpression: placeholders.join(', '),
    ExpressionAttributeNames: {
      ...names,
      ...Object.fromEntries(attributes.map((attribute, i) => [placeholders[i], attribute])),
    },
  };
}
