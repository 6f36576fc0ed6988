import type { Issuer } from './issuer.js';

/**
 * Administrative division codes (GB/T 2260) the issuer serves: its `jurisdiction`, or, for an issuer
 * onboarded before jurisdictions existed, its `region`.
 */
export function jurisdictionOf(issuer: Pick<Issuer, 'region' | 'jurisdiction'>): readonly string[] {
  return issuer.jurisdiction && issuer.jurisdiction.length > 0 ? issuer.jurisdiction : [issuer.region];
}

/**
 * Whether a jurisdiction code covers a division: a province code (`310000`) covers every division of
 * that province (`31xxxx`), a prefecture code (`310100`) its counties (`3101xx`), and a county code
 * (`310104`) itself only. Codes are read two digits at a time, as GB/T 2260 builds them.
 *
 * @example
 * ```ts
 * covers('310000', '310104'); // true
 * covers('310100', '310230'); // false
 * ```
 */
export function covers(jurisdiction: string, division: string): boolean {
  if (!/^\d{6}$/.test(jurisdiction) || !/^\d{6}$/.test(division)) return false;
  const prefix = jurisdiction.endsWith('0000')
    ? jurisdiction.slice(0, 2)
    : jurisdiction.endsWith('00')
      ? jurisdiction.slice(0, 4)
      : jurisdiction;
  return division.startsWith(prefix);
}

/**
 * The division a holder's number places them in: an enterprise's unified social credit code carries the
 * registering authority's division in characters 3–8 (GB 32100); a resident ID number carries the
 * division of first registration in its first six digits (GB 11643); a foreigner's permanent residence
 * number (`9…`) the province that accepted it, in its second and third digits; the 2017 card's number
 * (three letters, then the accepting place) that province in its fourth and fifth characters.
 */
export function holderDivision(holder: { idNumber: string } | { creditCode: string }): string {
  if (!('idNumber' in holder)) return holder.creditCode.slice(2, 8);
  const id = holder.idNumber;
  // In full (`CAN44…`) or masked (`***44…`, as a re-issue reads the stored holder).
  if (/^(?:[A-Z]{3}|\*{3})\d{2}/.test(id)) return `${id.slice(3, 5)}0000`;
  return id.startsWith('9') ? `${id.slice(1, 3)}0000` : id.slice(0, 6);
}

/** Whether `issuer` may issue a regional licence to a holder in `division`. */
export function inJurisdiction(issuer: Pick<Issuer, 'region' | 'jurisdiction'>, division: string): boolean {
  return jurisdictionOf(issuer).some((code) => covers(code, division));
}
