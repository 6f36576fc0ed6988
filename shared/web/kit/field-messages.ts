import type { Translate } from './i18n.js';

/** A field error as the API answers it (`errors[]` of a problem): its stable code and parameters. */
export interface CodedFieldError {
  /** A code of `fieldErrorCodes` (shared/errors.ts), or one this page does not know yet. */
  readonly code?: string;
  readonly params?: Readonly<Record<string, string | number | boolean>> | undefined;
}

type Params = Readonly<Record<string, string | number | boolean>>;

const param = (params: Params | undefined, name: string): string | undefined => {
  const value = params?.[name];
  return value === undefined ? undefined : String(value);
};

/**
 * The words of each field error code in both languages. The English `message` of the API is for
 * developers and never shown: a page says the rule in its own language from the code.
 */
const messages: Record<string, (t: Translate, params: Params | undefined) => string> = {
  required: (t) => t('请填写此项。', 'Please fill in this field.'),
  invalid_type: (t) => t('填写的内容类型不正确。', 'This is not the kind of value expected.'),
  too_short: (t, p) => {
    const min = param(p, 'minimum');
    const max = param(p, 'maximum');
    if (min && max) return t(`应为 ${min} 至 ${max} 个字符`, `Must be ${min} to ${max} characters.`);
    return min ? t(`至少 ${min} 个字符。`, `At least ${min} characters.`) : t('太短。', 'Too short.');
  },
  too_long: (t, p) => {
    const min = param(p, 'minimum');
    const max = param(p, 'maximum');
    if (min && max) return t(`应为 ${min} 至 ${max} 个字符`, `Must be ${min} to ${max} characters.`);
    return max ? t(`最多 ${max} 个字符。`, `At most ${max} characters.`) : t('太长。', 'Too long.');
  },
  too_small: (t, p) => {
    const min = param(p, 'minimum');
    if (!min) return t('数值太小。', 'The number is too small.');
    return p?.exclusive
      ? t(`必须大于 ${min}。`, `Must be more than ${min}.`)
      : t(`不能小于 ${min}。`, `Must be at least ${min}.`);
  },
  too_big: (t, p) => {
    const max = param(p, 'maximum');
    if (!max) return t('数值太大。', 'The number is too large.');
    return p?.exclusive
      ? t(`必须小于 ${max}。`, `Must be less than ${max}.`)
      : t(`不能大于 ${max}。`, `Must be at most ${max}.`);
  },
  invalid_format: (t) => t('格式不正确。', 'Not in the expected form.'),
  invalid_date: (t) => t('请输入有效日期（年-月-日）。', 'Please enter a real date (YYYY-MM-DD).'),
  invalid_value: (t) => t('请从列表中选择。', 'Please choose one of the listed values.'),
  unknown_field: (t) => t('不是此表单的项目。', 'Not a field of this form.'),
  invalid_length: (t, p) => {
    const length = param(p, 'length');
    // 15 for a 2017 foreigner's permanent residence card's number (letters first), else 18.
    const expected = param(p, 'expected') ?? '18';
    return length
      ? t(`应为 ${expected} 位，现为 ${length} 位`, `Must be ${expected} characters, not ${length}.`)
      : t(`应为 ${expected} 位`, `Must be ${expected} characters.`);
  },
  invalid_region: (t, p) => {
    const region = param(p, 'region');
    return region
      ? t(`地址码 ${region} 不是有效的行政区划代码`, `The region code ${region} is not a region.`)
      : t('行政区划代码不正确', 'The region code is not a region.');
  },
  invalid_birth_date: (t, p) => {
    const birth = param(p, 'birthDate');
    return birth
      ? t(`出生日期 ${birth} 不是有效的出生日期`, `The birth date ${birth} is not a possible birth date.`)
      : t('出生日期不正确', 'The birth date is not possible.');
  },
  invalid_nationality: (t, p) => {
    const code = param(p, 'nationality');
    return code
      ? t(
          `国籍代码 ${code} 不是有效的外国国籍代码`,
          `The nationality code ${code} is not a foreign country's code.`,
        )
      : t('国籍代码不正确', 'The nationality code is not a country’s.');
  },
  invalid_check_character: (t, p) => {
    const expected = param(p, 'expected');
    return expected
      ? t(`校验码应为 ${expected}`, `The check character should be ${expected}.`)
      : t('校验码不正确', 'The check character is wrong.');
  },
  invalid_phone: (t, p) => {
    const example = param(p, 'example');
    return example
      ? t(`应为 11 位手机号，例如 ${example}`, `Must be an 11-digit mobile number, such as ${example}.`)
      : t('应为 11 位手机号', 'Must be an 11-digit mobile number.');
  },
  invalid_characters: (t) =>
    t(
      '不得包含控制字符、< > 或乱码（请以 UTF-8 提交）',
      'Must not contain control characters, < > or garbled text (send it as UTF-8).',
    ),
  credential_too_large: (t) =>
    t(
      '内容过长，证照二维码容纳不下：请缩短此项（最长的一项）或其他各项',
      'Too long for the licence’s QR code: shorten this value (the longest) or others.',
    ),
  personal_data_in_text: (t, p) => {
    const kind = param(p, 'kind');
    const what =
      kind === 'id_number'
        ? t('身份证号码', 'a resident ID number')
        : kind === 'mobile'
          ? t('手机号码', 'a mobile phone number')
          : t('身份证号码或手机号码', 'an ID number or a mobile phone number');
    return t(
      `请勿填写${what}：此处内容将长期留存并供他人查看，请删去号码后再提交。`,
      `Must not contain ${what}: this text is kept and shown to others. Remove the number and submit again.`,
    );
  },
  digits_in_name: (t) =>
    t(
      '姓名或名称中不得有连续 6 位以上数字：请勿填写身份证号码、手机号码等号码。',
      'A name must not contain six or more digits in a row: do not type an ID or phone number here.',
    ),
  contains_id_number: (t) => t('不得包含身份证号码', 'Must not contain your ID number.'),
  registry_mismatch: (t) => t('与人口信息登记不符。', 'Does not match the population registry.'),
  consent_required: (t) =>
    t('请阅读并同意个人信息处理说明。', 'Please read and agree to the notice on your personal information.'),
  guardian_required: (t) =>
    t(
      '未满 14 周岁的未成年人需由监护人代为注册，本平台暂未提供监护人注册。',
      'Children under 14 must be registered by a guardian, which this service does not offer yet.',
    ),
  wrong_holder_kind: (t) =>
    t('此类证照的持证者不是这一类（个人或单位）。', 'This licence type is issued to another kind of holder.'),
  exactly_one_of: (t, p) => {
    const keys = param(p, 'keys');
    return keys
      ? t(`以下各项须填写且只填写一项：${keys}。`, `Give exactly one of: ${keys}.`)
      : t('须填写且只填写其中一项。', 'Give exactly one of these.');
  },
  unknown_licence_type: (t) => t('不在证照目录中。', 'Not a licence type of the catalogue.'),
  before_start: (t) => t('不能早于开始日期。', 'Must not be before the start.'),
  phone_required: (t) => t('获取验证码需填写手机号码', 'Needed to send a code.'),
  code_required: (t) =>
    t('填写了手机号码时必填：请先获取验证码', 'Needed with a mobile number: send a code first.'),
  code_wrong_or_expired: (t) =>
    t('验证码不正确或已失效，请重新获取', 'The code is wrong or has expired; ask for a new one.'),
};

