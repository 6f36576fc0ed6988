/**
 * Text that is not text (review R51 F1): U+FFFD, what a lossy decoder writes for bytes that were not
 * UTF-8 (a name a back office sends in GBK arrives as `���` once anything on the way decoded it as
 * UTF-8), and a lone surrogate (`"\ud800"` in JSON parses to one; it has no UTF-8 form, so a stored or
 * signed copy would carry U+FFFD in its place). No real name, address or purpose holds either, so every
 * free text that is kept, signed or shown refuses both (`invalid_characters`), whatever decoded it.
 *
 * @example
 * ```ts
 * unreadableText.test('李\uFFFD'); // true
 * unreadableText.test('李\ud800'); // true
 * unreadableText.test('𠀋'); // false: a surrogate pair is one character
 * ```
 */
export const unreadableText = /[\uFFFD\p{Cs}]/u;

/** What a field holding {@link unreadableText} is told. */
export const unreadableTextMessage = 'must not contain U+FFFD or unpaired surrogates: send the text as UTF-8';
