import QRCode from 'qrcode';
import { InternalError } from '../errors.js';

/**
 * Error correction M (about 15 % of the symbol recoverable): the usual choice for printed and on-screen
 * codes, and the level our QR size budget (version at M) is measured at.
 */
const errorCorrectionLevel = 'M';
/** The four-module quiet zone ISO/IEC 18004 requires; scanners miss codes printed without it. */
const margin = 4;
/** Pixels per module of the PNG: four is the least that phone cameras read reliably off a screen. */
const scale = 4;

/** The text does not fit a QR code at level M (more than version 40 holds). */
export class QrCapacityError extends InternalError {
  constructor(length: number, options?: { cause?: unknown }) {
    // Internal: what we encode is ours to keep small, so exceeding the capacity is our defect.
    super(`${length} characters do not fit a QR code at level M`, 'qr_capacity_exceeded', options);
    this.name = 'QrCapacityError';
  }
}

/**
 * The QR version (1–40) that `text` needs at error correction M; the size of the symbol is
 * `17 + 4 × version` modules a side.
 *
 * @example
 * ```ts
 * qrVersion('HELLO WORLD'); // 1
 * ```
 */
export function qrVersion(text: string): number {
  return capacityChecked(text, () => QRCode.create(text, { errorCorrectionLevel }).version);
}

/**
 * The QR code of `text` as a standalone SVG document (level M, quiet zone of four modules), sized by
 * its `viewBox` in modules so it scales without blurring.
 *
 * @example
 * ```ts
 * const svg = await renderQrSvg(credential); // '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 65 65" …'
 * ```
 */
export function renderQrSvg(text: string): Promise<string> {
  return capacityChecked(text, () => QRCode.toString(text, { type: 'svg', errorCorrectionLevel, margin }));
}

/**
 * The QR code of `text` as a PNG (level M, quiet zone of four modules, four pixels per module).
 *
 * @example
 * ```ts
 * const png = await renderQrPng(credential); // Buffer starting with \x89PNG
 * ```
 */
export function renderQrPng(text: string): Promise<Buffer> {
  return capacityChecked(text, () =>
    QRCode.toBuffer(text, { type: 'png', errorCorrectionLevel, margin, scale }),
  );
}

/** Runs `render`, turning the library's capacity failure (thrown or rejected) into ours. */
function capacityChecked<T>(text: string, render: () => T): T {
  const refuse = (error: unknown): never => {
    if (error instanceof Error && /too big|amount of data/i.test(error.message)) {
      throw new QrCapacityError(text.length, { cause: error });
    }
    throw error;
  };
  try {
    const result = render();
    return (result instanceof Promise ? result.catch(refuse) : result) as T;
  } catch (error) {
    return refuse(error);
  }
}
