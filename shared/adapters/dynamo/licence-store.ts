import { createHash } from 'node:crypto';
import { lowSCompactJws } from '../../crypto/compact-jws.js';
import { credentialKid } from '../../issuers/credential-key.js';
import {
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { InvalidInputError } from '../../errors.js';
import { logger } from '../../logger.js';
import { getItem, isConditionalCheckFailed, putNew, putVersioned } from './conditional.js';
import type { LicenceRecord } from '../../licence/licence.js';
import type {
  LicenceCount,
  LicenceFilter,
  LicencePage,
  LicenceQuery,
  LicenceStore,
} from '../../licence/licence-store.js';
import { queryAll } from './query-all.js';
import { indexKeys, keys, sortPrefixes } from './keys.js';

const key = keys.licence;
const holderPartition = indexKeys.holder;
const issuerPartition = indexKeys.issuerLicences;
const maxPageScans = 20;
/**
 * Index entries one read of a kid-filtered list takes (`signedBy`): the filter keeps few of what it
 * reads, so each read is bounded by count rather than by DynamoDB's 1 MB, and a page costs at most
 * {@link maxPageScans} such reads (it may then be short, even empty, with a cursor).
 */
export const signedByReadLimit = 200;
/** Index pages (up to 1 MB each) a count reads at most, whatever its cap: the count's cost is bounded. */
const maxCountScans = 50;

function toItem(licence: LicenceRecord) {
  return {
    ...key(licence.id),
    gsi1pk: holderPartition(licence.holder.lookupKey),
    gsi1sk: indexKeys.holderLicence(licence.issuedAt, licence.id),
    gsi2pk: issuerPartition(licence.issuerId),
    gsi2sk: indexKeys.issuerLicence(licence.issuedAt, licence.id),
    ...licence,
  };
}

function fromItem(item: Record<string, unknown>): LicenceRecord {
  const { pk: _pk, sk: _sk, gsi1pk: _a, gsi1sk: _b, gsi2pk: _c, gsi2sk: _d, ...licence } = item;
  const record = licence as unknown as LicenceRecord;
  // Credentials signed before every signature was low-S are high-S half the time, and verifiers now
  // refuse that form: each is read in its low-S twin (same claims, still valid, no KMS call), and the
  // next write of the record stores it so.
  return typeof record.credential === 'string'
    ? { ...record, credential: lowSCompactJws(record.credential) }
    : record;
}

type Index = { name: 'gsi1' | 'gsi2'; partition: string };

/**
 * Where a start key may lie: the index partition, the key condition's issue-date range (its two sort-key
 * bounds, when the query has one) and the direction. A start key outside the range is a
 * `ValidationException` of DynamoDB (review R22: a cursor reused with another range was a 500).
 */
interface CursorScope {
  index: Index;
  range?: readonly [string, string];
  oldest: boolean;
}

/** What a cursor that does not continue this query is: a 400 naming `cursor`. */
function invalidCursor(): InvalidInputError {
  return new InvalidInputError('The cursor does not belong to this query', 'invalid_cursor', {
    errors: [
      {
        path: 'cursor',
        message: 'not a cursor of this listing, with these issue dates and this order',
        code: 'invalid_format',
      },
    ],
  });
}

/**
 * Where the next page starts, without the index partition: the query knows it (the issuer, or the
 * holder's lookup key, a MAC of their ID number that must not travel to the client and back in URLs
 * and logs), so the cursor names only the item (its licence key and index sort key) and is read back
 * into the same partition ({@link decodeCursor}). `q` binds it to that partition, the issue-date range
 * and the direction: a digest of them and the item, which differs from item to item (no stable handle
 * on the holder) and cannot be turned back into the lookup key (itself a MAC).
 */
function encodeCursor(item: Record<string, unknown>, scope: CursorScope): string {
  const skName = `${scope.index.name}sk`;
  const position = { pk: String(item.pk), sk: String(item.sk), [skName]: String(item[skName]) };
  return Buffer.from(JSON.stringify({ ...position, q: cursorBinding(position, scope) })).toString(
    'base64url',
  );
}

function cursorBinding(position: Record<string, string>, scope: CursorScope): string {
  const { index } = scope;
  const bound = [index.name, index.partition, position.pk, position.sk, position[`${index.name}sk`]];
  // The default listing (no range, newest first) binds what it bound before ranges and the direction
  // were bound, so its pages open across a deploy still turn; any other is a different digest.
  if (scope.range || scope.oldest) {
    bound.push(scope.range?.[0] ?? '', scope.range?.[1] ?? '', scope.oldest ? 'oldest' : 'newest');
  }
  return createHash('sha256').update(JSON.stringify(bound)).digest('base64url').slice(0, 22);
}

/**
 * A cursor continues only the query it came from (same index, same partition, same issue-date range,
 * same direction, by its `q`), and its partition is the query's own, never read from the cursor.
 */
function decodeCursor(cursor: string, scope: CursorScope): Record<string, string> {
  const { index } = scope;
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor();
  }
  const names = ['pk', 'sk', `${index.name}sk`];
  if (typeof decoded !== 'object' || decoded === null) throw invalidCursor();
  const { q, ...position } = decoded as Record<string, unknown>;
  if (
    Object.keys(position).length !== names.length ||
    !names.every((n) => typeof position[n] === 'string' && (position[n] as string).length <= 512) ||
    q !== cursorBinding(position as Record<string, string>, scope)
  ) {
    throw invalidCursor();
  }
  return { ...(position as Record<string, string>), [`${index.name}pk`]: index.partition };
}

