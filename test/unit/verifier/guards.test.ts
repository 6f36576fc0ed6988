import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { statusListTokenClaims } from '../../../packages/verifier/src/claims.js';
import { FormatError } from '../../../packages/verifier/src/errors.js';
import { isString } from '../../../packages/verifier/src/guard.js';
import { decodeStatusList, type Compression } from '../../../packages/verifier/src/status-list.js';
import { trustListPayload } from '../../../packages/verifier/src/trust-list.js';

/**
 * The verifier package reads claims with hand-written guards since it may depend on nothing. They replaced
 * these zod schemas (copied here as they were) and must accept, refuse and copy exactly what those did.
 */
const zodPublicJwk = z.object({
  kty: z.literal('EC'),
  crv: z.literal('P-256'),
  x: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  y: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  kid: z.string().min(1),
  alg: z.literal('ES256').optional(),
  use: z.literal('sig').optional(),
});
const zodTrustListIssuer = z.object({
  id: z.string().min(1),
  name: z.string(),
  creditCode: z.string(),
  region: z.string(),
  status: z.enum(['active', 'withdrawn']),
  jwks: z.object({ keys: z.array(zodPublicJwk).min(1) }),
  licenceTypes: z
    .array(z.object({ code: z.string().min(1).max(64), typeCode: z.string().regex(/^\d{3}$/) }))
    .max(200)
    .optional(),
  statusLists: z.number().int().min(0).max(10_000).optional(),
});
const zodTrustListPayload = z.object({
  iss: z.string(),
  iat: z.number().int(),
  exp: z.number().int(),
  ttl: z.number().int().positive(),
  issuers: z.array(zodTrustListIssuer),
  // The keys presentations are signed with (review R7 M1): optional, never empty when named.
  presentationKeys: z.object({ keys: z.array(zodPublicJwk).min(1).max(16) }).optional(),
});
const seconds = z.int().min(0);
const zodStatusListTokenClaims = z.object({
  iss: z.string().min(1).max(100),
  sub: z.string().min(1).max(2048),
  iat: seconds,
  exp: seconds,
  ttl: z.int().positive(),
  status_list: z.unknown(),
});
const zodStatusList = z.object({
  bits: z.union([z.literal(1), z.literal(2), z.literal(4), z.literal(8)]),
  lst: z.string().regex(/^[A-Za-z0-9_-]*$/),
});

const emoji = '\u{1F600}';
const coordinate = 'A'.repeat(43);
/** Values that break most members, whatever they are. */
const hostile: readonly unknown[] = [null, true, 0, -1, 1.5, NaN, Infinity, 2 ** 53, '', [], {}, emoji];
/** A member no schema names (a private key member among them): to be dropped. */
const extras: ReadonlyArray<readonly [string, unknown]> = [
  ['d', 'secret'],
  ['extra', 1],
];

/** Values a member may take, and values just outside what it may, by member name. */
const good: Record<string, readonly unknown[]> = {
  kty: ['EC'],
  crv: ['P-256'],
  x: [coordinate, `${'abc_-'.repeat(8)}abc`],
  y: [coordinate],
  kid: ['k1', emoji, 'x'.repeat(100)],
  alg: ['ES256'],
  use: ['sig'],
  code: ['business', 'x'.repeat(64), emoji.repeat(64), `${emoji.repeat(63)}a`],
  typeCode: ['001', '999'],
  id: ['iss_one', emoji],
  name: ['', 'Agency', emoji],
  creditCode: ['', '91330100716105852F'],
  region: ['', '330100'],
  status: ['active', 'withdrawn'],
  statusLists: [0, 1, 10_000, -0],
  iss: ['https://id.example.gov.cn', 'iss_one', 'x'.repeat(100), emoji.repeat(100)],
  sub: ['https://x/status-lists/iss_one.0', 'x'.repeat(2048)],
  iat: [0, 1_700_000_000, Number.MAX_SAFE_INTEGER],
  exp: [0, 1_700_600_000],
  ttl: [1, 3_600],
  status_list: [{ bits: 2, lst: 'eNo' }, 'anything', 0, null],
  bits: [1, 2, 4, 8, -0],
  lst: ['', 'eNo76fITAAPfAgc', 'a-b_c'],
};
const bad: Record<string, readonly unknown[]> = {
  kty: ['OKP', 'ec'],
  crv: ['P-384'],
  x: ['A'.repeat(42), 'A'.repeat(44), `${'A'.repeat(42)}+`],
  y: ['A'.repeat(42)],
  alg: ['ES384', 'none', undefined],
  use: ['enc', undefined],
  code: ['x'.repeat(65), emoji.repeat(65)],
  typeCode: ['01', '0001', 'abc', '١٢٣'],
  status: ['provisioning', 'ACTIVE'],
  statusLists: [10_001, -1, 0.5, undefined],
  licenceTypes: [
    Array.from({ length: 200 }, () => ({ code: 'a', typeCode: '001' })),
    Array.from({ length: 201 }, () => ({ code: 'a', typeCode: '001' })),
    undefined,
  ],
  iss: ['x'.repeat(101), emoji.repeat(101)],
  sub: ['x'.repeat(2049)],
  iat: [-1, 1e300],
  exp: [-1],
  ttl: [-3_600],
  status_list: [undefined],
  bits: [3, 16, '2', 2.5],
  lst: ['a+b', 'a/b', 'a=', 'a b', 'é'],
};
const pick = (name: string) => fc.constantFrom(...(good[name] ?? []));
/** An object of `required` members and, perhaps, each of `optional`. */
const object = (
  required: Record<string, fc.Arbitrary<unknown>>,
  optional: Record<string, fc.Arbitrary<unknown>> = {},
) =>
  fc.tuple(fc.record(required), fc.record(optional, { requiredKeys: [] })).map(([a, b]) => ({ ...a, ...b }));
