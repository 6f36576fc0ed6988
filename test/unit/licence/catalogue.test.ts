import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ServiceError } from '../../../shared/errors.js';
import {
  catalogueAnnotationKeywords,
  catalogueView,
  findLicenceType,
  findLicenceTypeByTypeCode,
  InvalidFieldsError,
  licenceTypes,
  protectSensitiveFields,
  validateFields,
  type LicenceType,
} from '../../../shared/licence/catalogue.js';

// ajv-formats is CommonJS: under NodeNext its default import is the module object, at run time the function.
const addFormats = ((addFormatsModule as { default?: unknown }).default ?? addFormatsModule) as (
  ajv: Ajv2020,
) => Ajv2020;

const representative = '11010519491231002X';

/** One valid `fields` per licence type: a new type must add its sample here. */
const samples: Record<string, Record<string, unknown>> = {
  'business-licence': {
    entityType: '有限责任公司（自然人投资或控股）',
    legalRepresentativeName: '张三',
    legalRepresentativeIdNumber: representative,
    registeredCapital: { amount: 10_000_000, currency: 'CNY' },
    establishedOn: '2015-06-18',
    businessScope: '软件开发；信息技术咨询服务。（依法须经批准的项目，经相关部门批准后方可开展经营活动）',
    address: '浙江省杭州市西湖区文三路 90 号',
  },
  'production-operation-permit': {
    permitNumber: 'SC10633010600123',
    permitCategory: '食品生产',
    scope: '糕点（烘烤类糕点）',
    address: '浙江省杭州市余杭区良渚街道 1 号',
  },
  'driving-licence': { vehicleClass: 'C1', firstIssuedOn: '2012-03-01', archiveNumber: '110100123456' },
  'social-security-card': { cardNumber: 'A12345678', issuingRegion: '330100', bank: '中国工商银行' },
  'degree-certificate': {
    degree: 'master',
    major: '计算机科学与技术',
    university: '浙江大学',
    conferredOn: '2016-06-30',
    certificateNumber: '1033532016000123',
  },
  'professional-qualification': { profession: '电工', level: 3, certificateNumber: 'S000033000001234' },
  'marriage-certificate': {
    spouseName: '李四',
    spouseIdNumber: '110105199003071239',
    registeredOn: '2018-05-20',
    registrationAuthority: '杭州市西湖区民政局',
    certificateNumber: 'J330106-2018-001234',
  },
  'real-estate-title': {
    certificateNumber: '浙（2020）杭州市不动产权第0012345号',
    unitNumber: '330106001001GB00001F00010001',
    propertyLocation: '杭州市西湖区文三路 100 号 1 幢 101 室',
    area: 89.5,
    usage: '住宅',
    rightType: '国有建设用地使用权/房屋所有权',
    landUseEndsOn: '2085-12-31',
  },
};

const type = (code: string): LicenceType => {
  const found = findLicenceType(code);
  if (!found) throw new Error(`no licence type ${code}`);
  return found;
};

const failure = (licenceType: LicenceType, fields: unknown): InvalidFieldsError => {
  try {
    validateFields(licenceType, fields);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidFieldsError);
    return error as InvalidFieldsError;
  }
  throw new Error('fields were accepted');
};

