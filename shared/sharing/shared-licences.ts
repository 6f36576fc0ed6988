import * as z from 'zod';
import type { AuditTrail } from '../audit/audit-trail.js';
import { ForbiddenError, UnauthenticatedError } from '../errors.js';
import { parseAccountId } from '../identifiers/account-id.js';
import { holderLicences, licenceReader, type HolderDependencies } from '../licence/holder-licences.js';
import { licenceView, licenceViewSchema, type LicenceRecord } from '../licence/licence.js';
import type { Issuer } from '../issuers/issuer.js';
import type { SharingGrants } from './authorizations.js';
import { grantedLicenceTypes, licenceAccessDetails } from './licence-access.js';
import { recordShares } from './record-shares.js';

/**
 * A licence as a share hands it over: what the consent page lists (the holder's name and masked number,
 * the issuer, the validity and the status, the type's fields, the credential) and nothing more: not the
 * issuer's reason for a status (free text such as "违法违规被吊销：…"), nor the re-issue links
 * (`replaces`, `replacedBy`) that lead to the licence's history (privacy review R9 M3).
 */
export const sharedLicenceSchema = licenceViewSchema
  .omit({ statusReason: true, replaces: true, replacedBy: true, history: true })
  .meta({ title: 'SharedLicence' });
export type SharedLicence = z.output<typeof sharedLicenceSchema>;

/** What `GET /shared/licences` answers: the granted types' current licences, each with its credential. */
export const sharedLicencesSchema = z
  .object({ items: z.array(sharedLicenceSchema) })
  .meta({ title: 'SharedLicences' });

/** {@link sharedLicenceSchema} of one licence: its API view, less what a share does not carry. */
function sharedLicenceView(licence: LicenceRecord, issuer: Issuer, now: Date): SharedLicence {
  const {
    statusReason: _reason,
    replaces: _replaces,
    replacedBy: _replacedBy,
    history: _history,
    ...view
  } = licenceView(licence, issuer, now);
  return view;
}

/** The platform's token, as the API read it: who holds it, for whom, under which grant, with what. */
export interface SharingCaller {
  clientId: string;
  accountId: string | undefined;
  acr: string | undefined;
  /** When the person signed in (`auth_time`): a sign-in from before a reset reads nothing (review R47). */
  authTime?: number | undefined;
  grantId: string | undefined;
  /** The token's authorization details (RFC 9396), as the provider granted them. */
  authorizationDetails: unknown;
  requestId?: string;
}

export type SharedLicencesDependencies = HolderDependencies & {
  sharingGrants: Pick<SharingGrants, 'find'>;
  audit: AuditTrail;
};

/**
 * A platform reads the licences a person shared with it (授权用证): those of the holders the person
 * stands for now (their own, or the entity's whose appointment covers licences, `licenceReader`), of
 * the types the token's `licence_access` details grant, and that the sign-in's level opens
 * (`readerMay`). A type the person holds no licence of simply adds nothing. Only current licences go
 * (valid, suspended or expired, as the consent page says): never a revoked one, a licence replaced by a
 * re-issue among them, which is the person's history rather than what they hold.
 *
 * The grant is read again, so a withdrawn authorization ends access even where a token outlived it.
 * Every licence handed over leaves one audit entry (`licence.shared`: the platform, the licence, its
 * type, the holder's lookup key, the purpose) before the answer goes: a share that could not be
 * recorded is not made.
 *
 * @example
 * ```ts
 * const { items } = await sharedLicences({ clientId, accountId, acr, grantId, authorizationDetails: token.rar }, deps);
 * ```
 */
export async function sharedLicences(
  caller: SharingCaller,
  deps: SharedLicencesDependencies,
): Promise<{ items: SharedLicence[] }> {
  const details = licenceAccessDetails(caller.authorizationDetails);
  if (details.length === 0 || !caller.accountId || !caller.grantId) {
    throw new ForbiddenError(
      'This token carries no licence_access authorization details',
      'insufficient_authorization',
    );
  }
  const grant = await deps.sharingGrants.find(caller.grantId);
  if (!grant || grant.clientId !== caller.clientId || grant.accountId !== caller.accountId) {
    throw new UnauthenticatedError('The authorization was withdrawn or has ended', 'invalid_token');
  }
  const types = new Set(grantedLicenceTypes(details));
  const subject = parseAccountId(caller.accountId);
  const reader = await licenceReader(subject, caller, deps);
  // Acting for an enterprise, the consent page asked for the enterprise's licences: the person's own
  // (the reader's first key) do not go with them (security review L1).
  if (subject.kind === 'entity') reader.holderLookupKeys = reader.holderLookupKeys.slice(1);
  const held = (await holderLicences(reader, deps)).filter(
    ({ licence }) => types.has(licence.type) && licence.status !== 'revoked',
  );
  const now = new Date(deps.clock.now());
  const at = now.toISOString();
  await recordShares(
    {
      clientId: caller.clientId,
      at,
      purposeOf: (licence) => details.find((detail) => detail.licence_types.includes(licence.type))?.purpose,
      ...(caller.requestId ? { requestId: caller.requestId } : {}),
    },
    held.map(({ licence }) => licence),
    deps,
  );
  return { items: held.map(({ licence, issuer }) => sharedLicenceView(licence, issuer, now)) };
}
