import { describe, expect, it } from 'vitest';
import { fieldErrorCodes } from '../../../shared/errors.js';
import { fieldErrorText, labelledFieldError } from '../../../shared/web/kit/field-messages.js';
import { translator } from '../../../shared/web/kit/i18n.js';

const zh = translator('zh');
const en = translator('en');
const han = /\p{Script=Han}/u;

describe('field error messages', () => {
  const generic = { zh: fieldErrorText(zh, { code: 'not_a_code' }), en: fieldErrorText(en, {}) };

  it('says every code the API gives in Chinese and in English, each its own words', () => {
    for (const code of fieldErrorCodes.filter((c) => c !== 'invalid')) {
      const chinese = fieldErrorText(zh, { code });
      const english = fieldErrorText(en, { code });
      expect(chinese, code).toMatch(han);
      expect(chinese, code).not.toBe(generic.zh);
      expect(english, code).not.toMatch(han);
      expect(english, code).not.toBe(generic.en);
    }
  });

  it('gives an unknown code a generic message in the page’s language, never English on a Chinese page', () => {
    expect(generic.zh).toBe('填写的内容不被接受，请检查。');
    expect(generic.zh).not.toMatch(/[A-Za-z]/);
    expect(fieldErrorText(en, { code: 'invalid' })).toBe('This value is not accepted; please check it.');
    // `toString` is no code: only the table's own keys count.
    expect(fieldErrorText(zh, { code: 'toString' })).toBe(generic.zh);
  });

  it('puts the parameters in', () => {
    expect(fieldErrorText(zh, { code: 'too_long', params: { maximum: 50 } })).toBe('最多 50 个字符。');
    expect(fieldErrorText(en, { code: 'too_small', params: { minimum: 0, exclusive: true } })).toBe(
      'Must be more than 0.',
    );
    expect(fieldErrorText(zh, { code: 'invalid_check_character', params: { expected: 'X' } })).toBe(
      '校验码应为 X',
    ); // A 2017 foreigner's permanent residence card's number is 15 characters; every other ID number 18.
    expect(fieldErrorText(en, { code: 'invalid_length', params: { length: 17 } })).toBe(
      'Must be 18 characters, not 17.',
    );
    expect(fieldErrorText(zh, { code: 'invalid_length', params: { length: 16, expected: 15 } })).toBe(
      '应为 15 位，现为 16 位',
    );
    expect(fieldErrorText(en, { code: 'invalid_nationality', params: { nationality: 'ZZX' } })).toBe(
      "The nationality code ZZX is not a foreign country's code.",
    );
  });

  it('names the field in front of its error, said from its code or in the page’s own words', () => {
    expect(labelledFieldError(zh, '卡号', { code: 'too_long', params: { maximum: 50 } })).toBe(
      '卡号：最多 50 个字符。',
    );
    expect(labelledFieldError(en, 'Card number', { code: 'too_long', params: { maximum: 50 } })).toBe(
      'Card number: At most 50 characters.',
    );
    expect(labelledFieldError(zh, '委托事项', '请至少选择一项。')).toBe('委托事项：请至少选择一项。');
  });
});
