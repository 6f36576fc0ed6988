import { describe, expect, it } from 'vitest';
import { demo, registryPeople, syntheticPeople } from '../../../infra/local/demo-data.js';
import { parseIdNumber } from '../../../shared/identifiers/id-number.js';
import { phoneNumber } from '../../../shared/identifiers/phone.js';

describe('the synthetic people of the local registries', () => {
  it('are at least 20 besides the citizen, each with a valid ID number and a 13x/15x/18x mobile number', () => {
    expect(registryPeople.length).toBeGreaterThanOrEqual(20);
    expect(syntheticPeople[0]).toEqual({
      idNumber: demo.citizen.idNumber,
      name: demo.citizen.name,
      phone: demo.citizen.phone,
    });
    for (const person of syntheticPeople) {
      expect(parseIdNumber(person.idNumber, new Date('2026-01-01'))).toBe(person.idNumber);
      expect(phoneNumber.parse(person.phone)).toBe(person.phone);
      expect(person.phone).toMatch(/^\+861[358]\d{9}$/);
      expect(person.name).toMatch(/^\p{Script=Han}[\p{Script=Han}·]+$/u);
    }
  });

  it('share no ID number and no phone', () => {
    expect(new Set(syntheticPeople.map((p) => p.idNumber)).size).toBe(syntheticPeople.length);
    expect(new Set(syntheticPeople.map((p) => p.phone)).size).toBe(syntheticPeople.length);
  });
});
