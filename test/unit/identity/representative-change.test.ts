import { describe, expect, it } from 'vitest';
import { formatAccountId } from '../../../shared/identifiers/account-id.js';
import type { AgentAppointment } from '../../../shared/identity/entity-account.js';
import type { PersonAccount } from '../../../shared/identity/person-account.js';
import { recordRegisteredEntity } from '../../../shared/identity/representative-change.js';
import { usageOf, usageQuery } from '../../../shared/licence/usage.js';
import { withdrawEveryAuthorization, type StoredGrant } from '../../../shared/sharing/authorizations.js';
import {
  InMemoryAudit,
  InMemoryEntityStore,
  InMemoryRegistry,
  TestClock,
} from '../../support/in-memory-identity.js';
import { InMemorySharingGrants } from '../../support/in-memory-sharing.js';

/**
 * Review R46-1: a change of representative withdraws the grants the former one gave as THAT entity. A
 * registry record written before terms gives its representative the bare `rep` basis at every such entity,
 * so the basis alone also named the grants the same person gave as their other enterprises: those were
 * withdrawn, each platform told to delete what it copied, while the person still represents them.
 */
const formerKey = 'lk-former-representative';
const nowSeconds = () => Math.floor(Date.now() / 1000);

function world() {
  const clock = new TestClock();
  const registry = new InMemoryRegistry();
  const entities = new InMemoryEntityStore();
  const grants = new InMemorySharingGrants(clock);
  /** The platform registered an events endpoint: each withdrawal of its grants is told. */
  const clientReader = {
    find: async (clientId: string) =>
      clientId === 'cl_platform'
        ? { client_id: clientId, events_uri: 'https://platform.example/events' }
        : undefined,
  };
  const audit = new InMemoryAudit();
  const deps = {
    registry,
    entities,
    audit,
    accountAudit: registry.pendingAudit,
    clock,
    accounts: {
      /** Only the id is read. */
      findByLookupKey: async (key: string) => {
        const id = key === formerKey ? 'acc_former' : key === 'lk-agent' ? 'acc_agent' : undefined;
        return id ? ({ id } as PersonAccount) : undefined;
      },
    },
    platformConsents: {
      withdrawAll: (personId: string, acting?: { entityId: string; basis: string }) =>
        withdrawEveryAuthorization(
          personId,
          { sharingGrants: grants, clientReader, clock, subjectAt: async () => 'pairwise-sub' },
          acting,
        ),
    },
  };
  return { registry, entities, grants, audit, deps };
}

/** A platform's sign-in of `personId` acting for `entityId` under `basis`. */
const signIn = (entityId: string, personId: string, basis: string): StoredGrant => ({
  accountId: formatAccountId({ kind: 'entity', entityId, personId, basis }),
  clientId: 'cl_platform',
  openid: { scope: 'openid entity' },
  iat: nowSeconds(),
  exp: nowSeconds() + 3600,
});

const agentOf = (creditCode: string, agentId: string): AgentAppointment => ({
  agentId,
  creditCode,
  personLookupKey: 'lk-agent',
  masked: '310104********0011',
  scope: ['licences'],
  validUntil: '2099-01-01T00:00:00Z',
  status: 'active',
  appointedAt: '2026-01-01T00:00:00Z',
  appointedBy: 'acc_former',
  appointedByLookupKey: formerKey,
  version: 1,
});

