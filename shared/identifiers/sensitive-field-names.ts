/**
 * Whether a licence field's name says it holds a person's resident ID number in clear or a lookup key:
 * `idNumber`, `lookupKey`, or any name ending `IdNumber` or `LookupKey` (`spouseIdNumber`,
 * `holderIdNumber`, `legalRepresentativeLookupKey`, the names this repo uses for them). The masked form
 * (`…IdMasked`) is not one.
 *
 * Readers hide a lookup key by the catalogue's marking (`sensitiveFields`, shared/licence/catalogue.ts),
 * and a clear number never reaches a licence of a marked type. A type that forgot the marking, or a
 * licence of a type a page does not know, would show the raw value: so every reader also hides a field
 * by this name, fail-safe, whatever the catalogue says. No dependencies: the browser's verifier uses it.
 *
 * @example
 * ```ts
 * isSensitiveFieldName('spouseIdNumber'); // true
 * isSensitiveFieldName('spouseIdMasked'); // false
 * ```
 */
export function isSensitiveFieldName(name: string): boolean {
  return /^(?:idNumber|lookupKey)$|(?:IdNumber|LookupKey)$/.test(name);
}
