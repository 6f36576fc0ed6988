import { randomUUID } from 'node:crypto';
import * as z from 'zod';
import type { AuditTrail } from '../audit/audit-trail.js';
import type { Clock } from '../clock.js';
import { NotFoundError } from '../errors.js';
import {
  carriedAuditPrefix,
  completeCarriedAudit,
  finishCarriedAudit,
  type CarriedAudit,
  type PendingWorkIndex,
} from '../pending-work/pending-work.js';
import { parseAccountId, type EntityAuthority } from '../identifiers/account-id.js';
import { grantEndedBy } from '../identity/person-account.js';
import { builtInClientIds } from '../clients/built-in-clients.js';
import { isFirstPartyClient, type FirstPartyDependencies } from '../clients/first-party.js';
import { grantedLicenceTypes, licenceAccessDetails, type LicenceAccessDetail } from './licence-access.js';
import {
  noticeOfPart,
  withdrawalNotice,
  type NoticeQueueing,
  type WithdrawalNotice,
} from './withdrawal-notices.js';

/**
 * A person's consent to a platform as the OpenID provider keeps it: one provider Grant. A sign-in grant
 * holds the OpenID scopes the person allowed on the consent page (`scopes`: `profile`, `idcard` for the ID
 * number, `offline_access`…); a share (授权用证) also holds the approved `licence_access` details (its
 * `rar`). Times are epoch seconds.
 */
export interface SharingGrant {
  id: string;
  clientId: string;
  /**
   * The provider's account id: the person, or `<entity>~<person>~<basis>` when they acted for an entity
   * (shared/identifiers/account-id.ts).
   */
  accountId: string;
  /** The OpenID scopes granted, those the person refused (the ID number left unticked) left out. */
  scopes: string[];
  /** The approved `licence_access` details: none for a sign-in grant. */
  details: LicenceAccessDetail[];
  grantedAt: number;
  /**
   * The millisecond it was made (epoch ms; absent on a grant saved before it was kept): what a reset's
   * mark is compared with (`grantEndedBy`, shared/identity/person-account.ts, review R58 L1).
   */
  madeAt?: number;
  expiresAt?: number;
}

/**
 * The provider's grants, as the wallet's 已授权的平台 needs them. Contract: `listOf` returns every live
 * grant made by the person (personally or acting for an entity), sign-ins and shares, whatever the
 * platform; `find` a live grant by id (undefined when unknown, expired or revoked); `withdraw` deletes
 * every code, access and refresh token issued under the grants, then the grants themselves **and queues
 * `notice(deleted)` (when given: the platform's notice of exactly the grants this write deletes) and saves
 * `pending(deleted, part)` (when given: the withdrawal's audit entry, as pending work that carries it,
 * `PendingWorkIndex.carried`, naming the grants this write deletes) in one all-or-nothing write**: the
 * grants are never gone without their notice queued and their audit entry saved, nor a notice queued or an
 * entry saved for grants still there, nor for a grant another withdrawal deleted first (which queued its
 * own notice and saved its own entry). A grant already gone is left out of that write; when every one was
 * gone nothing is queued or saved. Unknown ids are a no-op. The notices are due at once.
 *
 * Past what one write holds (a platform's sign-ins of years), the grants go in several
 * ({@link withdrawalParts}): the first listed in writes of their own first, the last ones in part 0; the
 * caller lists last the grant a retry looks up. **Each** write queues the notice of the grants it deletes
 * and saves an entry of its own (`pending(deleted, part, parts)`, part 1, 2…, 0 for the last, of `parts`
 * writes planned, `withdrawalParts(…).length`) naming them. So
 * every grant deleted is told and named by the write that deletes it, whichever write fails after it and
 * whatever another withdrawal deleted meanwhile, and by no other (reviews: grants deleted alone before the
 * last write were named by no entry when it failed; R17 M3: nor told, the notice riding in the last write
 * alone, and a retry's notice naming only the grants left).
 *
 * Answers the grants it deleted and the entries it saved (none: every grant was gone). Each entry is
 * saved only where no pointer of its id is (never over another withdrawal's), and saved **claimed** for
 * the caller (`PendingWorkIndex.claim`'s lease, from the moment its write is made): each claim is answered
 * with its entry, for the caller to complete it (`completeCarriedAudit`) with no claim write of its own; a
 * caller gone before it does (or a later write failed, so that `withdraw` threw) leaves claims that lapse,
 * and the reconciler, or the person asking again, takes them then.
 */
