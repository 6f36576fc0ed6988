import * as z from 'zod';
import { acrOf, type AssuranceLevel } from '../identity/assurance.js';
import {
  InvalidInputError,
  issueParams,
  unknownMemberPath,
  zodIssueCode,
  type FieldError,
} from '../errors.js';
import { refusePersonalData, refusePersonalDataInName } from '../identifiers/personal-data-in-text.js';
import { maskIdNumber, parseIdNumber } from '../identifiers/id-number.js';
import { unreadableText, unreadableTextMessage } from '../unreadable-text.js';

export type HolderKind = 'person' | 'entity';

/**
 * A field that carries a third person's resident ID number (a business licence's legal
 * representative, a spouse). The issuer sends it in clear so that it can be checked; the issuance use
 * case then replaces it with {@link protectSensitiveFields} before anything is stored or signed, so the
 * clear number never reaches the table, a credential, a QR code or a log.
 */
export interface SensitiveField {
  /** The field the issuer sends, holding the clear ID number; marked `writeOnly` in the JSON Schema. */
  readonly field: string;
  /** The stored and signed field holding the display form, e.g. `110105********002X`. */
  readonly maskedAs: string;
  /**
   * A field that licences issued before issue 12 carry: the person's lookup key (keyed HMAC), once used
   * to find the entities whose licence named them. Who represents an entity now comes from the business
   * registry alone, and a lookup key in a credential is a handle that links a person across licences, so
   * it is no longer written; where an old licence has it, it is never shown, disclosed or listed.
   */
  readonly lookupKeyAs: string;
}

export interface LicenceType {
  /** The stable kebab-case slug clients use, e.g. `business-licence`. */
  readonly code: string;
  /**
   * Three digits, the type code of this type's licence identifiers (`licence-id.ts`). Assigned in
   * order from `001`, never renumbered or reused: it is baked into every identifier already issued.
   */
  readonly typeCode: string;
  readonly name: { readonly zh: string; readonly en: string };
  readonly holderKind: HolderKind;
  /** What the issuer sends as `fields`: a strict object, so unknown fields are refused. */
  readonly fields: z.ZodType<Record<string, unknown>>;
  /**
   * Validity from `validFrom` when the issuer gives no `validUntil`, in calendar years counted on the
   * Beijing date (`shared/validity-dates.ts`: five years from 2026-03-05 is valid through 2031-03-05,
   * as the Civil Code counts a period); `null` means no expiry.
   */
  readonly defaultValidityYears: number | null;
  readonly sensitiveFields: readonly SensitiveField[];
  /**
   * The assurance level a person needs to read or show licences of this type (`licence-reader.ts`);
   * {@link defaultMinAssurance} when absent. Lower it only for a type whose licences reveal nothing a
   * person who merely knows the holder's number and name should not see.
   */
  readonly minAssurance?: AssuranceLevel;
  /**
   * Whether an issuer may issue this type only to holders in its jurisdiction (`issuers/jurisdiction.ts`):
   * an entity's division is in its credit code, a person's in the first six digits of the ID number.
   * Only where the holder's division decides which authority is competent; a person's number records
   * where they were first registered, not where they live, so no person type is regional today.
   */
  readonly regional: boolean;
}

/** Reading a person's licences needs level 3 unless the type says otherwise (API.md, identity assurance). */
export const defaultMinAssurance: AssuranceLevel = 3;

/** The level a person needs to read or show licences of `type`. */
export function minAssuranceOf(type: Pick<LicenceType, 'minAssurance'>): AssuranceLevel {
  return type.minAssurance ?? defaultMinAssurance;
}

/**
 * The keywords the catalogue's JSON Schemas add beside the standard ones, for the pages to speak both
 * languages: `title` and `description` are Simplified Chinese (the service's first language), `x-title-en`
 * and `x-description-en` the same in English, and an enum's `x-enum-titles` / `x-enum-titles-en` name each
 * value, in the enum's order. Annotations only: no validator needs them, and a strict one is told of them
 * by this list (`ajv.addVocabulary(catalogueAnnotationKeywords)`).
 */
