/**
 * The font the printable licence is set in: Noto Sans SC (SIL Open Font License, from
 * `@fontsource/noto-sans-sc`), its simplified-Chinese subset, regular weight. pdfkit embeds only the
 * glyphs a document uses (a page of a licence carries about 20–40 KB of font).
 *
 * The path is relative to the working directory, which is the repository root locally and
 * `/var/task` in Lambda, where the bundling of the functions that render (`licences`, `me`) copies the
 * file to the same relative path (`infra/constructs/service-function.ts`, `pdfFont`): one path that exists
 * in both, and no network at run time.
 */
export const pdfFontFile =
  'node_modules/@fontsource/noto-sans-sc/files/noto-sans-sc-chinese-simplified-400-normal.woff';
