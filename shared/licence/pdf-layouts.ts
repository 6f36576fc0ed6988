import * as z from 'zod';

/**
 * The printable licence's layouts (docs/printable-licence.md): an A4 page, and an ID-1 card (85.6 × 54 mm,
 * ISO/IEC 7810) printed front and back. A module of its own so that checking a PDF's signature
 * (`licence-pdf-signature.ts`, the `verify` function) and the API's description (the `catalogue` function)
 * do not bundle the renderer (pdfkit and its fonts).
 */
export const pdfLayouts = ['a4', 'card'] as const;
export type PdfLayout = (typeof pdfLayouts)[number];

/** `?layout=a4|card` of the PDF routes (A4 when absent). */
export const licencePdfQuery = z.strictObject({
  layout: z.enum(pdfLayouts).default('a4').meta({ description: 'a4 (default): an A4 page; card: ID-1 size' }),
});