export const catalogueAnnotationKeywords = [
  'x-title-en',
  'x-description-en',
  'x-enum-titles',
  'x-enum-titles-en',
] as const;

/** A field's words in both languages: its title, and a hint saying what it takes. */
interface Words {
  readonly zh: string;
  readonly en: string;
}
const titled = (title: Words, hint?: Words) => ({
  title: title.zh,
  'x-title-en': title.en,
  ...(hint ? { description: hint.zh, 'x-description-en': hint.en } : {}),
});

/**
 * Control and format characters (Unicode Cc, Cf: NUL, a right-to-left override U+202E, zero-width
 * characters) and line or paragraph separators: none belongs in licence data, and each lets an issuer
 * make the printed licence show what it does not say (a bidi override reverses a line, a line break
 * forges one, e.g. a second 发证机关). A multi-line text keeps `\n` alone.
 */
const disallowedSingleLine = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;
const disallowedMultiLine = /(?!\n)[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;

/**
 * A string of licence data: trimmed, in Unicode NFC (one spelling per text, so the same name is the
 * same bytes in every credential), bounded, and refused with `invalid_characters` when it holds a
 * control or format character, U+FFFD or a lone surrogate ({@link unreadableText}: a body that was
 * not UTF-8, review R51 F1) or, unless `multiLine`, a line break. A multi-line text has its line breaks
 * as `\n` (a browser's form sends `\r\n`).
 *
 * Every licence text is signed into a credential any QR reader decodes, so a resident ID number or a
 * mobile number in it is refused (`personal_data_in_text`, never echoed: review R72-1); a third person's
 * number has its own field, masked before anything is stored or signed. A `name` (a holder's, a legal
 * representative's, a spouse's) also refuses any six digits in a row (`digits_in_name`): no name holds
 * them. Other texts keep theirs (an address's house number and postcode, a permit's number).
 *
 * @example
 * ```ts
 * licenceText(100).parse('王小明'); // '王小明'
 * licenceText(100).safeParse('王\u202E明').success; // false
 * ```
 */
export function licenceText(max: number, options: { multiLine?: boolean; name?: boolean } = {}) {
  const disallowed = options.multiLine ? disallowedMultiLine : disallowedSingleLine;
  return z
    .string()
    .overwrite((value) => (options.multiLine ? value.replace(/\r\n?/g, '\n') : value))
    .trim()
    .normalize('NFC')
    .min(1)
    .max(max)
    .refine((value) => !disallowed.test(value), {
      message: options.multiLine
        ? 'must not contain control or format characters (line breaks as \\n only)'
        : 'must not contain control or format characters or line breaks',
      params: { code: 'invalid_characters' },
    })
    .refine((value) => !unreadableText.test(value), {
      message: unreadableTextMessage,
      params: { code: 'invalid_characters' },
    })
    .superRefine(options.name ? refusePersonalDataInName : refusePersonalData);
}

/**
 * The longest business or permitted scope: with every other field short, a credential whose scope is
 * 250 Chinese characters (4 credential characters each, once UTF-8 and base64url) still fits the QR
 * code's limit (`maxCredentialQrVersion` in qr.ts: about 270 fit). Issuance checks the whole credential
 * too, so long values in several fields at once are refused there (`credential_too_large`).
 */
export const maxScopeLength = 250;

/** What a long text field's schema says of the QR limit, in both languages. */
const qrBound = (max: number): Words => ({
  zh: `最多 ${max} 字；证照全部内容须能容纳于其二维码，各项合计过长时签发被拒绝`,
  en: `At most ${max} characters; the whole licence must fit its QR code, so several long values together are refused at issuance (credential_too_large)`,
});

// Field builders: every string is trimmed, NFC and bounded, without control characters; every date a
// real calendar date.
const text = (max: number, zh: string, en: string) => licenceText(max).meta(titled({ zh, en }));
const scopeText = (zh: string, en: string) =>
  licenceText(maxScopeLength, { multiLine: true }).meta(titled({ zh, en }, qrBound(maxScopeLength)));
const date = (zh: string, en: string) =>
  z.iso
    .date()
    .meta(titled({ zh, en }, { zh: '年-月-日，例如 2024-03-01', en: 'Year-month-day, e.g. 2024-03-01' }));
const code = (pattern: RegExp, title: Words, hint: Words) =>
  z.string().trim().regex(pattern).meta(titled(title, hint));
const personName = (zh: string, en: string) => licenceText(50, { name: true }).meta(titled({ zh, en }));

/**
 * A resident ID number, checked in full (region, birth date, check digit) and normalised to upper case.
 * "Not born in the future" is judged against the current time: the schema is static, and a day's
 * difference from an injected clock cannot change the verdict on a real number.
 */
const idNumber = (zh: string, en: string) =>
  z
    .string()
    .regex(
      /^(?:\d{17}[\dXx]|[A-Za-z]{3}\d{12})$/,
      'must be 17 digits followed by a digit or X (or 3 letters and 12 digits, a 2017 foreigner’s card)',
    )
    .transform((value, context) => {
      try {
        return parseIdNumber(value, new Date());
      } catch (error) {
        // The rule that failed travels as the issue's code, for pages to say it in their language.
        context.issues.push({
          code: 'custom',
          message: (error as Error).message,
          input: value,
          params: issueParams(error),
        });
        return z.NEVER;
      }
    })
    .meta({
      ...titled(
        { zh, en },
        {
          zh: '公民身份号码（18 位；2017 版外国人永久居留证 15 位）；仅以遮盖形式存储和签发',
          en: 'Resident ID number (18 characters; 15 on a 2017 foreigner’s permanent residence card); stored and signed only in masked form',
        },
      ),
      writeOnly: true,
    });

export const vehicleClasses = [
  'A1',
  'A2',
  'A3',
  'B1',
  'B2',
  'C1',
  'C2',
  'C3',
  'C4',
  'C5',
  'C6',
  'D',
  'E',
  'F',
  'M',
  'N',
  'P',
] as const;

/** The licence types this platform issues. Add at the end; never change a `code` or `typeCode`. */
export const licenceTypes: readonly LicenceType[] = [
  {
    code: 'business-licence',
    typeCode: '001',
    name: { zh: '营业执照', en: 'Business licence' },
    holderKind: 'entity',
    fields: z.strictObject({
      entityType: text(100, '类型', 'Type of entity'),
      legalRepresentativeName: personName('法定代表人', 'Legal representative'),
      legalRepresentativeIdNumber: idNumber('法定代表人身份证件号码', 'Legal representative’s ID number'),
      registeredCapital: z
        .strictObject({
          amount: z
            .number()
            .positive()
            .max(1e15)
            .meta(titled({ zh: '金额', en: 'Amount' }, { zh: '以所选币种计', en: 'In currency units' })),
          currency: code(
            /^[A-Z]{3}$/,
            { zh: '币种', en: 'Currency' },
            { zh: 'ISO 4217 三位字母代码，例如 CNY', en: 'ISO 4217 code, e.g. CNY' },
          ),
        })
        .optional()
        .meta(titled({ zh: '注册资本', en: 'Registered capital' })),
      establishedOn: date('成立日期', 'Established on'),
      businessScope: scopeText('经营范围', 'Business scope'),
      address: text(200, '住所', 'Registered address'),
    }),
    defaultValidityYears: null,
    // 营业执照: registered by the market regulator of the division in the credit code.
    regional: true,
    sensitiveFields: [
      {
        field: 'legalRepresentativeIdNumber',
        maskedAs: 'legalRepresentativeIdMasked',
        lookupKeyAs: 'legalRepresentativeLookupKey',
      },
    ],
  },
  {
    code: 'production-operation-permit',
    typeCode: '002',
    name: { zh: '生产经营许可证', en: 'Production and operation permit' },
    holderKind: 'entity',
    fields: z.strictObject({
      permitNumber: text(50, '许可证编号', 'Permit number'),
      permitCategory: text(100, '许可类别', 'Permit category'),
      scope: scopeText('许可范围', 'Permitted scope'),
      address: text(200, '生产经营场所', 'Place of production and operation'),
      principalName: personName('负责人', 'Person in charge').optional(),
    }),
    defaultValidityYears: 5,
    regional: true,
    sensitiveFields: [],
  },
  {
    code: 'driving-licence',
    typeCode: '003',
    name: { zh: '机动车驾驶证', en: 'Driving licence' },
    holderKind: 'person',
    fields: z.strictObject({
      vehicleClass: z.enum(vehicleClasses).meta(titled({ zh: '准驾车型', en: 'Permitted vehicle class' })),
      firstIssuedOn: date('初次领证日期', 'First issued on'),
      archiveNumber: code(
        /^\d{12}$/,
        { zh: '档案编号', en: 'Archive number' },
        { zh: '12 位数字', en: 'Twelve digits' },
      ),
    }),
    // 《机动车驾驶证申领和使用规定》: a first licence is valid for six years; renewals are new versions.
    defaultValidityYears: 6,
    regional: false,
    sensitiveFields: [],
  },
  {
    code: 'social-security-card',
    typeCode: '004',
    name: { zh: '社会保障卡', en: 'Social security card' },
    holderKind: 'person',
    fields: z.strictObject({
      cardNumber: code(
        /^[0-9A-Z]{9}$/,
        { zh: '卡号', en: 'Card number' },
        { zh: '9 位，由数字和大写字母组成', en: 'Nine characters of 0-9A-Z' },
      ),
      issuingRegion: code(
        /^\d{6}$/,
        { zh: '发卡地', en: 'Issuing region' },
        {
          zh: '6 位行政区划代码（GB/T 2260）',
          en: 'Six-digit administrative region code (GB/T 2260)',
        },
      ),
      bank: text(100, '开户银行', 'Bank').optional(),
    }),
    defaultValidityYears: 10,
    regional: false,
    sensitiveFields: [],
  },
  {
    code: 'degree-certificate',
    typeCode: '005',
    name: { zh: '学位证书', en: 'Degree certificate' },
    holderKind: 'person',
    fields: z.strictObject({
      degree: z.enum(['bachelor', 'master', 'doctor']).meta({
        ...titled({ zh: '学位', en: 'Degree' }),
        'x-enum-titles': ['学士', '硕士', '博士'],
        'x-enum-titles-en': ['Bachelor', 'Master', 'Doctor'],
      }),
      major: text(100, '学科专业', 'Discipline'),
      university: text(100, '学位授予单位', 'Awarding institution'),
      conferredOn: date('授予日期', 'Conferred on'),
      certificateNumber: code(
        /^\d{16}$/,
        { zh: '证书编号', en: 'Certificate number' },
        { zh: '16 位数字', en: 'Sixteen digits' },
      ),
    }),
    defaultValidityYears: null,
    regional: false,
    sensitiveFields: [],
  },
  {
    code: 'professional-qualification',
    typeCode: '006',
    name: { zh: '职业资格证书', en: 'Professional qualification certificate' },
    holderKind: 'person',
    fields: z.strictObject({
      profession: text(100, '职业（工种）', 'Occupation'),
      level: z
        .int()
        .min(1)
        .max(5)
        .meta(
          titled(
            { zh: '等级', en: 'Level' },
            {
              zh: '1 一级/高级技师，2 二级/技师，3 三级/高级工，4 四级/中级工，5 五级/初级工',
              en: '1 senior technician, 2 technician, 3 senior worker, 4 intermediate worker, 5 junior worker',
            },
          ),
        ),
      certificateNumber: code(
        /^[0-9A-Z]{1,30}$/,
        { zh: '证书编号', en: 'Certificate number' },
        { zh: '最多 30 位，由数字和大写字母组成', en: 'Up to 30 characters of 0-9A-Z' },
      ),
    }),
    defaultValidityYears: null,
    regional: false,
    sensitiveFields: [],
  },
  {
    code: 'marriage-certificate',
    typeCode: '007',
    name: { zh: '结婚证', en: 'Marriage certificate' },
    holderKind: 'person',
    fields: z.strictObject({
      spouseName: personName('配偶姓名', 'Spouse’s name'),
      spouseIdNumber: idNumber('配偶身份证件号码', 'Spouse’s ID number'),
      registeredOn: date('登记日期', 'Registered on'),
      registrationAuthority: text(100, '登记机关', 'Registration authority'),
      certificateNumber: text(50, '结婚证字号', 'Certificate number'),
    }),
    defaultValidityYears: null,
    regional: false,
    sensitiveFields: [
      { field: 'spouseIdNumber', maskedAs: 'spouseIdMasked', lookupKeyAs: 'spouseLookupKey' },
    ],
  },
  {
    code: 'real-estate-title',
    typeCode: '008',
    name: { zh: '不动产权证书', en: 'Real estate title certificate' },
    holderKind: 'person',
    fields: z.strictObject({
      certificateNumber: text(100, '不动产权证书号', 'Title certificate number'),
      unitNumber: code(
        /^[0-9A-Z]{28}$/,
        { zh: '不动产单元号', en: 'Property unit number' },
        { zh: '28 位，由数字和大写字母组成', en: 'Twenty-eight characters of 0-9A-Z' },
      ),
      propertyLocation: text(200, '坐落', 'Location'),
      area: z
        .number()
        .positive()
        .max(1e8)
        .meta(titled({ zh: '面积', en: 'Area' }, { zh: '平方米', en: 'Square metres' })),
      usage: text(100, '用途', 'Use'),
      rightType: text(100, '权利类型', 'Type of right'),
      landUseEndsOn: date('土地使用期限至', 'Land use ends on').optional(),
    }),
    defaultValidityYears: null,
    regional: false,
    sensitiveFields: [],
  },
];

const byCode = new Map(licenceTypes.map((type) => [type.code, type]));
const byTypeCode = new Map(licenceTypes.map((type) => [type.typeCode, type]));

/**
 * The licence type with this slug, or nothing.
 *
 * @example
 * ```ts
 * findLicenceType('driving-licence')?.typeCode; // '003'
 * ```
 */
export function findLicenceType(code: string): LicenceType | undefined {
  return byCode.get(code);
}

/** The licence type of a licence identifier's type code, e.g. `findLicenceTypeByTypeCode('001')`. */
export function findLicenceTypeByTypeCode(typeCode: string): LicenceType | undefined {
  return byTypeCode.get(typeCode);
}

/** One entry of `GET /licence-types` ({@link licenceTypeView} is typed by it). */
export const licenceTypeViewSchema = z
  .object({
    code: z.string(),
    name: z.string(),
    nameEn: z.string(),
    holderKind: z.enum(['person', 'entity']),
    fields: z.record(z.string(), z.unknown()).meta({
      description:
        'JSON Schema (draft 2020-12) of what the issuer sends as `fields`: `title` and `description` in Chinese, `x-title-en` and `x-description-en` in English, an enum’s value names in `x-enum-titles` / `x-enum-titles-en` (annotations; docs/api.md)',
    }),
    licenceFields: z.record(z.string(), z.unknown()).meta({
      description:
        'JSON Schema (draft 2020-12) of `fields` as a `Licence` returns them (and a credential signs them): each third person’s ID number replaced by its masked form',
    }),
    defaultValidityYears: z.int().nullable().meta({
      description:
        'Validity when the issuer gives no `validUntil`, in calendar years from the Beijing date of `validFrom`, through the same month and day (the last of the month where there is none); `null`: no expiry',
    }),
    defaultValidityDays: z.int().nullable().meta({
      deprecated: true,
      description:
        'Deprecated: `defaultValidityYears` × 365.25, rounded (the end is counted in calendar years, not days)',
    }),
    minAssurance: z.string().meta({
      description:
        'The `acr` a person needs to read or show licences of this type, e.g. `urn:elicence:loa:3`',
    }),
    regional: z.boolean().meta({ description: 'Issued only to holders in the issuer’s jurisdiction' }),
  })
  .meta({
    title: 'LicenceType',
    examples: [
      {
        code: 'social-security-card',
        name: '社会保障卡',
        nameEn: 'Social security card',
        holderKind: 'person',
        fields: { type: 'object', properties: { cardNumber: { type: 'string' } }, required: ['cardNumber'] },
        licenceFields: {
          type: 'object',
          properties: { cardNumber: { type: 'string' } },
          required: ['cardNumber'],
        },
        defaultValidityYears: 10,
        defaultValidityDays: 3653,
        minAssurance: 'urn:elicence:loa:3',
        regional: false,
      },
    ],
  });
export type LicenceTypeView = z.output<typeof licenceTypeViewSchema>;

/** The whole of `GET /licence-types`. */
export const catalogueSchema = z.array(licenceTypeViewSchema).meta({ title: 'LicenceTypes' });

/**
 * The public view of a licence type, its fields as JSON Schema. The schema describes the issuer's
 * input (`io: 'input'`): sensitive fields appear there, marked `writeOnly`.
 *
 * @example
 * ```ts
 * licenceTypeView(findLicenceType('driving-licence')!).fields.required; // ['vehicleClass', …]
 * ```
 */
export function licenceTypeView(type: LicenceType): LicenceTypeView {
  const fields = z.toJSONSchema(type.fields, { io: 'input' }) as Record<string, unknown>;
  return {
    code: type.code,
    name: type.name.zh,
    nameEn: type.name.en,
    holderKind: type.holderKind,
    fields,
    licenceFields: returnedFieldsSchema(type, fields),
    defaultValidityYears: type.defaultValidityYears,
    defaultValidityDays:
      type.defaultValidityYears === null ? null : Math.round(type.defaultValidityYears * 365.25),
    minAssurance: acrOf(minAssuranceOf(type)),
    regional: type.regional,
  };
}

/**
 * A masked resident ID number as `maskIdNumber` writes it: region, eight stars, the last four; a
 * foreigner's permanent residence number `9` and its province, eleven stars, the last four (review R64-3;
 * licences signed before keep `9` and five digits); a 2017 card's 15-character number three stars, its
 * province, eight stars, the last two.
 */
const maskedIdNumberSchema = {
  type: 'string',
  pattern: '^(?:(?:\\d{6}\\*{8}|9\\d{2}\\*{11})\\d{3}[\\dX]|\\*{3}\\d{2}\\*{8}\\d{2})$',
  description:
    '遮盖后的公民身份号码：地址码、8 个星号、末 4 位（外国人永久居留身份证号码：9 和省份代码、11 个星号、末 4 位；2017 版 15 位号码：3 个星号、省份代码、8 个星号、末 2 位）',
  'x-description-en':
    'Masked resident ID number: the region code, eight stars, the last four characters (a foreigner’s permanent residence number: 9 and the province code, eleven stars, the last four; a 2017 card’s 15-character number: three stars, the province code, eight stars, the last two)',
};

/**
 * The schema of `fields` as licences return them, derived from the issuing schema by the same rule
 * {@link protectSensitiveFields} applies to the data: each sensitive field leaves, its masked form takes
 * its place (required where it was). Derived rather than written twice, so the two cannot drift; a test
 * validates every returned licence of every type against it.
 */
function returnedFieldsSchema(type: LicenceType, input: Record<string, unknown>): Record<string, unknown> {
  const properties = { ...(input.properties as Record<string, Record<string, unknown>>) };
  const required = new Set((input.required as string[] | undefined) ?? []);
  for (const sensitive of type.sensitiveFields) {
    const title = properties[sensitive.field]?.title;
    const titleEn = properties[sensitive.field]?.['x-title-en'];
    delete properties[sensitive.field];
    properties[sensitive.maskedAs] = {
      ...maskedIdNumberSchema,
      ...(title ? { title } : {}),
      ...(titleEn ? { 'x-title-en': titleEn } : {}),
    };
    if (required.delete(sensitive.field)) required.add(sensitive.maskedAs);
  }
  return { ...input, properties, required: [...required] };
}

let catalogue: readonly LicenceTypeView[] | undefined;

/**
 * The whole catalogue as `GET /licence-types` answers it; built once, since it never changes while
 * the code runs.
 *
 * @example
 * ```ts
 * catalogueView().map((type) => type.code); // ['business-licence', 'production-operation-permit', …]
 * ```
 */
export function catalogueView(): readonly LicenceTypeView[] {
  catalogue ??= licenceTypes.map(licenceTypeView);
  return catalogue;
}

export class InvalidFieldsError extends InvalidInputError {
  constructor(message: string, errors: readonly FieldError[]) {
    super(message, 'invalid_fields', { errors });
    this.name = 'InvalidFieldsError';
  }
}

/**
 * Validates a licence's `fields` against its type: the parsed, normalised fields, or an
 * {@link InvalidFieldsError} (`invalid_fields`) listing each failure at its request path, e.g.
 * `fields.vehicleClass`. Unknown fields are refused one by one.
 *
 * @example
 * ```ts
 * validateFields(findLicenceType('driving-licence')!, { vehicleClass: 'C1', firstIssuedOn: '2015-03-01', archiveNumber: '110100123456' });
 * validateFields(type, { vehicleClass: 'Z9' }); // throws; errors[0].path === 'fields.vehicleClass'
 * ```
 */
export function validateFields(type: LicenceType, fields: unknown): Record<string, unknown> {
  const parsed = type.fields.safeParse(fields);
  if (parsed.success) return parsed.data;
  const errors = parsed.error.issues.flatMap((issue): FieldError[] =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({
          // A key the issuer made up is echoed only when it is a plain word (review R72-2).
          path: unknownMemberPath(['fields', ...issue.path], key),
          message: `Unknown field for ${type.code}`,
          code: 'unknown_field',
        }))
      : [{ path: fieldPath(issue.path), message: issue.message, ...zodIssueCode(issue, fields) }],
  );
  throw new InvalidFieldsError(
    `Invalid fields for ${type.code}: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`,
    errors,
  );
}