export interface SharingGrants {
  listOf(personId: string): Promise<SharingGrant[]>;
  find(grantId: string): Promise<SharingGrant | undefined>;
  withdraw(
    grantIds: readonly string[],
    notice?: (deleted: readonly string[]) => WithdrawalNotice,
    pending?: (deleted: readonly string[], part: number, parts: number) => CarriedAudit,
  ): Promise<WithdrawnGrants>;
}

/**
 * The most items one write (a DynamoDB transaction, TransactWriteItems) holds: a part's grants' deletes,
 * its notice's put and its audit entry's pointer. A part holds what is left (`withdrawalParts`' `room`):
 * 98 grants with both, 99 with one of them.
 */
export const maxWriteItems = 100;

/**
 * The grants one write of a withdrawal holds: {@link maxWriteItems} less its notice (every part queues
 * its own) and its audit entry (every part saves its own), when the withdrawal has them.
 */
export const withdrawalRoom = (told: boolean, traced: boolean) =>
  maxWriteItems - (told ? 1 : 0) - (traced ? 1 : 0);

/** What {@link SharingGrants.withdraw} did: the grants it deleted, and each entry it saved with its claim. */
export interface WithdrawnGrants {
  deleted: string[];
  saved: Array<{ carried: CarriedAudit; claim: string }>;
}

/**
 * The writes a withdrawal of `grantIds` is made in when one holds at most `room` grants
 * ({@link withdrawalRoom}), in the order they are made: the first grants listed in writes of `room`
 * (parts 1, 2…), the last `room` in the last (part 0). One write, part 0, when they fit. Both stores
 * (DynamoDB's and the tests' in-memory one) split by it, so that the contract suite runs the parts on both.
 *
 * @example
 * ```ts
 * withdrawalParts(ids, withdrawalRoom(true, true)); // 100 ids, 98 a write: [{ part: 1, ids: ids.slice(0, 2) }, { part: 0, ids: ids.slice(2) }]
 * ```
 */
export function withdrawalParts(
  grantIds: readonly string[],
  room: number,
): Array<{ part: number; ids: string[] }> {
  const split = Math.max(0, grantIds.length - room);
  const parts: Array<{ part: number; ids: string[] }> = [];
  for (let start = 0; start < split; start += room) {
    parts.push({ part: parts.length + 1, ids: grantIds.slice(start, Math.min(start + room, split)) });
  }
  return [...parts, { part: 0, ids: grantIds.slice(split) }];
}

/** The platforms' names, as registered (`client_name`). */
export interface ClientNames {
  nameOf(clientId: string): Promise<string | undefined>;
}

/** A grant as the provider stores it: the shape {@link sharingGrantOf} reads. */
export interface StoredGrant {
  jti?: string;
  clientId?: unknown;
  accountId?: unknown;
  openid?: unknown;
  rejected?: unknown;
  rar?: unknown;
  iat?: unknown;
  madeAt?: unknown;
  exp?: unknown;
}

/** The scopes of a stored grant's `openid` member (`{ scope: 'openid profile' }`), as a list. */
function openidScopes(member: unknown): string[] {
  const scope = (member as { scope?: unknown } | undefined)?.scope;
  return typeof scope === 'string' ? scope.split(' ').filter(Boolean) : [];
}

