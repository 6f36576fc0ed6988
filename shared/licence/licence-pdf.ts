import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { inflateSync } from 'node:zlib';
import type PDFKit from 'pdfkit';
import { qrModules } from './qr.js';
import type { Clock } from '../clock.js';
import { ConflictError } from '../errors.js';
import type { Signer } from '../crypto/signer.js';
import type { Issuer } from '../issuers/issuer.js';
import { credentialKeyPublished, issuerPublishedKeys } from '../issuers/credential-key.js';
import { catalogueView, findLicenceType, lookupKeyFields } from './catalogue.js';
import { signLicencePdf } from './licence-pdf-signature.js';
import { pdfFontFile } from './pdf-font.js';
import type { PdfSignatureCache } from './pdf-signature-cache.js';
import { licencePdfQuery, pdfLayouts, type PdfLayout } from './pdf-layouts.js';
import { effectiveStatus, type LicenceRecord, type LicenceStatus } from './licence.js';
import { lastValidDay } from '../validity-dates.js';
import { isSensitiveFieldName, withoutSensitiveFields } from '../identifiers/sensitive-field-names.js';

export { pdfFontFile };

export { licencePdfQuery, pdfLayouts, type PdfLayout };

/**
 * The size of one QR module on paper, in millimetres, per layout. A credential's QR code is at most
 * version 25 at level M (`test/integration/http/credential-conventions.test.ts`): 117 modules, 125 with the quiet zone.
 * 0.5 mm on A4 (a 62.5 mm symbol at most) is read by any phone camera from 20–30 cm, and survives a
 * 300 dpi office printer (6 dots a module); 0.4 mm on the card (50 mm at most, the card's height less
 * its margins) needs the phone closer (10–15 cm) and a printer of 300 dpi or better (4.7 dots a module).
 */
export const qrModuleMm: Record<PdfLayout, number> = { a4: 0.5, card: 0.4 };

const mm = (value: number) => (value * 72) / 25.4;
const fontName = 'NotoSansSC';
const black = '#1a1a1a';
const grey = '#555555';
const sealRed = '#d7141a';

let loaded: Promise<Buffer> | undefined;

/** The font as an OpenType file, read and unwrapped once per container. */
function font(): Promise<Buffer> {
  loaded ??= readFile(resolve(pdfFontFile)).then(woffToSfnt, (error: unknown) => {
    loaded = undefined;
    throw error;
  });
  return loaded;
}

/**
 * A WOFF 1.0 font as the plain OpenType (SFNT) file it wraps: each table inflated once, with Node's zlib.
 * fontkit reads WOFF itself, but inflates a table (in JavaScript) at every access, the glyph table at
 * every glyph: seconds a document.
 */
export function woffToSfnt(woff: Buffer): Buffer {
  if (woff.toString('latin1', 0, 4) !== 'wOFF') throw new Error('Not a WOFF 1.0 font');
  const flavor = woff.readUInt32BE(4);
  const count = woff.readUInt16BE(12);
  const tables = Array.from({ length: count }, (_, i) => {
    const entry = 44 + i * 20;
    const offset = woff.readUInt32BE(entry + 4);
    const compressed = woff.readUInt32BE(entry + 8);
    const length = woff.readUInt32BE(entry + 12);
    const raw = woff.subarray(offset, offset + compressed);
    return {
      tag: woff.subarray(entry, entry + 4),
      checksum: woff.readUInt32BE(entry + 16),
      data: compressed < length ? inflateSync(raw) : raw,
    };
  });
  const padded = (length: number) => (length + 3) & ~3;
  const header = 12 + 16 * count;
  const out = Buffer.alloc(header + tables.reduce((sum, table) => sum + padded(table.data.length), 0));
  const power = 2 ** Math.floor(Math.log2(count));
  out.writeUInt32BE(flavor, 0);
  out.writeUInt16BE(count, 4);
  out.writeUInt16BE(power * 16, 6);
  out.writeUInt16BE(Math.log2(power), 8);
  out.writeUInt16BE(count * 16 - power * 16, 10);
  let at = header;
  tables.forEach((table, i) => {
    const record = 12 + i * 16;
    table.tag.copy(out, record);
    out.writeUInt32BE(table.checksum, record + 4);
    out.writeUInt32BE(at, record + 8);
    out.writeUInt32BE(table.data.length, record + 12);
    table.data.copy(out, at);
    at += padded(table.data.length);
  });
  return out;
}

