import { describe, expect, it } from 'vitest';
import { catalogueView, findLicenceType, validateFields } from '../../../shared/licence/catalogue.js';
import { apiFieldErrors, issueFormModel, parseIssueForm } from '../../../shared/web/console/issue-form.js';
import {
  parseSchemaFields,
  renderSchemaFields,
  schemaFields,
  schemaFormModel,
  valuesOf,
  type FormValues,
} from '../../../shared/web/console/schema-form.js';
import { translator } from '../../../shared/web/kit/i18n.js';

const t = translator('zh');
const en = translator('en');

/**
 * A valid submission of every catalogue type, as a browser would post the generated form. A type added
 * to the catalogue without an entry here fails the first test, so every type stays covered.
 */
const validSubmissions: Record<string, FormValues> = {
  'business-licence': {
    'fields.entityType': '有限责任公司',
    'fields.legalRepresentativeName': '王小明',
    'fields.legalRepresentativeIdNumber': '110105199003071239',
    'fields.registeredCapital.amount': '1000000.50',
    'fields.registeredCapital.currency': 'CNY',
    'fields.establishedOn': '2018-03-15',
    'fields.businessScope': '技术开发、技术咨询。',
    'fields.address': '北京市朝阳区示范路1号',
  },
  'production-operation-permit': {
    'fields.permitNumber': 'SC10611010500123',
    'fields.permitCategory': '食品生产',
    'fields.scope': '糕点',
    'fields.address': '北京市朝阳区示范路2号',
    'fields.principalName': '',
  },
  'driving-licence': {
    'fields.vehicleClass': 'C1',
    'fields.firstIssuedOn': '2015-03-01',
    'fields.archiveNumber': '110100123456',
  },
  'social-security-card': {
    'fields.cardNumber': 'A12345678',
    'fields.issuingRegion': '110105',
    'fields.bank': '',
  },
  'degree-certificate': {
    'fields.degree': 'master',
    'fields.major': '计算机科学与技术',
    'fields.university': '示范大学',
    'fields.conferredOn': '2016-06-30',
    'fields.certificateNumber': '1000012016000123',
  },
  'professional-qualification': {
    'fields.profession': '电工',
    'fields.level': '3',
    'fields.certificateNumber': 'S000011000000123',
  },
  'marriage-certificate': {
    'fields.spouseName': '李娜',
    'fields.spouseIdNumber': '110105199003071239',
    'fields.registeredOn': '2020-05-20',
    'fields.registrationAuthority': '北京市朝阳区民政局',
    'fields.certificateNumber': '京朝结字第2020000123号',
  },
  'real-estate-title': {
    'fields.certificateNumber': '京(2021)朝阳区不动产权第0012345号',
    'fields.unitNumber': '110105001001GB00001F00010001',
    'fields.propertyLocation': '北京市朝阳区示范路3号1单元101',
    'fields.area': '89.5',
    'fields.usage': '住宅',
    'fields.rightType': '国有建设用地使用权/房屋所有权',
    'fields.landUseEndsOn': '2090-12-31',
  },
};

/** The `name` attributes of the inputs, selects and text areas in some markup. */
function inputNames(markup: string): string[] {
  return [...markup.matchAll(/<(?:input|select|textarea)\b[^>]*\bname="([^"]+)"/g)].map((m) => m[1]!);
}

