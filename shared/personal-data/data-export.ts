/**
 * `GET /me/export` (API.md, 导出我的数据): a person's copy of their own data in a machine-readable form
 * (PIPL Art. 45, the right to a copy and to portability; GB/T 35273 §8): one JSON document, read from
 * the readers the holder API already has (the account as `GET /me/account` shows it, the licences as
 * `GET /me/licences` with their signed credentials, the authorizations, the enterprises they act for and
 * the appointments naming them, the passkeys' metadata, every page of the usage record), recorded in the
 * usage record as `data.exported`. No new storage.
 *
 * @packageDocumentation
 */
import * as z from 'zod';
import type { AuditTrail } from '../audit/audit-trail.js';
import { epochSeconds, type Clock } from '../clock.js';
import { ForbiddenError, NotFoundError } from '../errors.js';
import { logger } from '../logger.js';
import type { SessionSubject } from '../identifiers/account-id.js';
import { holderLicences, type HolderDependencies } from '../licence/holder-licences.js';
import { licenceView, licenceViewSchema } from '../licence/licence.js';
import { readerAssurance, readerAssuranceSchema, type LicenceReader } from '../licence/licence-reader.js';
import { usageEntrySchema, usageOf, type UsageDependencies } from '../licence/usage.js';
import {
  authorizationSchema,
  listAuthorizations,
  type AuthorizationDependencies,
} from '../sharing/authorizations.js';
import { assuranceLevelOf } from '../identity/assurance.js';
import { accountHoldings, accountHoldingsSchema } from '../identity/close-account.js';
import {
  agentScopes,
  appointmentInForce,
  authorityView,
  authorityViewSchema,
  type AgentAppointment,
} from '../identity/entity-account.js';
import { entitiesFor } from '../identity/entities.js';
import { requireFreshSignIn } from '../identity/fresh-sign-in.js';
import { passkeyView, passkeyViewSchema, type PasskeyStore } from '../identity/passkeys.js';
import { requireSignInNotEnded } from '../identity/person-account.js';
import { findPersonById } from '../identity/verify-password.js';

/** The document's format and version: a reader checks it before reading the rest. */
export const dataExportFormat = 'elicence-data-export/1';

/**
 * How many usage record entries one export holds at most: 50 pages of 100, so that a record flooded by
 * anonymous verifications of a printed QR code neither runs the request out of time nor the answer past
 * what API Gateway carries (a few MB). Past it the document says so (`truncated`) and where the record
 * goes on (`GET /me/usage?cursor=`).
 */
export const exportUsageCap = 5000;
/**
 * How many pages of the usage record one export reads at most, whatever they hold (review R55 F1): entries
 * the reader's level does not open are read but not shown, so a level-2 account whose record holds tens of
 * thousands of verifications it cannot see would otherwise read page after empty page until `me`'s 10 s
 * timeout, and never export. 50 reads of 100 entries take a few seconds; past them, `truncated`.
 */
export const exportUsagePageReads = 50;
/**
 * How large the whole document may grow, in UTF-8 bytes of its JSON, before no further page of the usage
 * record is added (review R55 F2). Lambda answers at most 6 MB (6,291,456 bytes, headers and envelope
 * included), and the wallet relays the file base64-encoded (`POST /wallet/account/export`), 4/3 of it:
 * 3,500,000 bytes become 4,666,668, which leaves over 1.5 MB for headers and for the one page of at most
 * 100 entries that the budget lets in whatever the sections before the usage record already take (about
 * 110 KB: an entry with a 200-character purpose and a 100-character platform name is 1.1 KB). `me`
 * answers the JSON itself, 3.5 MB.
 */
export const exportByteBudget = 3_500_000;
/** Room kept for the `truncated` entry itself (a cursor is at most 400 characters). */
const truncationReserve = 600;
const usagePageSize = 100;