describe('the licence catalogue', () => {
  it('has the eight required types, each with a unique slug and a unique three-digit type code', () => {
    const codes = licenceTypes.map((t) => t.code);
    expect(codes).toEqual(expect.arrayContaining(Object.keys(samples)));
    expect(new Set(codes).size).toBe(codes.length);
    expect(new Set(licenceTypes.map((t) => t.typeCode)).size).toBe(licenceTypes.length);
    for (const t of licenceTypes) {
      expect(t.code).toMatch(/^[a-z]+(-[a-z]+)*$/);
      expect(t.typeCode).toMatch(/^\d{3}$/);
      expect(t.name.zh).toMatch(/\p{Script=Han}/u);
      expect(t.name.en).toMatch(/^[A-Z][a-z ]+$/);
      expect(t.defaultValidityYears === null || t.defaultValidityYears > 0).toBe(true);
      expect(findLicenceTypeByTypeCode(t.typeCode)).toBe(t);
    }
  });

  it('declares the holder kind of each type', () => {
    const holders = Object.fromEntries(licenceTypes.map((t) => [t.code, t.holderKind]));
    expect(holders).toMatchObject({
      'business-licence': 'entity',
      'production-operation-permit': 'entity',
      'driving-licence': 'person',
      'degree-certificate': 'person',
      'marriage-certificate': 'person',
    });
    expect(type('degree-certificate').defaultValidityYears).toBeNull();
    expect(type('marriage-certificate').defaultValidityYears).toBeNull();
  });

  it('finds nothing for an unknown code', () => {
    expect(findLicenceType('fishing-licence')).toBeUndefined();
    expect(findLicenceTypeByTypeCode('999')).toBeUndefined();
  });

  it('publishes each type with its fields as JSON-serialisable JSON Schema', () => {
    const view = catalogueView();
    expect(view).toHaveLength(licenceTypes.length);
    expect(JSON.parse(JSON.stringify(view))).toEqual(view);
    for (const entry of view) {
      expect(Object.keys(entry).sort()).toEqual(
        [
          'code',
          'defaultValidityDays',
          'defaultValidityYears',
          'fields',
          'holderKind',
          'licenceFields',
          'minAssurance',
          'name',
          'nameEn',
          'regional',
        ].sort(),
      );
      expect(entry.fields).toMatchObject({
        $schema: 'https://json-schema.org/draft/2020-12/schema',
        type: 'object',
        additionalProperties: false,
        properties: expect.any(Object),
        required: expect.any(Array),
      });
    }
    const driving = view.find((entry) => entry.code === 'driving-licence');
    expect(driving).toMatchObject({ name: '机动车驾驶证', nameEn: 'Driving licence', holderKind: 'person' });
    expect(driving?.fields).toMatchObject({
      properties: {
        vehicleClass: { type: 'string', enum: expect.arrayContaining(['A1', 'C1', 'P']), title: '准驾车型' },
        firstIssuedOn: { type: 'string', format: 'date' },
      },
      required: ['vehicleClass', 'firstIssuedOn', 'archiveNumber'],
    });
  });

  it.each(Object.entries(samples))(
    'publishes the schema of %s fields as a licence returns them: issued fields validate against one, returned against the other',
    (code, fields) => {
      const entry = catalogueView().find((candidate) => candidate.code === code)!;
      const ajv = addFormats(new Ajv2020({ strict: true, allErrors: true }));
      // Strict mode refuses keywords it does not know: the catalogue's annotations are declared to it.
      ajv.addVocabulary([...catalogueAnnotationKeywords]);
      const returned = protectSensitiveFields(type(code), validateFields(type(code), fields));
      expect(ajv.validate(entry.fields, fields), ajv.errorsText()).toBe(true);
      expect(ajv.validate(entry.licenceFields, returned), ajv.errorsText()).toBe(true);
      if (type(code).sensitiveFields.length > 0) {
        // Where a number is masked, the issuing schema does not describe what a licence returns (the
        // finding this schema answers), and the returned schema refuses a clear number.
        expect(ajv.validate(entry.fields, returned)).toBe(false);
        expect(ajv.validate(entry.licenceFields, fields)).toBe(false);
      }
    },
  );

  it('titles and describes every field in both languages: Chinese in title/description, English beside', () => {
    const han = /\p{Script=Han}/u;
    const properties = (schema: Record<string, unknown>): Array<[string, Record<string, unknown>]> =>
      Object.entries((schema.properties ?? {}) as Record<string, Record<string, unknown>>).flatMap(
        ([key, property]) => [[key, property] as [string, Record<string, unknown>], ...properties(property)],
      );
    for (const entry of catalogueView()) {
      for (const schema of [entry.fields, entry.licenceFields]) {
        for (const [key, property] of properties(schema)) {
          expect(property.title, `${entry.code}.${key}`).toMatch(han);
          expect(property['x-title-en'], `${entry.code}.${key}`).toMatch(/^[^\p{Script=Han}]+$/u);
          if (property.description !== undefined) {
            expect(property.description, `${entry.code}.${key}`).toMatch(han);
            expect(property['x-description-en'], `${entry.code}.${key}`).toMatch(/^[^\p{Script=Han}]+$/u);
          }
          if (Array.isArray(property.enum) && property['x-enum-titles'] !== undefined) {
            expect(property['x-enum-titles']).toHaveLength(property.enum.length);
            expect(property['x-enum-titles-en']).toHaveLength(property.enum.length);
          }
        }
      }
    }
  });

  it('gives each failing field a stable code pages translate', () => {
    const marriage = type('marriage-certificate');
    let caught: unknown;
    try {
      validateFields(marriage, {
        spouseName: ' ',
        spouseIdNumber: '110105194912310021',
        registeredOn: '2020-02-30',
        registrationAuthority: 'x'.repeat(101),
        certificateNumber: 'No. 1',
        extra: 1,
      });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InvalidFieldsError);
    expect(
      (caught as InvalidFieldsError).errors.map(({ path, code, params }) => ({ path, code, params })),
    ).toEqual([
      { path: 'fields.spouseName', code: 'required', params: undefined },
      { path: 'fields.spouseIdNumber', code: 'invalid_check_character', params: { expected: 'X' } },
      { path: 'fields.registeredOn', code: 'invalid_date', params: undefined },
      { path: 'fields.registrationAuthority', code: 'too_long', params: { maximum: 100 } },
      { path: 'fields.extra', code: 'unknown_field', params: undefined },
    ]);
  });

  it('marks the sensitive ID number write-only in the published schema', () => {
    const business = catalogueView().find((entry) => entry.code === 'business-licence');
    expect(business?.fields).toMatchObject({
      properties: { legalRepresentativeIdNumber: { type: 'string', writeOnly: true } },
    });
  });
});

