import { describe, expect, it } from 'vitest';
import { fieldRows, type PageCatalogue } from '../../../shared/web/browser/verifier-words.js';
import { licenceBody } from '../../../shared/web/pages/console-licence-page.js';
import { disclosableFields, shownFields } from '../../../shared/web/wallet/licence-format.js';
import { translator } from '../../../shared/web/kit/i18n.js';
import {
  isSensitiveFieldName,
  withoutSensitiveFields,
} from '../../../shared/identifiers/sensitive-field-names.js';

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

/** The console's licence page body for a licence of the unmarked type with `fields`. */
function consoleBody(id: string, fields: Record<string, unknown>): string {
  return String(
    licenceBody(translator('zh'), {
      who: 'c',
      types: [],
      licence: {
        id,
        type: 'unmarked-licence',
        status: 'valid',
        holder: { kind: 'person', name: '张三', masked: '110105********002X' },
        issuer: { id: 'iss_1', name: '发证机关' },
        fields,
        issuedAt: '2026-01-02T03:04:05Z',
        validFrom: '2026-01-02',
        validUntil: null,
      },
    } as unknown as Parameters<typeof licenceBody>[1]),
  );
}

describe('fields a catalogue forgot to mark', () => {
  it('knows the names this repo gives a clear number or a lookup key, and not the masked form', () => {
    for (const name of ['idNumber', 'lookupKey', 'holderIdNumber', 'spouseIdNumber', 'spouseLookupKey']) {
      expect(isSensitiveFieldName(name), name).toBe(true);
    }
    // And the other usual spellings and cases (review finding: the name test was case-sensitive).
    for (const name of [
      'IDNumber',
      'idCardNumber',
      'holderIdNo',
      'spouse_id_card_no',
      'lookupKeys',
      'ID_NO',
    ]) {
      expect(isSensitiveFieldName(name), name).toBe(true);
    }
    for (const name of [
      'spouseIdMasked',
      'legalRepresentativeName',
      'idNumberOfPages',
      'archiveNumber',
      'paidNo',
      'holderId',
    ]) {
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
    const body = consoleBody('1.2.156.3005.2.999.EXAMPLE.0.001.D', unmarked.fields);
    expect(body).toContain('李四');
    expect(body).not.toContain(clearNumber);
    expect(body).not.toContain('raw-lookup-key');
  });

  // Review finding: a structured value (a spouse with their own number) was shown whole.
  const nested = {
    type: 'unmarked-licence',
    fields: { spouse: { name: '王五', IDNumber: clearNumber, documents: [{ idCardNo: clearNumber }] } },
  };

  it('leaves them out inside structured values too, in every reader', () => {
    expect(withoutSensitiveFields(nested.fields.spouse)).toEqual({ name: '王五', documents: [{}] });
    const wallet = JSON.stringify(shownFields(nested, 'zh'));
    expect(wallet).toContain('王五');
    expect(wallet).not.toContain(clearNumber);
    const rows = fieldRows(nested.type, nested.fields, {}, 'zh');
    expect(rows[0]?.value).toContain('王五');
    expect(JSON.stringify(rows)).not.toContain(clearNumber);
    const body = consoleBody('1.2.156.3005.2.999.EXAMPLE.0.002.D', nested.fields);
    expect(body).toContain('王五');
    expect(body).not.toContain(clearNumber);
  });
});
