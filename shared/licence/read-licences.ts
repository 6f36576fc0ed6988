import * as z from 'zod';
import type { Mac } from '../crypto/mac.js';
import { fieldErrorAt, ForbiddenError, InvalidInputError, NotFoundError } from '../errors.js';
import { parseCreditCode, type CreditCode } from '../identifiers/credit-code.js';
import { meantAsIdNumber, parseIdNumber, type IdNumber } from '../identifiers/id-number.js';
import { entityLookupKey, personLookupKey } from '../identifiers/lookup-key.js';
import type { Issuer } from '../issuers/issuer.js';
import type { IssuerStore } from '../issuers/issuer-store.js';
import { withdrawnCredentialKids } from '../issuers/credential-key.js';
import type { LicenceRecord } from './licence.js';
import type { LicenceCount, LicenceFilter, LicencePage, LicenceStore } from './licence-store.js';

const calendarDay = z.iso.date().meta({ description: 'A calendar day in China time (UTC+8), `YYYY-MM-DD`' });

/**
 * The search filters both ways of listing share. `holder` (an ID number or credit code) and `holderName`
 * are only ever posted (`POST /licences/search`): a number or name in a URL stays in every access log on
 * its way (CloudFront, WAF, API Gateway keep query strings), so `GET /licences` refuses them
 * ({@link refuseHolderInQuery}).
 */
const searchFilters = {
  holder: z
    .string()
    .trim()
    .min(1)
    .max(32)
    .optional()
    .meta({ description: 'The holder’s ID number or unified social credit code, in full' }),
  holderKind: z
    .enum(['person', 'entity'])
    .optional()
    .meta({
      description:
        'With `holder`: read it as an ID number (`person`) or a credit code (`entity`) only, its errors ' +
        'those of that kind. Without it, a number valid as both is searched as both (review R56-3)',
    }),
  status: z.enum(['valid', 'suspended', 'revoked', 'expired']).optional(),
  type: z.string().trim().min(1).max(64).optional().meta({ description: 'A licence type code' }),
  holderName: z
    .string()
    .trim()
    .min(1)
    .max(50)
    .optional()
    .meta({ description: 'A part of the holder’s name' }),
  number: z.string().trim().min(1).max(100).optional().meta({ description: 'A part of the licence number' }),
  issuedFrom: calendarDay.optional().meta({ description: 'Issued on or after this day (China time)' }),
  issuedTo: calendarDay.optional().meta({ description: 'Issued on or before this day (China time)' }),
  sort: z
    .enum(['-issuedAt', 'issuedAt', '-number', 'number'])
    .default('-issuedAt')
    .meta({
      description:
        'Issue time or licence number, `-` for descending. Numbers follow issue order (an issuer’s serials ' +
        'come from one counter as it issues), so a number sort reads in issue order and orders each page by ' +
        'number: exact within a licence type.',
    }),
  keyWithdrawn: z
    .enum(['true', 'false'])
    .optional()
    .meta({
      description:
        '`true`: only licences whose credential was signed by an issuer key since withdrawn (they verify ' +
        '`unknown_issuer` and carry `keyWithdrawn`), to re-issue them (`POST /licences/{id}/reissue`); ' +
        'with `status=valid`, those still to re-issue. No index holds the signing key: a page reads up to ' +
        '20 index pages of the issuer’s licences and may hold fewer than `limit`, even none, while ' +
        '`cursor` says more may follow',
    }),
  total: z
    .enum(['true', 'false'])
    .optional()
    .meta({ description: '`true` adds `total`: the matching licences, counted up to 1,000' }),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(2048).optional(),
};

/** The filters that identify a holder: posted only, never in a URL. */
export const holderFilters = ['holder', 'holderName'] as const;

/** `GET /licences`: every filter but the holder's (refused before this parses, naming the route to use). */
export const listLicencesQuery = z
  .strictObject(searchFilters)
  .omit({ holder: true, holderName: true, holderKind: true });

/**
 * `POST /licences/search` (JSON): the filters of `GET /licences`, `holder` and `holderName`, with the same paging
 * (`cursor` from the previous answer, sent back with the same filters).
 */
export const searchLicencesInput = z.strictObject({
  ...searchFilters,
  limit: z.number().int().min(1).max(100).default(20),
  total: z
    .boolean()
    .optional()
    .meta({ description: '`true` adds `total`: the matching licences, counted up to 1,000' }),
  keyWithdrawn: z
    .boolean()
    .optional()
    .meta({ description: searchFilters.keyWithdrawn.description ?? '' }),
});

/** A search, however it came (query string or body). */
export type ListLicencesQuery = Omit<
  z.output<z.ZodObject<typeof searchFilters>>,
  'total' | 'keyWithdrawn'
> & {
  total?: 'true' | 'false' | undefined;
  keyWithdrawn?: 'true' | 'false' | undefined;
};

