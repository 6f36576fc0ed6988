import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  pdfFontFile,
  renderLicencePdf,
  sealName,
  woffToSfnt,
  type PrintableLicence,
} from '../../../shared/licence/licence-pdf.js';

const run = promisify(execFile);

/** A business licence with longer fields than the catalogue allows now (4,000, as licences stored before the QR limit may hold): page 1 must still fit. */
const business: PrintableLicence = {
  licence: {
    id: '1.2.156.3005.2.001.91110105MA00000000.0.001.D',
    type: 'business-licence',
    holder: { kind: 'entity', name: '北京示例科技有限公司', masked: '91110105MA0000000X', lookupKey: 'k' },
    fields: {
      entityType: '有限责任公司（自然人投资或控股）',
      legalRepresentativeName: '王小明',
      legalRepresentativeIdMasked: '110105********1239',
      legalRepresentativeLookupKey: 'never-printed-lookup-key',
      registeredCapital: { amount: 1_000_000, currency: 'CNY' },
      establishedOn: '2015-06-01',
      businessScope: '技术开发、技术咨询、技术服务；'.repeat(280).slice(0, 4000),
      address: '北京市朝阳区示例路1号'.repeat(10),
    },
    issuedAt: '2026-01-02T03:04:05.000Z',
    validFrom: '2026-01-02T03:04:05.000Z',
    credential: `eyJ${'a'.repeat(1500)}`,
    history: [
      { at: '2026-01-02T03:04:05.000Z', action: 'issued', actor: 'c' },
      { at: '2026-03-01T02:00:00.000Z', action: 'suspended', actor: 'c', reason: '检查' },
    ],
  },
  issuer: { id: 'iss_1', name: '北京市朝阳区市场监督管理局', creditCode: '11110105000000000X' },
  status: 'valid',
};

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'elicence-pdf-unit-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

async function text(pdf: Buffer, name: string): Promise<{ text: string; pages: number }> {
  const file = join(work, `${name}.pdf`);
  await writeFile(file, pdf);
  const info = (await run('pdfinfo', [file])).stdout;
  return {
    text: (await run('pdftotext', [file, '-'])).stdout,
    pages: Number(/Pages:\s+(\d+)/.exec(info)?.[1]),
  };
}

describe('renderLicencePdf', () => {
  it('is deterministic: the same licence gives the same bytes, dated by its issue time', async () => {
    const first = await renderLicencePdf(business, 'a4');
    const again = await renderLicencePdf(business, 'a4');
    expect(again.equals(first)).toBe(true);
    expect((await text(first, 'dates')).text).toContain('2026年1月2日');
    const info = (await run('pdfinfo', ['-isodates', join(work, 'dates.pdf')])).stdout;
    expect(info).toMatch(/CreationDate:\s+2026-01-02T03:04:05/);
  });

  it('fits the longest fields on one A4 page and two card faces, never printing a lookup key', async () => {
    for (const layout of ['a4', 'card'] as const) {
      const { text: words, pages } = await text(await renderLicencePdf(business, layout), `long-${layout}`);
      expect(pages, layout).toBe(layout === 'a4' ? 1 : 2);
      expect(words).toContain('营业执照');
      expect(words).toContain('法定代表人');
      expect(words).not.toContain('never-printed-lookup-key');
    }
  });

  it('prints no raw number or lookup key of a type that forgot to mark them, by their names', async () => {
    const unmarked: PrintableLicence = {
      ...business,
      licence: {
        ...business.licence,
        type: 'unmarked-licence',
        fields: {
          spouseName: '李四',
          spouseIdNumber: '11010519491231002X',
          holderIdNumber: '11010519491231002X',
          guardianLookupKey: 'never-printed-unmarked-key',
        },
      },
    };
    const { text: words } = await text(await renderLicencePdf(unmarked, 'a4'), 'unmarked');
    expect(words).toContain('李四');
    expect(words).not.toContain('11010519491231002X');
    expect(words).not.toContain('never-printed-unmarked-key');
  });

  it('prints a licence that is not valid as such, with the date of the change', async () => {
    const suspended = await renderLicencePdf({ ...business, status: 'suspended' }, 'a4');
    const { text: words } = await text(suspended, 'suspended');
    expect(words).toContain('已暂停（2026年3月1日起）');
    const valid = (await text(await renderLicencePdf(business, 'a4'), 'valid')).text;
    expect(valid).not.toContain('已暂停');
    expect(
      (await text(await renderLicencePdf({ ...business, status: 'expired' }, 'card'), 'x')).text,
    ).toContain('已过期');
  });
});

describe('woffToSfnt', () => {
  it('unwraps the bundled WOFF into the OpenType file it holds', async () => {
    const sfnt = woffToSfnt(await readFile(resolve(pdfFontFile)));
    // TrueType outlines (version 1.0) with its tables, each where its record says.
    expect(sfnt.readUInt32BE(0)).toBe(0x00010000);
    const tables = sfnt.readUInt16BE(4);
    const tags = Array.from({ length: tables }, (_, i) => sfnt.toString('latin1', 12 + i * 16, 16 + i * 16));
    expect(tags).toEqual(expect.arrayContaining(['cmap', 'glyf', 'head', 'loca']));
    const head = 12 + tags.indexOf('head') * 16;
    // The head table's magic number, 0x5F0F3CF5, at offset 12 of the table.
    expect(sfnt.readUInt32BE(sfnt.readUInt32BE(head + 8) + 12)).toBe(0x5f0f3cf5);
  });

  it('refuses what is not a WOFF file', () => {
    expect(() => woffToSfnt(Buffer.from('not a font at all, not at all'))).toThrow(/WOFF/);
  });
});

describe('sealName', () => {
  it('keeps the name a seal carries: without a parenthesised translation, else whole', () => {
    expect(sealName('北京市政务服务管理局 (Beijing Government Services Administration, demo)')).toBe(
      '北京市政务服务管理局',
    );
    expect(sealName('上海市市场监督管理局（测试）')).toBe('上海市市场监督管理局');
    expect(sealName('(Test issuer)')).toBe('(Test issuer)');
  });
});
