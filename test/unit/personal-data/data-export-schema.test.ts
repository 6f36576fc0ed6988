import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { dataExportJsonSchema, dataExportSchema } from '../../../shared/personal-data/data-export.js';

const committed = new URL('../../../docs/schemas/data-export-1.schema.json', import.meta.url);

/**
 * The JSON Schema of `GET /me/export`'s document, committed for people and integrators to validate a
 * file with (docs/accounts.md, "Your data, exported"): zod's own `z.toJSONSchema` of the schema the
 * route's answer is typed by, so the two cannot drift.
 */
describe('the data export’s JSON Schema', () => {
  it('is the one committed at docs/schemas/data-export-1.schema.json (npx tsx scripts/data-export-schema.ts)', () => {
    expect(JSON.parse(readFileSync(committed, 'utf8'))).toEqual(dataExportJsonSchema());
  });

  it('accepts a document of the schema and refuses one of another format version', () => {
    const validate = new Ajv2020({ strict: false }).compile(dataExportJsonSchema());
    const document = dataExportSchema.parse({
      format: 'elicence-data-export/1',
      exportedAt: '2026-12-07T10:00:00.000Z',
      service: 'https://id.example.gov.cn',
      account: {
        masked: '110105********1239',
        name: '王小明',
        assurance: 'in-person-verified',
        acr: 'urn:elicence:loa:3',
        phoneProven: true,
        passkeys: 0,
        createdAt: '2026-01-01T00:00:00.000Z',
      },
      licences: { items: [], assurance: { acr: 'urn:elicence:loa:3' } },
      authorizations: { items: [] },
      entities: { authorities: [], appointments: [] },
      passkeys: { items: [] },
      usage: { items: [{ at: '2026-12-07T09:00:00.000Z', action: 'exported' }] },
      truncated: [],
    });
    expect(validate(document), JSON.stringify(validate.errors)).toBe(true);
    expect(validate({ ...document, format: 'elicence-data-export/2' })).toBe(false);
  });
});

/** Every property of a JSON Schema, as `path: type` (`path?: type` when optional); arrays' items as `[]`. */
function shapeOf(node: Record<string, unknown>, path = ''): string[] {
  if (node.type === 'array' && node.items) return shapeOf(node.items as Record<string, unknown>, `${path}[]`);
  const properties = (node.properties ?? {}) as Record<string, Record<string, unknown>>;
  const required = (node.required ?? []) as string[];
  return Object.entries(properties).flatMap(([name, child]) => {
    const at = path ? `${path}.${name}` : name;
    const type = typeof child.type === 'string' ? child.type : 'any';
    return [`${at}${required.includes(name) ? '' : '?'}: ${type}`, ...shapeOf(child, at)];
  });
}

/**
 * What a reader of `elicence-data-export/1` relies on, as of session 26: every field, its type, and
 * whether every file has it. Later files of /1 may add to it, never take from it.
 */