/** DynamoDB's refusal of a request as malformed (a start key outside the key condition, too long…). */
function isValidationException(error: unknown): boolean {
  return (error as { name?: unknown } | undefined)?.name === 'ValidationException';
}

function statusFilter(query: LicenceFilter) {
  const now = { ':now': query.now.toISOString() };
  switch (query.status) {
    case undefined:
      return undefined;
    case 'valid':
      return {
        expression: '#status = :status AND (attribute_not_exists(validUntil) OR validUntil > :now)',
        values: { ':status': 'valid', ...now },
      };
    case 'expired':
      return {
        expression: '#status = :status AND validUntil <= :now',
        values: { ':status': 'valid', ...now },
      };
    default:
      return { expression: '#status = :status', values: { ':status': query.status } };
  }
}

/** {@link LicenceStore} on the single table: one item per licence, found by holder (gsi1) and issuer (gsi2). */
export class DynamoLicenceStore implements LicenceStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async create(licence: LicenceRecord): Promise<LicenceRecord> {
    const created = { ...licence, version: 1 };
    await putNew(this.doc, this.tableName, toItem(created), {
      conflict: { code: 'licence_exists', message: `Licence ${licence.id} already exists` },
    });
    return created;
  }

  async get(id: string): Promise<LicenceRecord | undefined> {
    const item = await getItem(this.doc, this.tableName, key(id), 0);
    return item && fromItem(item);
  }

  async save(licence: LicenceRecord): Promise<LicenceRecord> {
    const saved = await putVersioned(this.doc, this.tableName, toItem(licence), licence.version, {
      conflict: {
        code: 'licence_changed',
        message: 'The licence changed meanwhile; read it again and retry',
      },
    });
    return fromItem(saved);
  }

  async clearPending(id: string, version: number): Promise<LicenceRecord | undefined> {
    try {
      const { Attributes } = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key(id),
          UpdateExpression: 'REMOVE #pending',
          ConditionExpression: '#version = :version',
          ExpressionAttributeNames: { '#pending': 'pending', '#version': 'version' },
          ExpressionAttributeValues: { ':version': version },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return Attributes && fromItem(Attributes);
    } catch (error) {
      if (isConditionalCheckFailed(error)) return undefined;
      throw error;
    }
  }

  async listByIssuer(issuerId: string, query: LicenceQuery): Promise<LicencePage> {
    return this.#page(issuerQuery(this.tableName, issuerId, query), query);
  }

  async countByIssuer(issuerId: string, filter: LicenceFilter, cap: number): Promise<LicenceCount> {
    const { input } = issuerQuery(this.tableName, issuerId, filter);
    const signedBy = filter.signedBy;
    let count = 0;
    let start: Record<string, unknown> | undefined;
    for (let scans = 0; scans < maxCountScans; scans++) {
      // A kid is not an attribute DynamoDB can filter on: read the credentials and count in code.
      const page = await this.doc.send(
        new QueryCommand({
          ...input,
          ...(signedBy
            ? {
                ProjectionExpression: '#credential',
                ExpressionAttributeNames: { ...input.ExpressionAttributeNames, '#credential': 'credential' },
              }
            : { Select: 'COUNT' as const }),
          ExclusiveStartKey: start,
        }),
      );
      count += signedBy
        ? (page.Items ?? []).filter((item) => signedByOneOf(item, signedBy)).length
        : (page.Count ?? 0);
      start = page.LastEvaluatedKey;
      if (!start || count >= cap) break;
    }
    // Stopped by the cap, or by the scan bound with more to read: either way "at least".
    return count >= cap || start ? { count: Math.min(count, cap), capped: true } : { count, capped: false };
  }

  async listByHolder(holderLookupKey: string): Promise<LicenceRecord[]> {
    const items = await queryAll(this.doc, {
      TableName: this.tableName,
      IndexName: 'gsi1',
      KeyConditionExpression: 'gsi1pk = :pk AND begins_with(gsi1sk, :licence)',
      ExpressionAttributeValues: {
        ':pk': holderPartition(holderLookupKey),
        ':licence': sortPrefixes.holderLicence,
      },
      ScanIndexForward: false,
    });
    return items.map(fromItem);
  }

  /**
   * The licences behind index hits, each read again by key: an index entry is only a pointer. A hit whose
   * item is gone, or now sits under another index key, is stale and dropped (locally, dynalite writes an
   * index before its item, so a write that dies between them leaves such an entry; in AWS an index lags
   * its table), and no licence is listed twice. The item read is the current one (status, credential).
   */
  async #current(hits: Record<string, unknown>[], index: Index): Promise<LicenceRecord[]> {
    const skName = `${index.name}sk`;
    const seen = new Set<string>();
    const unique = hits.filter((hit) => {
      const pk = String(hit.pk);
      if (seen.has(pk)) return false;
      seen.add(pk);
      return true;
    });
    const items = await Promise.all(
      unique.map((hit) => getItem(this.doc, this.tableName, { pk: String(hit.pk), sk: String(hit.sk) }, 0)),
    );
    return items
      .filter(
        (item, i): item is NonNullable<typeof item> =>
          item !== undefined && item[skName] === unique[i]![skName],
      )
      .map(fromItem);
  }

  /** Reads until a page is full: a filter applies after DynamoDB's own `Limit`, so one read may be short. */
  async #page({ index, range, input: base }: IssuerQuery, query: LicenceQuery): Promise<LicencePage> {
    const scope: CursorScope = { index, ...(range ? { range } : {}), oldest: query.order === 'oldest' };
    const input: QueryCommandInput = {
      ...base,
      ScanIndexForward: query.order === 'oldest',
      // A kid filter keeps few of what it reads: each read then takes more entries than the page holds,
      // but a bounded number of them (not a whole 1 MB of the index), and matches past the page's end wait
      // for the next page (the cursor resumes after the last one kept).
      Limit: query.signedBy ? Math.max(query.limit, signedByReadLimit) : query.limit,
    };
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined = query.cursor
      ? decodeCursor(query.cursor, scope)
      : undefined;
    for (let scans = 0; scans < maxPageScans; scans++) {
      const page = await this.doc
        .send(new QueryCommand({ ...input, ExclusiveStartKey: start }))
        .catch((error: unknown) => {
          // Second line of defence: a start key DynamoDB refuses came from the client's cursor (its
          // binding is a digest of public values, so one can be made to pass it): a 400, never a 500.
          if (scans === 0 && query.cursor !== undefined && isValidationException(error)) {
            // Its name only: the refusal may quote the query's values (a holder's name filter).
            logger.warn('a paging cursor refused by DynamoDB', { error: 'ValidationException' });
            throw invalidCursor();
          }
          throw error;
        });
      // The index projects whole items, the credential included: a kid filter keeps its matches here,
      // within the same bounded reads, and only they are read again by key.
      const signedBy = query.signedBy;
      items.push(
        ...(signedBy
          ? (page.Items ?? []).filter((item) => signedByOneOf(item, signedBy))
          : (page.Items ?? [])),
      );
      start = page.LastEvaluatedKey;
      if (!start || items.length >= query.limit) break;
    }
    const pageItems = items.slice(0, query.limit);
    const resumeAt = items.length > query.limit ? pageItems.at(-1) : start;
    return {
      items: await this.#current(pageItems, index),
      ...(resumeAt ? { cursor: encodeCursor(resumeAt, scope) } : {}),
    };
  }
}

