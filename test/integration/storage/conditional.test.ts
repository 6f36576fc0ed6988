import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startTestTable, type TestTable } from '../../support/dynamo-table.js';
import { ConflictError } from '../../../shared/errors.js';
import { getItem, putNew, putVersioned } from '../../../shared/adapters/dynamo/conditional.js';

const tableName = 'conditional';
const now = 1_700_000_000;

describe('conditional writes against dynalite', () => {
  let table: TestTable;
  let doc: DynamoDBDocumentClient;
  let keyCounter = 0;
  const freshKey = () => ({ pk: `test#${++keyCounter}`, sk: 'test' });

  beforeAll(async () => {
    table = await startTestTable(tableName);
    doc = table.doc;
  });

  afterAll(async () => {
    await table?.close();
  });

  describe('putNew', () => {
    it('creates once, then fails with ConflictError and leaves the first item', async () => {
      const key = freshKey();
      await putNew(doc, tableName, { ...key, owner: 'first' });
      const second = putNew(doc, tableName, { ...key, owner: 'second' });
      await expect(second).rejects.toBeInstanceOf(ConflictError);
      await expect(second).rejects.toMatchObject({ code: 'conflict', kind: 'conflict' });
      expect(await getItem(doc, tableName, key, now)).toMatchObject({ owner: 'first' });
    });

    it('throws the caller’s code and message on conflict', async () => {
      const key = freshKey();
      const conflict = { code: 'issuer_exists', message: 'An issuer with this credit code already exists' };
      await putNew(doc, tableName, key, { conflict });
      await expect(putNew(doc, tableName, key, { conflict })).rejects.toMatchObject(conflict);
    });

    it('lets exactly one of 20 concurrent writers claim a key', async () => {
      const key = freshKey();
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, (_, writer) => putNew(doc, tableName, { ...key, writer })),
      );
      const won = results.flatMap((result, writer) => (result.status === 'fulfilled' ? [writer] : []));
      expect(won).toHaveLength(1);
      for (const result of results) {
        if (result.status === 'rejected') expect(result.reason).toBeInstanceOf(ConflictError);
      }
      expect(await getItem(doc, tableName, key, now)).toMatchObject({ writer: won[0] });
    });

    it('replaces an expired item only when told the time', async () => {
      const key = freshKey();
      await putNew(doc, tableName, { ...key, expiresAt: now, generation: 1 });
      await expect(putNew(doc, tableName, { ...key, generation: 2 })).rejects.toBeInstanceOf(ConflictError);
      await expect(
        putNew(doc, tableName, { ...key, generation: 2 }, { nowSeconds: now - 1 }),
      ).rejects.toBeInstanceOf(ConflictError);
      await putNew(doc, tableName, { ...key, generation: 2 }, { nowSeconds: now });
      expect(await getItem(doc, tableName, key, now)).toMatchObject({ generation: 2 });
    });
  });

  describe('putVersioned', () => {
    it('starts at version 1 and increments on each accepted write', async () => {
      const key = freshKey();
      const created = await putVersioned(doc, tableName, { ...key, status: 'active' }, 0);
      expect(created.version).toBe(1);
      const updated = await putVersioned(
        doc,
        tableName,
        { ...created, status: 'suspended' },
        created.version,
      );
      expect(updated.version).toBe(2);
      expect(await getItem(doc, tableName, key, now)).toEqual({ ...key, status: 'suspended', version: 2 });
    });

    it('rejects a stale version with ConflictError and leaves the item unchanged', async () => {
      const key = freshKey();
      const v1 = await putVersioned(doc, tableName, { ...key, status: 'active' }, 0);
      await putVersioned(doc, tableName, { ...v1, status: 'suspended' }, 1);

      await expect(putVersioned(doc, tableName, { ...v1, status: 'revoked' }, 1)).rejects.toBeInstanceOf(
        ConflictError,
      );
      expect(await getItem(doc, tableName, key, now)).toEqual({ ...key, status: 'suspended', version: 2 });
    });

    it('treats expected version 0 as "must not exist"', async () => {
      const key = freshKey();
      await putVersioned(doc, tableName, key, 0);
      await expect(putVersioned(doc, tableName, key, 0)).rejects.toBeInstanceOf(ConflictError);
    });

    it('lets exactly one of concurrent writers of the same version win', async () => {
      const key = freshKey();
      await putVersioned(doc, tableName, { ...key, writer: -1 }, 0);
      const results = await Promise.allSettled(
        Array.from({ length: 10 }, (_, writer) => putVersioned(doc, tableName, { ...key, writer }, 1)),
      );
      expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
      expect(await getItem(doc, tableName, key, now)).toMatchObject({ version: 2 });
    });
  });

  describe('getItem', () => {
    it('reads absent and expired items as undefined', async () => {
      const key = freshKey();
      expect(await getItem(doc, tableName, key, now)).toBeUndefined();
      await putNew(doc, tableName, { ...key, expiresAt: now + 60 });
      expect(await getItem(doc, tableName, key, now + 59)).toMatchObject({ expiresAt: now + 60 });
      expect(await getItem(doc, tableName, key, now + 60)).toBeUndefined();
      expect(await getItem(doc, tableName, key, now + 3600)).toBeUndefined();
    });

    it('returns items without expiresAt whatever the time', async () => {
      const key = freshKey();
      await putNew(doc, tableName, { ...key, permanent: true });
      expect(await getItem(doc, tableName, key, Number.MAX_SAFE_INTEGER)).toMatchObject({ permanent: true });
    });
  });
});
