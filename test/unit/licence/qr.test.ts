import { createHash } from 'node:crypto';
import jsqr from 'jsqr';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { QrCapacityError, qrVersion, renderQrPng, renderQrSvg } from '../../../shared/licence/qr.js';

// jsqr is CommonJS with an `exports.default`: under NodeNext the default import is `module.exports`.
const decodeQr = jsqr.default;

const b64url = (value: string | Buffer) => Buffer.from(value).toString('base64url');

/** A licence credential as it will look: a compact ES256 JWS of about 700 characters. */
const credential = [
  b64url(
    JSON.stringify({
      alg: 'ES256',
      typ: 'licence+jwt',
      kid: b64url(createHash('sha256').update('k').digest()),
    }),
  ),
  b64url(
    JSON.stringify({
      iss: 'iss_7Q2mXk4vH9pLwA3s',
      jti: '1.2.156.3005.2.003.91330100716105852F.42.001.D',
      iat: 1_790_000_000,
      nbf: 1_790_000_000,
      exp: 1_979_000_000,
      type: 'driving-licence',
      holder: { kind: 'person', name: 'Zhang San', masked: '110105********002X' },
      fields: { vehicleClass: 'C1', firstIssuedOn: '2012-03-01', archiveNumber: '110100123456' },
      status: { idx: 4711, uri: 'https://id.example.gov.cn/status-lists/sl_3kP9wQ' },
    }),
  ),
  b64url(createHash('sha512').update('signature').digest()),
].join('.');

/** Decodes an RGBA bitmap with a real QR decoder (the one web scanners use). */
function decode(rgba: Uint8ClampedArray, width: number, height: number): string | undefined {
  return decodeQr(rgba, width, height, { inversionAttempts: 'dontInvert' })?.data;
}

/**
 * Rasterises the SVG `qrcode` writes: a white background and one path of horizontal runs
 * (`M x y`, `m dx dy`, `h n`) whose stroke is one module wide, centred on `y`. Anything else in the
 * path fails the test, so a change of output format is noticed rather than misread.
 */
function rasterise(svg: string, pixelsPerModule = 4): { rgba: Uint8ClampedArray; size: number } {
  const modules = Number(/viewBox="0 0 (\d+) \1"/.exec(svg)?.[1]);
  const d = /<path stroke="#000000" d="([^"]*)"\/>/.exec(svg)?.[1] ?? '';
  const size = modules * pixelsPerModule;
  const rgba = new Uint8ClampedArray(size * size * 4).fill(255);
  let x = 0;
  let y = 0;
  for (const [, command, args] of d.matchAll(/([MmHhVvLlZz])([^MmHhVvLlZz]*)/g)) {
    const n = (args ?? '')
      .trim()
      .split(/[\s,]+/)
      .map(Number);
    if (command === 'M') [x, y] = [n[0]!, n[1]!];
    else if (command === 'm') [x, y] = [x + n[0]!, y + n[1]!];
    else if (command === 'h') {
      const row = y - 0.5;
      for (let col = x; col < x + n[0]!; col++) {
        for (let py = row * pixelsPerModule; py < (row + 1) * pixelsPerModule; py++) {
          for (let px = col * pixelsPerModule; px < (col + 1) * pixelsPerModule; px++) {
            rgba.fill(0, (py * size + px) * 4, (py * size + px) * 4 + 3);
          }
        }
      }
      x += n[0]!;
    } else throw new Error(`unexpected SVG path command ${command}`);
  }
  return { rgba, size };
}

describe('QR codes', () => {
  it('uses a realistic credential for the tests', () => {
    expect(credential.length).toBeGreaterThan(650);
    expect(credential.length).toBeLessThan(800);
    expect(credential).toMatch(/^[\w-]+\.[\w-]+\.[\w-]{86}$/);
  });

  it('tells the version a text needs at error correction M', () => {
    expect(qrVersion('HELLO WORLD')).toBe(1);
    const version = qrVersion(credential);
    // Byte mode at M (ISO/IEC 18004 table 7): version 20 holds 666 bytes, 21 holds 711, 22 holds 779.
    expect(version).toBeGreaterThanOrEqual(20);
    expect(version).toBeLessThanOrEqual(22);
  });

  it('renders a PNG that a QR decoder reads back exactly', async () => {
    const png = await renderQrPng(credential);
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    const image = PNG.sync.read(png);
    const modules = 17 + 4 * qrVersion(credential) + 2 * 4;
    expect(image.width).toBe(image.height);
    // At least four pixels per module, quiet zone included.
    expect(image.width).toBeGreaterThanOrEqual(modules * 4);
    expect(decode(new Uint8ClampedArray(image.data), image.width, image.height)).toBe(credential);
  });

  it('keeps a quiet zone of four modules around the PNG symbol', async () => {
    const image = PNG.sync.read(await renderQrPng('1.2.156.3005.2.001.91330100716105852F.42.001.D'));
    const border = 4 * 4;
    const inQuietZone = (x: number, y: number) =>
      x < border || y < border || x >= image.width - border || y >= image.height - border;
    let dark = 0;
    let darkInZone = 0;
    for (let y = 0; y < image.height; y++) {
      for (let x = 0; x < image.width; x++) {
        if (image.data[(y * image.width + x) * 4] !== 0) continue;
        dark++;
        if (inQuietZone(x, y)) darkInZone++;
      }
    }
    expect(dark).toBeGreaterThan(0);
    expect(darkInZone).toBe(0);
    // The finder pattern's corner starts right after the quiet zone.
    expect(image.data[(border * image.width + border) * 4]).toBe(0);
  });

  it('renders a well-formed SVG, sized by its viewBox, that a QR decoder reads back exactly', async () => {
    const svg = await renderQrSvg(credential);
    const modules = 17 + 4 * qrVersion(credential) + 2 * 4;
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" [^>]*>/);
    expect(svg).toContain(`viewBox="0 0 ${modules} ${modules}"`);
    expect(svg.trimEnd()).toMatch(/<\/svg>$/);
    // Well-formed: every element is self-closed or closed, in order.
    const open: string[] = [];
    for (const [, closing, name, selfClosing] of svg.matchAll(/<(\/?)([a-zA-Z]+)[^>]*?(\/?)>/g)) {
      if (closing) expect(open.pop()).toBe(name);
      else if (!selfClosing) open.push(name!);
    }
    expect(open).toEqual([]);

    const { rgba, size } = rasterise(svg);
    expect(decode(rgba, size, size)).toBe(credential);
  });

  it('refuses a text beyond the largest symbol with its own error', async () => {
    const huge = 'x'.repeat(3000);
    expect(() => qrVersion(huge)).toThrow(QrCapacityError);
    await expect(renderQrPng(huge)).rejects.toThrow(QrCapacityError);
    await expect(renderQrSvg(huge)).rejects.toMatchObject({ code: 'qr_too_large', kind: 'conflict' });
  });
});