/** What a printable licence shows: the licence as stored, its issuer, and its status now. */
export interface PrintableLicence {
  licence: Pick<
    LicenceRecord,
    'id' | 'type' | 'holder' | 'fields' | 'issuedAt' | 'validFrom' | 'validUntil' | 'credential' | 'history'
  >;
  issuer: Pick<Issuer, 'id' | 'name' | 'creditCode'>;
  /** The effective status at rendering (`effectiveStatus`): anything but valid is printed across the page. */
  status: LicenceStatus;
}

/**
 * The licence as a PDF (电子证照版式文件): its type, holder, fields (the catalogue's Chinese labels),
 * licence number, issuer (发证机关), dates, the QR code of its signed credential (the static code the
 * verifier checks offline, vector modules of {@link qrModuleMm}) and the issuer's seal drawn from its
 * name. A licence that is not valid says so in a coloured band at the top of each page.
 *
 * Deterministic: the document's dates are the licence's issue time and its file id derives from them,
 * so one licence in one status gives the same bytes every time (what the detached signature of
 * `licence-pdf-signature.ts` covers).
 *
 * @example
 * ```ts
 * const pdf = await renderLicencePdf({ licence, issuer, status: effectiveStatus(licence, now) }, 'a4');
 * ```
 */
export async function renderLicencePdf(input: PrintableLicence, layout: PdfLayout): Promise<Buffer> {
  const PDFDocument = await pdfkit();
  const issued = new Date(input.licence.issuedAt);
  const typeName = findLicenceType(input.licence.type)?.name.zh ?? input.licence.type;
  const doc = new PDFDocument({
    size: layout === 'a4' ? 'A4' : [mm(85.6), mm(54)],
    margin: 0,
    autoFirstPage: false,
    // No default font: pdfkit's standard fonts are files its bundle would not carry.
    font: null as unknown as string,
    lang: 'zh-CN',
    displayTitle: true,
    info: {
      Title: `${typeName} ${input.licence.id}`,
      Author: input.issuer.name,
      Subject: '电子证照版式文件',
      Creator: 'elicence',
      Producer: 'elicence (PDFKit)',
      CreationDate: issued,
      ModDate: issued,
    },
  });
  doc.registerFont(fontName, await font());
  const chunks: Buffer[] = [];
  doc.on('data', (chunk: Buffer) => chunks.push(chunk));
  const ended = new Promise<void>((done, fail) => {
    doc.on('end', done);
    doc.on('error', fail);
  });
  const content = printedContent(input, typeName);
  if (layout === 'a4') drawA4(doc, content, input);
  else drawCard(doc, content, input);
  doc.end();
  await ended;
  return Buffer.concat(chunks);
}

interface PrintedContent {
  typeName: string;
  rows: { label: string; value: string }[];
  number: string;
  dates: { issued: string; validFrom: string; validUntil: string };
  banner?: { colour: string; title: string; text: string };
}

function printedContent(input: PrintableLicence, typeName: string): PrintedContent {
  const { licence } = input;
  const holderLabel = licence.holder.kind === 'entity' ? '持证单位' : '持证人';
  const numberLabel = licence.holder.kind === 'entity' ? '统一社会信用代码' : '身份证件号码';
  return {
    typeName,
    rows: [
      { label: holderLabel, value: licence.holder.name },
      { label: numberLabel, value: licence.holder.masked },
      ...fieldRows(licence.type, licence.fields),
    ],
    number: licence.id,
    dates: {
      issued: chineseDate(licence.issuedAt),
      validFrom: chineseDate(licence.validFrom),
      // The last valid day, the day before `validUntil`'s 00:00 (review R60 F1).
      validUntil: licence.validUntil
        ? chineseDate(lastValidDay(licence.validUntil) ?? licence.validUntil)
        : '长期',
    },
    ...(input.status === 'valid' ? {} : { banner: bannerOf(input) }),
  };
}

