/**
 * `GET /me/usage` (API.md, 用证记录), the use case: every share, verification and presentation of the
 * licences a signed-in person holds, newest first, saying who, what, when and why and nothing more.
 *
 * @packageDocumentation
 */
import * as z from 'zod';
import type { AuditEntry } from '../audit/audit-trail.js';
import type { ClientStore } from '../clients/client-store.js';
import type { IssuerStore } from '../issuers/issuer-store.js';
import { logger } from '../logger.js';
import { holderAttribution, type CommitmentRule } from '../supervision/audit-chain.js';
import { readerMay, type LicenceReader } from './licence-reader.js';
import type { UsageRecord } from './usage-record.js';

/** The kinds of entry of the usage record, as the holder reads them. */
export const usageKinds = [
  'shared',
  'verified',
  'presented',
  'released',
  'issuer_read',
  'counter_lookup',
  'counter_proof',
  'exported',
  'representative_changed',
] as const;
export type UsageKind = (typeof usageKinds)[number];

/**
 * The kinds `?action=` filters by: every kind. Most are one audit action, one partition of the index by
 * holder and kind; a counter's kinds gather several actions (a lookup and its refusals; a proof, its phone
 * changes, a takeover and its refusals), read one partition each and merged. A counter's kinds are shown
 * at level 3 only ({@link personRecordLevel}): below it, filtering by one answers an empty page, as the
 * record leaves out any entry a reader's level does not open, rather than refusing the query.
 */
export const filterableUsageKinds = usageKinds;
type FilterableKind = (typeof filterableUsageKinds)[number];

/**
 * The level a reader must have reached to see entries about the person rather than one of their licences
 * (a release of the number by another account of it, a counter's lookup or proof): the level a licence
 * needs by default (`readerMay`), the registry's or a counter's proof that the reader is the person. An
 * account that merely registered the number (level 1 or 2) sees none of them (review R45).
 */
const personRecordLevel = 3;

/**
 * `GET /me/usage?limit=&cursor=&action=`: a page of at most `limit` entries (1–100, 20 by default), of one
 * kind only if `action` is given (so that a flood of anonymous verifications cannot bury a share).
 */
export const usageQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().min(1).max(512).optional(),
  action: z.enum(filterableUsageKinds).optional().meta({
    description:
      'Only entries of this kind, the newest first however many entries of other kinds are newer. `counter_lookup` and `counter_proof` are shown at assurance level 3 only: below it, they answer an empty page (no `cursor`). Until the deployment has indexed the entries written before this version (docs/operating.md), a page may hold fewer than `limit` entries, even none, while `cursor` says more may follow',
  }),
});
export type UsageQuery = z.output<typeof usageQuery>;

/** The audit actions of the usage record, and how the record names them. */
const usageActions = {
  'licence.shared': 'shared',
  'licence.verified': 'verified',
  'licence.presented': 'presented',
  // A platform given the person's ID number at userinfo (shared/sso/find-account.ts): no licence.
  'identity.released': 'released',
  // An issuing agency read the licence, by id or in a search by holder (shared/licence/issuer-reads.ts).
  'licence.issuer_read': 'issuer_read',
} as const satisfies Record<string, FilterableKind>;

/**
 * A counter clerk's look at the person's account, or proof of them (shared/identity/counter-proof.ts),
 * refused or not: about the person, not a licence (review R45 F2).
 */
const counterActions = {
  'account.looked_up': 'counter_lookup',
  'account.lookup_refused': 'counter_lookup',
  'account.proven': 'counter_proof',
  'account.proven_phone_set': 'counter_proof',
  'account.proven_phone_cleared': 'counter_proof',
  'account.taken_over': 'counter_proof',
  'account.proof_refused': 'counter_proof',
} as const satisfies Record<string, UsageKind>;

/**
 * The person's own copy of their data (`GET /me/export`, shared/personal-data/data-export.ts): about the person,
 * not a licence, shown as a release of the ID number is (same account at any level, another account of
 * the number at level 3 only).
 */
const exportAction = 'data.exported';

