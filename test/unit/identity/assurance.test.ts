import { describe, expect, it } from 'vitest';
import {
  acrOf,
  acrValuesSupported,
  assuranceLevelOf,
  levelOfAcr,
  signedInLevel,
} from '../../../shared/identity/assurance.js';

describe('assurance levels', () => {
  it('publishes the three levels as acr values', () => {
    expect(acrValuesSupported).toEqual(['urn:elicence:loa:1', 'urn:elicence:loa:2', 'urn:elicence:loa:3']);
    expect(levelOfAcr(acrOf(2))).toBe(2);
    expect(levelOfAcr('urn:elicence:acr:registry-verified')).toBeUndefined();
  });

  it('reads an account’s level from how it was proven, the lowest when unknown', () => {
    expect(assuranceLevelOf({ assurance: 'self-asserted' })).toBe(1);
    expect(assuranceLevelOf({ assurance: 'registry-verified' })).toBe(2);
    expect(assuranceLevelOf({ assurance: 'in-person-verified' })).toBe(3);
    expect(assuranceLevelOf({ assurance: 'something-newer' as never })).toBe(1);
  });

  it('acts at the lower of the account’s level and the sign-in’s; without a known acr, at level 1', () => {
    const proven = { assurance: 'in-person-verified' as const };
    expect(signedInLevel(proven, 'urn:elicence:loa:3')).toBe(3);
    expect(signedInLevel(proven, 'urn:elicence:loa:2')).toBe(2);
    expect(signedInLevel({ assurance: 'registry-verified' }, 'urn:elicence:loa:3')).toBe(2);
    expect(signedInLevel(proven, undefined)).toBe(1);
    expect(signedInLevel(proven, 'urn:elicence:loa:9')).toBe(1);
  });
});