/** A posted search in the shape of a listing's query (its flags as the query spells them). */
export function searchAsQuery(input: z.output<typeof searchLicencesInput>): ListLicencesQuery {
  const { total, keyWithdrawn, ...rest } = input;
  return {
    ...rest,
    ...(total !== undefined ? { total: String(total) as 'true' | 'false' } : {}),
    ...(keyWithdrawn !== undefined ? { keyWithdrawn: String(keyWithdrawn) as 'true' | 'false' } : {}),
  };
}

/**
 * Fails closed on `GET /licences?holder=` or `?holderName=`: answered with a 400 `holder_not_in_url` naming
 * each such field and the route to use, whatever else the query holds, so that a caller learns at its first
 * call, not from its access logs. The number or name is already in the logs of this one request; no answer
 * makes that undone, but none follows.
 */
export function refuseHolderInQuery(
  query: Readonly<Record<string, string | undefined>> | null | undefined,
): void {
  const sent = holderFilters.filter((name) => query && Object.hasOwn(query, name));
  if (sent.length > 0) {
    throw new InvalidInputError(
      'Search by holder with POST /licences/search (a JSON body): an ID number or name in a URL stays in access logs',
      'holder_not_in_url',
      {
        errors: sent.map((path) => ({
          path,
          message: 'not in the URL: POST /licences/search',
          code: 'unknown_field',
        })),
      },
    );
  }
}

/** Where the total of a list stops counting: past it the answer is "1,000+" (`capped`). */
export const listTotalCap = 1000;

/** One licence of the caller's issuer; another issuer's licence is not found (its existence is not theirs). */
export async function readIssuedLicence(
  id: string,
  issuerId: string,
  deps: { licences: LicenceStore; issuers: IssuerStore },
): Promise<{ licence: LicenceRecord; issuer: Issuer }> {
  const licence = await deps.licences.get(id);
  const issuer = licence?.issuerId === issuerId ? await deps.issuers.findById(issuerId) : undefined;
  if (!licence || !issuer) throw new NotFoundError(`No licence ${id} of this issuer`, 'licence_not_found');
  return { licence, issuer };
}

/**
 * The licences the caller's issuer issued, newest first, optionally of one holder (ID number or credit
 * code, looked up by its keyed hash) and in one status.
 */
export async function listIssuedLicences(
  query: ListLicencesQuery,
  issuerId: string,
  deps: { licences: LicenceStore; issuers: IssuerStore; lookupMac: Mac; clock: { now(): number } },
): Promise<LicencePage & { issuer: Issuer; total?: LicenceCount }> {
  const issuer = await deps.issuers.findById(issuerId);
  if (!issuer) throw new ForbiddenError('This client’s issuer does not exist', 'issuer_inactive');
  const now = new Date(deps.clock.now());
  if (query.issuedFrom && query.issuedTo && query.issuedTo < query.issuedFrom) {
    throw new InvalidInputError('issuedTo: before issuedFrom', 'invalid_query', {
      errors: [{ path: 'issuedTo', message: 'before issuedFrom', code: 'before_start' }],
    });
  }
  if (query.holderKind && !query.holder) {
    throw new InvalidInputError('holderKind: only with holder', 'invalid_query', {
      errors: [{ path: 'holderKind', message: 'only with holder', code: 'invalid_value' }],
    });
  }
  const holderKeys = query.holder
    ? await holderLookupKeys(query.holder, query.holderKind, now, deps.lookupMac)
    : [];
  const base: LicenceFilter = {
    ...(query.status ? { status: query.status } : {}),
    ...(query.type ? { type: query.type } : {}),
    ...(query.holderName ? { holderName: query.holderName } : {}),
    ...(query.number ? { number: query.number } : {}),
    ...(query.issuedFrom ? { issuedFrom: chinaDayStart(query.issuedFrom) } : {}),
    ...(query.issuedTo ? { issuedBefore: chinaDayStart(query.issuedTo, 1) } : {}),
    ...(query.keyWithdrawn === 'true' ? { signedBy: withdrawnCredentialKids(issuer) } : {}),
    now,
  };
  const holderLookupKey = await holderToSearch(holderKeys, issuerId, base, deps.licences);
  const filter: LicenceFilter = { ...base, ...(holderLookupKey ? { holderLookupKey } : {}) };
  const ascending = !query.sort.startsWith('-');
  if (filter.signedBy?.length === 0) {
    // No key of this issuer was ever withdrawn: nothing to read.
    return { items: [], issuer, ...(query.total === 'true' ? { total: { count: 0, capped: false } } : {}) };
  }
  const [page, total] = await Promise.all([
    deps.licences.listByIssuer(issuerId, {
      ...filter,
      order: ascending ? 'oldest' : 'newest',
      limit: query.limit,
      cursor: query.cursor,
    }),
    query.total === 'true' ? deps.licences.countByIssuer(issuerId, filter, listTotalCap) : undefined,
  ]);
  const items = query.sort.endsWith('number') ? byNumber(page.items, ascending) : page.items;
  return { ...page, items, issuer, ...(total ? { total } : {}) };
}

/** The instant a China-time calendar day (plus `days`) begins, as the index's `issuedAt` spells it. */
function chinaDayStart(day: string, days = 0): string {
  return new Date(Date.parse(`${day}T00:00:00+08:00`) + days * 86_400_000).toISOString();
}