/**
 * The registry's change of an enterprise's legal representative (shared/identity/representative-change.ts),
 * in the record of the former representative and of the new one: about the person, not a licence.
 */
const registryActions = {
  'entity.representative_changed': 'representative_changed',
} as const satisfies Record<string, UsageKind>;

/** The entries about the person, shown from their own key only, at level 3 ({@link personRecordLevel}). */
const personActions = { ...counterActions, ...registryActions };

/** The audit actions of a kind of entry `?action=` filters by (a counter's kinds gather several). */
function auditActionsOf(kind: FilterableKind): string[] {
  const selfActions: [string, UsageKind][] = [[exportAction, 'exported']];
  return [...Object.entries(usageActions), ...Object.entries(personActions), ...selfActions]
    .filter(([, of]) => of === kind)
    .map(([action]) => action);
}

/** The kinds about the person ({@link personActions}): their own key only, level 3 only. */
const personKinds: ReadonlySet<UsageKind> = new Set(Object.values(personActions));

/** The kind of a shown entry: one {@link readable} let through. */
function kindOf(action: string): UsageKind {
  if (action === exportAction) return 'exported';
  return Object.hasOwn(personActions, action)
    ? personActions[action as keyof typeof personActions]
    : usageActions[action as keyof typeof usageActions];
}

const refusedAtCounter = new Set(['account.lookup_refused', 'account.proof_refused']);

/** One use of a licence, as its holder reads it. */
export const usageEntrySchema = z
  .object({
    at: z.string().meta({ description: 'RFC 3339' }),
    action: z.enum(usageKinds).meta({
      description:
        '`exported`: you downloaded a copy of your data (`GET /me/export`); the others are uses of your licences or acts about you',
    }),
    licenceId: z.string().optional().meta({
      description: 'Absent for `released`, `counter_lookup`, `counter_proof` and `exported` (no licence)',
    }),
    licenceType: z.string().optional().meta({
      description: 'Absent for `released`, `counter_lookup`, `counter_proof` and `exported` (no licence)',
    }),
    client: z.object({ id: z.string(), name: z.string() }).optional().meta({
      description:
        'The platform or verifier app; absent for an anonymous verification, a presentation and an issuer’s read',
    }),
    issuer: z.object({ id: z.string(), name: z.string() }).optional().meta({
      description:
        'For `issuer_read`: the issuing agency that read the licence; for `counter_lookup` and `counter_proof`: the agency whose counter looked the person’s account up or proved them in person (never which of its staff: the audit trail keeps that for supervision)',
    }),
    refused: z.literal(true).optional().meta({
      description:
        'For `counter_lookup` and `counter_proof`: the counter was refused (a name that does not match the registry, no account, a wrong password or code)',
    }),
    purpose: z.string().optional().meta({ description: 'For shares: the purpose the platform stated' }),
    verdict: z.string().optional().meta({ description: 'For verifications: the verdict given' }),
    format: z.literal('pdf').optional().meta({
      description:
        'For verifications: `pdf` when a printable licence (the file and its signature) was checked, absent for a scanned QR code',
    }),
    entity: z.object({ creditCode: z.string(), name: z.string() }).optional().meta({
      description:
        'For `representative_changed`: the enterprise whose legal representative the registry changed',
    }),
    role: z.enum(['former', 'new']).optional().meta({
      description:
        'For `representative_changed`: whether the person ceased to be its legal representative (`former`) or became it (`new`); never who the other person is',
    }),
  })
  .meta({ title: 'UsageEntry' });
export type UsageEntry = z.output<typeof usageEntrySchema>;

/** What `GET /me/usage` answers. */
export const usageSchema = z
  .object({
    items: z.array(usageEntrySchema),
    cursor: z
      .string()
      .optional()
      .meta({ description: 'Opaque; pass it back for the next page. Absent on the last' }),
  })
  .meta({
    title: 'UsageRecord',
    examples: [
      {
        items: [
          {
            at: '2026-12-05T02:31:00.000Z',
            action: 'verified',
            licenceId: '1.2.156.3005.2.003.11110000000021135M.0001.1.3',
            licenceType: 'driving-licence',
            client: { id: 'cl_4Zq0bS0e6jyU2KQ1', name: '北京市公安局交通管理局' },
            verdict: 'valid',
          },
          {
            at: '2026-12-04T08:00:00.000Z',
            action: 'verified',
            licenceId: '1.2.156.3005.2.003.11110000000021135M.0001.1.3',
            licenceType: 'driving-licence',
            verdict: 'valid',
          },
        ],
        cursor: 'MjAyNi0xMi0wNFQwODowMDowMC4wMDBaI2F1ZGl0X3g',
      },
    ],
  });