/**
 * What a field error says, in the page's language, from its code: never the API's English message. A
 * code this page does not know (a newer API) gets a generic message in the page's language.
 *
 * @example
 * ```ts
 * fieldErrorText(t, { code: 'too_long', params: { maximum: 50 } }); // '最多 50 个字符。'
 * fieldErrorText(t, { code: 'something_new' }); // '填写的内容不被接受，请检查。'
 * ```
 */
export function fieldErrorText(t: Translate, error: CodedFieldError): string {
  const say =
    error.code !== undefined && Object.hasOwn(messages, error.code) ? messages[error.code] : undefined;
  return say
    ? say(t, error.params)
    : t('填写的内容不被接受，请检查。', 'This value is not accepted; please check it.');
}

/**
 * A field error with the field's label in front, as error summaries list them: `卡号：格式不正确。`. The
 * error is said from its code ({@link fieldErrorText}), or is given in the page's language by a page
 * with words of its own for it.
 *
 * @example
 * ```ts
 * labelledFieldError(t, '卡号', { code: 'invalid_format' }); // '卡号：格式不正确。'
 * labelledFieldError(t, '委托事项', t('请至少选择一项。', 'Choose at least one.')); // '委托事项：请至少选择一项。'
 * ```
 */
export function labelledFieldError(t: Translate, label: string, error: CodedFieldError | string): string {
  return `${label}${t('：', ': ')}${typeof error === 'string' ? error : fieldErrorText(t, error)}`;
}
