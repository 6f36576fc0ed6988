import type { Assurance } from './person-account.js';

/**
 * Identity assurance levels (API.md, "Identity assurance (v2)"), published as `acr` values:
 *
 * - 1, self-asserted: the person typed a number and a name that no registry confirmed;
 * - 2, real-name (实名): the number and name match the population registry;
 * - 3, level 2 plus proof that the person behind the account is the person the number names (a possession
 *   factor bound to that person, or a check in person at a service counter).
 *
 * Level 2 proves only that the number and the name belong together, and both are easy to learn. Anything
 * that reads a person's licences therefore needs level 3 by default (`licence/licence-reader.ts`).
 */
export type AssuranceLevel = 1 | 2 | 3;

export const assuranceLevels: readonly AssuranceLevel[] = [1, 2, 3];

/** The `acr` value of a level, e.g. `urn:elicence:loa:3`. */
export function acrOf(level: AssuranceLevel): string {
  return `urn:elicence:loa:${level}`;
}

/** Every `acr` value the service issues (discovery's `acr_values_supported`). */
export const acrValuesSupported: readonly string[] = assuranceLevels.map(acrOf);

const levels: Record<Assurance, AssuranceLevel> = {
  'self-asserted': 1,
  'registry-verified': 2,
  'in-person-verified': 3,
  'possession-verified': 3,
};

/** The level an `acr` value names, or nothing for any other value. */
export function levelOfAcr(acr: unknown): AssuranceLevel | undefined {
  return assuranceLevels.find((level) => acrOf(level) === acr);
}

/**
 * The level a signed-in person acts at: the lower of what their account has reached and what the
 * sign-in behind their token reached (its `acr`). A token without an `acr` we issued counts as level 1:
 * when the level cannot be told, the answer is no. Today a sign-in's `acr` is the account's level; the
 * possession factors of the assurance issue make it depend on how the person signed in, and a token
 * from before an account was raised keeps its lower level until the person signs in again.
 *
 * @example
 * ```ts
 * signedInLevel(account, caller.acr); // 3 for a level-3 account signed in at level 3
 * ```
 */
export function signedInLevel(account: { assurance: Assurance }, acr: unknown): AssuranceLevel {
  return Math.min(assuranceLevelOf(account), levelOfAcr(acr) ?? 1) as AssuranceLevel;
}

/**
 * The level an account has reached, from how its identity was checked.
 *
 * @example
 * ```ts
 * assuranceLevelOf({ assurance: 'registry-verified' }); // 2
 * ```
 */
export function assuranceLevelOf(account: { assurance: Assurance }): AssuranceLevel {
  // An unknown value (a record written by a newer version, a corrupted item) counts as the lowest level:
  // when the level cannot be told, the answer is no.
  return levels[account.assurance] ?? 1;
}

/**
 * The level a sign-in with the password alone reaches: the account's level, except that an account raised
 * to level 3 by possession (an SMS code) reaches level 3 only when a possession factor is used again (a
 * stolen password must not carry level 3): level 2 then, and a platform that asks for 3 gets the step-up.
 * An account proven in person keeps its level (the counter check bound the person to the account).
 *
 * @example
 * ```ts
 * passwordSignInLevel({ assurance: 'possession-verified' }); // 2
 * ```
 */
export function passwordSignInLevel(account: { assurance: Assurance }): AssuranceLevel {
  const level = assuranceLevelOf(account);
  return account.assurance === 'possession-verified' ? (Math.min(level, 2) as AssuranceLevel) : level;
}

/**
 * The level a request asks for: the lowest level among its `acr_values` (a minimum: any level at or above
 * one listed will do), an essential `acr` claim's value or values likewise, and the client's registered
 * minimum (`min_acr`); the highest of these. Values that name no level are ignored; nothing asked is 1.
 *
 * @example
 * ```ts
 * requiredLevel({ acrValues: 'urn:elicence:loa:3' }); // 3
 * ```
 */
export function requiredLevel(asked: {
  acrValues?: unknown;
  essentialAcr?: { value?: unknown; values?: unknown };
  clientMinAcr?: unknown;
}): AssuranceLevel {
  const lowest = (values: unknown[]): AssuranceLevel | undefined => {
    const levels = values.map(levelOfAcr).filter((level): level is AssuranceLevel => level !== undefined);
    return levels.length > 0 ? (Math.min(...levels) as AssuranceLevel) : undefined;
  };
  const fromValues = typeof asked.acrValues === 'string' ? lowest(asked.acrValues.split(' ')) : undefined;
  const essential = asked.essentialAcr;
  const fromClaim = essential
    ? lowest([
        ...(Array.isArray(essential.values) ? essential.values : []),
        ...(essential.value ? [essential.value] : []),
      ])
    : undefined;
  const fromClient = levelOfAcr(asked.clientMinAcr);
  return Math.max(1, fromValues ?? 1, fromClaim ?? 1, fromClient ?? 1) as AssuranceLevel;
}