/** Whether an index entry's credential was signed by one of `kids` (its protected header's `kid`). */
function signedByOneOf(item: Record<string, unknown>, kids: readonly string[]): boolean {
  const kid = typeof item.credential === 'string' ? credentialKid(item.credential) : undefined;
  return kid !== undefined && kids.includes(kid);
}

interface IssuerQuery {
  index: Index;
  /** The key condition's sort-key bounds, when the filter has an issue-date range. */
  range?: readonly [string, string];
  input: Omit<QueryCommandInput, 'Limit' | 'ScanIndexForward' | 'ExclusiveStartKey'>;
}

/**
 * The query of an issuer's licences matching a filter: by holder (gsi1, narrowed to the issuer) or by
 * issuer (gsi2). The issue-date range is a key condition on the index's sort key (`[prefix]<issuedAt>#<id>`),
 * so a narrow range reads only its own entries; the other conditions filter what the range reads.
 */
function issuerQuery(tableName: string, issuerId: string, filter: LicenceFilter): IssuerQuery {
  const filters: string[] = [];
  const values: Record<string, unknown> = {};
  const names: Record<string, string> = {};
  const status = statusFilter(filter);
  if (status) {
    filters.push(status.expression);
    Object.assign(values, status.values);
    names['#status'] = 'status';
  }
  if (filter.type !== undefined) {
    filters.push('#type = :type');
    values[':type'] = filter.type;
    names['#type'] = 'type';
  }
  if (filter.holderName !== undefined) {
    filters.push('contains(#holder.#holderName, :holderName)');
    values[':holderName'] = filter.holderName;
    names['#holder'] = 'holder';
    names['#holderName'] = 'name';
  }
  if (filter.number !== undefined) {
    filters.push('contains(#id, :number)');
    values[':number'] = filter.number;
    names['#id'] = 'id';
  }
  let index: Index;
  let prefix: string;
  if (filter.holderLookupKey) {
    index = { name: 'gsi1', partition: holderPartition(filter.holderLookupKey) };
    prefix = sortPrefixes.holderLicence;
    filters.push('issuerId = :issuerId');
    values[':issuerId'] = issuerId;
  } else {
    index = { name: 'gsi2', partition: issuerPartition(issuerId) };
    prefix = '';
  }
  let keyCondition = `${index.name}pk = :pk`;
  let range: [string, string] | undefined;
  if (filter.issuedFrom !== undefined || filter.issuedBefore !== undefined) {
    // An entry issued exactly at `issuedBefore` sorts after it (its key goes on with `#<id>`), so the
    // inclusive BETWEEN leaves it out; "~" sorts after every digit, so no upper bound is "to the end".
    keyCondition += ` AND ${index.name}sk BETWEEN :issuedFrom AND :issuedBefore`;
    range = [`${prefix}${filter.issuedFrom ?? ''}`, `${prefix}${filter.issuedBefore ?? '~'}`];
    values[':issuedFrom'] = range[0];
    values[':issuedBefore'] = range[1];
  }
  return {
    index,
    ...(range ? { range } : {}),
    input: {
      TableName: tableName,
      IndexName: index.name,
      KeyConditionExpression: keyCondition,
      ExpressionAttributeValues: { ':pk': index.partition, ...values },
      ...(filters.length > 0 ? { FilterExpression: filters.join(' AND ') } : {}),
      ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
    },
  };
}