/** The band across a licence that is not valid: its status in words, and since when where known. */
function bannerOf(input: PrintableLicence): PrintedContent['banner'] {
  const last = [...input.licence.history]
    .reverse()
    .find((event) => event.action === 'revoked' || event.action === 'suspended');
  const since = last ? `（${chineseDate(last.at)}起）` : '';
  switch (input.status) {
    case 'revoked':
      return {
        colour: '#b00020',
        title: `已吊销${since}`,
        text: '此证照已被发证机关吊销，不能作为有效证照使用。',
      };
    case 'suspended':
      return {
        colour: '#8a5a00',
        title: `已暂停${since}`,
        text: '此证照已被发证机关暂停，暂停期间不能作为有效证照使用。',
      };
    default:
      return {
        colour: '#b00020',
        title: '已过期',
        text: '此证照已过有效期，不能作为有效证照使用。',
      };
  }
}

/** The licence's fields with the catalogue's Chinese titles, in its order; lookup keys never. */
function fieldRows(typeCode: string, fields: Record<string, unknown>): { label: string; value: string }[] {
  const type = findLicenceType(typeCode);
  const view = catalogueView().find((entry) => entry.code === typeCode);
  const properties = (view?.fields.properties ?? {}) as Record<string, { title?: unknown }>;
  const masked = new Map((type?.sensitiveFields ?? []).map((field) => [field.field, field.maskedAs]));
  const hidden = lookupKeyFields(type);
  const titles = new Map<string, string>();
  for (const [name, schema] of Object.entries(properties)) {
    if (typeof schema.title === 'string') titles.set(masked.get(name) ?? name, schema.title);
  }
  // By the catalogue's marking and, fail-safe, by the field's name (a type that forgot the marking).
  const names = Object.keys(fields).filter((name) => !hidden.has(name) && !isSensitiveFieldName(name));
  const ordered = [
    ...[...titles.keys()].filter((name) => names.includes(name)),
    ...names.filter((name) => !titles.has(name)),
  ];
  return ordered.map((name) => ({
    label: titles.get(name) ?? name,
    value: formatValue(typeCode, name, withoutSensitiveFields(fields[name])),
  }));
}

const degrees: Record<string, string> = { bachelor: '学士', master: '硕士', doctor: '博士' };

function formatValue(typeCode: string, name: string, value: unknown): string {
  if (typeCode === 'degree-certificate' && name === 'degree' && typeof value === 'string') {
    return degrees[value] ?? value;
  }
  if (typeCode === 'professional-qualification' && name === 'level' && typeof value === 'number') {
    return `${value} 级`;
  }
  if (typeCode === 'real-estate-title' && name === 'area' && typeof value === 'number') {
    return `${value} 平方米`;
  }
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value)) return chineseDate(value);
  if (value !== null && typeof value === 'object') {
    const money = value as { amount?: unknown; currency?: unknown };
    if (typeof money.amount === 'number' && typeof money.currency === 'string') {
      return money.currency === 'CNY'
        ? `人民币 ${money.amount.toLocaleString('zh-CN')} 元`
        : `${money.amount.toLocaleString('zh-CN')} ${money.currency}`;
    }
    return Object.entries(value)
      .map(([key, inner]) => `${key}: ${typeof inner === 'object' ? JSON.stringify(inner) : String(inner)}`)
      .join('；');
  }
  return String(value);
}

/**
 * The label/value rows of a licence's fields, label in grey and value in black beside it, from `y` down:
 * each value cut (with an ellipsis) at `maxValueHeight` and at what is left above `bottom` (never below
 * `minValueHeight`), no row begun below `lastRowAt`. Answers the `y` under the last row. The A4 page and
 * the back of the card differ only in these measures.
 */
function drawFieldRows(
  doc: PDFKit.PDFDocument,
  rows: ReadonlyArray<{ label: string; value: string }>,
  box: {
    x: number;
    y: number;
    labelWidth: number;
    labelGap: number;
    valueWidth: number;
    fontSize: number;
    maxValueHeight: number;
    minRowHeight: number;
    rowGap: number;
    lastRowAt: number;
    bottom: number;
    minValueHeight: number;
  },
): number {
  let y = box.y;
  for (const row of rows) {
    if (y > box.lastRowAt) break;
    const labelOptions = { width: box.labelWidth - box.labelGap };
    doc.fontSize(box.fontSize).fillColor(grey).text(row.label, box.x, y, labelOptions);
    const labelHeight = doc.heightOfString(row.label, labelOptions);
    doc.fillColor(black);
    const height = Math.min(
      doc.heightOfString(row.value, { width: box.valueWidth }),
      box.maxValueHeight,
      Math.max(box.minValueHeight, box.bottom - y),
    );
    doc.text(row.value, box.x + box.labelWidth, y, { width: box.valueWidth, height, ellipsis: '…' });
    y += Math.max(height, labelHeight, box.minRowHeight) + box.rowGap;
  }
  return y;
}

