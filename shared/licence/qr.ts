import QRCode from 'qrcode';
import { ConflictError } from '../errors.js';

/**
 * Error correction M (about 15 % of the symbol recoverable): the usual choice for printed and on-screen
 * codes, and the level our QR size budget (version at M) is measured at.
 */
const errorCorrectionLevel = 'M';
/** The four-module quiet zone ISO/IEC 18004 requires; scanners miss codes printed without it. */
const margin = 4;
/** Pixels per module of the PNG: four is the least that phone cameras read reliably off a screen. */
const scale = 4;

/**
 * The largest QR version a licence's credential may need at level M: issuance refuses a licence whose
 * credential would need more (`credential_too_large`, `issue-licence.ts`), so every licence issued since
 * has its QR code, PDF and `POST /verify` scan. Version 40 is the largest symbol there is (177 modules);
 * most types stay within version 25 (docs/printable-licence.md), only long text (a business scope, an
 * address) goes beyond.
 */
export const maxCredentialQrVersion = 40;

/**
 * The text does not fit a QR code at level M (more than version 40 holds). Issuance keeps credentials
 * within it, so only a licence stored before that check can meet this: a 409 `qr_too_large` (the
 * licence's state, not a fault of the request nor of the service's code), never a 500.
 */
export class QrCapacityError extends ConflictError {
  constructor(length: number, options?: { cause?: unknown }) {
    super(
      `${length} characters do not fit a QR code at level M: this licence was issued before its size was checked; issue it again with shorter fields`,
      'qr_too_large',
      options,
    );
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
 * The QR symbol of `text` at level M (the one {@link renderQrSvg} draws), for a renderer that draws its
 * modules itself (the printable licence); a {@link QrCapacityError} when it does not fit.
 *
 * @example
 * ```ts
 * const { size, get } = qrModules(credential).modules; // get(row, column): 1 for a dark module
 * ```
 */
export function qrModules(text: string): QRCode.QRCode {
  return capacityChecked(text, () => QRCode.create(text, { errorCorrectionLevel }));
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