describe('a change of representative at one enterprise (review R46-1)', () => {
  it("leaves the person's grants as their other enterprise alone, both records written before terms", async () => {
    const { registry, entities, grants, deps } = world();
    for (const creditCode of ['91110105MA01DEM078', '91310000MA1FL5LX3K']) {
      // Written before terms: no term, so the representative's basis is bare `rep` at both.
      registry.entities.set(creditCode, {
        creditCode,
        name: creditCode,
        representativeLookupKey: formerKey,
        representativeMasked: '110105********0019',
        representativeTerm: '',
      });
      await entities.createEntity({
        id: `ent_${creditCode}`,
        creditCode,
        lookupKey: `lk-${creditCode}`,
        name: creditCode,
        createdAt: '2026-01-01T00:00:00Z',
      });
    }
    grants.saveGrant('g_changing', signIn('ent_91110105MA01DEM078', 'acc_former', 'rep'));
    grants.saveGrant('g_other', signIn('ent_91310000MA1FL5LX3K', 'acc_former', 'rep'));
    // An agent the former representative appointed at each, its grants under each appointment.
    await entities.appoint(agentOf('91110105MA01DEM078', 'agt_changing'), new Date());
    await entities.appoint(agentOf('91310000MA1FL5LX3K', 'agt_other'), new Date());
    grants.saveGrant('g_agent_changing', signIn('ent_91110105MA01DEM078', 'acc_agent', 'agt_changing'));
    grants.saveGrant('g_agent_other', signIn('ent_91310000MA1FL5LX3K', 'acc_agent', 'agt_other'));

    await recordRegisteredEntity(
      {
        creditCode: '91110105MA01DEM078',
        name: '91110105MA01DEM078',
        representativeLookupKey: 'lk-new-representative',
        representativeMasked: '110105********0027',
      },
      deps,
    );

    // The other enterprise still names the person, its record unchanged: their sign-in there stands...
    expect((await registry.findEntity('91310000MA1FL5LX3K'))?.representativeLookupKey).toBe(formerKey);
    expect((await grants.listOf('acc_former')).map((grant) => grant.id)).toEqual(['g_other']);
    expect((await grants.listOf('acc_agent')).map((grant) => grant.id)).toEqual(['g_agent_other']);
    // ...and the platform is told of the changed enterprise's grants only.
    const told = (await grants.notices.due(Date.now() + 60_000, 100)).flatMap((notice) => notice.grantIds);
    expect(told.sort()).toEqual(['g_agent_changing', 'g_changing']);
  });
});