describe('the form generated from a licence type’s JSON Schema', () => {
  it('covers every catalogue type', () => {
    expect(Object.keys(validSubmissions).sort()).toEqual(
      catalogueView()
        .map((type) => type.code)
        .sort(),
    );
  });

  for (const type of catalogueView()) {
    it(`renders ${type.code} with an input per property and parses a submission the type's schema accepts`, () => {
      const model = schemaFormModel(type.fields);
      const markup = renderSchemaFields(model, {}, {}, t).value;
      const names = inputNames(markup);
      const submission = validSubmissions[type.code]!;
      // Every property of the schema has its input, and the fixture posts nothing the form lacks.
      expect(names.sort()).toEqual(
        schemaFields(model)
          .map((f) => f.name)
          .sort(),
      );
      for (const name of Object.keys(submission)) expect(names).toContain(name);
      const required = (type.fields.required as string[]) ?? [];
      for (const key of required) {
        const field = model.find((node) => node.key === key)!;
        if (field.kind !== 'group')
          expect(markup).toMatch(new RegExp(`name="${field.name}"[^>]*required`, 's'));
      }

      const parsed = parseSchemaFields(model, submission, t);
      expect(parsed.errors).toEqual({});
      expect(() => validateFields(findLicenceType(type.code)!, parsed.value)).not.toThrow();
    });
  }

  it('every pattern attribute compiles as a browser compiles it (the v flag)', () => {
    for (const type of catalogueView()) {
      const markup = renderSchemaFields(schemaFormModel(type.fields), {}, {}, t).value;
      for (const [, pattern] of markup.matchAll(/pattern="([^"]*)"/g)) {
        const source = pattern!
          .replace(/&amp;/g, '&')
          .replace(/&quot;/g, '"')
          .replace(/&#39;/g, "'");
        expect(() => new RegExp(`^(?:${source})$`, 'v')).not.toThrow();
      }
    }
  });

  it('maps each JSON Schema construct to its control and attributes', () => {
    const markup = renderSchemaFields(
      schemaFormModel(findLicenceTypeView('professional-qualification').fields),
      {},
      {},
      t,
    ).value;
    expect(markup).toMatch(
      /<input\s+type="number"[^>]*name="fields.level"[^>]*step="1"[^>]*min="1"[^>]*max="5"/s,
    );
    const driving = renderSchemaFields(
      schemaFormModel(findLicenceTypeView('driving-licence').fields),
      {},
      {},
      t,
    ).value;
    expect(driving).toMatch(/<select\b[^>]*name="fields.vehicleClass"/s);
    expect(driving).toContain('<option value="C1"');
    // A day is a text input in the page's format (shared/web/kit/day-input.ts), not type="date".
    expect(driving).toMatch(
      /<input\s+type="text"\s+inputmode="numeric"[^>]*placeholder="年-月-日"[^>]*name="fields.firstIssuedOn"/s,
    );
    expect(driving).not.toContain('type="date"');
    expect(driving).toMatch(/name="fields.archiveNumber"[^>]*pattern="\^\\d\{12\}\$"/s);
    const business = renderSchemaFields(
      schemaFormModel(findLicenceTypeView('business-licence').fields),
      {},
      {},
      t,
    ).value;
    expect(business).toMatch(/<textarea\b[^>]*name="fields.businessScope"[^>]*maxlength="250"/s);
    expect(business).toMatch(/<fieldset\s+class="schema-group"[\s\S]*<legend>\s*注册资本/);
    const flag = renderSchemaFields(
      schemaFormModel({ type: 'object', properties: { agreed: { type: 'boolean', title: '同意' } } }),
      { 'fields.agreed': 'on' },
      {},
      t,
    ).value;
    expect(flag).toMatch(/<input\s+type="checkbox"\s+value="on"[^>]*name="fields.agreed"[^>]*checked/s);
    expect(
      parseSchemaFields(
        schemaFormModel({ type: 'object', properties: { agreed: { type: 'boolean' } } }),
        {},
        t,
      ).value,
    ).toEqual({
      agreed: false,
    });
  });

  it('gives each bad value a message in the page language, linked to its input', () => {
    const model = schemaFormModel(findLicenceTypeView('professional-qualification').fields);
    const parsed = parseSchemaFields(
      model,
      { 'fields.profession': '', 'fields.level': '2.5', 'fields.certificateNumber': 'abc' },
      t,
    );
    expect(parsed.errors).toEqual({
      'fields.profession': '请填写此项。',
      'fields.level': '请输入整数。',
      'fields.certificateNumber': expect.stringContaining('格式不正确'),
    });
    expect(parseSchemaFields(model, { 'fields.level': '9' }, en).errors['fields.level']).toBe(
      'Must be at most 5.',
    );

    const driving = schemaFormModel(findLicenceTypeView('driving-licence').fields);
    const bad = parseSchemaFields(
      driving,
      { 'fields.vehicleClass': 'Z9', 'fields.firstIssuedOn': '2023-02-30', 'fields.archiveNumber': '1' },
      t,
    );
    expect(Object.keys(bad.errors).sort()).toEqual([
      'fields.archiveNumber',
      'fields.firstIssuedOn',
      'fields.vehicleClass',
    ]);

    const estate = schemaFormModel(findLicenceTypeView('real-estate-title').fields);
    expect(parseSchemaFields(estate, { 'fields.area': '0' }, t).errors['fields.area']).toBe('必须大于 0。');
    expect(parseSchemaFields(estate, { 'fields.area': '1e999' }, t).errors['fields.area']).toBe(
      '请输入数字。',
    );

    const markup = renderSchemaFields(driving, { 'fields.vehicleClass': 'Z9' }, bad.errors, t).value;
    expect(markup).toMatch(
      /id="field-fields-vehicleClass"[^>]*aria-describedby="field-fields-vehicleClass-error"[^>]*aria-invalid="true"/s,
    );
    expect(markup).toContain(
      '<p class="field-error" id="field-fields-vehicleClass-error">请从列表中选择。</p>',
    );
  });

  it('leaves an optional group out when all blank, and checks it when partly filled', () => {
    const business = schemaFormModel(findLicenceTypeView('business-licence').fields);
    const base = {
      ...validSubmissions['business-licence'],
      'fields.registeredCapital.amount': '',
      'fields.registeredCapital.currency': '',
    };
    const blank = parseSchemaFields(business, base, t);
    expect(blank.errors).toEqual({});
    expect(blank.value).not.toHaveProperty('registeredCapital');
    const partial = parseSchemaFields(business, { ...base, 'fields.registeredCapital.amount': '100' }, t);
    expect(partial.errors).toEqual({ 'fields.registeredCapital.currency': '请填写此项。' });
  });

  it('escapes titles, descriptions, options and values', () => {
    const schema = {
      type: 'object',
      properties: {
        evil: { type: 'string', title: '<script>alert(1)</script>', description: '"quoted" & <b>bold</b>' },
        choice: { type: 'string', enum: ['<img src=x onerror=alert(1)>'] },
      },
      required: ['evil'],
    };
    const markup = renderSchemaFields(
      schemaFormModel(schema),
      { 'fields.evil': '"><script>x</script>' },
      {},
      t,
    ).value;
    expect(markup).not.toContain('<script>');
    expect(markup).not.toContain('<img');
    expect(markup).not.toContain('<b>');
    expect(markup).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(markup).toContain('&quot;quoted&quot; &amp; &lt;b&gt;bold&lt;/b&gt;');
    expect(markup).toContain('value="&quot;&gt;&lt;script&gt;x&lt;/script&gt;"');
  });

  it('turns the whole issuance form into the API request, and API error paths back into fields', () => {
    const model = issueFormModel(findLicenceTypeView('driving-licence'), t);
    const parsed = parseIssueForm(
      model,
      {
        ...validSubmissions['driving-licence'],
        holderNumber: '110105199003071239',
        holderName: '王小明',
        validFrom: '2026-01-01',
        validUntil: '',
      },
      t,
    );
    expect(parsed).toEqual({
      request: {
        type: 'driving-licence',
        holder: { idNumber: '110105199003071239' },
        holderName: '王小明',
        fields: { vehicleClass: 'C1', firstIssuedOn: '2015-03-01', archiveNumber: '110100123456' },
        validFrom: '2026-01-01T00:00:00+08:00',
      },
      values: expect.objectContaining({ validFrom: '2026-01-01', 'fields.firstIssuedOn': '2015-03-01' }),
    });
    // A 2017 foreigner's permanent residence card's number (15: three letters, twelve digits), as typed.
    const foreigner = parseIssueForm(
      model,
      { ...validSubmissions['driving-licence'], holderNumber: 'can440185061510', holderName: 'SMITH JOHN' },
      t,
    );
    expect(foreigner).toMatchObject({ request: { holder: { idNumber: 'CAN440185061510' } } });
    const entity = issueFormModel(findLicenceTypeView('business-licence'), t);
    const refused = parseIssueForm(
      entity,
      { holderNumber: 'short', holderName: '', validFrom: '2026-02-01', validUntil: '2026-01-01' },
      t,
    );
    expect(refused).toHaveProperty('errors');
    const errors = (refused as { errors: Record<string, string> }).errors;
    expect(Object.keys(errors)).toEqual(
      expect.arrayContaining(['holderNumber', 'holderName', 'validUntil', 'fields.entityType']),
    );

    const names = new Set(['holderNumber', 'fields.vehicleClass']);
    // Each said from its code in the page's language, never the API's English message; an unknown code
    // gets a generic message of the page's language.
    const apiErrors = [
      {
        path: 'holder.idNumber',
        message: 'check character should be X',
        code: 'invalid_check_character',
        params: { expected: 'X' },
      },
      { path: 'fields.vehicleClass', message: 'Invalid option', code: 'invalid_value' },
      { path: 'Idempotency-Key', message: 'required', code: 'code_of_a_newer_api' },
    ];
    expect(apiFieldErrors(apiErrors, names, translator('zh'))).toEqual({
      holderNumber: '校验码应为 X',
      'fields.vehicleClass': '请从列表中选择。',
      '': '填写的内容不被接受，请检查。',
    });
    expect(apiFieldErrors(apiErrors, names, translator('en'))).toEqual({
      holderNumber: 'The check character should be X.',
      'fields.vehicleClass': 'Please choose one of the listed values.',
      '': 'This value is not accepted; please check it.',
    });
  });

  // Review finding: the form's days were `<input type="date">`, which shows the browser's locale
  // (mm/dd/yyyy in an English Chromium) whatever the page's language. They are typed as text now, and
  // the server reads what the console's search reads.
  describe('days typed as text', () => {
    const driving = issueFormModel(findLicenceTypeView('driving-licence'), t);
    const base = {
      ...validSubmissions['driving-licence'],
      holderNumber: '110105199003071239',
      holderName: '王小明',
      validFrom: '',
      validUntil: '',
    };
    const requestOf = (posted: FormValues) => {
      const parsed = parseIssueForm(driving, posted, t);
      if (!('request' in parsed)) throw new Error(JSON.stringify(parsed.errors));
      return parsed;
    };

    it('reads 年月日, slashes, dots and eight digits as the day the schema stores, YYYY-MM-DD', () => {
      const typedAsBefore = requestOf(base);
      for (const typed of ['2015年3月1日', '2015/3/1', '2015.03.01', '20150301', ' 2015-3-1 ']) {
        const read = requestOf({ ...base, 'fields.firstIssuedOn': typed });
        // The same request, so the same stored licence, as a day typed YYYY-MM-DD (as the picker sent it).
        expect(read.request).toEqual(typedAsBefore.request);
        expect(read.request.fields.firstIssuedOn).toBe('2015-03-01');
        // The review shows, and carries on, the day as read.
        expect(read.values['fields.firstIssuedOn']).toBe('2015-03-01');
        expect(() => validateFields(findLicenceType('driving-licence')!, read.request.fields)).not.toThrow();
      }
      const validity = requestOf({ ...base, validFrom: '2026年1月2日', validUntil: '20260302' });
      expect(validity.request).toMatchObject({
        validFrom: '2026-01-02T00:00:00+08:00',
        validUntil: '2026-03-02T16:00:00.000Z', // 00:00 Beijing on 03-03: valid through 03-02 (R60 F1)
      });
      expect(validity.values).toMatchObject({ validFrom: '2026-01-02', validUntil: '2026-03-02' });
    });

    it('refuses a day that is none, in the page’s words, and compares days however typed', () => {
      for (const typed of ['2015-02-30', '3/1/2015', '2015-13-01', '15-3-1', '明天']) {
        const refused = parseIssueForm(driving, { ...base, 'fields.firstIssuedOn': typed }, t);
        expect(refused).toEqual({
          errors: { 'fields.firstIssuedOn': '请按“年-月-日”填写有效日期，如 2026-03-05。' },
        });
      }
      expect(parseIssueForm(driving, { ...base, validFrom: '2026-02-30' }, en)).toEqual({
        errors: { validFrom: 'Enter a real date as YYYY-MM-DD, such as 2026-03-05.' },
      });
      // 2026/3/10 is after 2026-03-09, though "2026/3/10" < "2026-03-09" as typed text.
      expect(
        requestOf({ ...base, validFrom: '2026-03-09', validUntil: '2026/3/10' }).request.validUntil,
      ).toBe('2026-03-10T16:00:00.000Z');
      expect(
        parseIssueForm(driving, { ...base, validFrom: '2026/3/10', validUntil: '2026-03-09' }, t),
      ).toEqual({ errors: { validUntil: '有效期至不能早于生效日期。' } });
    });

    it('renders a refused day as typed, marked and described by its error, with the format in its hint', () => {
      const errors = { 'fields.firstIssuedOn': '请按“年-月-日”填写有效日期，如 2026-03-05。' };
      const markup = renderSchemaFields(
        driving.fields,
        { 'fields.firstIssuedOn': '2015-02-30' },
        errors,
        t,
      ).value;
      expect(markup).toMatch(
        /id="field-fields-firstIssuedOn"[^>]*aria-describedby="field-fields-firstIssuedOn-hint field-fields-firstIssuedOn-error"[^>]*aria-invalid="true"[^>]*value="2015-02-30"/s,
      );
      // The validity's own days say the format in their hints; a day the schema gives no hint gets it.
      expect(driving.validFrom.hint).toBe(
        '留空则立即生效。按“年-月-日”填写，如 2026-03-05（也可填 20260305）',
      );
      const bare = renderSchemaFields(
        schemaFormModel({ type: 'object', properties: { on: { type: 'string', format: 'date' } } }),
        {},
        {},
        en,
      ).value;
      expect(bare).toContain(
        '<span class="hint" id="field-fields-on-hint">As YYYY-MM-DD, such as 2026-03-05',
      );
    });
  });

  it('redisplays stored values but never a write-only one', () => {
    const model = schemaFormModel(findLicenceTypeView('business-licence').fields);
    const values = valuesOf(model, {
      entityType: '有限责任公司',
      legalRepresentativeIdNumber: '110105199003071239',
      registeredCapital: { amount: 5, currency: 'CNY' },
    });
    expect(values).toEqual({
      'fields.entityType': '有限责任公司',
      'fields.registeredCapital.amount': '5',
      'fields.registeredCapital.currency': 'CNY',
    });
  });
});

function findLicenceTypeView(code: string) {
  const view = catalogueView().find((type) => type.code === code);
  if (!view) throw new Error(`no type ${code}`);
  return view;
}