describe('validating licence fields', () => {
  it.each(Object.entries(samples))('accepts valid fields of %s', (code, fields) => {
    expect(validateFields(type(code), fields)).toEqual(fields);
  });

  it('trims text and normalises an ID number', () => {
    const parsed = validateFields(type('business-licence'), {
      ...samples['business-licence'],
      legalRepresentativeName: '  张三 ',
      legalRepresentativeIdNumber: representative.toLowerCase(),
    });
    expect(parsed).toMatchObject({
      legalRepresentativeName: '张三',
      legalRepresentativeIdNumber: representative,
    });
  });

  it('accepts leaving out optional fields', () => {
    const { registeredCapital: _, ...rest } = samples['business-licence']!;
    expect(validateFields(type('business-licence'), rest)).toEqual(rest);
  });

  it('names each failing field under fields.', () => {
    const error = failure(type('driving-licence'), {
      vehicleClass: 'Z9',
      firstIssuedOn: '2023-02-29',
    });
    expect(error).toMatchObject({ code: 'invalid_fields', kind: 'invalid_input' });
    expect(error.errors.map((e) => e.path).sort()).toEqual(
      ['fields.archiveNumber', 'fields.firstIssuedOn', 'fields.vehicleClass'].sort(),
    );
    expect(error.message).toMatch(/^Invalid fields for driving-licence: fields\.vehicleClass: /);
  });

  it('refuses unknown fields one by one', () => {
    const error = failure(type('degree-certificate'), {
      ...samples['degree-certificate'],
      gpa: 3.9,
      honours: true,
    });
    expect(error.errors).toEqual([
      { path: 'fields.gpa', message: 'Unknown field for degree-certificate', code: 'unknown_field' },
      { path: 'fields.honours', message: 'Unknown field for degree-certificate', code: 'unknown_field' },
    ]);
  });

  it('names nested paths and the rule an ID number broke', () => {
    const error = failure(type('business-licence'), {
      ...samples['business-licence'],
      registeredCapital: { amount: -1, currency: 'CNY' },
      legalRepresentativeIdNumber: '110105194912310021',
    });
    expect(error.errors).toEqual(
      expect.arrayContaining([
        {
          path: 'fields.registeredCapital.amount',
          message: expect.any(String),
          code: 'too_small',
          params: { minimum: 0, exclusive: true },
        },
        {
          path: 'fields.legalRepresentativeIdNumber',
          message: 'check character should be X',
          code: 'invalid_check_character',
          params: { expected: 'X' },
        },
      ]),
    );
  });

  it.each([
    ['real-estate-title', 'area', 0],
    ['real-estate-title', 'area', '89.5'],
    ['professional-qualification', 'level', 6],
    ['degree-certificate', 'degree', 'honorary'],
    ['degree-certificate', 'conferredOn', '2016-6-30'],
    ['social-security-card', 'cardNumber', 'a12345678'],
    ['production-operation-permit', 'scope', '   '],
    ['production-operation-permit', 'address', '路'.repeat(201)],
  ])('refuses %s with %s = %j', (code, field, value) => {
    const error = failure(type(code), { ...samples[code], [field]: value });
    expect(error.errors.map((e) => e.path)).toEqual([`fields.${field}`]);
  });

  it('refuses fields that are not an object', () => {
    for (const fields of [null, [], 'C1', undefined]) {
      expect(failure(type('driving-licence'), fields).errors[0]?.path).toBe('fields');
    }
  });

  it('throws nothing but its own error on any input', () => {
    fc.assert(
      fc.property(fc.constantFrom(...licenceTypes), fc.anything(), (licenceType, fields) => {
        try {
          validateFields(licenceType, fields);
        } catch (error) {
          expect(error).toBeInstanceOf(ServiceError);
          expect((error as ServiceError).code).toBe('invalid_fields');
        }
      }),
    );
  });
});

describe('protecting sensitive fields', () => {
  it('replaces the clear ID number by its masked form, and keeps no lookup key of the person', () => {
    const business = type('business-licence');
    const fields = validateFields(business, samples['business-licence']);
    const stored = protectSensitiveFields(business, fields);
    expect(stored).not.toHaveProperty('legalRepresentativeIdNumber');
    expect(stored).not.toHaveProperty('legalRepresentativeLookupKey');
    expect(stored).toMatchObject({
      legalRepresentativeName: '张三',
      legalRepresentativeIdMasked: '110105********002X',
    });
    expect(JSON.stringify(stored)).not.toContain(representative);
    expect(fields).toHaveProperty('legalRepresentativeIdNumber', representative);
  });

  it('declares every sensitive field in the type schema, write-only', () => {
    for (const t of licenceTypes) {
      const properties = (catalogueView().find((entry) => entry.code === t.code)?.fields.properties ??
        {}) as Record<string, { writeOnly?: boolean }>;
      for (const sensitive of t.sensitiveFields) {
        expect(properties[sensitive.field]?.writeOnly).toBe(true);
        expect(properties).not.toHaveProperty(sensitive.maskedAs);
        expect(properties).not.toHaveProperty(sensitive.lookupKeyAs);
      }
    }
  });

  it('leaves fields without sensitive data as they are', () => {
    const driving = type('driving-licence');
    const fields = validateFields(driving, samples['driving-licence']);
    expect(protectSensitiveFields(driving, fields)).toEqual(fields);
  });
});