describe('a change of representative is traced (entity.representative_changed)', () => {
  const creditCode = '91110105MA01DEM078';
  const record = (representativeLookupKey: string, representativeMasked: string) => ({
    creditCode,
    name: '北京示范科技有限公司',
    representativeLookupKey,
    representativeMasked,
  });
  const former = record(formerKey, '110105********0019');
  const successor = record('lk-new-representative', '110105********0027');
  const changes = (audit: InMemoryAudit) =>
    audit.entries.filter((entry) => entry.action === 'entity.representative_changed');

  it('traces a change made between a rewrite’s read and its write: the rewrite reads again, never draws an untraced term (review R56-2)', async () => {
    const { audit, registry, deps } = world();
    await recordRegisteredEntity(former, deps, 'seed');
    await recordRegisteredEntity(successor, deps, 'feed');
    const third = record('lk-third-representative', '110105********0035');
    // One recorder rewrites `successor` (no change, as it reads); another records `third` before its write.
    let raced = false;
    const racing = {
      ...deps,
      registry: {
        findEntity: async (code: string) => {
          const read = await registry.findEntity(code);
          if (!raced) {
            raced = true;
            await recordRegisteredEntity(third, deps, 'feed');
          }
          return read;
        },
        putEntity: registry.putEntity.bind(registry),
        changeRepresentative: registry.changeRepresentative.bind(registry),
      },
    };
    const recorded = await recordRegisteredEntity(successor, racing, 'feed');
    expect(await registry.findEntity(creditCode)).toEqual(recorded);
    // Every change of representative is traced, third -> successor included, each under its own term.
    expect(changes(audit).map((entry) => `${entry.representativeRole}:${entry.holderKey}`)).toEqual([
      `former:${formerKey}`,
      'new:lk-new-representative',
      'former:lk-new-representative',
      'new:lk-third-representative',
      'former:lk-third-representative',
      'new:lk-new-representative',
    ]);
    expect(changes(audit).at(-1)?.representativeTerm).toBe(recorded.representativeTerm);
  });

  it('records one entry per person once per change, not on a first record nor a rewrite, with no number', async () => {
    const { audit, registry, deps } = world();
    await recordRegisteredEntity(former, deps, 'seed');
    await recordRegisteredEntity(former, deps, 'seed');
    expect(changes(audit)).toEqual([]);

    const recorded = await recordRegisteredEntity(successor, deps, 'registry-feed');
    // Written again with the same representative (the seed's next run, a renamed entity): no new entry.
    await recordRegisteredEntity(successor, deps, 'registry-feed');
    await recordRegisteredEntity({ ...successor, name: '北京示范科技股份有限公司' }, deps, 'registry-feed');

    const change = {
      actor: 'registry-feed',
      action: 'entity.representative_changed',
      entityCreditCode: creditCode,
      entityName: '北京示范科技有限公司',
      representativeTerm: recorded.representativeTerm,
    };
    expect(recorded.representativeTerm).not.toBe('');
    expect(changes(audit)).toEqual([
      expect.objectContaining({
        ...change,
        representativeRole: 'former',
        holderKey: formerKey,
        holderMasked: '110105********0019',
      }),
      expect.objectContaining({
        ...change,
        representativeRole: 'new',
        holderKey: 'lk-new-representative',
        holderMasked: '110105********0027',
      }),
    ]);
    // Masked numbers and lookup keys only: no 18-character ID number anywhere in the entries.
    expect(JSON.stringify(changes(audit))).not.toMatch(/\d{17}[\dX]/);
    // Written with the change and completed: no pointer left for the reconciler.
    expect(registry.pendingAudit.pointers.size).toBe(0);

    // A second change (the former named again) is another change, in another term: traced again.
    const back = await recordRegisteredEntity(former, deps, 'registry-feed');
    expect(back.representativeTerm).not.toBe(recorded.representativeTerm);
    expect(changes(audit).map((entry) => [entry.representativeRole, entry.holderKey])).toEqual([
      ['former', formerKey],
      ['new', 'lk-new-representative'],
      ['former', 'lk-new-representative'],
      ['new', formerKey],
    ]);
  });

  it('leaves the entries saved with the change when the trail fails, for the reconciler', async () => {
    const { audit, registry, deps } = world();
    await recordRegisteredEntity(former, deps);
    audit.record = async () => {
      throw new Error('audit table unavailable');
    };
    const recorded = await recordRegisteredEntity(successor, deps);
    // The change stands, and its entries are carried by its pointer until written.
    expect((await registry.findEntity(creditCode))?.representativeLookupKey).toBe('lk-new-representative');
    const [pointer] = [...registry.pendingAudit.pointers.values()];
    expect(pointer?.carried?.id).toBe(`representative-changed#${creditCode}#${recorded.representativeTerm}`);
    expect(pointer?.carried?.audit.map((one) => one.entry.representativeRole)).toEqual(['former', 'new']);
  });

  it('shows in the usage record of the former and of the new representative, at level 3 only', async () => {
    const { audit, deps } = world();
    await recordRegisteredEntity(former, deps);
    await recordRegisteredEntity(successor, deps);
    const usageDeps = {
      usage: audit,
      clients: { find: async () => undefined },
      issuers: { findById: async () => undefined },
    };
    const entity = { creditCode, name: '北京示范科技有限公司' };
    const shown = async (key: string, level: 1 | 2 | 3, action?: string) =>
      (
        await usageOf(
          { holderLookupKeys: [key], level },
          usageQuery.parse(action ? { action } : {}),
          usageDeps,
        )
      ).items;
    expect(await shown(formerKey, 3)).toEqual([
      { at: expect.any(String), action: 'representative_changed', entity, role: 'former' },
    ]);
    expect(await shown('lk-new-representative', 3, 'representative_changed')).toEqual([
      { at: expect.any(String), action: 'representative_changed', entity, role: 'new' },
    ]);
    // An account that merely registered the number: none of it.
    expect(await shown(formerKey, 2)).toEqual([]);
    expect(await shown('lk-new-representative', 1, 'representative_changed')).toEqual([]);
  });
});