/** `2026-12-05` or an RFC 3339 time as `2026年12月5日`, the calendar day in China (UTC+8). */
function chineseDate(value: string): string {
  const day = /^\d{4}-\d{2}-\d{2}$/.test(value)
    ? value
    : new Date(Date.parse(value) + 8 * 3_600_000).toISOString().slice(0, 10);
  const [year, month, date] = day.split('-').map(Number);
  return `${year}年${month}月${date}日`;
}

type Doc = InstanceType<typeof PDFKit>;

let renderer: Promise<typeof PDFKit> | undefined;
/**
 * pdfkit and fontkit, loaded when the first PDF is asked for: their module setup is most of the
 * `licences` and `me` functions' import time, which every cold start would otherwise pay (docs/benchmarks.md).
 */
function pdfkit(): Promise<typeof PDFKit> {
  renderer ??= import('pdfkit').then((module) => module.default);
  return renderer;
}

function drawA4(doc: Doc, content: PrintedContent, input: PrintableLicence): void {
  doc.addPage({ size: 'A4', margin: 0 });
  const width = doc.page.width;
  const left = mm(20);
  const inner = width - 2 * left;
  let y = mm(18);
  doc.font(fontName).fillColor(grey).fontSize(10).text('中华人民共和国电子证照', left, y, {
    width: inner,
    align: 'center',
  });
  y += mm(7);
  doc.fillColor(black).fontSize(24).text(content.typeName, left, y, { width: inner, align: 'center' });
  y += mm(13);
  if (content.banner) y = drawBanner(doc, content.banner, left, y, inner, 14) + mm(4);
  doc
    .moveTo(left, y)
    .lineTo(left + inner, y)
    .lineWidth(0.8)
    .strokeColor(black)
    .stroke();
  y += mm(5);
  // The licence number (a GB/T 36904 identifier, about 45 characters) on a line of its own, whole.
  doc
    .fontSize(11)
    .fillColor(grey)
    .text('证照编号', left, y, { width: mm(38) });
  doc.fillColor(black).text(content.number, left + mm(38), y, { width: inner - mm(38) });
  y += mm(9);

  // The QR code on the right, beside the fields: always on page 1, whatever the fields' length.
  const matrix = qrMatrix(input.licence.credential);
  const qrSide = mm((matrix.size + 8) * qrModuleMm.a4);
  const qrX = left + inner - qrSide;
  drawQr(doc, matrix, qrX, y, qrModuleMm.a4);
  doc
    .fontSize(8)
    .fillColor(grey)
    .text('扫码核验：以“电子证照核验”扫描，离线可验签名，联网可查状态', qrX, y + qrSide + mm(1), {
      width: qrSide,
      align: 'center',
    });

  const labelWidth = mm(38);
  const bottom = doc.page.height - mm(95);
  // Each value at most five lines (a business scope runs to 4,000 characters), so that every field shows.
  drawFieldRows(doc, content.rows, {
    x: left,
    y,
    labelWidth,
    labelGap: mm(2),
    valueWidth: qrX - left - labelWidth - mm(6),
    fontSize: 11,
    maxValueHeight: mm(28),
    minRowHeight: mm(6),
    rowGap: mm(2.5),
    lastRowAt: bottom,
    bottom,
    minValueHeight: mm(6),
  });

  // The issuer block at the foot, with the seal over it as a paper licence has it.
  const footY = doc.page.height - mm(85);
  const dateRows = [
    { label: '发证机关', value: input.issuer.name },
    { label: '签发日期', value: content.dates.issued },
    { label: '有效期限', value: `${content.dates.validFrom} 至 ${content.dates.validUntil}` },
  ];
  let fy = footY;
  for (const row of dateRows) {
    doc.fontSize(11).fillColor(grey).text(row.label, left, fy, { width: labelWidth });
    const width = inner - labelWidth - mm(50);
    doc.fillColor(black).text(row.value, left + labelWidth, fy, { width });
    fy += Math.max(doc.heightOfString(row.value, { width }), mm(5)) + mm(3);
  }
  drawSeal(doc, input.issuer.name, left + inner - mm(32), footY + mm(10), mm(21));
  doc
    .fontSize(8)
    .fillColor(grey)
    .text(
      '本文件为电子证照的版式文件，由电子证照平台生成。文件签名（licence-pdf+jws）随文件提供，可在核验服务（POST /verify/pdf）或以平台或发证机关的公钥检查文件未被改动；证照当前状态以扫码核验结果为准。',
      left,
      doc.page.height - mm(28),
      { width: inner, lineGap: 2 },
    );
}