const picks = (...names: string[]) => Object.fromEntries(names.map((name) => [name, pick(name)]));

const key = object(picks('kty', 'crv', 'x', 'y', 'kid'), picks('alg', 'use'));
const licenceType = object(picks('code', 'typeCode'));
const issuer = object(
  {
    ...picks('id', 'name', 'creditCode', 'region', 'status'),
    jwks: object({ keys: fc.array(key, { minLength: 1, maxLength: 2 }) }),
  },
  { licenceTypes: fc.array(licenceType, { maxLength: 2 }), statusLists: pick('statusLists') },
);
const validTrustList = object(
  {
    ...picks('iss', 'iat', 'exp', 'ttl'),
    issuers: fc.array(issuer, { maxLength: 2 }),
  },
  { presentationKeys: object({ keys: fc.array(key, { minLength: 1, maxLength: 2 }) }) },
);
const validStatusListClaims = object(picks('iss', 'sub', 'iat', 'exp', 'ttl', 'status_list'));
const validStatusListClaim = object(picks('bits', 'lst'));

type Path = ReadonlyArray<string | number>;
/** Every place in `value`: the value itself, and each member and element under it. */
function placesIn(value: unknown, path: Path = []): Path[] {
  if (typeof value !== 'object' || value === null) return [path];
  const children = Array.isArray(value)
    ? value.map((child, i) => [i, child] as const)
    : Object.entries(value);
  return [path, ...children.flatMap(([name, child]) => placesIn(child, [...path, name]))];
}

/**
 * `valid` as drawn, or with one change somewhere in it: a member removed, replaced by a value just out of
 * bounds or by a hostile one, or a member no schema names added.
 */
function mutated(valid: fc.Arbitrary<unknown>) {
  return fc.tuple(valid, fc.option(fc.tuple(fc.nat(), fc.nat()), { freq: 4 })).map(([value, change]) => {
    if (!change) return value;
    const copy = structuredClone(value);
    const places = placesIn(copy);
    const path = places[change[0] % places.length] as Path;
    const last = path.at(-1);
    const parent = path.slice(0, -1).reduce<any>((node, name) => node[name], copy); // eslint-disable-line @typescript-eslint/no-explicit-any
    const target = path.reduce<any>((node, name) => node[name], copy); // eslint-disable-line @typescript-eslint/no-explicit-any
    const options = [
      ...(typeof last === 'string' ? (bad[last] ?? []).map((v) => ['set', v] as const) : []),
      ...hostile.map((v) => ['set', v] as const),
      ['delete'] as const,
      ...(typeof target === 'object' && target !== null && !Array.isArray(target)
        ? extras.map((extra) => ['extra', extra] as const)
        : []),
    ];
    const [operation, argument] = options[change[1] % options.length] as readonly [string, unknown?];
    if (operation === 'extra') {
      const [name, member] = argument as readonly [string, unknown];
      target[name] = member;
    } else if (last === undefined) {
      return operation === 'delete' ? undefined : argument;
    } else if (operation === 'delete') {
      if (Array.isArray(parent)) parent.splice(last as number, 1);
      else delete parent[last];
    } else {
      parent[last] = argument;
    }
    return copy;
  });
}
const trustList = mutated(validTrustList);
const statusListClaims = mutated(validStatusListClaims);
const statusListClaim = mutated(validStatusListClaim);

