/**
 * The words of a field name, lower-cased: `holderIdNumber` → holder, id, number; `IDNumber` → id,
 * number; `spouse_id_card_no` → spouse, id, card, no.
 */
function wordsOf(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z])([A-Z][a-z])/g, '$1 $2')
    .split(/[\s_\-.]+/)
    .filter((word) => word.length > 0)
    .map((word) => word.toLowerCase());
}

/** Name endings, as words, that hold a resident ID number in clear or a lookup key. */
const sensitiveEndings: ReadonlyArray<readonly string[]> = [
  ['id', 'number'],
  ['id', 'no'],
  ['id', 'card', 'number'],
  ['id', 'card', 'no'],
  ['idcard', 'number'],
  ['idcard', 'no'],
  ['idnumber'],
  ['idno'],
  ['idcard'],
  ['id', 'card'],
  ['lookup', 'key'],
  ['lookup', 'keys'],
  ['lookupkey'],
  ['lookupkeys'],
];

/**
 * Whether a licence field's name says it holds a person's resident ID number in clear or a lookup key,
 * in any of the usual spellings and cases: `idNumber`, `IDNumber`, `spouseIdNumber`, `holderIdNo`,
 * `idCardNumber`, `id_card_no`, `lookupKey`, `legalRepresentativeLookupKeys`. The masked form
 * (`…IdMasked`) is not one.
 *
 * Readers hide a lookup key by the catalogue's marking (`sensitiveFields`, shared/licence/catalogue.ts),
 * and a clear number never reaches a licence of a marked type. A type that forgot the marking, or a
 * licence of a type a page does not know, would show the raw value: so every reader also hides a field
 * by this name, fail-safe, whatever the catalogue says, and inside nested values too
 * ({@link withoutSensitiveFields}). No dependencies: the browser's verifier uses it.
 *
 * @example
 * ```ts
 * isSensitiveFieldName('spouseIdNumber'); // true
 * isSensitiveFieldName('IDNumber'); // true
 * isSensitiveFieldName('spouseIdMasked'); // false
 * ```
 */
export function isSensitiveFieldName(name: string): boolean {
  const words = wordsOf(name);
  return sensitiveEndings.some(
    (ending) =>
      words.length >= ending.length &&
      ending.every((word, i) => words[words.length - ending.length + i] === word),
  );
}

/**
 * `value` with every member whose name {@link isSensitiveFieldName} left out, at any depth (objects in
 * arrays in objects…): what a reader shows of a field whose value is structured, e.g. a spouse with their
 * own ID number. Other values are returned as they are.
 *
 * @example
 * ```ts
 * withoutSensitiveFields({ name: '李四', idNumber: '110…' }); // { name: '李四' }
 * ```
 */
export function withoutSensitiveFields(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutSensitiveFields);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([name]) => !isSensitiveFieldName(name))
      .map(([name, inner]) => [name, withoutSensitiveFields(inner)]),
  );
}
