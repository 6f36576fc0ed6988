import * as z from 'zod';
import type { AuditTrail } from '../audit/audit-trail.js';
import type { Clock } from '../clock.js';
import { NotFoundError } from '../errors.js';
import { parseAccountId } from '../identifiers/account-id.js';
import { grantedLicenceTypes, licenceAccessDetails, type LicenceAccessDetail } from './licence-access.js';

/**
 * A person's consent to a platform (授权用证) as the OpenID provider keeps it: one provider Grant whose
 * authorization details (`rar`) hold the approved `licence_access` details. Times are epoch seconds.
 */
export interface SharingGrant {
  id: string;
  clientId: string;
  /** The provider's account id: the person, or `<entity>~<person>` when they acted for an entity. */
  accountId: string;
  details: LicenceAccessDetail[];
  grantedAt: number;
  expiresAt?: number;
}

/**
 * The provider's grants, as sharing needs them. Contract: `listOf` returns the live grants that carry
 * `licence_access` details and were made by the person (personally or acting for an entity), whatever
 * the platform; `find` a live grant by id (undefined when unknown, expired or revoked); `revoke` deletes
 * the grant and every code, access and refresh token issued under it, at once, and is a no-op for an
 * unknown id.
 */
export interface SharingGrants {
  listOf(personId: string): Promise<SharingGrant[]>;
  find(grantId: string): Promise<SharingGrant | undefined>;
  revoke(grantId: string): Promise<void>;
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
  rar?: unknown;
  iat?: unknown;
  exp?: unknown;
}

/**
 * The sharing view of a stored provider grant, or undefined when it carries no `licence_access` or has
 * expired at `nowSeconds` (storage deletes expired items late, or never locally: each read checks).
 */
export function sharingGrantOf(
  id: string,
  stored: StoredGrant,
  nowSeconds: number,
): SharingGrant | undefined {
  const details = licenceAccessDetails(stored.rar);
  if (details.length === 0 || typeof stored.clientId !== 'string' || typeof stored.accountId !== 'string') {
    return undefined;
  }
  if (typeof stored.exp === 'number' && stored.exp <= nowSeconds) return undefined;
  return {
    id,
    clientId: stored.clientId,
    accountId: stored.accountId,
    details,
    grantedAt: typeof stored.iat === 'number' ? stored.iat : 0,
    ...(typeof stored.exp === 'number' ? { expiresAt: stored.exp } : {}),
  };
}

export const authorizationSchema = z
  .object({
    id: z.string(),
    client: z.object({ id: z.string(), name: z.string() }),
    licenceTypes: z.array(z.string()),
    purpose: z.string(),
    grantedAt: z.string().meta({ description: 'RFC 3339' }),
    expiresAt: z.string().optional().meta({ description: 'RFC 3339: when the access ends by itself' }),
  })
  .meta({
    title: 'Authorization',
    examples: [
      {
        id: 'q2tq0Bf1…',
        client: { id: 'cl_8Hk2mQ0xV3', name: '交管业务平台' },
        licenceTypes: ['driving-licence'],
        purpose: '办理车辆登记',
        grantedAt: '2026-03-01T09:30:00.000Z',
        expiresAt: '2026-03-31T09:30:00.000Z',
      },
    ],
  });
export type Authorization = z.output<typeof authorizationSchema>;
export const authorizationListSchema = z
  .object({ items: z.array(authorizationSchema) })
  .meta({ title: 'Authorizations' });

const iso = (seconds: number) => new Date(seconds * 1000).toISOString();

/** One grant as `GET /me/authorizations` lists it. */
export async function authorizationView(grant: SharingGrant, names: ClientNames): Promise<Authorization> {
  return {
    id: grant.id,
    client: { id: grant.clientId, name: (await names.nameOf(grant.clientId)) ?? grant.clientId },
    licenceTypes: grantedLicenceTypes(grant.details),
    purpose: grant.details.map((detail) => detail.purpose).join('；'),
    grantedAt: iso(grant.grantedAt),
    ...(grant.expiresAt !== undefined ? { expiresAt: iso(grant.expiresAt) } : {}),
  };
}

/**
 * The platforms a person has let read their licences (已授权的平台), newest first.
 *
 * @example
 * ```ts
 * const { items } = await listAuthorizations(subject.personId, { sharingGrants, clientNames });
 * ```
 */
export async function listAuthorizations(
  personId: string,
  deps: { sharingGrants: SharingGrants; clientNames: ClientNames },
): Promise<z.output<typeof authorizationListSchema>> {
  const grants = await deps.sharingGrants.listOf(personId);
  grants.sort((a, b) => b.grantedAt - a.grantedAt);
  return { items: await Promise.all(grants.map((grant) => authorizationView(grant, deps.clientNames))) };
}

/**
 * Withdraws one of the person's authorizations: the grant goes, and with it every token the platform
 * holds under it, so its next call is refused. Another person's grant (or one that is not a share) is
 * "not found", exactly as an unknown id, so that ids reveal nothing.
 *
 * @example
 * ```ts
 * await withdrawAuthorization(subject.personId, grantId, { sharingGrants, audit, clock }, { requestId });
 * ```
 */
export async function withdrawAuthorization(
  personId: string,
  grantId: string,
  deps: { sharingGrants: SharingGrants; audit: AuditTrail; clock: Clock },
  context: { requestId?: string } = {},
): Promise<void> {
  const grant = grantId.length <= 200 ? await deps.sharingGrants.find(grantId) : undefined;
  if (!grant || parseAccountId(grant.accountId).personId !== personId) {
    throw new NotFoundError(`No authorization ${grantId.slice(0, 64)}`, 'authorization_not_found');
  }
  await deps.sharingGrants.revoke(grantId);
  // A state change leaves its trace (security review): who withdrew which platform's access, to what.
  await deps.audit.record({
    at: new Date(deps.clock.now()).toISOString(),
    action: 'authorization.withdrawn',
    actor: grant.accountId,
    reason: `client ${grant.clientId}, grant ${grant.id}, types ${grant.details
      .flatMap((detail) => detail.licence_types)
      .join(' ')}`,
    ...(context.requestId ? { requestId: context.requestId } : {}),
  });
}
