import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { dataExportJsonSchema, dataExportSchema } from '../../../shared/identity/data-export.js';

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
