import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ConflictError } from '../../errors.js';
import { getItem, putVersioned } from './conditional.js';
import type { SignedTrustList, TrustListStore } from '../../licence/trust-list-store.js';
import { keys } from './keys.js';

const key = keys.trustList();

/**
 * {@link TrustListStore} on the single table: one item, replaced under optimistic concurrency.
 *
 * @example
 * ```ts
 * const trustList = new DynamoTrustListStore(doc, config.tableName);
 * ```
 */
export class DynamoTrustListStore implements TrustListStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async find(): Promise<(SignedTrustList & { version: number }) | undefined> {
    const item = await getItem(this.doc, this.tableName, key, 0);
    if (!item) return undefined;
    return {
      jws: String(item.jws),
      contentHash: String(item.contentHash),
      iat: Number(item.iat),
      exp: Number(item.exp),
      version: Number(item.version),
    };
  }

  async save(token: SignedTrustList, expectedVersion: number): Promise<boolean> {
    try {
      await putVersioned(this.doc, this.tableName, { ...key, ...token }, expectedVersion);
      return true;
    } catch (error) {
      if (error instanceof ConflictError) return false;
      throw error;
    }
  }
}
