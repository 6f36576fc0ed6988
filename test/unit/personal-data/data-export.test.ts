import { describe, expect, it } from 'vitest';
import {
  exportByteBudget,
  exportPersonalData,
  exportUsageCap,
  exportUsagePageReads,
} from '../../../shared/personal-data/data-export.js';
import { parseAccountId } from '../../../shared/identifiers/account-id.js';
import type { Assurance } from '../../../shared/identity/person-account.js';
import {
  FailingAudit,
  InMemoryAccountStore,
  InMemoryAudit,
  InMemoryEntityStore,
  InMemoryIssuers,
  InMemoryLicences,
  InMemoryRegistry,
  TestClock,
} from '../../support/in-memory-identity.js';
import { fakeMac, InMemoryClientStore } from '../../support/in-memory.js';
import { InMemoryPasskeyStore } from '../../support/in-memory-passkeys.js';
import { InMemoryClientNames, InMemorySharingGrants } from '../../support/in-memory-sharing.js';

const lookupKey = 'lk-exporting-person';

/** A level-3 person and what `exportPersonalData` reads, in memory; `audit` the usage record too. */
async function world(audit = new InMemoryAudit(), assurance: Assurance = 'in-person-verified') {
  const clock = new TestClock();
  const deps = {
    accounts: new InMemoryAccountStore(),
    entities: new InMemoryEntityStore(),
    registry: new InMemoryRegistry(),
    lookupMac: fakeMac,
    clock,
    licences: new InMemoryLicences(),
    issuers: new InMemoryIssuers(),
    passkeys: new InMemoryPasskeyStore(),
    usage: audit,
    audit,
    clientReader: new InMemoryClientStore(),
    sharingGrants: new InMemorySharingGrants(clock),
    clientNames: new InMemoryClientNames(),
    config: { issuerUrl: 'https://id.example.gov.cn' },
  };
  await deps.accounts.create({
    id: 'acc_exporting',
    lookupKey,
    masked: '310104********0011',
    idNumberEncrypted: 'sealed',
    name: '王导出',
    passwordHash: 'fake$2$password',
    assurance,
    createdAt: '2026-01-01T00:00:00Z',
    version: 1,
  });
  const request = {
    subject: parseAccountId('acc_exporting'),
    acr: 'urn:elicence:loa:3',
    authTime: Math.floor(clock.now() / 1000),
    reader: { holderLookupKeys: [lookupKey], level: 3 as const, accountId: 'acc_exporting' },
  };
  return { deps, request, audit };
}

/** `count` anonymous verifications in the person's usage record, a millisecond apart. */
async function verifications(audit: InMemoryAudit, count: number) {
  for (let i = 0; i < count; i++) {
    await audit.record({
      at: new Date(Date.parse('2026-02-01T00:00:00Z') + i).toISOString(),
      actor: 'anonymous',
      action: 'licence.verified',
      licenceId: '1.2.156.3005.2.003.11110000000021135M.0001.1.3',
      licenceType: 'driving-licence',
      holderKey: lookupKey,
      verdict: 'valid',
    });
  }
}

describe('exportPersonalData: the usage record, every page up to the cap', () => {
  it('reads every page of a record longer than one page', async () => {
    const { deps, request, audit } = await world();
    await verifications(audit, 250);
    const document = await exportPersonalData(request, deps);
    expect(document.usage.items).toHaveLength(250);
    expect(document.truncated).toEqual([]);
  });

  it('cuts at the cap and says so, with the cursor the record goes on from', async () => {
    const { deps, request, audit } = await world();
    await verifications(audit, exportUsageCap + 3);
    const document = await exportPersonalData(request, deps);
    expect(document.usage.items).toHaveLength(exportUsageCap);
    expect(document.truncated).toEqual([
      { section: 'usage', included: exportUsageCap, cursor: expect.any(String) },
    ]);
    // The cursor continues where the file stops: the three oldest entries.
    const rest = await audit.forHolders([lookupKey], { limit: 100, cursor: document.truncated[0]!.cursor });
    expect(rest.items).toHaveLength(3);
  });

  it('answers nothing when its audit entry cannot be written', async () => {
    const audit = new FailingAudit();
    const { deps, request } = await world(audit);
    audit.failures = 1;
    await expect(exportPersonalData(request, deps)).rejects.toThrow();
  });
});

// Review R55, the data export (session 26): each of these failed before its fix.
describe('review R55', () => {
  it('F1: reads at most 50 pages of a record whose entries the level does not open, and says where it goes on', async () => {
    // A level-2 account: its driving licence's verifications (anyone with the QR code adds them) are
    // read but not shown, so every page comes back empty with a cursor.
    const { deps, request, audit } = await world(new InMemoryAudit(), 'registry-verified');
    await verifications(audit, exportUsagePageReads * 100 + 500);
    let reads = 0;
    const usage = {
      forHolders: (...args: Parameters<InMemoryAudit['forHolders']>) => {
        reads += 1;
        return audit.forHolders(...args);
      },
    };
    const document = await exportPersonalData(
      { ...request, acr: 'urn:elicence:loa:2', reader: { ...request.reader, level: 2 } },
      { ...deps, usage },
    );
    expect(reads).toBeLessThanOrEqual(exportUsagePageReads);
    expect(document.usage.items).toEqual([]);
    expect(document.truncated).toEqual([{ section: 'usage', included: 0, cursor: expect.any(String) }]);
    // The export is still made, and recorded.
    expect(audit.entries.filter((entry) => entry.action === 'data.exported')).toHaveLength(1);
  });

  it('F2: keeps the document within its byte budget, so that the wallet’s base64 of it fits Lambda’s 6 MB', async () => {
    const { deps, request, audit } = await world();
    const platform = 'cl_4Zq0bS0e6jyU2KQ1';
    await deps.clientReader.save({ client_id: platform, client_name: '某'.repeat(100) });
    for (let i = 0; i < exportUsageCap; i++) {
      await audit.record({
        at: new Date(Date.parse('2026-02-01T00:00:00Z') + i).toISOString(),
        actor: platform,
        action: 'licence.shared',
        purpose: '办'.repeat(200),
        licenceId: '1.2.156.3005.2.003.11110000000021135M.0001.1.3',
        licenceType: 'driving-licence',
        holderKey: lookupKey,
      });
    }
    const document = await exportPersonalData(request, deps);
    const bytes = Buffer.byteLength(JSON.stringify(document), 'utf8');
    expect(bytes).toBeLessThanOrEqual(exportByteBudget);
    expect(Math.ceil(bytes / 3) * 4).toBeLessThan(6 * 1024 * 1024 - 64 * 1024);
    const included = document.usage.items.length;
    expect(included).toBeGreaterThan(0);
    expect(included).toBeLessThan(exportUsageCap);
    expect(document.truncated).toEqual([{ section: 'usage', included, cursor: expect.any(String) }]);
    // The cursor goes on right after the last entry the file holds: none lost, none twice.
    let rest = 0;
    let cursor: string | undefined = document.truncated[0]!.cursor;
    while (cursor) {
      const page = await audit.forHolders([lookupKey], { limit: 1000, cursor, action: 'licence.shared' });
      rest += page.items.length;
      cursor = page.cursor;
    }
    expect(included + rest).toBe(exportUsageCap);
    // Recorded once, after the document was sized.
    expect(audit.entries.filter((entry) => entry.action === 'data.exported')).toHaveLength(1);
  });
});
