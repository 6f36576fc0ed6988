import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../../shared/audit/audit-trail.js';
import { filterableUsageKinds, usageOf, usageQuery } from '../../../shared/licence/usage.js';
import { holderCommitmentOf, link } from '../../../shared/supervision/audit-chain.js';
import type { Issuer } from '../../../shared/issuers/issuer.js';
import { InMemoryClientStore, InMemoryIssuerStore } from '../../support/in-memory.js';
import { InMemoryAudit } from '../../support/in-memory-identity.js';

const licenceId = '1.2.156.3005.2.003.11110000000021135M.0001.1.3';

async function world(entries: AuditEntry[]) {
  const audit = new InMemoryAudit();
  for (const entry of entries) await audit.record(entry);
  const clients = new InMemoryClientStore();
  await clients.save({ client_id: 'cl_verifier', client_name: '北京市公安局交通管理局' });
  await clients.save({ client_id: 'elicence-console', client_name: 'Issuer console' });
  const issuers = new InMemoryIssuerStore();
  issuers.byCreditCode.set('11110000000021135M', {
    id: 'iss_1',
    name: '北京市公安局交通管理局',
    creditCode: '11110000000021135M',
    region: '110000',
    licenceTypes: ['driving-licence'],
    status: 'active',
    version: 1,
  } as Issuer);
  return { usage: audit, clients, issuers };
}

const use = (at: string, extra: Partial<AuditEntry>): AuditEntry => ({
  at,
  actor: 'anonymous',
  action: 'licence.verified',
  licenceId,
  licenceType: 'driving-licence',
  holderKey: 'hk_me',
  ...extra,
});