export type UsageAnswer = z.output<typeof usageSchema>;

export interface UsageDependencies {
  usage: UsageRecord;
  clients: Pick<ClientStore, 'find'>;
  /** Names the agency of an `issuer_read` entry. */
  issuers: Pick<IssuerStore, 'findById'>;
  /** From when every entry carries a holder commitment (`AUDIT_HOLDER_COMMITMENTS_SINCE`), if set. */
  commitmentsSince?: string | undefined;
}

/**
 * The usage record of a signed-in reader (see `licenceReader`): the entries of the holders they stand for
 * (their own and, acting for an entity, the entity's), of the licence types their assurance level opens
 * (the rule of `readerMay`: an account that merely registered a number learns nothing of that person's
 * licences from here either), newest first. Each says who (the platform or verifier app by its registered
 * name; an anonymous verification and the holder's own presentation name nobody), what (the licence, its
 * type, the verdict), when, and why (a share's purpose); never the holder, the fields, the request or the
 * reason text the audit trail keeps. An entry the reader's level does not open is left out of its page, so
 * a page may hold fewer than `limit` entries while `cursor` says more follow. With `action`, entries of
 * that kind only (from the store's index by holder and kind: the newest of that kind first; a page may be short,
 * even empty, with a cursor only before that index is complete).
 *
 * @example
 * ```ts
 * const page = await usageOf(reader, parseQuery(event, usageQuery), deps); // { items: [...], cursor }
 * ```
 */
export async function usageOf(
  reader: LicenceReader,
  query: UsageQuery,
  deps: UsageDependencies,
): Promise<UsageAnswer> {
  const aboutPerson = query.action !== undefined && personKinds.has(query.action);
  // A counter's kinds, a change of representative: about the person (their own key only), shown at level 3
  // only; below it, none is shown, so none is read (an empty page, no cursor: review R45 F2's leftover).
  if (aboutPerson && reader.level < personRecordLevel) return { items: [] };
  const page = await deps.usage.forHolders(
    aboutPerson ? reader.holderLookupKeys.slice(0, 1) : reader.holderLookupKeys,
    {
      limit: query.limit,
      ...(query.cursor ? { cursor: query.cursor } : {}),
      ...(query.action ? { action: auditActionsOf(query.action) } : {}),
    },
  );
  const names = new Map<string, Promise<string>>();
  const nameOf = (clientId: string): Promise<string> => {
    let name = names.get(clientId);
    if (!name) {
      // A client since deleted is still named, by its id: the person should see that someone used it.
      name = deps.clients.find(clientId).then((client) => {
        const registered = client?.client_name;
        return typeof registered === 'string' && registered !== '' ? registered : clientId;
      });
      names.set(clientId, name);
    }
    return name;
  };
  const issuerNames = new Map<string, Promise<string>>();
  const issuerNameOf = (issuerId: string): Promise<string> => {
    let name = issuerNames.get(issuerId);
    if (!name) {
      // A withdrawn agency is still named (its record stays); one not found, by its id.
      name = deps.issuers.findById(issuerId).then((issuer) => issuer?.name ?? issuerId);
      issuerNames.set(issuerId, name);
    }
    return name;
  };
  const items = await Promise.all(
    page.items
      .filter((entry) => genuinelyTheirs(entry, { commitmentsSince: deps.commitmentsSince }))
      .filter(readable(reader))
      .map(async (entry): Promise<UsageEntry> => {
        const action = kindOf(entry.action);
        const atCounter = action === 'counter_lookup' || action === 'counter_proof';
        const byIssuer = (action === 'issuer_read' || atCounter) && entry.issuerId !== undefined;
        // The holder's own acts (a presentation, an export of their data) name nobody.
        const byClient =
          action !== 'presented' &&
          action !== 'exported' &&
          action !== 'issuer_read' &&
          !personKinds.has(action) &&
          entry.actor !== 'anonymous';
        return {
          at: entry.at,
          action,
          ...(entry.licenceId !== undefined ? { licenceId: entry.licenceId } : {}),
          ...(entry.licenceType !== undefined ? { licenceType: entry.licenceType } : {}),
          ...(byClient ? { client: { id: entry.actor, name: await nameOf(entry.actor) } } : {}),
          ...(byIssuer ? { issuer: { id: entry.issuerId!, name: await issuerNameOf(entry.issuerId!) } } : {}),
          ...(action === 'shared' && entry.purpose !== undefined ? { purpose: entry.purpose } : {}),
          ...(action === 'verified' && entry.verdict !== undefined ? { verdict: entry.verdict } : {}),
          ...(action === 'verified' && entry.format === 'pdf' ? { format: 'pdf' as const } : {}),
          ...(refusedAtCounter.has(entry.action) ? { refused: true as const } : {}),
          ...(action === 'representative_changed' ? representativeChange(entry) : {}),
        };
      }),
  );
  return { items, ...(page.cursor ? { cursor: page.cursor } : {}) };
}