/**
 * The view of a stored provider grant, or undefined when it is not one a person made or has expired at
 * `nowSeconds` (storage deletes expired items late, or never locally: each read checks). Its scopes are
 * the provider's `getOIDCScope()`: the granted ones less the rejected ones (never `openid`).
 */
export function sharingGrantOf(
  id: string,
  stored: StoredGrant,
  nowSeconds: number,
): SharingGrant | undefined {
  if (typeof stored.clientId !== 'string' || typeof stored.accountId !== 'string') return undefined;
  if (typeof stored.exp === 'number' && stored.exp <= nowSeconds) return undefined;
  const rejected = new Set(openidScopes((stored.rejected as { openid?: unknown } | undefined)?.openid));
  rejected.delete('openid');
  return {
    id,
    clientId: stored.clientId,
    accountId: stored.accountId,
    scopes: openidScopes(stored.openid).filter((scope) => !rejected.has(scope)),
    details: licenceAccessDetails(stored.rar),
    grantedAt: typeof stored.iat === 'number' ? stored.iat : 0,
    ...(typeof stored.madeAt === 'number' && { madeAt: stored.madeAt }),
    ...(typeof stored.exp === 'number' ? { expiresAt: stored.exp } : {}),
  };
}

export const authorizationSchema = z
  .object({
    id: z.string(),
    kind: z.enum(['sign_in', 'licence_access']).meta({
      description:
        '`sign_in`: what the person allowed a platform at sign-in (its scopes: `idcard` the ID number, `offline_access` a refresh token); `licence_access`: a share of licences (授权用证)',
    }),
    client: z.object({ id: z.string(), name: z.string() }),
    scopes: z.array(z.string()).meta({
      description: 'The OpenID scopes the grant holds (those the person left unticked are not listed)',
    }),
    licenceTypes: z.array(z.string()).meta({ description: 'The shared licence types; none for sign_in' }),
    purpose: z.string().optional().meta({ description: 'The share’s purpose, in the platform’s words' }),
    grantedAt: z.string().meta({ description: 'RFC 3339' }),
    expiresAt: z.string().optional().meta({ description: 'RFC 3339: when the access ends by itself' }),
  })
  .meta({
    title: 'Authorization',
    examples: [
      {
        id: 'q2tq0Bf1…',
        kind: 'licence_access',
        client: { id: 'cl_8Hk2mQ0xV3', name: '交管业务平台' },
        scopes: ['openid', 'profile'],
        licenceTypes: ['driving-licence'],
        purpose: '办理车辆登记',
        grantedAt: '2026-03-01T09:30:00.000Z',
        expiresAt: '2026-03-31T09:30:00.000Z',
      },
      {
        id: 'Zr81kQm0…',
        kind: 'sign_in',
        client: { id: 'cl_8Hk2mQ0xV3', name: '交管业务平台' },
        scopes: ['openid', 'profile', 'idcard', 'offline_access'],
        licenceTypes: [],
        grantedAt: '2026-03-01T09:29:00.000Z',
        expiresAt: '2026-03-31T09:29:00.000Z',
      },
    ],
  });
export type Authorization = z.output<typeof authorizationSchema>;
export const authorizationListSchema = z
  .object({ items: z.array(authorizationSchema) })
  .meta({ title: 'Authorizations' });

const iso = (seconds: number) => new Date(seconds * 1000).toISOString();

/** What listing and withdrawing read: the grants, the platforms' names, which clients are the service's. */
export interface AuthorizationDependencies {
  sharingGrants: SharingGrants;
  clientNames: ClientNames;
  clientReader: FirstPartyDependencies['clientReader'];
}

/**
 * The grants a person sees and withdraws: not those of the service's own apps (the wallet, first-party
 * clients), which sign them in without a consent page and would sign them out of the wallet itself.
 */