function drawCard(doc: Doc, content: PrintedContent, input: PrintableLicence): void {
  // 正面: the type, holder, number, dates and the QR code.
  doc.addPage({ size: [mm(85.6), mm(54)], margin: 0 });
  const pad = mm(2);
  const matrix = qrMatrix(input.licence.credential);
  const module = Math.min(qrModuleMm.card, 50 / (matrix.size + 8));
  const qrSide = mm((matrix.size + 8) * module);
  const qrX = doc.page.width - qrSide - pad;
  const qrY = (doc.page.height - qrSide) / 2;
  drawQr(doc, matrix, qrX, qrY, module);
  const textWidth = qrX - pad * 2;
  let y = pad + mm(1);
  doc.font(fontName).fontSize(5).fillColor(grey).text('中华人民共和国电子证照', pad, y, { width: textWidth });
  y += mm(3);
  doc
    .fontSize(9)
    .fillColor(black)
    .text(content.typeName, pad, y, { width: textWidth, height: mm(9) });
  y += Math.min(doc.heightOfString(content.typeName, { width: textWidth }), mm(9)) + mm(1);
  if (content.banner) {
    y = drawBanner(doc, { ...content.banner, text: '' }, pad, y, textWidth, 7) + mm(1);
  }
  const front = [
    content.rows[0]!,
    { label: '证照编号', value: content.number },
    { label: '有效期限', value: `${content.dates.validFrom}至${content.dates.validUntil}` },
    { label: '发证机关', value: input.issuer.name },
  ];
  for (const row of front) {
    doc.fontSize(4.5).fillColor(grey).text(row.label, pad, y, { width: textWidth });
    y += mm(2);
    // A licence number (27 characters) fits one line at 5 pt; names and dates are set larger.
    doc.fontSize(row.label === '证照编号' ? 5 : 6).fillColor(black);
    const height = Math.min(doc.heightOfString(row.value, { width: textWidth }), mm(6));
    doc.text(row.value, pad, y, { width: textWidth, height, ellipsis: '…' });
    y += height + mm(1);
  }

  // 背面: every field, the issuer and its seal.
  doc.addPage({ size: [mm(85.6), mm(54)], margin: 0 });
  if (content.banner) drawBanner(doc, { ...content.banner, text: '' }, pad, pad, doc.page.width - 2 * pad, 7);
  const top = content.banner ? mm(9) : pad + mm(1);
  const labelWidth = mm(18);
  const limit = doc.page.height - mm(9);
  // Two lines a value at most: the back of a card holds every field, not every word.
  drawFieldRows(doc, content.rows.slice(1), {
    x: pad,
    y: top,
    labelWidth,
    labelGap: mm(1),
    valueWidth: doc.page.width - 2 * pad - labelWidth,
    fontSize: 5,
    maxValueHeight: mm(5.4),
    minRowHeight: mm(2.2),
    rowGap: mm(0.6),
    lastRowAt: limit - mm(2.5),
    bottom: limit,
    minValueHeight: 0,
  });
  doc
    .fontSize(5)
    .fillColor(grey)
    .text(
      `发证机关 ${input.issuer.name}\u3000签发日期 ${content.dates.issued}`,
      pad,
      doc.page.height - mm(6),
      {
        width: doc.page.width - 2 * pad - mm(18),
      },
    );
  drawSeal(doc, input.issuer.name, doc.page.width - mm(11), doc.page.height - mm(11), mm(9));
}

