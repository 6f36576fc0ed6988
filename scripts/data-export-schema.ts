/**
 * Writes the JSON Schema of `GET /me/export`'s document (docs/schemas/data-export-1.schema.json), as
 * zod 4 generates it from `dataExportSchema` (shared/personal-data/data-export.ts). Run it after changing
 * that schema: `npx tsx scripts/data-export-schema.ts` (test/unit/personal-data/data-export-schema.test.ts
 * fails while the committed file is not current).
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as prettier from 'prettier';
import { dataExportJsonSchema } from '../shared/personal-data/data-export.js';

export const dataExportSchemaPath = fileURLToPath(
  new URL('../docs/schemas/data-export-1.schema.json', import.meta.url),
);

// Formatted as the repository formats JSON, so that `prettier --check` passes on what it writes.
const options = (await prettier.resolveConfig(dataExportSchemaPath)) ?? {};
const text = await prettier.format(JSON.stringify(dataExportJsonSchema()), { ...options, parser: 'json' });
writeFileSync(dataExportSchemaPath, text);
console.log(`wrote ${dataExportSchemaPath}`);