async function platformGrants(
  grants: readonly SharingGrant[],
  deps: Pick<AuthorizationDependencies, 'clientReader'>,
): Promise<SharingGrant[]> {
  const clients = [...new Set(grants.map((grant) => grant.clientId))];
  const firstParty = new Set(
    (
      await Promise.all(
        clients.map(async (clientId) => ((await isFirstPartyClient(clientId, deps)) ? [clientId] : [])),
      )
    ).flat(),
  );
  return grants.filter((grant) => !firstParty.has(grant.clientId));
}

/**
 * A platform's sign-in grants for one account, as one authorization: a new sign-in session that meets
 * the consent page makes a new grant, and the person withdraws "what this platform may do", not each of
 * them. Its id is the newest grant's; `withdrawAuthorization` ends them all.
 */
const signInKey = (grant: SharingGrant) => `${grant.clientId} ${grant.accountId}`;

/** The grants as authorizations: each share alone, each platform's sign-ins for one account together. */
function authorizationGroups(grants: readonly SharingGrant[]): SharingGrant[][] {
  const signIns = new Map<string, SharingGrant[]>();
  const groups: SharingGrant[][] = [];
  for (const grant of grants) {
    if (grant.details.length > 0) {
      groups.push([grant]);
      continue;
    }
    const group = signIns.get(signInKey(grant));
    if (group) group.push(grant);
    else signIns.set(signInKey(grant), [grant]);
  }
  groups.push(...signIns.values());
  return groups;
}

/** One authorization as `GET /me/authorizations` lists it, from its grants (one, or a platform's sign-ins). */
async function authorizationView(
  grants: readonly SharingGrant[],
  names: ClientNames,
): Promise<Authorization> {
  const newestFirst = [...grants].sort((a, b) => b.grantedAt - a.grantedAt);
  const newest = newestFirst[0]!;
  const expiries = grants.map((grant) => grant.expiresAt);
  const expiresAt = expiries.includes(undefined) ? undefined : Math.max(...(expiries as number[]));
  const share = newest.details.length > 0;
  return {
    id: newest.id,
    kind: share ? 'licence_access' : 'sign_in',
    client: { id: newest.clientId, name: (await names.nameOf(newest.clientId)) ?? newest.clientId },
    scopes: [...new Set(newestFirst.flatMap((grant) => grant.scopes))],
    licenceTypes: grantedLicenceTypes(newest.details),
    ...(share ? { purpose: newest.details.map((detail) => detail.purpose).join('；') } : {}),
    grantedAt: iso(newest.grantedAt),
    ...(expiresAt !== undefined ? { expiresAt: iso(expiresAt) } : {}),
  };
}

/**
 * The platforms a person has let in (已授权的平台), newest first: each share of licences (授权用证), and
 * each platform's sign-in with what it holds (the ID number, offline access), so that nothing a platform
 * was given at sign-in is out of the person's sight (privacy review R9 H1).
 *
 * @example
 * ```ts
 * const { items } = await listAuthorizations(subject.personId, { sharingGrants, clientNames, clientReader });
 * ```
 */
export async function listAuthorizations(
  personId: string,
  deps: AuthorizationDependencies,
): Promise<z.output<typeof authorizationListSchema>> {
  const groups = authorizationGroups(await platformGrants(await deps.sharingGrants.listOf(personId), deps));
  const items = await Promise.all(groups.map((group) => authorizationView(group, deps.clientNames)));
  items.sort((a, b) => b.grantedAt.localeCompare(a.grantedAt));
  return { items };
}

/** The grants of `ending` that `deleted` names, in `ending`'s order (oldest first for a withdrawal). */
function deletedOf(ending: readonly SharingGrant[], deleted: readonly string[]): SharingGrant[] {
  const gone = new Set(deleted);
  return ending.filter((grant) => gone.has(grant.id));
}

/** The OpenID scopes `grants` held between them, each once. */
const scopesOf = (grants: readonly SharingGrant[]) => [...new Set(grants.flatMap((grant) => grant.scopes))];

