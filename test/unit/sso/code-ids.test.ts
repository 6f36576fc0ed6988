import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CodeIds, personOfAccountId } from '../../../shared/sso/code-ids.js';

const random = () => randomBytes(32).toString('base64url');
const hints = { sessionUid: 'Ua1_-b'.repeat(7), grantId: 'Gz9-x'.repeat(8), personId: 'acc_7fQ2' };

describe('CodeIds', () => {
  const codes = new CodeIds(randomBytes(32));

  it('keeps the random part and seals the hints, which open again under the same key', () => {
    const r = random();
    const id = codes.idFor(r, hints);
    expect(id.startsWith(`${r}.`)).toBe(true);
    expect(id).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    for (const value of Object.values(hints)) expect(id).not.toContain(value);
    expect(codes.hintsOf(id)).toEqual(hints);
  });

  it('leaves out absent or malformed parts', () => {
    const id = codes.idFor(random(), { sessionUid: 'a.b', grantId: 'G1', personId: undefined });
    expect(codes.hintsOf(id)).toEqual({ grantId: 'G1' });
    expect(codes.hintsOf(codes.idFor(random(), {}))).toEqual({});
  });

  it('two codes with the same hints look unrelated', () => {
    const [a, b] = [codes.idFor(random(), hints), codes.idFor(random(), hints)];
    expect(a.split('.')[1]).not.toBe(b.split('.')[1]);
  });

  it('opens nothing that is not its own: the provider’s ids, other keys, grafts and changed bits', () => {
    const id = codes.idFor(random(), hints);
    const [r, sealed] = id.split('.') as [string, string];
    expect(codes.hintsOf(r)).toBeUndefined();
    expect(new CodeIds(randomBytes(32)).hintsOf(id)).toBeUndefined();
    expect(codes.hintsOf(`${random()}.${sealed}`)).toBeUndefined();
    const flipped = Buffer.from(sealed, 'base64url');
    flipped[0]! ^= 1;
    expect(codes.hintsOf(`${r}.${flipped.toString('base64url')}`)).toBeUndefined();
    for (const odd of [
      '',
      '.',
      `${r}.`,
      `.${sealed}`,
      `${r}.${sealed}.x`,
      `${r}.short`,
      `${r}.${'A'.repeat(5000)}`,
    ]) {
      expect(codes.hintsOf(odd)).toBeUndefined();
    }
  });

  it('wants a 256-bit key', () => {
    expect(() => new CodeIds(randomBytes(16))).toThrow();
  });
});

describe('personOfAccountId', () => {
  it('is the person, or the acting person of an entity account', () => {
    expect(personOfAccountId('acc_1')).toBe('acc_1');
    expect(personOfAccountId('ent_9~acc_1')).toBe('acc_1');
    expect(personOfAccountId('')).toBeUndefined();
    expect(personOfAccountId(undefined)).toBeUndefined();
  });
});
