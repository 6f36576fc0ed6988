import { randomUUID } from 'node:crypto';
import { QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoLicenceStore, signedByReadLimit } from '../../shared/adapters/dynamo/licence-store.js';
import { InMemoryLicenceStore } from '../support/in-memory-licence.js';
import { licenceRecord, licenceStoreContract } from './licence-store.contract.js';
import { nothingToClean, useDynamo } from './subject.js';

const dynamo = useDynamo();

licenceStoreContract('InMemoryLicenceStore', async () => ({
  store: new InMemoryLicenceStore(),
  cleanup: nothingToClean,
}));

licenceStoreContract('DynamoLicenceStore on dynalite', async () => {
  const { doc, tableName } = await dynamo.newTable();
  return { store: new DynamoLicenceStore(doc, tableName), cleanup: nothingToClean };
});

describe('DynamoLicenceStore: the cost of a kid-filtered page (keyWithdrawn=true)', () => {
  it('bounds every index read by a Limit, not by DynamoDB’s 1 MB', async () => {
    const { doc, tableName } = await dynamo.newTable();
    const queries: QueryCommandInput[] = [];
    const counted = {
      send: (command: { input: unknown }) => {
        if (command instanceof QueryCommand) queries.push(command.input);
        return doc.send(command as never);
      },
    } as unknown as typeof doc;
    const store = new DynamoLicenceStore(counted, tableName);
    const issuerId = `iss_${randomUUID().slice(0, 8)}`;
    for (let day = 1; day <= 3; day++) {
      await store.create(licenceRecord({ issuerId, issuedAt: `2026-02-0${day}T00:00:00.000Z` }));
    }
    const page = await store.listByIssuer(issuerId, {
      limit: 2,
      now: new Date('2026-03-01T00:00:00.000Z'),
      signedBy: ['kid-none'],
    });
    expect(page.items).toEqual([]);
    expect(queries.length).toBeGreaterThan(0);
    for (const input of queries) expect(input.Limit).toBe(signedByReadLimit);
  });
});

describe('DynamoLicenceStore: a start key DynamoDB refuses (review R22)', () => {
  it('is the client’s cursor at fault: 400 invalid_cursor naming cursor, never a server error', async () => {
    const { doc, tableName } = await dynamo.newTable();
    const store = new DynamoLicenceStore(doc, tableName);
    const issuerId = `iss_${randomUUID().slice(0, 8)}`;
    for (let day = 1; day <= 2; day++) {
      await store.create(licenceRecord({ issuerId, issuedAt: `2026-02-0${day}T00:00:00.000Z` }));
    }
    const now = new Date('2026-03-01T00:00:00.000Z');
    const { cursor } = await store.listByIssuer(issuerId, { limit: 1, now });
    // A cursor whose binding passes (it is a digest of public values, so one can be made) but whose start
    // key DynamoDB refuses, as it refuses one outside the key condition's range.
    const refusing = {
      send: (command: { input: { ExclusiveStartKey?: unknown } }) =>
        command instanceof QueryCommand && command.input.ExclusiveStartKey
          ? Promise.reject(
              Object.assign(new Error('The provided starting key is outside query boundaries'), {
                name: 'ValidationException',
              }),
            )
          : doc.send(command as never),
    } as unknown as typeof doc;
    const refused = new DynamoLicenceStore(refusing, tableName).listByIssuer(issuerId, {
      limit: 1,
      now,
      cursor,
    });
    await expect(refused).rejects.toMatchObject({
      kind: 'invalid_input',
      code: 'invalid_cursor',
      errors: [{ path: 'cursor' }],
    });
    // Without a client's cursor, DynamoDB's refusal is the service's own fault, and stays one.
    const failing = {
      send: () => Promise.reject(Object.assign(new Error('bad'), { name: 'ValidationException' })),
    } as unknown as typeof doc;
    await expect(
      new DynamoLicenceStore(failing, tableName).listByIssuer(issuerId, { limit: 1, now }),
    ).rejects.toMatchObject({
      name: 'ValidationException',
    });
  });
});