const publishedV1 = [
  'format: string',
  'exportedAt: string',
  'service: string',
  'account: object',
  'account.masked: string',
  'account.name: string',
  'account.assurance: string',
  'account.acr: string',
  'account.phone?: object',
  'account.phone.masked: string',
  'account.phone.confirmedAt: string',
  'account.phoneProven: boolean',
  'account.provenPhoneMasked?: string',
  'account.passkeys: integer',
  'account.createdAt: string',
  'licences: object',
  'licences.items: array',
  'licences.items[].id: string',
  'licences.items[].type: string',
  'licences.items[].issuer: object',
  'licences.items[].issuer.id: string',
  'licences.items[].issuer.name: string',
  'licences.items[].issuer.creditCode: string',
  'licences.items[].issuer.status: string',
  'licences.items[].holder: object',
  'licences.items[].holder.kind: string',
  'licences.items[].holder.name: string',
  'licences.items[].holder.masked: string',
  'licences.items[].fields: object',
  'licences.items[].status: string',
  'licences.items[].statusReason?: string',
  'licences.items[].issuedAt: string',
  'licences.items[].validFrom: string',
  'licences.items[].validUntil?: string',
  'licences.items[].credential: string',
  'licences.items[].keyWithdrawn?: boolean',
  'licences.items[].replaces?: string',
  'licences.items[].replacedBy?: string',
  'licences.items[].history?: array',
  'licences.items[].history[].at: string',
  'licences.items[].history[].action: string',
  'licences.items[].history[].actor: string',
  'licences.items[].history[].clerk?: string',
  'licences.items[].history[].reason?: string',
  'licences.items[].history[].reasonCode?: string',
  'licences.items[].history[].replaces?: string',
  'licences.items[].history[].replacedBy?: string',
  'licences.assurance: object',
  'licences.assurance.acr: string',
  'licences.assurance.stepUpTo?: string',
  'authorizations: object',
  'authorizations.items: array',
  'authorizations.items[].id: string',
  'authorizations.items[].kind: string',
  'authorizations.items[].client: object',
  'authorizations.items[].client.id: string',
  'authorizations.items[].client.name: string',
  'authorizations.items[].scopes: array',
  'authorizations.items[].licenceTypes: array',
  'authorizations.items[].purpose?: string',
  'authorizations.items[].grantedAt: string',
  'authorizations.items[].expiresAt?: string',
  'entities: object',
  'entities.authorities: array',
  'entities.authorities[].creditCode: string',
  'entities.authorities[].name: string',
  'entities.authorities[].role: string',
  'entities.authorities[].scope: array',
  'entities.authorities[].expiresAt?: string',
  'entities.appointments: array',
  'entities.appointments[].agentId: string',
  'entities.appointments[].creditCode: string',
  'entities.appointments[].scope: array',
  'entities.appointments[].appointedAt: string',
  'entities.appointments[].expiresAt: string',
  'entities.appointments[].status: string',
  'entities.appointments[].withdrawnAt?: string',
  'passkeys: object',
  'passkeys.items: array',
  'passkeys.items[].id: string',
  'passkeys.items[].name: string',
  'passkeys.items[].createdAt: string',
  'passkeys.items[].lastUsedAt?: string',
  'passkeys.items[].synced: boolean',
  'usage: object',
  'usage.items: array',
  'usage.items[].at: string',
  'usage.items[].action: string',
  'usage.items[].licenceId?: string',
  'usage.items[].licenceType?: string',
  'usage.items[].client?: object',
  'usage.items[].client.id: string',
  'usage.items[].client.name: string',
  'usage.items[].issuer?: object',
  'usage.items[].issuer.id: string',
  'usage.items[].issuer.name: string',
  'usage.items[].refused?: boolean',
  'usage.items[].purpose?: string',
  'usage.items[].verdict?: string',
  'usage.items[].format?: string',
  'usage.items[].entity?: object',
  'usage.items[].entity.creditCode: string',
  'usage.items[].entity.name: string',
  'usage.items[].role?: string',
  'truncated: array',
  'truncated[].section: string',
  'truncated[].included: integer',
  'truncated[].cursor: string',
];

// Review R55, the data export (session 26): F3. These failed before its fix.
describe('review R55 F3: a reader of elicence-data-export/1 reads every later file of /1', () => {
  const published = JSON.parse(readFileSync(committed, 'utf8')) as Record<string, unknown>;
  const validate = new Ajv2020({ strict: false }).compile(published);
  const later = {
    format: 'elicence-data-export/1',
    exportedAt: '2026-12-07T10:00:00.000Z',
    service: 'https://id.example.gov.cn',
    account: {
      masked: '110105********1239',
      name: '王小明',
      assurance: 'some-later-assurance',
      acr: 'urn:elicence:loa:3',
      phoneProven: true,
      passkeys: 0,
      createdAt: '2026-01-01T00:00:00.000Z',
      aLaterField: 1,
    },
    licences: { items: [], assurance: { acr: 'urn:elicence:loa:3' } },
    authorizations: { items: [] },
    entities: { authorities: [], appointments: [] },
    passkeys: { items: [] },
    usage: {
      items: [
        { at: '2026-12-07T09:00:00.000Z', action: 'a_later_kind', aLaterField: { name: 'x' } },
        { at: '2026-12-07T08:00:00.000Z', action: 'verified', format: 'a-later-format' },
      ],
    },
    truncated: [{ section: 'a-later-section', included: 0, cursor: 'abc' }],
    aLaterSection: { items: [] },
  };

  it('accepts a file with a field, a kind of usage entry, a value and a truncated section /1 did not have', () => {
    expect(validate(later), JSON.stringify(validate.errors)).toBe(true);
  });

  it('still refuses another format, and a file without a field /1 requires', () => {
    expect(validate({ ...later, format: 'elicence-data-export/2' })).toBe(false);
    const { usage: _usage, ...withoutUsage } = later;
    expect(validate(withoutUsage)).toBe(false);
  });

  it('keeps every field /1 published, of its type, and required where it was (else: elicence-data-export/2)', () => {
    const now = new Set(shapeOf(dataExportJsonSchema()));
    const kept = (field: string) =>
      now.has(field) || (field.includes('?:') && now.has(field.replace('?:', ':')));
    const lost = publishedV1.filter((field) => !kept(field));
    // A field removed, renamed, retyped or made optional breaks the readers of /1: leave /1's schema file as
    // it is, and export `elicence-data-export/2` with docs/schemas/data-export-2.schema.json instead.
    expect(lost).toEqual([]);
  });
});
