/**
 * Finding a QR code in pixels: the platform's `BarcodeDetector` where there is one that reads QR codes
 * (Chrome on Android, Safari 17+), jsQR otherwise (desktop Chromium and Firefox, and headless tests).
 *
 * @packageDocumentation
 */
import jsqrModule from 'jsqr';

type JsQr = typeof jsqrModule.default;
// jsqr is CommonJS with `exports.default`: bundlers hand over either the function or the module object.
const jsQR: JsQr =
  typeof jsqrModule === 'function' ? (jsqrModule as unknown as JsQr) : (jsqrModule.default as JsQr);

/** The part of the Barcode Detection API used here (not in TypeScript's DOM library yet). */
interface BarcodeDetectorLike {
  detect(source: ImageBitmapSource): Promise<Array<{ rawValue: string }>>;
}
interface BarcodeDetectorClass {
  new (options: { formats: string[] }): BarcodeDetectorLike;
  getSupportedFormats?(): Promise<string[]>;
}

let detector: Promise<BarcodeDetectorLike | undefined> | undefined;

/** The platform's QR detector, or undefined where there is none (asked once). */
export function qrDetector(): Promise<BarcodeDetectorLike | undefined> {
  detector ??= (async () => {
    const Detector = (globalThis as { BarcodeDetector?: BarcodeDetectorClass }).BarcodeDetector;
    if (!Detector) return undefined;
    try {
      const formats = (await Detector.getSupportedFormats?.()) ?? ['qr_code'];
      return formats.includes('qr_code') ? new Detector({ formats: ['qr_code'] }) : undefined;
    } catch {
      return undefined;
    }
  })();
  return detector;
}

/** Largest side jsQR is given: a 12-megapixel photo takes seconds and reads no better. */
export const maxDecodeSide = 2048;

/**
 * The sizes (width, height) to try a photo at, largest first: its own size (capped at
 * {@link maxDecodeSide}), then smaller, since a QR code filling a large photo is often found only once
 * the noise is averaged away, and a small one only at full size. No size larger than the photo.
 *
 * @example
 * ```ts
 * decodeSizes(4032, 3024); // [[2048, 1536], [1200, 900], [800, 600], [480, 360]]
 * ```
 */
export function decodeSizes(width: number, height: number): Array<[number, number]> {
  const longest = Math.max(width, height);
  if (!(longest > 0)) return [];
  const sides = [Math.min(longest, maxDecodeSide), 1200, 800, 480].filter((side) => side <= longest);
  const sizes: Array<[number, number]> = [];
  for (const side of sides) {
    const scale = side / longest;
    const size: [number, number] = [
      Math.max(1, Math.round(width * scale)),
      Math.max(1, Math.round(height * scale)),
    ];
    if (!sizes.some(([w, h]) => w === size[0] && h === size[1])) sizes.push(size);
  }
  return sizes;
}

/** The text of a QR code in these pixels, or undefined (inverted codes too: some apps show white on dark). */
export function decodePixels(pixels: ImageData): string | undefined {
  return (
    jsQR(pixels.data, pixels.width, pixels.height, { inversionAttempts: 'attemptBoth' })?.data || undefined
  );
}

/** The pixels of `source` drawn at `width` × `height` on a reusable canvas. */
export function pixelsOf(
  source: CanvasImageSource,
  width: number,
  height: number,
  canvas: HTMLCanvasElement = document.createElement('canvas'),
): ImageData {
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext('2d', { willReadFrequently: true });
  if (!context) throw new Error('No 2D canvas');
  // White first: a transparent PNG's "black on nothing" would otherwise read as black on black.
  context.fillStyle = '#fff';
  context.fillRect(0, 0, width, height);
  context.drawImage(source, 0, 0, width, height);
  return context.getImageData(0, 0, width, height);
}

/**
 * The QR text in a photo or screenshot: the platform detector first, then jsQR at each of
 * {@link decodeSizes}. Undefined when no code is found; rejects when the file is not an image.
 *
 * @example
 * ```ts
 * const text = await decodeImageFile(input.files[0]);
 * ```
 */
export async function decodeImageFile(file: Blob): Promise<string | undefined> {
  // `from-image` honours the EXIF orientation of phone photos.
  const bitmap = await createImageBitmap(file, { imageOrientation: 'from-image' });
  try {
    const platform = await qrDetector();
    if (platform) {
      try {
        const found = await platform.detect(bitmap);
        if (found[0]?.rawValue) return found[0].rawValue;
      } catch {
        // A detector that fails on this image: jsQR may still read it.
      }
    }
    const canvas = document.createElement('canvas');
    for (const [width, height] of decodeSizes(bitmap.width, bitmap.height)) {
      const text = decodePixels(pixelsOf(bitmap, width, height, canvas));
      if (text) return text;
      // Give the page a frame to breathe between attempts on large photos.
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    return undefined;
  } finally {
    bitmap.close();
  }
}
