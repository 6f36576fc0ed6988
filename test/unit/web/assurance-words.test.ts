import { describe, expect, it } from 'vitest';
import { acrValuesSupported } from '../../../shared/identity/assurance.js';
import { assuranceName } from '../../../shared/web/pages/assurance-words.js';
import { translator } from '../../../shared/web/kit/i18n.js';

const zh = translator('zh');
const en = translator('en');

/** Levels in words on every page (shared/web/pages/assurance-words.ts): never a raw `urn:elicence:loa:N`. */
describe('assurance level names', () => {
  it('names each acr value the service issues, and its level number, the same way', () => {
    expect(acrValuesSupported.map((acr) => assuranceName(zh, acr))).toEqual([
      '一级（本人声明）',
      '二级（实名）',
      '三级（实名并核验本人）',
    ]);
    expect([1, 2, 3].map((level) => assuranceName(zh, level))).toEqual(
      acrValuesSupported.map((acr) => assuranceName(zh, acr)),
    );
    expect(assuranceName(en, 'urn:elicence:loa:2')).toBe('Level 2 (real name)');
  });

  it('says 未知 for any other value, never the value itself', () => {
    for (const other of ['urn:elicence:loa:4', 'urn:other', 4, undefined, '3']) {
      expect(assuranceName(zh, other)).toBe('未知');
    }
    expect(assuranceName(en, 'urn:elicence:loa:9')).toBe('Unknown');
  });
});
