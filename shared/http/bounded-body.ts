/**
 * Reading another service's answer without trusting its size: the body is read as a stream and given up
 * on as soon as it passes the bound, so that a hostile or broken server cannot make a function hold (or
 * wait for) more than the bound, whatever it declares.
 *
 * @packageDocumentation
 */

/**
 * The body of `response` as UTF-8 text if it is at most `maxBytes` bytes; `undefined`, with the rest of
 * the stream cancelled unread, as soon as it is longer (or declares a longer `content-length`). The
 * request's own timeout (its `signal`) still bounds how long the reading may take.
 *
 * @example
 * ```ts
 * const text = await readBoundedText(await fetch(url, { signal }), 128 * 1024);
 * if (text === undefined) throw new Error('too large');
 * ```
 */
export async function readBoundedText(response: Response, maxBytes: number): Promise<string | undefined> {
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    return undefined;
  }
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let length = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    length += value.byteLength;
    if (length > maxBytes) {
      // Stop here: the rest is neither read nor kept.
      await reader.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, length).toString('utf8');
}