describe('usageOf: the usage record as its holder reads it', () => {
  const reader = { holderLookupKeys: ['hk_me'], level: 3 } as const;

  it('says who, what, when and why, and nothing else the audit entry keeps', async () => {
    const deps = await world([
      use('2026-12-05T01:00:00.000Z', { verdict: 'valid', requestId: 'req-1', reason: 'ok' }),
      use('2026-12-05T02:00:00.000Z', { actor: 'cl_verifier', verdict: 'revoked', issuerId: 'iss_1' }),
      use('2026-12-05T03:00:00.000Z', {
        actor: 'acct_me',
        action: 'licence.presented',
        reason: 'presentation x, 300 s, fields: vehicleClass',
      }),
      use('2026-12-05T04:00:00.000Z', {
        actor: 'cl_gone',
        action: 'licence.shared',
        purpose: '办理车辆登记',
      }),
    ]);
    expect(await usageOf(reader, usageQuery.parse({}), deps)).toEqual({
      items: [
        {
          at: '2026-12-05T04:00:00.000Z',
          action: 'shared',
          licenceId,
          licenceType: 'driving-licence',
          // A client since deleted is still named, by its id.
          client: { id: 'cl_gone', name: 'cl_gone' },
          purpose: '办理车辆登记',
        },
        { at: '2026-12-05T03:00:00.000Z', action: 'presented', licenceId, licenceType: 'driving-licence' },
        {
          at: '2026-12-05T02:00:00.000Z',
          action: 'verified',
          licenceId,
          licenceType: 'driving-licence',
          client: { id: 'cl_verifier', name: '北京市公安局交通管理局' },
          verdict: 'revoked',
        },
        {
          at: '2026-12-05T01:00:00.000Z',
          action: 'verified',
          licenceId,
          licenceType: 'driving-licence',
          verdict: 'valid',
        },
      ],
    });
  });

  it('names the issuing agency of an issuer’s read, never its client or clerk (privacy review L4)', async () => {
    const deps = await world([
      use('2026-12-05T01:00:00.000Z', {
        actor: 'elicence-console',
        clerk: 'clerk-ref-1',
        action: 'licence.issuer_read',
        issuerId: 'iss_1',
        requestId: 'req-2',
      }),
      use('2026-12-05T02:00:00.000Z', { actor: 'cl_x', action: 'licence.issuer_read', issuerId: 'iss_gone' }),
    ]);
    const page = await usageOf(reader, usageQuery.parse({}), deps);
    expect(page.items).toEqual([
      {
        at: '2026-12-05T02:00:00.000Z',
        action: 'issuer_read',
        licenceId,
        licenceType: 'driving-licence',
        // An agency not found is named by its id.
        issuer: { id: 'iss_gone', name: 'iss_gone' },
      },
      {
        at: '2026-12-05T01:00:00.000Z',
        action: 'issuer_read',
        licenceId,
        licenceType: 'driving-licence',
        issuer: { id: 'iss_1', name: '北京市公安局交通管理局' },
      },
    ]);
    expect(JSON.stringify(page)).not.toMatch(/clerk-ref-1|elicence-console|req-2/);
    const only = await usageOf(reader, usageQuery.parse({ action: 'issuer_read' }), deps);
    expect(only.items).toHaveLength(2);
  });

  it('leaves out other actions, unknown types and types above the reader’s level', async () => {
    const deps = await world([
      use('2026-12-05T01:00:00.000Z', { action: 'licence.revoked' }),
      use('2026-12-05T02:00:00.000Z', { action: 'toString' }),
      use('2026-12-05T03:00:00.000Z', { licenceType: 'no-such-type' }),
      use('2026-12-05T04:00:00.000Z', { verdict: 'valid' }),
    ]);
    expect((await usageOf(reader, usageQuery.parse({}), deps)).items.map((one) => one.at)).toEqual([
      '2026-12-05T04:00:00.000Z',
    ]);
    expect((await usageOf({ ...reader, level: 2 }, usageQuery.parse({}), deps)).items).toEqual([]);
  });

  it('fails closed on an entry whose holder does not match its commitment (security review L2)', async () => {
    // Linked as the trail writes them: the commitment inside the hash.
    const chained = (entry: AuditEntry) => link(entry, '2026-12-05.abcdefghijkl');
    const genuine = chained(use('2026-12-05T01:00:00.000Z', { verdict: 'valid' }));
    const theirs = chained(use('2026-12-05T02:00:00.000Z', { verdict: 'valid', holderKey: 'hk_other' }));
    const nobodys = chained(use('2026-12-05T03:00:00.000Z', { verdict: 'valid', holderKey: undefined }));
    const another = chained(use('2026-12-05T05:00:00.000Z', { verdict: 'valid', holderKey: 'hk_other' }));
    const old = use('2026-12-05T04:00:00.000Z', { verdict: 'valid' });
    const deps = await world([
      genuine,
      // Re-filed under this reader, each by rewriting its stored holder.
      { ...theirs, holderKey: 'hk_me' },
      { ...nobodys, holderKey: 'hk_me' },
      // Re-filed with a commitment recomputed from the salt stored beside it (security review M2a): its
      // own hash, which covers the commitment, no longer holds.
      {
        ...another,
        holderKey: 'hk_me',
        holderCommitment: holderCommitmentOf('hk_me', another.holderSalt!),
      },
      old,
    ]);
    const ats = async (commitmentsSince?: string) =>
      (await usageOf(reader, usageQuery.parse({}), { ...deps, commitmentsSince })).items.map((one) => one.at);
    // An entry without a commitment is read as old, until the day every entry has one.
    expect(await ats()).toEqual([old.at, genuine.at]);
    expect(await ats('2026-12-06')).toEqual([old.at, genuine.at]);
    expect(await ats('2026-12-05')).toEqual([genuine.at]);
  });

  it('validates limit and cursor, naming them', () => {
    expect(usageQuery.safeParse({ limit: '0' }).error?.issues[0]?.path).toEqual(['limit']);
    expect(usageQuery.safeParse({ limit: '101' }).error?.issues[0]?.path).toEqual(['limit']);
    expect(usageQuery.safeParse({ cursor: 'x'.repeat(513) }).error?.issues[0]?.path).toEqual(['cursor']);
    expect(usageQuery.parse({})).toEqual({ limit: 20 });
  });

  it('shows a release of the number to its own account, another account’s only at level 3 (review R45 F1)', async () => {
    const released = (at: string, accountId?: string): AuditEntry => ({
      at,
      actor: 'cl_verifier',
      action: 'identity.released',
      holderKey: 'hk_me',
      ...(accountId ? { accountId } : {}),
    });
    const deps = await world([
      released('2026-12-05T01:00:00.000Z'),
      released('2026-12-05T02:00:00.000Z', 'acc_closed'),
      released('2026-12-05T03:00:00.000Z', 'acc_me'),
    ]);
    const ats = async (level: 1 | 2 | 3) =>
      (
        await usageOf({ holderLookupKeys: ['hk_me'], level, accountId: 'acc_me' }, usageQuery.parse({}), deps)
      ).items.map((one) => one.at);
    // Whoever registered the number after the account that released it was closed learns nothing of it.
    expect(await ats(1)).toEqual(['2026-12-05T03:00:00.000Z']);
    expect(await ats(2)).toEqual(['2026-12-05T03:00:00.000Z']);
    // The person, proven: every release of their number, whichever account of it made it.
    expect(await ats(3)).toEqual([
      '2026-12-05T03:00:00.000Z',
      '2026-12-05T02:00:00.000Z',
      '2026-12-05T01:00:00.000Z',
    ]);
    // A reader without an account id (none given) sees none of another's.
    expect(
      (await usageOf({ holderLookupKeys: ['hk_me'], level: 2 }, usageQuery.parse({}), deps)).items,
    ).toEqual([]);
  });

  it('shows a counter’s lookups and proofs at level 3, naming the agency, never the clerk (review R45 F2)', async () => {
    const atCounter = (at: string, action: string): AuditEntry => ({
      at,
      actor: 'elicence-console',
      clerk: 'clerk-ref-1',
      issuerId: 'iss_1',
      action,
      holderMasked: '110105********1239',
      holderKey: 'hk_me',
      reason: 'in-person',
    });
    const deps = await world([
      atCounter('2026-12-05T01:00:00.000Z', 'account.lookup_refused'),
      atCounter('2026-12-05T02:00:00.000Z', 'account.looked_up'),
      atCounter('2026-12-05T03:00:00.000Z', 'account.proven'),
      atCounter('2026-12-05T04:00:00.000Z', 'account.taken_over'),
      { ...atCounter('2026-12-05T05:00:00.000Z', 'account.looked_up'), holderKey: 'hk_other' },
    ]);
    const page = await usageOf(reader, usageQuery.parse({}), deps);
    const agency = { id: 'iss_1', name: '北京市公安局交通管理局' };
    expect(page.items).toEqual([
      { at: '2026-12-05T04:00:00.000Z', action: 'counter_proof', issuer: agency },
      { at: '2026-12-05T03:00:00.000Z', action: 'counter_proof', issuer: agency },
      { at: '2026-12-05T02:00:00.000Z', action: 'counter_lookup', issuer: agency },
      { at: '2026-12-05T01:00:00.000Z', action: 'counter_lookup', issuer: agency, refused: true },
    ]);
    expect(JSON.stringify(page)).not.toMatch(/clerk-ref-1|elicence-console|1239/);
    // An account that merely registered the number: none of it.
    expect((await usageOf({ ...reader, level: 2 }, usageQuery.parse({}), deps)).items).toEqual([]);
  });

  it('filters by a counter’s kinds at level 3, each gathering its actions; below it an empty page (R45 F2’s leftover)', async () => {
    const atCounter = (at: string, action: string, holderKey = 'hk_me'): AuditEntry => ({
      at,
      actor: 'elicence-console',
      clerk: 'clerk-ref-1',
      issuerId: 'iss_1',
      action,
      holderKey,
    });
    const deps = await world([
      atCounter('2026-12-05T01:00:00.000Z', 'account.lookup_refused'),
      atCounter('2026-12-05T02:00:00.000Z', 'account.looked_up'),
      atCounter('2026-12-05T03:00:00.000Z', 'account.proven'),
      use('2026-12-05T03:30:00.000Z', {}),
      atCounter('2026-12-05T04:00:00.000Z', 'account.taken_over'),
      atCounter('2026-12-05T04:30:00.000Z', 'account.proof_refused'),
      // The entity's key, which the reader also stands for: never a counter's entry of theirs.
      atCounter('2026-12-05T05:00:00.000Z', 'account.looked_up', 'hk_entity'),
    ]);
    const me: { holderLookupKeys: string[]; level: 1 | 2 | 3 } = {
      holderLookupKeys: ['hk_me', 'hk_entity'],
      level: 3,
    };
    const kinds = async (action: string, who = me, extra: Record<string, unknown> = {}) =>
      usageOf(who, usageQuery.parse({ action, ...extra }), deps);
    expect((await kinds('counter_lookup')).items.map((entry) => [entry.at, entry.refused])).toEqual([
      ['2026-12-05T02:00:00.000Z', undefined],
      ['2026-12-05T01:00:00.000Z', true],
    ]);
    // A proof's actions (a proof, a takeover, a refusal) together, newest first, paged across them.
    const first = await kinds('counter_proof', me, { limit: 2 });
    expect(first.items.map((entry) => [entry.action, entry.at, entry.refused])).toEqual([
      ['counter_proof', '2026-12-05T04:30:00.000Z', true],
      ['counter_proof', '2026-12-05T04:00:00.000Z', undefined],
    ]);
    const next = await kinds('counter_proof', me, { limit: 2, cursor: first.cursor });
    expect(next.items.map((entry) => entry.at)).toEqual(['2026-12-05T03:00:00.000Z']);
    expect(next.cursor).toBeUndefined();
    // Below level 3 none is shown: the filter answers an empty page, no cursor (not a 400: the query is valid).
    expect(await kinds('counter_lookup', { ...me, level: 2 })).toEqual({ items: [] });
    expect(await kinds('counter_proof', { ...me, level: 1 })).toEqual({ items: [] });
  });
});