/**
 * Ends one authorization's grants with the notices its platform is owed, if it registered an events
 * endpoint: the notice is made first (`withdrawalNotice`: a failure there withdraws nothing), then the
 * grants go, each write queuing the notice of the grants it deleted (their ids and scopes:
 * `noticeOfPart`) and saving `pending` (the person's own withdrawal: its audit entry) with them
 * (`SharingGrants.withdraw`). A failure anywhere leaves each grant either there or withdrawn, told and
 * saved for its trace: asking again completes it, and a notice's id, derived from the grants its write
 * deleted, is the same at each delivery; a grant is in one notice only, since it is deleted once.
 */
async function endAuthorization(
  grant: SharingGrant,
  ending: readonly SharingGrant[],
  deps: { sharingGrants: SharingGrants } & NoticeQueueing,
  pending?: (deleted: readonly string[], part: number, parts: number) => CarriedAudit,
  signedInBefore?: number,
): Promise<WithdrawnGrants> {
  const share = grant.details.length > 0;
  const whole = await withdrawalNotice(
    {
      clientId: grant.clientId,
      accountId: grant.accountId,
      event: share ? 'share-withdrawn' : 'sign-in-withdrawn',
      grantIds: ending.map((other) => other.id),
      licenceTypes: share ? grantedLicenceTypes(grant.details) : [],
      scopes: scopesOf(ending),
      ...(signedInBefore !== undefined && { signedInBefore }),
    },
    deps,
  );
  const notice =
    whole &&
    ((deleted: readonly string[]) => {
      const gone = deletedOf(ending, deleted);
      return noticeOfPart(whole, { grantIds: gone.map((other) => other.id), scopes: scopesOf(gone) });
    });
  return deps.sharingGrants.withdraw(
    ending.map((other) => other.id),
    notice,
    pending,
  );
}

/**
 * The group of the pending work that carries the audit entries of withdrawals asked under `grantId`: a
 * retry that finds the grant gone finishes those (the person's) it finds there.
 */
export const withdrawalAuditGroup = (grantId: string) => `${carriedAuditPrefix}${grantId}#`;

/**
 * The key a withdrawal's audit entry is written once under (`RecordOnce`), and the id of the pending work
 * that carries it: the grant id asked for and one id of this withdrawal's own, so that the request, its
 * retry and the reconciler write its one entry between them, and two withdrawals asked under one grant id
 * at once (each deleting what the other had not: a sign-in made between them) keep two entries, neither
 * replacing the other's (review L1).
 */
export const withdrawalAuditKey = (grantId: string, withdrawalId: string) =>
  `${withdrawalAuditGroup(grantId)}${withdrawalId}`;

/**
 * Withdraws one of the person's authorizations: a share's grant, or every sign-in grant of that platform
 * for that account; with them goes every code, access and refresh token issued under them, so the
 * platform's next call (userinfo, a refresh) is refused. Another person's grant, the service's own apps'
 * (not listed) and an unknown id are "not found" alike, so that ids reveal nothing. A platform that
 * registered an events endpoint is told (a signed notice, delivered by the `notices` function:
 * `./withdrawal-notices.ts`), so that it deletes its copies: each notice is queued by the write that
 * deletes its grants, so no grant is ever withdrawn without its notice (docs/integrating.md, section 4). Its
 * audit entry (`authorization.withdrawn`) is saved by that write too, as pending work that carries it
 * (shared/pending-work/pending-work.ts), and written after it under a key of its own: were that write to fail,
 * asking again writes it (once) and answers done, where it would otherwise find no grant and answer 404
 * with the withdrawal untraced; left alone (the process gone), the reconciler writes it a minute later.
 *
 * @example
 * ```ts
 * await withdrawAuthorization(subject.personId, grantId, { sharingGrants, clientReader, audit, clock, subjectAt }, { requestId });
 * ```
 */
