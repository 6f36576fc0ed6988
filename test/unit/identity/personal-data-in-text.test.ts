import * as z from 'zod';
import { describe, expect, it } from 'vitest';
import {
  findPersonalData,
  nameProblem,
  personalDataProblem,
  refusePersonalData,
} from '../../../shared/identifiers/personal-data-in-text.js';
import { unknownMemberPath } from '../../../shared/errors.js';
import { licenceText } from '../../../shared/licence/catalogue.js';
import { zodErrors } from '../../../shared/http/request.js';

/** Synthetic numbers that pass GB 11643's rules (the demo citizen's, and two more). */
const idNumber = '110105199003071239';
const withX = '11010519491231002X';
const leapDay = '320102200002290021';
const today = new Date('2026-12-07T00:00:00Z');

const find = (text: string) => findPersonalData(text, today);
/** Full-width digits and letters, as a Chinese input method types them. */
const fullWidth = (text: string) =>
  text.replace(/[0-9A-Za-z+-]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0));

describe('findPersonalData: resident ID numbers', () => {
  it('finds a valid ID number inside Chinese text, with or without punctuation around it', () => {
    expect(find(`持证人身份证号${idNumber}，已核实`)).toBe('id_number');
    expect(find(`${idNumber}`)).toBe('id_number');
    expect(find(`（证件号：${leapDay}）`)).toBe('id_number');
    expect(find(`No.${idNumber}号`)).toBe('id_number');
  });

  it('finds one ending in X or x', () => {
    expect(find(`身份证 ${withX} 的持证人`)).toBe('id_number');
    expect(find(`身份证 ${withX.toLowerCase()} 的持证人`)).toBe('id_number');
  });

  it('finds one typed in full-width digits', () => {
    expect(find(`身份证号${fullWidth(idNumber)}`)).toBe('id_number');
    expect(find(`身份证号${fullWidth(withX)}`)).toBe('id_number');
  });

  it('finds one with spaces or hyphens between its groups of digits', () => {
    expect(find('身份证号 110105 19900307 1239')).toBe('id_number');
    expect(find('身份证号 110105-1990-0307-1239')).toBe('id_number');
    expect(find('身份证号 110105\u300019900307\u30001239')).toBe('id_number');
  });

  it('lets through a number whose check character is wrong: it is no one’s', () => {
    expect(find('证号 110105199003071238 已作废')).toBeUndefined();
    expect(find('证号 11010519491231002 1')).toBeUndefined();
  });

  it('lets through 18 digits with no possible birth date or no province', () => {
    expect(find('编号 110105199013071234')).toBeUndefined();
    // A 17-digit body whose check character is right but whose birth date is in the future.
    const future = '11010520990101001';
    const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const sum = [...future].reduce((total, digit, i) => total + Number(digit) * weights[i]!, 0);
    expect(find(`编号 ${future}${'10X98765432'[sum % 11]!}`)).toBeUndefined();
  });

  it('lets through a masked ID number, as the service writes them', () => {
    expect(find('持证人 110105********1239')).toBeUndefined();
  });

  it('does not look for old 15-digit numbers', () => {
    expect(find('旧证号 110105900307123')).toBeUndefined();
  });
});

describe('findPersonalData: a 2017 foreigner’s permanent residence card’s number', () => {
  // Made up: Canada, Guangdong, born 1985-06-15, sequence 1, the ICAO 9303 check digit.
  const card = 'CAN440185061510';

  it('finds one in Chinese text, in upper or lower case, or in full-width characters', () => {
    expect(findPersonalData(`持证人永居证号${card}，已核实`, today)).toBe('id_number');
    expect(findPersonalData(`number ${card.toLowerCase()}.`, today)).toBe('id_number');
    expect(findPersonalData(`永居证 ＣＡＮ４４０１８５０６１５１０`, today)).toBe('id_number');
  });

  it('lets through the same shape that is no one’s number, or part of a longer code', () => {
    expect(findPersonalData('型号 ZZX440185061510', today)).toBeUndefined(); // no country ZZX
    expect(findPersonalData('批次 CAN990185061510', today)).toBeUndefined(); // no province 99
    expect(findPersonalData('编号 XCAN440185061510', today)).toBeUndefined();
    expect(findPersonalData('编号 CAN4401850615109', today)).toBeUndefined();
  });
});

describe('findPersonalData: mobile numbers', () => {
  it('finds an eleven-digit mobile number in Chinese text', () => {
    expect(find('请联系持证人13800138000核实')).toBe('mobile');
    expect(find('电话：19912345678')).toBe('mobile');
  });

  it('finds one after +86, 86 or 0086, with spaces or hyphens', () => {
    expect(find('联系 +86 138 0013 8000')).toBe('mobile');
    expect(find('联系 +86-138-0013-8000')).toBe('mobile');
    expect(find('联系 +8613800138000')).toBe('mobile');
    expect(find('联系 008613800138000')).toBe('mobile');
    expect(find('联系 138-0013-8000')).toBe('mobile');
  });

  it('finds one in full-width digits and plus sign', () => {
    expect(find(`联系${fullWidth('+86 138 0013 8000')}`)).toBe('mobile');
    expect(find(`联系${fullWidth('13800138000')}`)).toBe('mobile');
  });

  it('finds one followed by another number', () => {
    expect(find('联系 13800138000 2 次未接')).toBe('mobile');
  });

  it('finds one typed with dots between its groups, or with an X right after it (review R29 L2)', () => {
    expect(find('电话 138.0013.8000')).toBe('mobile');
    expect(find('联系13800138000X先生')).toBe('mobile');
  });

  it('lets through eleven digits that are not a mobile number', () => {
    expect(find('单号 12800138000')).toBeUndefined();
    expect(find('座机 010-6512-3456')).toBeUndefined();
  });

  it('lets through a validity period whose pieces join into a mobile-like eleven digits (review R74-1)', () => {
    // `1998|1|15|2028` is `19981152028`: eleven digits starting 199, but no one writes a phone 4-1-2-4.
    expect(find('营业期限 1998.12.1-2028.11.30')).toBeUndefined();
    expect(find('有效期限：1999.3.18-2029.3.17')).toBeUndefined();
    expect(find('食品经营许可证JY13301060012345，有效期1998.1.15-2028.1.14')).toBeUndefined();
    // The groupings people do write a phone in are still found.
    expect(find('电话 138 0013 8000')).toBe('mobile');
    expect(find('电话 138-00138000')).toBe('mobile');
    expect(find('电话 86 13800138000')).toBe('mobile');
    expect(find('电话 0086 138 0013 8000')).toBe('mobile');
  });

  it('does not flag a mobile number inside a longer run of digits', () => {
    expect(find('流水号 12345678913800138000')).toBeUndefined();
    expect(find('流水号 1380013800012345')).toBeUndefined();
  });
});