/** An appointment naming the person as an enterprise's agent (经办人), as recorded. */
export const exportedAppointmentSchema = z
  .object({
    agentId: z.string(),
    creditCode: z.string().meta({ description: 'The enterprise’s unified social credit code' }),
    scope: z.array(z.enum(agentScopes)),
    appointedAt: z.string().meta({ description: 'RFC 3339' }),
    expiresAt: z.string().meta({ description: 'RFC 3339: the appointment lapses then' }),
    status: z.enum(['active', 'withdrawn', 'expired']).meta({
      description:
        'As recorded, and `expired` once past `expiresAt`; whether an active one stands now (its representative still the registry’s) is what `entities.authorities` says',
    }),
    withdrawnAt: z.string().optional().meta({ description: 'RFC 3339' }),
  })
  .meta({ title: 'ExportedAppointment' });

/** A part of the document cut at its cap, and where the rest is read. */
export const exportTruncationSchema = z
  .object({
    section: z.literal('usage').meta({ description: 'The section cut' }),
    included: z.int().nonnegative().meta({ description: 'How many entries the document holds' }),
    cursor: z.string().meta({
      description: 'Pass it to `GET /me/usage?cursor=` (the wallet’s 用证记录) for the entries after these',
    }),
  })
  .meta({ title: 'ExportTruncation' });

/** What `GET /me/export` answers, as a file (`Content-Disposition: attachment`). */
export const dataExportSchema = z
  .object({
    format: z.literal(dataExportFormat).meta({
      description: 'The format and its version: a reader refuses a version it does not know',
    }),
    exportedAt: z.string().meta({ description: 'RFC 3339' }),
    service: z.string().meta({ description: 'The service that exported it (its issuer URL)' }),
    account: accountHoldingsSchema.meta({
      description:
        'The account as `GET /me/account` shows it: the ID number and phones masked (the signed credentials below carry what their issuers signed)',
    }),
    licences: z
      .object({
        items: z.array(licenceViewSchema).meta({
          description:
            'The licences the account’s level opens, each with its signed credential (`credential`, a JWS): present it, or its QR code, anywhere that verifies this service’s licences',
        }),
        assurance: readerAssuranceSchema,
      })
      .meta({ description: 'As `GET /me/licences` answers them' }),
    authorizations: z.object({ items: z.array(authorizationSchema) }).meta({
      description: 'The platforms you let sign you in or read your licences, as `GET /me/authorizations`',
    }),
    entities: z
      .object({
        authorities: z.array(authorityViewSchema).meta({
          description:
            'The enterprises you act for now: as their legal representative (the business registry) or appointed agent, as `GET /me/entities`',
        }),
        appointments: z.array(exportedAppointmentSchema).meta({
          description:
            'Every appointment of you as an enterprise’s agent, in force or not (none below level 2, as `GET /me/entities`)',
        }),
      })
      .meta({
        description:
          'The agents you appointed as a representative are the enterprise’s records, not yours: `GET /me/entities/{creditCode}/agents`',
      }),
    passkeys: z
      .object({ items: z.array(passkeyViewSchema) })
      .meta({ description: 'Their names and dates: never a key (the private key never left your device)' }),
    usage: z.object({ items: z.array(usageEntrySchema) }).meta({
      description: `The usage record (用证记录) as \`GET /me/usage\` shows it, newest first, every page up to ${exportUsageCap.toLocaleString('en')} entries, ${exportUsagePageReads} pages read or ${(exportByteBudget / 1e6).toLocaleString('en')} MB of document; this export is recorded there after it is made`,
    }),
    truncated: z.array(exportTruncationSchema).meta({
      description: 'The sections cut at their cap, with where they go on; empty when the document is whole',
    }),
  })
  .meta({ title: 'DataExport' });
export type DataExport = z.output<typeof dataExportSchema>;

/**
 * The document's JSON Schema (draft 2020-12), as zod 4 generates it from {@link dataExportSchema}, opened
 * for additions (review R55 F3): committed at docs/schemas/data-export-1.schema.json (`npx tsx
 * scripts/data-export-schema.ts` writes it; a test checks it is current), so that a person or an
 * integrator validates a file without our code. A reader of `elicence-data-export/1` can rely on every
 * field the schema requires being there, of its type, in every later file of that version; later files
 * may add fields, kinds of usage entry and other closed lists' values, so the schema allows other
 * properties and gives a list's values as the known ones (`description`), not as an `enum`. Only the
 * format's own name stays a constant: a change a /1 reader could not read is `elicence-data-export/2`.
 */
