import { describe, expect, it } from 'vitest';
import { fieldRows, type PageCatalogue } from '../../../shared/web/browser/verifier-words.js';
import { licenceBody } from '../../../shared/web/pages/console-licence-page.js';
import { disclosableFields, shownFields } from '../../../shared/web/wallet/licence-format.js';
import { translator } from '../../../shared/web/kit/i18n.js';
import { isSensitiveFieldName } from '../../../shared/identifiers/sensitive-field-names.js';

/**
 * Every reader hides a lookup key (and would hide a clear ID number) by the catalogue's marking
 * (`sensitiveFields`, shared/licence/catalogue.ts) and by the field's name: a type that forgot the
 * marking, or a licence of a type this build does not know, still shows no raw number or key.
 */
const clearNumber = '11010519491231002X';
const unmarked = {
  type: 'unmarked-licence',
  fields: {
    spouseName: '李四',
    spouseIdNumber: clearNumber,
    guardianLookupKey: 'raw-lookup-key',
    idNumber: clearNumber,
    holderIdNumber: clearNumber,
  },
};

describe('fields a catalogue forgot to mark', () => {
  it('knows the names this repo gives a clear number or a lookup key, and not the masked form', () => {
    for (const name of ['idNumber', 'lookupKey', 'holderIdNumber', 'spouseIdNumber', 'spouseLookupKey']) {
      expect(isSensitiveFieldName(name), name).toBe(true);
    }
    for (const name of ['spouseIdMasked', 'legalRepresentativeName', 'idNumberOfPages', 'archiveNumber']) {
      expect(isSensitiveFieldName(name), name).toBe(false);
    }
  });

  it('the wallet neither shows nor offers to disclose a raw number or lookup key', () => {
    for (const lang of ['zh', 'en'] as const) {
      const shown = shownFields(unmarked, lang);
      expect(shown.map((field) => field.name)).toEqual(['spouseName']);
      expect(JSON.stringify(shown)).not.toContain(clearNumber);
    }
    expect([...disclosableFields(unmarked)]).toEqual(['spouseName']);
  });

  it('the verifier page leaves them out, for a type whose entry has no hidden list or none at all', () => {
    const catalogue: PageCatalogue = {
      'unmarked-licence': { name: { zh: '未标记', en: 'Unmarked' }, labels: {}, labelsEn: {}, hidden: [] },
    };
    for (const type of ['unmarked-licence', 'unknown-licence']) {
      const rows = fieldRows(type, unmarked.fields, catalogue, 'zh');
      expect(rows).toEqual([{ label: 'spouseName', value: '李四' }]);
    }
  });

  it('the console’s licence page leaves them out', () => {
    const body = String(
      licenceBody(translator('zh'), {
        clientId: 'c',
        types: [],
        licence: {
          id: '1.2.156.3005.2.999.EXAMPLE.0.001.D',
          type: unmarked.type,
          status: 'valid',
          holder: { kind: 'person', name: '张三', masked: '110105********002X' },
          issuer: { id: 'iss_1', name: '发证机关' },
          fields: unmarked.fields,
          issuedAt: '2026-01-02T03:04:05Z',
          validFrom: '2026-01-02',
          validUntil: null,
        },
      } as unknown as Parameters<typeof licenceBody>[1]),
    );
    expect(body).toContain('李四');
    expect(body).not.toContain(clearNumber);
    expect(body).not.toContain('raw-lookup-key');
  });
});