/**
 * A page ordered by licence number: the type code, then the serial as a number (ids are
 * `<root>.<type>.<credit code>.<serial>.<version>.<check>`, the serial in plain decimal, so text order
 * would put 10 before 9). An id of another shape keeps its text order after the others.
 */
function byNumber(items: LicenceRecord[], ascending: boolean): LicenceRecord[] {
  const parts = (id: string): [string, number, string] => {
    const segments = id.split('.');
    const serial = Number(segments.at(-3));
    return Number.isSafeInteger(serial)
      ? [segments.at(-5) ?? '', serial, id]
      : ['\uffff', Number.MAX_SAFE_INTEGER, id];
  };
  const sign = ascending ? 1 : -1;
  return [...items].sort((a, b) => {
    const [typeA, serialA, idA] = parts(a.id);
    const [typeB, serialB, idB] = parts(b.id);
    if (typeA !== typeB) return typeA < typeB ? -sign : sign;
    if (serialA !== serialB) return (serialA - serialB) * sign;
    return idA < idB ? -sign : idA > idB ? sign : 0;
  });
}

/**
 * The holder a search names: an ID number or, failing that, a credit code. When it is neither, the error is
 * that of the one most likely meant ({@link meantAsIdNumber}): `11010519491231002Z`, a Z typed for an X,
 * is refused as an ID number (review R51 F3), not for a character "not allowed in a credit code";
 * `91330100716105852Z` as a credit code. Some older credit codes are digits throughout: one that is not an
 * ID number is found as a credit code. A string valid as both (`121101199001017391`: a public
 * institution's `12`, a region, then what reads as a birth date) is both, the ID number first (review
 * R56-3). `kind` reads it as that kind only, with that kind's errors.
 *
 * @example
 * ```ts
 * holderNumbers('11010519491231002Z', now); // throws invalid_id_number: 17 digits followed by a digit or X
 * holderNumbers('91330100716105852F', now); // [{ creditCode: '91330100716105852F' }]
 * holderNumbers('121101199001017391', now); // [{ idNumber: … }, { creditCode: … }]
 * ```
 */
export function holderNumbers(
  holder: string,
  now: Date,
  kind?: 'person' | 'entity',
): Array<{ idNumber: IdNumber } | { creditCode: CreditCode }> {
  if (kind === 'person') return [{ idNumber: parseIdNumber(holder, now) }];
  if (kind === 'entity') return [{ creditCode: parseCreditCode(holder) }];
  let idNumber: IdNumber | undefined;
  let idError: unknown;
  try {
    idNumber = parseIdNumber(holder, now);
  } catch (error) {
    idError = error;
  }
  let creditCode: CreditCode;
  try {
    creditCode = parseCreditCode(holder);
  } catch (creditError) {
    if (idNumber) return [{ idNumber }];
    throw meantAsIdNumber(holder) ? idError : creditError;
  }
  return idNumber ? [{ idNumber }, { creditCode }] : [{ creditCode }];
}

async function holderLookupKeys(
  holder: string,
  kind: 'person' | 'entity' | undefined,
  now: Date,
  mac: Mac,
): Promise<string[]> {
  try {
    return await Promise.all(
      holderNumbers(holder, now, kind).map((number) =>
        'idNumber' in number
          ? personLookupKey(mac, number.idNumber)
          : entityLookupKey(mac, number.creditCode),
      ),
    );
  } catch (error) {
    if (error instanceof InvalidInputError) {
      throw new InvalidInputError(`holder: ${error.message}`, error.code, {
        errors: [fieldErrorAt('holder', error)],
      });
    }
    throw error;
  }
}

/**
 * The one holder key a search reads (an index partition, so that its pages and cursor are those of one
 * holder): the only one, or, for a number valid as both an ID number and a credit code (review R56-3), the
 * one under which this issuer has licences matching the other filters (counted to 1 each: a holder's own
 * index entries), the person's when neither has. Both having some (a person and an enterprise whose numbers
 * coincide, each holding this issuer's licences) is a 400 `ambiguous_holder` naming `holderKind`, to say
 * which: never one of them silently.
 */
async function holderToSearch(
  keys: string[],
  issuerId: string,
  filter: LicenceFilter,
  licences: Pick<LicenceStore, 'countByIssuer'>,
): Promise<string | undefined> {
  if (keys.length < 2) return keys[0];
  const counts = await Promise.all(
    keys.map((holderLookupKey) => licences.countByIssuer(issuerId, { ...filter, holderLookupKey }, 1)),
  );
  const found = keys.filter((_, i) => counts[i]!.count > 0);
  if (found.length > 1) {
    throw new InvalidInputError(
      'holder: both an ID number and a credit code, each holding licences of this issuer: say which with holderKind',
      'ambiguous_holder',
      {
        errors: [
          {
            path: 'holderKind',
            message: 'required: holder is both an ID number and a credit code',
            code: 'required',
          },
        ],
      },
    );
  }
  return found[0] ?? keys[0];
}