describe('findPersonalData: what people write in reasons', () => {
  it('lets through a 12-digit archive number, dates, counts and licence numbers', () => {
    expect(find('档案号 202612070001，交通违法记满12分')).toBeUndefined();
    expect(find('2026年12月7日持证人申请注销')).toBeUndefined();
    expect(find('法院判决书（2026）京0105民初12345号')).toBeUndefined();
    expect(find('Court order 2026-12-07, case 12345')).toBeUndefined();
    expect(find('2026.12.07 复核，证号 3101.0520.26')).toBeUndefined();
  });

  it('does not flag a 20-digit run, though it holds a valid ID number', () => {
    expect(find(`卡号 ${idNumber}12`)).toBeUndefined();
    expect(find('卡号 12345678901234567890')).toBeUndefined();
  });

  it('answers nothing for empty text', () => {
    expect(find('')).toBeUndefined();
  });
});

describe('refusePersonalData, the zod refinement', () => {
  const schema = z.strictObject({
    reason: z.string().trim().min(1).max(500).superRefine(refusePersonalData),
  });

  it('refuses at the field’s path with the code personal_data_in_text, never echoing the number', () => {
    const input = { reason: `持证人电话 13800138000，身份证 ${idNumber}` };
    const parsed = schema.safeParse(input);
    expect(parsed.success).toBe(false);
    const errors = zodErrors(parsed.error!, input);
    expect(errors).toEqual([
      {
        path: 'reason',
        message: expect.any(String),
        code: 'personal_data_in_text',
        params: { kind: 'id_number' },
      },
    ]);
    expect(JSON.stringify(errors)).not.toMatch(/13800138000|110105199003071239|\d{6,}/);
  });

  it('takes a reason without a number', () => {
    expect(schema.parse({ reason: '交通违法记满12分' })).toEqual({ reason: '交通违法记满12分' });
  });

  it('says which kind it found, by hand too', () => {
    expect(personalDataProblem('联系 13800138000')).toEqual({
      message: expect.not.stringMatching(/\d{6,}/),
      code: 'personal_data_in_text',
      params: { kind: 'mobile' },
    });
    expect(personalDataProblem('交通违法记满12分')).toBeUndefined();
  });
});

describe('a name, and every licence text (review R72)', () => {
  it('refuses an ID number or a phone in a name, and six digits in a row, never echoing them', () => {
    expect(nameProblem('110105199003071239')).toMatchObject({
      code: 'personal_data_in_text',
      params: { kind: 'id_number' },
    });
    expect(nameProblem('王１３８００１３８０００')).toMatchObject({ code: 'personal_data_in_text' });
    expect(nameProblem('王小明 440305')).toEqual({
      message: expect.not.stringMatching(/\d{6}/),
      code: 'digits_in_name',
    });
    // Full-width digits count as digits.
    expect(nameProblem('王小明４４０３０５')).toMatchObject({ code: 'digits_in_name' });
    expect(nameProblem('王小明')).toBeUndefined();
    expect(nameProblem('王小明2')).toBeUndefined();
    expect(nameProblem('Ahmad bin 12345')).toBeUndefined();
  });

  it('checks every licence text for numbers, and a name for six digits; an address keeps its postcode', () => {
    expect(licenceText(200).safeParse('北京市海淀区测试路88号 邮编100080').success).toBe(true);
    const phone = licenceText(200).safeParse('联系电话 139-7739-1234');
    expect(zodErrors(phone.error!, undefined)).toEqual([
      {
        path: '(body)',
        message: expect.any(String),
        code: 'personal_data_in_text',
        params: { kind: 'mobile' },
      },
    ]);
    const digits = licenceText(50, { name: true }).safeParse('王小明 100080');
    expect(zodErrors(digits.error!, undefined)).toEqual([
      { path: '(body)', message: expect.any(String), code: 'digits_in_name' },
    ]);
    expect(licenceText(50, { name: true }).parse('王小明')).toBe('王小明');
  });

  it('echoes an unknown key only when it is a plain word', () => {
    expect(unknownMemberPath(['holder'], 'nickname')).toBe('holder.nickname');
    expect(unknownMemberPath([], 'client_secret')).toBe('client_secret');
    expect(unknownMemberPath(['fields'], '440305199108085175')).toBe('fields.(unknown field)');
    expect(unknownMemberPath([], '13977391234')).toBe('(unknown field)');
    expect(unknownMemberPath([], '王小明')).toBe('(unknown field)');
    expect(unknownMemberPath([], 'field2')).toBe('(unknown field)');
  });
});