describe('usageOf: a person’s export of their data (`data.exported`)', () => {
  const exported = (accountId: string): AuditEntry => ({
    at: '2026-12-07T10:00:00.000Z',
    actor: accountId,
    action: 'data.exported',
    holderKey: 'hk_me',
    accountId,
    count: 2,
    requestId: 'req-export',
  });

  it('is answered as `exported`, naming nobody and no licence, to the account that exported', async () => {
    const deps = await world([exported('acc_me')]);
    for (const level of [1, 3] as const) {
      const reader = { holderLookupKeys: ['hk_me'], level, accountId: 'acc_me' };
      expect(await usageOf(reader, usageQuery.parse({}), deps)).toEqual({
        items: [{ at: '2026-12-07T10:00:00.000Z', action: 'exported' }],
      });
    }
  });

  it('is shown to another account of the number at level 3 only, and never under another holder', async () => {
    const deps = await world([exported('acc_closed_before')]);
    const at = (level: 1 | 2 | 3, holder = 'hk_me') =>
      usageOf({ holderLookupKeys: [holder], level, accountId: 'acc_me' }, usageQuery.parse({}), deps);
    expect((await at(2)).items).toEqual([]);
    expect((await at(3)).items).toEqual([{ at: '2026-12-07T10:00:00.000Z', action: 'exported' }]);
    expect((await at(3, 'hk_someone_else')).items).toEqual([]);
  });

  // Review R55 F4 (session 26): docs/usage-record.md said `exported` was not a kind `?action=` filters by.
  it('is a kind `?action=` filters by, shown by the same rule, as docs/usage-record.md lists', async () => {
    const deps = await world([
      exported('acc_closed_before'),
      { ...exported('acc_me'), at: '2026-12-08T10:00:00.000Z' },
      { ...exported('acc_me'), at: '2026-12-09T10:00:00.000Z', holderKey: 'hk_someone_else' },
    ]);
    const only = (level: 1 | 3) =>
      usageOf(
        { holderLookupKeys: ['hk_me', 'hk_someone_else'], level, accountId: 'acc_me' },
        usageQuery.parse({ action: 'exported' }),
        deps,
      );
    expect((await only(1)).items.map((item) => item.at)).toEqual(['2026-12-08T10:00:00.000Z']);
    expect((await only(3)).items.map((item) => item.at)).toEqual([
      '2026-12-08T10:00:00.000Z',
      '2026-12-07T10:00:00.000Z',
    ]);
    const page = readFileSync(new URL('../../../docs/usage-record.md', import.meta.url), 'utf8');
    const listed = /`action=([a-z_|]+)`/.exec(page)?.[1]?.split('|');
    expect(listed?.sort()).toEqual([...filterableUsageKinds].sort());
  });
});