/** Ours and zod's agree: both refuse, or both accept and give equal values (extra members dropped). */
function expectSame<T>(
  ours: { success: true; data: T } | { success: false; error: FormatError },
  theirs: { success: boolean; data?: unknown },
) {
  expect(ours.success).toBe(theirs.success);
  // toEqual: an optional member present as undefined (JSON cannot carry one) may be left out.
  if (ours.success) expect(ours.data).toEqual(theirs.data);
  else expect(ours.error).toMatchObject({ code: 'invalid_claims' });
}

const runs = { numRuns: 3_000 };

describe('the verifier package guards, against the zod schemas they replaced', () => {
  it('read trust lists alike, keeping only the members named (no private key member)', () => {
    fc.assert(
      fc.property(trustList, (value) =>
        expectSame(trustListPayload.safeParse(value), zodTrustListPayload.safeParse(value)),
      ),
      runs,
    );
  });

  it('read status list token claims alike', () => {
    fc.assert(
      fc.property(statusListClaims, (value) =>
        expectSame(statusListTokenClaims.safeParse(value), zodStatusListTokenClaims.safeParse(value)),
      ),
      runs,
    );
  });

  it('read the status_list claim alike', async () => {
    const identity: Compression = { deflate: async (bytes) => bytes, inflate: async (bytes) => bytes };
    await fc.assert(
      fc.asyncProperty(statusListClaim, async (value) => {
        const shapeRefused = await decodeStatusList(value, identity).then(
          () => false,
          (error: Error) => error.message.startsWith('status_list must be'),
        );
        expect(shapeRefused).toBe(!zodStatusList.safeParse(value).success);
      }),
      runs,
    );
  });

  it('throw a FormatError from parse and name what was expected', () => {
    expect(() => trustListPayload.parse({ iss: 'x' })).toThrow(FormatError);
    expect(() => statusListTokenClaims.parse(null)).toThrow('Not the claims of a status list token');
    const payload = { iss: 'p', iat: 1, exp: 2, ttl: 1, issuers: [] };
    expect(trustListPayload.parse({ ...payload, extra: true })).toStrictEqual(payload);
  });

  it('keep a peer issuer’s peer, peerFetchedAt and an https (or loopback) statusBase; refuse any other base', () => {
    const key = {
      kty: 'EC',
      crv: 'P-256',
      x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU',
      y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0',
      kid: 'k1',
    };
    const issuer = (extra: Record<string, unknown>) => ({
      iss: 'p',
      iat: 1,
      exp: 2,
      ttl: 1,
      issuers: [
        {
          id: 'i',
          name: 'n',
          creditCode: 'c',
          region: '310000',
          status: 'active',
          jwks: { keys: [key] },
          ...extra,
        },
      ],
    });
    const peer = { peer: 'peer_b', peerFetchedAt: '2026-12-05T00:00:00.000Z' };
    expect(
      trustListPayload.parse(issuer({ ...peer, statusBase: 'https://b.example.gov.cn/' })).issuers[0],
    ).toMatchObject({ ...peer, statusBase: 'https://b.example.gov.cn' });
    expect(
      trustListPayload.parse(issuer({ statusBase: 'http://localhost:3001' })).issuers[0]?.statusBase,
    ).toBe('http://localhost:3001');
    for (const statusBase of [
      'http://b.example.gov.cn',
      'https://b.example.gov.cn/?x=1',
      'ftp://b',
      'x',
      7,
    ]) {
      expect(trustListPayload.safeParse(issuer({ statusBase })).success, String(statusBase)).toBe(false);
    }
    expect(trustListPayload.safeParse(issuer({ peer: 7 })).success).toBe(false);
  });

  it('count string lengths in code points, as zod does', () => {
    expect(isString(emoji, 1, 1)).toBe(true);
    expect(isString(emoji.repeat(2), 3)).toBe(false);
    expect(isString(`${emoji}a`, 2, 2)).toBe(true);
    expect(isString('ab', 3)).toBe(false);
    expect(isString('abc', 0, 2)).toBe(false);
    expect(isString(3)).toBe(false);
  });
});