export async function withdrawAuthorization(
  personId: string,
  grantId: string,
  deps: Omit<AuthorizationDependencies, 'clientNames'> & {
    audit: AuditTrail;
    /** Withdrawals' pending work: their index alone, never licences' (review M1). */
    pendingAudit: PendingWorkIndex;
    clock: Clock;
  } & NoticeQueueing,
  context: { requestId?: string } = {},
): Promise<void> {
  const notFound = () =>
    new NotFoundError(`No authorization ${grantId.slice(0, 64)}`, 'authorization_not_found');
  if (grantId.length > 200) throw notFound();
  const found = await deps.sharingGrants.find(grantId);
  const grant =
    found && parseAccountId(found.accountId).personId === personId
      ? (await platformGrants([found], deps))[0]
      : undefined;
  if (!grant) {
    // 1. Withdrawn already by an attempt whose trace was not written (its audit write failed): this one
    //    writes it and answers done, rather than 404 with the withdrawal untraced.
    //    (Held by another completer, it is theirs to write: done all the same.)
    const saved = found ? [] : await deps.pendingAudit.carried(withdrawalAuditGroup(grantId));
    const own = saved.filter((carried) => carried.owner === personId);
    if (own.length === 0) throw notFound();
    for (const carried of own) await finishCarriedAudit(carried, deps);
    return;
  }
  // 2. What goes: the share itself, or the platform's every sign-in grant for this account.
  const ending =
    grant.details.length > 0
      ? [grant]
      : (await deps.sharingGrants.listOf(personId)).filter(
          (other) => other.details.length === 0 && signInKey(other) === signInKey(grant),
        );
  if (!ending.some((other) => other.id === grant.id)) ending.push(grant);
  //    Oldest first, the one asked for last: past what one write holds, the first go in writes of their
  //    own before it (`SharingGrants.withdraw`), and the grant asked for stays until the last write, so
  //    that a retry after a failure anywhere finds either it (and withdraws what is left) or the entries.
  const asked = (other: SharingGrant) => (other.id === grant.id ? 1 : 0);
  ending.sort((a, b) => asked(a) - asked(b) || a.grantedAt - b.grantedAt);
  // 3. A state change leaves its trace (security review): who withdrew which platform's access, to what.
  //    Saved by the withdrawal's own write, so that no withdrawal is ever done without it.
  //    It names the grants the write deleted, not all it meant to: a concurrent withdrawal may have
  //    deleted some first, and traces those itself.
  //    Past what one write holds, each write saves an entry of its own (`part`: 1, 2… for the first
  //    grants, 0 for the last write's), naming the grants it deleted: every grant deleted is named once.
  //    Such an entry also says which part of how many it is, in the order written, and of which
  //    withdrawal (`withdrawal`, `part` n of `parts` m), so that a supervisor can tell from the trail
  //    whether every part is on it (`npm run audit:verify` names a missing one).
  const at = new Date(deps.clock.now()).toISOString();
  const withdrawal = randomUUID();
  const pending = (deleted: readonly string[], part: number, parts: number): CarriedAudit => {
    const key = withdrawalAuditKey(grantId, part === 0 ? withdrawal : `${withdrawal}-${part}`);
    const gone = deletedOf(ending, deleted);
    return {
      id: key,
      owner: personId,
      since: at,
      audit: [
        {
          key,
          entry: {
            at,
            action: 'authorization.withdrawn',
            actor: grant.accountId,
            reason: `client ${grant.clientId}, grant ${gone.map((other) => other.id).join(' ')}, ${
              grant.details.length > 0
                ? `types ${grant.details.flatMap((detail) => detail.licence_types).join(' ')}`
                : `scopes ${scopesOf(gone).join(' ')}`
            }`,
            ...(context.requestId ? { requestId: context.requestId } : {}),
            ...(parts > 1 ? { withdrawal, part: part === 0 ? parts : part, parts } : {}),
          },
        },
      ],
    };
  };
  // 4. Each grant with its tokens, the platform's notices (privacy review L5) and the saved entries, each
  //    notice and entry in the write that deletes its grants (review R17 M3), its pointer claimed for
  //    this request. Nothing written
  //    (every grant gone: a concurrent withdrawal's, with its own entry), nothing to finish.
  const { saved } = await endAuthorization(grant, ending, deps, pending);
  // 5. Each entry written (once), then its pending work removed: a failure here releases the claim and
  //    leaves the entry saved, for the retry (step 1) or the reconciler; a process gone here leaves the
  //    claim to lapse, and the reconciler takes it then. Every entry is tried before a failure is thrown.
  const failures: unknown[] = [];
  for (const { carried, claim } of saved) {
    await completeCarriedAudit(carried, claim, deps).catch((error: unknown) => failures.push(error));
  }
  if (failures.length > 0) throw failures[0];
}