function fieldPath(path: ReadonlyArray<PropertyKey>): string {
  return ['fields', ...path.map(String)].join('.');
}

/**
 * The fields that hold a third person's lookup key in licences issued before issue 12 (see
 * {@link SensitiveField.lookupKeyAs}): never shown, disclosed or signed. The one list every reader uses.
 */
export function lookupKeyFields(type: Pick<LicenceType, 'sensitiveFields'> | undefined): ReadonlySet<string> {
  return new Set(type?.sensitiveFields.map((field) => field.lookupKeyAs) ?? []);
}

/**
 * The fields as they may leave the service, in a credential or an API answer: without the
 * {@link lookupKeyFields}. A lookup key is the same for one person in every licence of every issuer (it
 * is how the service finds them), so anything that carried it would hand every verifier and platform a
 * handle linking that person's licences.
 *
 * @example
 * ```ts
 * publicFields(businessLicence, record.fields); // { …, legalRepresentativeIdMasked: '110105********002X' }
 * ```
 */
export function publicFields(
  type: LicenceType | undefined,
  fields: Record<string, unknown>,
): Record<string, unknown> {
  const hidden = lookupKeyFields(type);
  if (hidden.size === 0) return fields;
  return Object.fromEntries(Object.entries(fields).filter(([name]) => !hidden.has(name)));
}

/**
 * Replaces each sensitive field of validated fields by its masked form, the form that is stored and
 * signed; no lookup key or other handle of the third person is kept. Fields without sensitive data come
 * back unchanged (as a copy).
 *
 * @example
 * ```ts
 * protectSensitiveFields(businessLicence, validateFields(businessLicence, input));
 * // { …, legalRepresentativeIdMasked: '110105********002X' }
 * ```
 */
export function protectSensitiveFields(
  type: LicenceType,
  fields: Record<string, unknown>,
): Record<string, unknown> {
  const result = { ...fields };
  for (const sensitive of type.sensitiveFields) {
    const value = result[sensitive.field];
    delete result[sensitive.field];
    if (value === undefined) continue;
    // Parsed again rather than trusted: this is the last gate before the number would be stored.
    const id = parseIdNumber(String(value), new Date());
    result[sensitive.maskedAs] = maskIdNumber(id);
  }
  return result;
}
