import { describe, expect, it } from 'vitest';
import { assuranceLevelOf, passwordSignInLevel, requiredLevel } from '../../../shared/identity/assurance.js';

describe('the level a request asks for', () => {
  it('is 1 when nothing is asked', () => {
    expect(requiredLevel({})).toBe(1);
  });

  it('reads acr_values as a minimum: the lowest level listed', () => {
    expect(requiredLevel({ acrValues: 'urn:elicence:loa:3' })).toBe(3);
    expect(requiredLevel({ acrValues: 'urn:elicence:loa:3 urn:elicence:loa:2' })).toBe(2);
    expect(requiredLevel({ acrValues: 'urn:other:gold urn:elicence:loa:3' })).toBe(3);
    expect(requiredLevel({ acrValues: 'urn:other:gold' })).toBe(1);
  });

  it('reads an essential acr claim by value or values', () => {
    expect(requiredLevel({ essentialAcr: { value: 'urn:elicence:loa:3' } })).toBe(3);
    expect(requiredLevel({ essentialAcr: { values: ['urn:elicence:loa:2', 'urn:elicence:loa:3'] } })).toBe(2);
    expect(requiredLevel({ essentialAcr: { values: 'urn:elicence:loa:3' } })).toBe(1);
  });

  it('takes the highest of the request and the client’s minimum', () => {
    expect(requiredLevel({ acrValues: 'urn:elicence:loa:2', clientMinAcr: 'urn:elicence:loa:3' })).toBe(3);
    expect(requiredLevel({ acrValues: 'urn:elicence:loa:3', clientMinAcr: 'urn:elicence:loa:1' })).toBe(3);
    expect(requiredLevel({ clientMinAcr: 'nonsense' })).toBe(1);
  });
});

describe('the level of a password sign-in', () => {
  it('is the account’s level, but level 2 for an account raised by possession', () => {
    expect(assuranceLevelOf({ assurance: 'possession-verified' })).toBe(3);
    expect(passwordSignInLevel({ assurance: 'possession-verified' })).toBe(2);
    expect(passwordSignInLevel({ assurance: 'registry-verified' })).toBe(2);
    expect(passwordSignInLevel({ assurance: 'self-asserted' })).toBe(1);
    expect(passwordSignInLevel({ assurance: 'in-person-verified' })).toBe(3);
  });
});
