import { describe, expect, it } from 'vitest';
import { registrationProblems } from '../../../shared/identity/register-person.js';
import { newIdNumber } from '../../support/in-memory-identity.js';

const today = new Date('2026-12-07T00:00:00Z');
const input = (name: string) => ({
  idNumber: newIdNumber(),
  name,
  password: 'a long passphrase of words',
  consent: true,
});

describe('a registration’s name (review R51 F1)', () => {
  it.each([
    ['U+FFFD, what a name sent as GBK becomes once decoded as UTF-8', '李\ufffd\ufffd'],
    ['a lone high surrogate', '李\ud800'],
    ['a lone low surrogate', '\udc00李'],
  ])('refuses %s as invalid_characters at name', (_case, name) => {
    expect(registrationProblems(input(name), today).errors).toEqual([
      { path: 'name', message: expect.stringContaining('UTF-8'), code: 'invalid_characters' },
    ]);
  });

  it('takes a name with a character beyond the BMP (a surrogate pair, one character)', () => {
    expect(registrationProblems(input('李𠀋'), today).errors).toEqual([]);
  });
});
