import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoAuditChainStore, maxReadsPerPage } from '../../shared/adapters/dynamo/audit-chain-store.js';
import { DynamoAuditTrail } from '../../shared/adapters/dynamo/audit-trail.js';
import type { AuditEntry } from '../../shared/audit/audit-trail.js';
import { InMemoryAuditChains } from '../support/in-memory-audit-chain.js';
import { auditChainStoreContract } from './audit-chain-store.contract.js';
import { nothingToClean, useDynamo } from './subject.js';

const dynamo = useDynamo();

auditChainStoreContract('InMemoryAuditChains', async () => {
  const chains = new InMemoryAuditChains();
  return { store: chains, writer: (clock) => chains.writer(clock), cleanup: nothingToClean };
});

auditChainStoreContract('DynamoAuditChainStore on dynalite', async () => {
  const { doc, tableName } = await dynamo.newTable();
  return {
    store: new DynamoAuditChainStore(doc, tableName),
    writer: (clock) => new DynamoAuditTrail(doc, tableName, clock),
    cleanup: nothingToClean,
  };
});

describe('DynamoAuditChainStore: one page reads a bounded part of the range (SRE review M7)', () => {
  it('stops after its reads with a cursor, when an issuer’s entries are few among many partitions', async () => {
    const { doc, tableName } = await dynamo.newTable();
    let queries = 0;
    const counting = {
      send: (command: unknown) => {
        if (command instanceof QueryCommand) queries += 1;
        return doc.send(command as QueryCommand);
      },
    } as unknown as DynamoDBDocumentClient;
    const store = new DynamoAuditChainStore(counting, tableName);
    // Each entry written on its day.
    let now = 0;
    const trail = new DynamoAuditTrail(doc, tableName, { now: () => now });
    const write = (entry: AuditEntry) => {
      now = Date.parse(entry.at);
      return trail.record(entry);
    };
    // Three days, 48 partitions: the issuer asked for has one entry, on the last day.
    for (const day of ['2026-12-03', '2026-12-04'])
      await write({
        at: `${day}T09:00:00.000Z`,
        actor: 'cl_x',
        action: 'licence.verified',
        issuerId: 'iss_other',
      });
    await write({
      at: '2026-12-05T09:00:00.000Z',
      actor: 'cl_x',
      action: 'licence.verified',
      issuerId: 'iss_few',
    });

    const range = { from: '2026-12-03', to: '2026-12-05', issuerId: 'iss_few', limit: 500 };
    const found: unknown[] = [];
    const reads: number[] = [];
    let cursor: string | undefined;
    do {
      queries = 0;
      const page = await store.entries({ ...range, ...(cursor ? { cursor } : {}) });
      reads.push(queries);
      found.push(...page.items);
      cursor = page.cursor;
    } while (cursor);
    expect(Math.max(...reads)).toBeLessThanOrEqual(maxReadsPerPage);
    expect(reads.length).toBeGreaterThan(1);
    expect(found).toEqual([expect.objectContaining({ issuerId: 'iss_few' })]);
  });
});