/**
 * What withdrawing every authorization of a person needs (closing the account, the real owner taking it
 * back): the grants, which clients are the service's own, and what the platforms' notices need.
 */
export type WithdrawEveryDependencies = { sharingGrants: SharingGrants } & Pick<
  AuthorizationDependencies,
  'clientReader'
> &
  NoticeQueueing;

/**
 * Withdraws every platform authorization of a person (personal and acting for an entity), each as
 * `DELETE /me/authorizations/{id}` would, notice included: a share, or a platform's sign-ins for one
 * account. The service's own apps' grants are left to the caller (they are no platform to tell). Each
 * write deletes its grants and queues their notice all or nothing (one write an authorization, or several
 * for a platform's sign-ins of years), so a failure half-way leaves the rest for a retry, and the grants
 * gone are neither gone untold nor told twice. Answers how many were withdrawn.
 *
 * @example
 * ```ts
 * await withdrawEveryAuthorization(account.id, { sharingGrants, clientReader, subjectAt, clock });
 * await signIns.endAll(account.id);
 * ```
 */
export async function withdrawEveryAuthorization(
  personId: string,
  deps: WithdrawEveryDependencies,
  acting?: EntityAuthority,
  options: { grantedBefore?: number; grantsEndedBy?: { at: string } } = {},
): Promise<number> {
  const { grantedBefore, grantsEndedBy } = options;
  // Given the reset's mark, by the provider's own rule (review R58 L1): the grants it would continue,
  // those made after the mark (by the millisecond), are spared, whatever their second.
  const ended = (grant: SharingGrant) =>
    grantsEndedBy !== undefined
      ? grantEndedBy(
          { iat: grant.grantedAt, ...(grant.madeAt !== undefined && { madeAt: grant.madeAt }) },
          grantsEndedBy,
        )
      : grantedBefore === undefined || grant.grantedAt < grantedBefore;
  const listed = (await deps.sharingGrants.listOf(personId)).filter(ended);
  const chosen =
    acting === undefined
      ? listed
      : listed.filter((grant) => {
          const subject = parseAccountId(grant.accountId);
          // The service's own apps (the console among them) are left: they refuse the withdrawn
          // appointment at the next page and say why (403 `clerk_not_appointed`). The entity too, not
          // the basis alone (review R46): bare `rep` is the same at every entity whose record has no term.
          return (
            subject.kind === 'entity' &&
            subject.entityId === acting.entityId &&
            subject.basis === acting.basis &&
            !builtInClientIds.includes(grant.clientId)
          );
        });
  const groups = authorizationGroups(await platformGrants(chosen, deps));
  // Bounded (a reset's clean-up finished by the reconciler), a platform's sign-ins notice says so: the
  // person may have signed in there again since, which is spared, and the platform ends only its sessions
  // of before (review R54-2, docs/integrating.md).
  for (const group of groups) await endAuthorization(group[0]!, group, deps, undefined, grantedBefore);
  return groups.length;
}