/** What a change of representative's entry tells its person: the enterprise, and which side they are on. */
function representativeChange(entry: AuditEntry): Pick<UsageEntry, 'entity' | 'role'> {
  return {
    ...(entry.entityCreditCode !== undefined
      ? { entity: { creditCode: entry.entityCreditCode, name: entry.entityName ?? entry.entityCreditCode } }
      : {}),
    ...(entry.representativeRole !== undefined ? { role: entry.representativeRole } : {}),
  };
}

/**
 * Fails closed on an entry whose holder does not match the commitment its hash covers (re-filed under
 * this holder, or taken from another's): left out, never shown, even flagged (it may be another person's
 * use of their licence), and logged as an integrity error by its place on its chain alone (no holder,
 * no key). Entries written before commitments (`uncommitted`) are shown as before; from
 * `AUDIT_HOLDER_COMMITMENTS_SINCE` on, one without a commitment is a mismatch too.
 */
function genuinelyTheirs(entry: AuditEntry & { seq?: number }, rule: CommitmentRule): boolean {
  if (holderAttribution(entry, rule) !== 'mismatch') return true;
  logger.error('integrity: a usage record entry whose holder does not match its commitment was left out', {
    chain: entry.chain ?? '-',
    seq: entry.seq ?? 0,
    action: entry.action,
  });
  return false;
}

/**
 * An entry of the record the reader may see: a use of a licence they may read, of a known kind; or one
 * about the person (their own key, the first of `holderLookupKeys`: never an enterprise's). A release of
 * their ID number made by this account is shown at any level; one by another account of the number (an
 * account since closed, or one written before entries named their account) only at level 3, as a
 * counter's lookups and proofs are: an account that merely registered the number after a closure must not
 * learn which platforms received the number, nor who looked its person up (review R45).
 */
function readable(reader: LicenceReader): (entry: AuditEntry) => boolean {
  return (entry) => {
    const own = entry.holderKey !== undefined && entry.holderKey === reader.holderLookupKeys[0];
    if (entry.action === 'identity.released' || entry.action === exportAction) {
      const sameAccount = entry.accountId !== undefined && entry.accountId === reader.accountId;
      return own && (sameAccount || reader.level >= personRecordLevel);
    }
    if (Object.hasOwn(personActions, entry.action)) return own && reader.level >= personRecordLevel;
    return readableUse(reader, entry);
  };
}

function readableUse(reader: LicenceReader, entry: AuditEntry): boolean {
  return (
    Object.hasOwn(usageActions, entry.action) &&
    entry.licenceId !== undefined &&
    entry.licenceType !== undefined &&
    entry.holderKey !== undefined &&
    readerMay(reader, { type: entry.licenceType, holder: { lookupKey: entry.holderKey } }) === 'yes'
  );
}