/** A full-width coloured band: the status in large words, and what it means. Returns its bottom. */
function drawBanner(
  doc: Doc,
  banner: NonNullable<PrintedContent['banner']>,
  x: number,
  y: number,
  width: number,
  size: number,
): number {
  const padding = size * 0.5;
  doc.fontSize(size);
  const titleHeight = doc.heightOfString(banner.title, { width: width - 2 * padding });
  doc.fontSize(size * 0.7);
  const textHeight = banner.text ? doc.heightOfString(banner.text, { width: width - 2 * padding }) : 0;
  const height = titleHeight + textHeight + 2 * padding;
  doc.rect(x, y, width, height).fill(banner.colour);
  doc
    .fillColor('#ffffff')
    .fontSize(size)
    .text(banner.title, x + padding, y + padding, { width: width - 2 * padding, align: 'center' });
  if (banner.text) {
    doc.fontSize(size * 0.7).text(banner.text, x + padding, y + padding + titleHeight, {
      width: width - 2 * padding,
      align: 'center',
    });
  }
  doc.fillColor(black);
  return y + height;
}

interface QrMatrix {
  size: number;
  dark: (row: number, column: number) => boolean;
}

/** The credential's QR code at level M, the code `qr.ts` renders for screens: the same symbol. */
function qrMatrix(text: string): QrMatrix {
  // Through qr.ts: a credential too large for any symbol (stored before issuance checked) is a 409.
  const { modules } = qrModules(text);
  return { size: modules.size, dark: (row, column) => Boolean(modules.get(row, column)) };
}

/**
 * The QR code as vector rectangles (one per horizontal run of dark modules) on a white square with the
 * four-module quiet zone, `module` millimetres a module.
 */
function drawQr(doc: Doc, matrix: QrMatrix, x: number, y: number, module: number): void {
  const side = mm((matrix.size + 8) * module);
  doc.rect(x, y, side, side).fill('#ffffff');
  const unit = mm(module);
  for (let row = 0; row < matrix.size; row++) {
    let column = 0;
    while (column < matrix.size) {
      if (!matrix.dark(row, column)) {
        column++;
        continue;
      }
      const start = column;
      while (column < matrix.size && matrix.dark(row, column)) column++;
      doc.rect(x + (start + 4) * unit, y + (row + 4) * unit, (column - start) * unit, unit);
    }
  }
  doc.fill('#000000');
}

/**
 * The issuer's seal, drawn: a red ring, the issuer's name along the upper arc (clockwise, upright at
 * the top, as Chinese official seals have it) and a five-pointed star in the centre. Vector paths and
 * glyphs only, no image; the seal is a picture of who issued, the signatures are what prove it.
 */
function drawSeal(doc: Doc, name: string, cx: number, cy: number, radius: number): void {
  doc.save();
  doc.strokeColor(sealRed).fillColor(sealRed).fillOpacity(0.9).strokeOpacity(0.9);
  doc
    .circle(cx, cy, radius)
    .lineWidth(radius * 0.06)
    .stroke();
  // The star: outer points at 0.32 r, inner at 0.13 r, one point up.
  const star: [number, number][] = [];
  for (let i = 0; i < 10; i++) {
    const r = i % 2 === 0 ? radius * 0.32 : radius * 0.13;
    const angle = -Math.PI / 2 + (i * Math.PI) / 5;
    star.push([cx + r * Math.cos(angle), cy + r * Math.sin(angle)]);
  }
  doc.polygon(...star).fill();
  // The name along the arc: from 210° to 330° of a clock face's circle, over the top (at most 240°).
  const characters = [...sealName(name)];
  const span = Math.min((240 * Math.PI) / 180, characters.length * 0.42);
  const size = Math.min(radius * 0.3, ((radius * 0.78 * span) / Math.max(characters.length, 1)) * 0.95);
  const textRadius = radius * 0.78;
  doc.fontSize(size);
  characters.forEach((character, i) => {
    const step = characters.length > 1 ? span / (characters.length - 1) : 0;
    // Angle from the top, clockwise: the first character at the left end of the arc.
    const theta = -span / 2 + i * step;
    const px = cx + textRadius * Math.sin(theta);
    const py = cy - textRadius * Math.cos(theta);
    doc.save();
    doc.translate(px, py).rotate((theta * 180) / Math.PI);
    const w = doc.widthOfString(character);
    doc.text(character, -w / 2, -size / 2, { lineBreak: false });
    doc.restore();
  });
  doc.restore();
  doc.fillColor(black).fillOpacity(1).strokeOpacity(1);
}