export function dataExportJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(dataExportSchema, { target: 'draft-2020-12', io: 'output' }) as Record<
    string,
    unknown
  >;
  const opened = openForAdditions(generated) as Record<string, unknown>;
  // The format's name, as generated: the one constant.
  (opened.properties as Record<string, unknown>).format = (
    generated.properties as Record<string, unknown>
  ).format;
  return opened;
}

/** A JSON Schema with no closed object and no closed list of string values, at every depth. */
function openForAdditions(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(openForAdditions);
  if (typeof schema !== 'object' || schema === null) return schema;
  const opened: Record<string, unknown> = {};
  const known: string[] = [];
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'additionalProperties' && value === false) continue;
    if (key === 'enum' && Array.isArray(value) && value.every((item) => typeof item === 'string')) {
      known.push(...(value as string[]));
      continue;
    }
    if (key === 'const' && typeof value === 'string') {
      known.push(value);
      continue;
    }
    opened[key] = openForAdditions(value);
  }
  if (known.length > 0) {
    const values = `Known values: ${known.map((value) => `\`${value}\``).join(', ')}; a later file of this version may hold others`;
    const description = typeof opened.description === 'string' ? `${opened.description}. ${values}` : values;
    opened.description = description;
  }
  return opened;
}

export type DataExportDependencies = HolderDependencies &
  AuthorizationDependencies & {
    passkeys: PasskeyStore;
    usage: UsageDependencies['usage'];
    clientReader: UsageDependencies['clients'] & AuthorizationDependencies['clientReader'];
    audit: AuditTrail;
    clock: Clock;
    config: { issuerUrl: string; auditHolderCommitmentsSince?: string | undefined };
  };

/** Who asks: the token's sign-in, and the request (for the audit entry). */
export interface ExportRequest {
  subject: SessionSubject;
  /** The token's sign-in: `acr` and `auth_time` (epoch seconds). */
  acr: string | undefined;
  authTime: number | undefined;
  /** The reader `licenceReader` made of the token: the person's own key (never an entity's: refused). */
  reader: LicenceReader;
  requestId?: string;
}

/** The status of an appointment as recorded, at `now`. */
function recordedStatus(appointment: AgentAppointment, now: Date): 'active' | 'withdrawn' | 'expired' {
  if (appointment.status === 'withdrawn') return 'withdrawn';
  return appointmentInForce(appointment, now) ? 'active' : 'expired';
}

/**
 * The person's data, exported (`GET /me/export`):
 *
 * 1. Refuses a sign-in acting for an enterprise (403 `personal_sign_in_required`: the export is of the
 *    person, not the enterprise's licences), one from before the account's last takeover or reset (401
 *    `invalid_token`), and one that is not fresh at the account's level (403 `fresh_sign_in_required`, as
 *    closing the account: a token left in a browser copies nothing out).
 * 2. Reads each section through the reader the holder API already uses for it, the person's own key
 *    only; the usage record page by page up to {@link exportUsageCap} entries, {@link exportUsagePageReads}
 *    pages read and {@link exportByteBudget} bytes for the whole document, saying in `truncated` where it
 *    goes on.
 * 3. Records `data.exported` (the person's account as actor, their lookup key as holder, so that it is in
 *    their usage record; `count` the licences in it) before answering: an export that could not be
 *    recorded is not made. The document itself is never logged or stored.
 *
 * @example
 * ```ts
 * const document = await exportPersonalData({ subject, acr, authTime, reader }, deps);
 * document.licences.items[0]?.credential; // 'eyJhbGciOiJFUzI1NiIs…'
 * ```
 */
export async function exportPersonalData(
  request: ExportRequest,
  deps: DataExportDependencies,
): Promise<DataExport> {
  const { subject } = request;
  // 1. The person's own sign-in, fresh at the account's level.
  if (subject.kind !== 'person') {
    throw new ForbiddenError('Export your data from a personal sign-in', 'personal_sign_in_required');
  }
  const person = await findPersonById(subject.personId, deps);
  if (!person) throw new NotFoundError('The signed-in account no longer exists', 'account_not_found');
  requireSignInNotEnded(person, request.authTime);
  requireFreshSignIn(person, request, epochSeconds(deps.clock), 'Exporting your data');
  const reader: LicenceReader = { ...request.reader, holderLookupKeys: [person.lookupKey] };
  const now = new Date(deps.clock.now());

  // 2. The sections, from the readers the holder API answers them with.
  const [account, held, authorizations, authorities, appointments, passkeys] = await Promise.all([
    accountHoldings(person.id, deps, request.authTime),
    holderLicences(reader, deps),
    listAuthorizations(person.id, deps),
    entitiesFor(person, now, deps),
    assuranceLevelOf(person) < 2 ? Promise.resolve([]) : deps.entities.appointmentsFor(person.lookupKey),
    deps.passkeys.listFor(person.id),
  ]);
  const usageDeps = {
    usage: deps.usage,
    clients: deps.clientReader,
    issuers: deps.issuers,
    commitmentsSince: deps.config.auditHolderCommitmentsSince,
  };
  const document: DataExport = {
    format: dataExportFormat,
    exportedAt: now.toISOString(),
    service: deps.config.issuerUrl,
    account,
    licences: {
      items: held.map(({ licence, issuer }) => licenceView(licence, issuer, now)),
      assurance: readerAssurance(reader),
    },
    authorizations,
    entities: {
      authorities: authorities.map(authorityView),
      appointments: appointments
        .filter((appointment) => appointment.personLookupKey === person.lookupKey)
        .sort((a, b) => b.appointedAt.localeCompare(a.appointedAt))
        .map((appointment) => ({
          agentId: appointment.agentId,
          creditCode: appointment.creditCode,
          scope: [...appointment.scope],
          appointedAt: appointment.appointedAt,
          expiresAt: appointment.validUntil,
          status: recordedStatus(appointment, now),
          ...(appointment.withdrawnAt ? { withdrawnAt: appointment.withdrawnAt } : {}),
        })),
    },
    passkeys: { items: passkeys.map(passkeyView) },
    usage: { items: [] },
    truncated: [],
  };

  // The usage record, page by page, within the entries, the page reads and the bytes it may take: a page
  // that would take the document past its byte budget is left out whole (the first is always in), so
  // that the cursor of `truncated` is where it starts.
  const usage = document.usage.items;
  let bytes = utf8Length(document) + truncationReserve;
  let cursor: string | undefined;
  let reads = 0;
  do {
    const page = await usageOf(
      reader,
      { limit: Math.min(usagePageSize, exportUsageCap - usage.length), ...(cursor ? { cursor } : {}) },
      usageDeps,
    );
    reads += 1;
    // Each entry's JSON and the comma before it.
    const pageBytes = page.items.reduce((sum, item) => sum + utf8Length(item) + 1, 0);
    if (cursor !== undefined && bytes + pageBytes > exportByteBudget) break;
    usage.push(...page.items);
    bytes += pageBytes;
    cursor = page.cursor;
  } while (cursor !== undefined && usage.length < exportUsageCap && reads < exportUsagePageReads);
  if (cursor !== undefined) document.truncated.push({ section: 'usage', included: usage.length, cursor });

  // 3. Recorded in the person's usage record once the document is built and sized, before it is answered.
  await deps.audit.record({
    at: now.toISOString(),
    actor: person.id,
    action: 'data.exported',
    holderKey: person.lookupKey,
    accountId: person.id,
    count: document.licences.items.length,
    ...(request.requestId ? { requestId: request.requestId } : {}),
  });
  // Counts only: never the document, which is the person's data.
  logger.info('data exported', {
    accountId: person.id,
    licences: document.licences.items.length,
    usage: usage.length,
    truncated: document.truncated.length > 0,
  });
  return document;
}

/** How many bytes a value's JSON takes, as UTF-8 (what `json()` answers). */
function utf8Length(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value), 'utf8');
}

/** The file's name: the day it was exported (UTC). */
export function dataExportFileName(exportedAt: string): string {
  return `elicence-data-export-${exportedAt.slice(0, 10).replaceAll('-', '')}.json`;
}
