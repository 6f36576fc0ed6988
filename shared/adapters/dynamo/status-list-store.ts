import { PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { setTimeout as sleep } from 'node:timers/promises';
import { epochSeconds, systemClock, type Clock } from '../../clock.js';
import { ConflictError, UnavailableError } from '../../errors.js';
import { getItem, isConditionalCheckFailed, putVersioned, type Item } from './conditional.js';
import {
  createStatusBytes,
  readStatus,
  statusListByteLength,
  statusListFromCompressed,
  STATUS_BITS,
  StatusType,
  writeStatus,
  type StatusValue,
} from '../../../packages/verifier/src/status-list.js';
import {
  allocationFor,
  LIST_SIZE,
  parseListId,
  type SignedStatusList,
  type StatusListAllocation,
  type StatusListSnapshot,
  type StatusListStore,
} from '../../licence/status-list-store.js';
import { deflateStatusBytes, inflateStatusBytes } from '../../../packages/verifier/src/status-list-zlib.js';
import { keys } from './keys.js';

const LIST_BYTES = statusListByteLength(LIST_SIZE);
/** An untouched list compressed: 32 KiB of zeros become about 50 bytes. */
let emptyList: Uint8Array | undefined;
const emptyCompressed = () => (emptyList ??= deflateStatusBytes(createStatusBytes(LIST_SIZE)));
/** Writers of one list retry a lost race this many times; 20 concurrent writers need at most 20 rounds. */
const MAX_ATTEMPTS = 30;

const counterKey = keys.statusListCounter;
const listKey = keys.statusList;

type ListItem = Item & {
  issuerId: string;
  list: number;
  size: number;
  bits: number;
  /** The list's byte array, ZLIB-compressed: the `lst` bytes as they are served. */
  bitmap: Uint8Array;
  revision: number;
  version: number;
  tokenJws?: string;
  tokenRevision?: number;
  tokenUri?: string;
  tokenIat?: number;
  tokenExp?: number;
  /** The `iat` of the last token signed, kept when a status change drops the token (R32 M1). */
  lastTokenIat?: number;
};

function parse(listId: string): { issuerId: string; list: number } {
  const parsed = parseListId(listId);
  if (!parsed) throw new RangeError(`Not a status list id: ${JSON.stringify(listId)}`);
  return parsed;
}

/** The later of two optional dates. */
function latest(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.max(a, b);
}

/** Full jitter, capped: spreads competing writers of one list apart. */
const backoff = (attempt: number) => sleep(Math.random() * Math.min(100, 4 * 2 ** attempt));

/**
 * {@link StatusListStore} on the single table: one counter item per issuer, one item per list holding its
 * compressed byte array, a `revision` and the last signed token.
 *
 * The byte array is stored compressed: with 1% of a list changed its item weighs about 2 KB instead of
 * 32 KiB, so each status change reads and writes a few capacity units rather than dozens, and the stored bytes are exactly
 * the `lst` the token carries, so serving a list never recompresses it.
 *
 * @example
 * ```ts
 * const statusLists = new DynamoStatusListStore(doc, config.tableName);
 * const { serial, listId, idx } = await statusLists.allocate(issuer.id);
 * await statusLists.setStatus(listId, idx, StatusType.INVALID);
 * ```
 */
export class DynamoStatusListStore implements StatusListStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    /** Dates a status change, for the `iat` of the next token (see {@link setStatus}). */
    private readonly clock: Clock = systemClock,
  ) {}

  /** One `UpdateItem ADD`: DynamoDB serialises writes to one item, so each caller gets its own new value. */
  async allocate(issuerId: string): Promise<StatusListAllocation> {
    allocationFor(issuerId, 0); // refuses an id that could not name a list, before anything is written
    const { Attributes } = await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: counterKey(issuerId),
        UpdateExpression: 'ADD #allocated :one SET issuerId = :issuerId',
        ExpressionAttributeNames: { '#allocated': 'allocated' },
        ExpressionAttributeValues: { ':one': 1, ':issuerId': issuerId },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    return allocationFor(issuerId, Number(Attributes?.allocated) - 1);
  }

  async allocated(issuerId: string): Promise<number> {
    const item = await getItem(this.doc, this.tableName, counterKey(issuerId), 0);
    return Number(item?.allocated ?? 0);
  }

  async setStatus(listId: string, idx: number, value: StatusValue): Promise<void> {
    const { issuerId, list } = parse(listId);
    if (!Number.isSafeInteger(idx) || idx < 0 || idx >= LIST_SIZE) {
      throw new RangeError(`Index ${idx} is outside a status list of ${LIST_SIZE} entries`);
    }
    if (!Object.values(StatusType).includes(value)) throw new RangeError(`Not a status value: ${value}`);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const item = await this.read(listId);
      const bytes = item ? inflateStatusBytes(item.bitmap, LIST_BYTES) : createStatusBytes(LIST_SIZE);
      const current = readStatus(bytes, idx);
      // Revocation is final: a writer still holding an older version of the licence (one that lost a race
      // to the revocation) must not put a revoked entry back to valid or suspended, not even for a moment.
      if (current === value || current === StatusType.INVALID) return;
      writeStatus(bytes, idx, value);
      // The token is left out on purpose: it was signed at an older revision and is stale from now on.
      // Its date stays: the next token is signed after it (in the same Put, no call of its own), and
      // after this second (review R33 L1): a token signed over the revision read here and served though
      // its save lost to this write, dated this second at the latest (status-list-token.ts serves no
      // such token dated ahead), is followed by one of another second.
      const lastTokenIat = Math.max(
        latest(item?.tokenIat, item?.lastTokenIat) ?? -Infinity,
        epochSeconds(this.clock),
      );
      const next = {
        ...listKey(listId),
        issuerId,
        list,
        size: LIST_SIZE,
        bits: STATUS_BITS,
        bitmap: deflateStatusBytes(bytes),
        revision: (item?.revision ?? 0) + 1,
        lastTokenIat,
        version: (item?.version ?? 0) + 1,
      };
      try {
        await this.doc.send(
          new PutCommand({
            TableName: this.tableName,
            Item: next,
            // Versioned, and (R33 L1) the token unchanged since the read: a token saved meanwhile (saving
            // one leaves `version` alone, so as not to make status writers retry for it) is not
            // overwritten with its date lost, but read again, and the next token is dated after it.
            ConditionExpression: !item
              ? 'attribute_not_exists(pk)'
              : item.tokenIat === undefined
                ? '#version = :expected AND attribute_not_exists(tokenIat)'
                : '#version = :expected AND tokenIat = :seenIat',
            ...(item && {
              ExpressionAttributeNames: { '#version': 'version' },
              ExpressionAttributeValues: {
                ':expected': item.version,
                ...(item.tokenIat !== undefined && { ':seenIat': item.tokenIat }),
              },
            }),
          }),
        );
        return;
      } catch (error) {
        if (!isConditionalCheckFailed(error)) throw error;
        await backoff(attempt);
      }
    }
    throw new UnavailableError(
      `Status list ${listId} kept changing during ${MAX_ATTEMPTS} attempts`,
      'status_list_contended',
    );
  }

  async find(listId: string): Promise<StatusListSnapshot> {
    parse(listId);
    const item = await this.read(listId);
    if (!item) {
      return {
        listId,
        revision: 0,
        statusList: statusListFromCompressed(emptyCompressed()),
        token: undefined,
        stored: false,
      };
    }
    const token =
      item.tokenJws !== undefined &&
      item.tokenRevision !== undefined &&
      item.tokenUri !== undefined &&
      item.tokenIat !== undefined &&
      item.tokenExp !== undefined
        ? {
            jws: item.tokenJws,
            revision: item.tokenRevision,
            uri: item.tokenUri,
            iat: item.tokenIat,
            exp: item.tokenExp,
          }
        : undefined;
    const lastIat = latest(item.tokenIat, item.lastTokenIat);
    return {
      listId,
      revision: item.revision,
      statusList: statusListFromCompressed(item.bitmap),
      token,
      stored: true,
      ...(lastIat !== undefined && { lastIat }),
    };
  }

  async saveToken(listId: string, token: SignedStatusList, seen: StatusListSnapshot): Promise<boolean> {
    const { issuerId, list } = parse(listId);
    const fields = {
      tokenJws: token.jws,
      tokenRevision: token.revision,
      tokenUri: token.uri,
      tokenIat: token.iat,
      tokenExp: token.exp,
    };
    try {
      if (!seen.stored) {
        // First token of an untouched list: create the item, unless a status change created it meanwhile.
        await putVersioned(
          this.doc,
          this.tableName,
          {
            ...listKey(listId),
            issuerId,
            list,
            size: LIST_SIZE,
            bits: STATUS_BITS,
            bitmap: emptyCompressed(),
            revision: 0,
            ...fields,
          },
          0,
        );
        return true;
      }
      // Not versioned: a token is a cache of one revision, and must not make status writers retry.
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: listKey(listId),
          UpdateExpression:
            'SET tokenJws = :jws, tokenRevision = :revision, tokenUri = :uri, tokenIat = :iat, tokenExp = :exp',
          ConditionExpression:
            seen.token === undefined
              ? 'revision = :revision AND attribute_not_exists(tokenIat)'
              : 'revision = :revision AND tokenIat = :seenIat AND tokenRevision = :seenRevision',
          ExpressionAttributeValues: {
            ':jws': token.jws,
            ':revision': token.revision,
            ':uri': token.uri,
            ':iat': token.iat,
            ':exp': token.exp,
            ...(seen.token && { ':seenIat': seen.token.iat, ':seenRevision': seen.token.revision }),
          },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConflictError || isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }

  private async read(listId: string): Promise<ListItem | undefined> {
    return getItem<ListItem>(this.doc, this.tableName, listKey(listId), 0);
  }
}