/**
 * A stored licence as its PDF, in its status at `now` (a valid licence past its end prints as expired).
 *
 * @example
 * ```ts
 * const pdf = await printLicence(licence, issuer, 'card', new Date());
 * ```
 */
export function printLicence(
  licence: LicenceRecord,
  issuer: Pick<Issuer, 'id' | 'name' | 'creditCode'>,
  layout: PdfLayout,
  now: Date,
): Promise<Buffer> {
  return renderLicencePdf({ licence, issuer, status: effectiveStatus(licence, now) }, layout);
}

/**
 * The detached signature of `licence`'s PDF in `layout` as it prints at `now`, signed by `signing.signer`
 * under `signing.iss`: from `cache` when the same bytes were signed by the same key within its lifetime,
 * else rendered and signed (one KMS Sign). Call it only after the route's checks.
 *
 * A licence whose issuer is withdrawn (or not active) is refused with a `ConflictError`
 * `issuer_withdrawn` (409), before the cache is looked at: `POST /verify/pdf` answers `issuer_withdrawn`
 * for such a file whoever signed it, so a signature made now could never verify, and one kept from before
 * the withdrawal must not be handed out either. The same, `key_withdrawn` (409), for a licence whose
 * credential was signed by an issuer key withdrawn since (a compromise): its QR code verifies
 * `unknown_issuer` until the issuer issues it again. The PDF itself (`printLicence`) is still served.
 *
 * @example
 * ```ts
 * const jws = await cachedPdfSignature(licence, issuer, 'a4', now, {
 *   signer: deps.platformSigner, clock: deps.clock, iss: deps.config.issuerUrl,
 * }, deps.pdfSignatures);
 * ```
 */
export async function cachedPdfSignature(
  licence: LicenceRecord,
  issuer: Issuer,
  layout: PdfLayout,
  now: Date,
  signing: { signer: Signer; clock: Clock; iss: string },
  cache: PdfSignatureCache,
): Promise<string> {
  // Fail closed: only an active issuer's licences are vouched for (verifyLicencePdf refuses the others).
  if (issuer.status !== 'active') {
    throw new ConflictError(
      `The licence's issuer ${issuer.id} is ${issuer.status}: its PDF is no longer signed`,
      'issuer_withdrawn',
    );
  }
  // Nor a licence whose credential (its QR code) was signed by a key withdrawn since: that code verifies
  // `unknown_issuer`, POST /verify/pdf answers `key_withdrawn` whoever signed the file, and a signature
  // kept from before must not be handed out either.
  if (!credentialKeyPublished(licence.credential, issuerPublishedKeys(issuer))) {
    throw new ConflictError(
      `The key that signed licence ${licence.id} was withdrawn: its PDF is no longer signed until it is issued again`,
      'key_withdrawn',
    );
  }
  const key = JSON.stringify([
    licence.id,
    licence.version,
    effectiveStatus(licence, now),
    layout,
    issuer.id,
    issuer.version,
    issuer.name,
    issuer.creditCode,
    signing.iss,
    // Read from the public key KMS gave once per container (signing needs it too): no KMS call of its own.
    await signing.signer.kid(),
  ]);
  return cache.get(key, async () =>
    // The same bytes as GET …/pdf gives (rendering is deterministic), signed now.
    signLicencePdf(
      await printLicence(licence, issuer, layout, now),
      { licenceId: licence.id, issuer, layout },
      signing,
    ),
  );
}

/** The name a downloaded file is saved under: the licence id (letters and digits only) and the layout. */
export function pdfFileName(licenceId: string, layout: PdfLayout, extension: 'pdf' | 'pdf.jws'): string {
  return `licence-${licenceId.replace(/[^0-9A-Za-z]/g, '')}-${layout}.${extension}`;
}

/**
 * The words a seal carries: the issuer's name without a parenthesised addition (a translation, a
 * note), as official seals carry the name alone; the whole name when nothing is left without it.
 *
 * @example
 * ```ts
 * sealName('北京市政务服务管理局 (Beijing Government Services Administration)'); // '北京市政务服务管理局'
 * ```
 */
export function sealName(name: string): string {
  const bare = name.replace(/\s*[（(].*$/u, '').trim();
  return bare || name.trim();
}
