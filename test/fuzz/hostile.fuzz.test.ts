import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { base45Decode, base45Encode } from '../../packages/verifier/src/base45.js';
import { createNodeVerifier, nodeEs256 } from '../../packages/verifier/src/node.js';
import { presentationPrefix } from '../../packages/verifier/src/presentation-format.js';
import { verdicts, type VerificationResult } from '../../packages/verifier/src/verdict.js';
import { createVerifier, type Verifier } from '../../packages/verifier/src/verifier.js';
import { createWorld, FakeStatus, type World } from '../support/verifier-world.js';

let world: World;
/** The portable verifier (as in browsers) and the Node one (`nodeCodec`, as `POST /verify` uses). */
let verifiers: Verifier[];
let verifier: Verifier;
let credential: string;
let presentation: string;

beforeAll(async () => {
  world = await createWorld();
  const status = new FakeStatus();
  verifiers = [
    createVerifier({ crypto: nodeEs256, trust: world.trust, status, clock: world.clock }),
    createNodeVerifier({ trust: world.trust, status, clock: world.clock }),
  ];
  verifier = verifiers[0] as Verifier;
  credential = await world.credential();
  presentation = await world.presentation();
  status.statuses.set(world.credentialClaims().jti, 'valid');
});

/** Verifies, failing the test if the verifier throws or answers something that is not a verdict. */
async function verdictOn(scan: unknown, all = false): Promise<VerificationResult> {
  const result = await verifier.verify(scan);
  if (all) {
    const node = await (verifiers[1] as Verifier).verify(scan);
    if (node.verdict !== result.verdict) expect(node, JSON.stringify(scan)).toEqual(result);
  }
  // Plain checks first: this runs some 150,000 times, and expect() is slow on the happy path.
  const unverified = result.verdict === 'malformed' || result.verdict === 'invalid_signature';
  if (!verdicts.includes(result.verdict) || (unverified && result.licence !== undefined)) {
    expect(result, JSON.stringify(scan)).toBeUndefined();
  }
  return result;
}

const base64urlAlphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const base45Alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:';

/** Exhaustive: some 120,000 verifications, most of them reaching the signature check. */
const exhaustive = { timeout: 180_000 };

describe('every single-byte change is refused', () => {
  it(
    'in a licence credential: each character replaced by every other base64url character, a dot, or junk',
    exhaustive,
    async () => {
      expect((await verdictOn(credential)).verdict).toBe('valid');
      const seen = new Map<string, number>();
      for (let i = 0; i < credential.length; i++) {
        for (const replacement of `${base64urlAlphabet}.=+/ \u0000é`) {
          if (replacement === credential[i]) continue;
          const { verdict } = await verdictOn(
            credential.slice(0, i) + replacement + credential.slice(i + 1),
            true,
          );
          if (verdict === 'valid') expect.fail(`position ${i} → ${JSON.stringify(replacement)} is valid`);
          seen.set(verdict, (seen.get(verdict) ?? 0) + 1);
        }
      }
      expect([...seen.keys()]).toEqual(expect.arrayContaining(['invalid_signature', 'malformed']));
    },
  );

  it('in a presentation: each COSE byte replaced by every other value', exhaustive, async () => {
    expect((await verdictOn(presentation)).verdict).toBe('valid');
    const bytes = base45Decode(presentation.slice(presentationPrefix.length));
    for (let i = 0; i < bytes.length; i++) {
      for (let value = 0; value < 256; value++) {
        if (value === bytes[i]) continue;
        const changed = bytes.slice();
        changed[i] = value;
        const { verdict } = await verdictOn(presentationPrefix + base45Encode(changed));
        if (verdict === 'valid') expect.fail(`byte ${i} → ${value} is valid`);
      }
    }
  });

  it(
    'in a presentation’s text: each character replaced by every other base45 character',
    exhaustive,
    async () => {
      for (let i = 0; i < presentation.length; i++) {
        for (const replacement of `${base45Alphabet}#é`) {
          if (replacement === presentation[i]) continue;
          const { verdict } = await verdictOn(
            presentation.slice(0, i) + replacement + presentation.slice(i + 1),
          );
          expect(verdict, `position ${i} → ${JSON.stringify(replacement)}`).not.toBe('valid');
        }
      }
    },
  );

  it('and so is a truncated or extended token', async () => {
    for (const token of [credential, presentation]) {
      for (let length = 0; length < token.length; length++) {
        expect((await verdictOn(token.slice(0, length))).verdict).not.toBe('valid');
      }
      for (const extra of ['A', '0', '.', 'AA', '000']) {
        expect((await verdictOn(token + extra)).verdict).not.toBe('valid');
      }
    }
  });
});

describe('10,000 random and mutated inputs', () => {
  /** A scan that differs from a valid token: spliced, cut, inserted into or wrapped. */
  const mutated = (tokens: () => string[]) =>
    fc
      .tuple(
        fc.integer({ min: 0, max: 1 }),
        fc.nat(),
        fc.nat(),
        fc.string({ maxLength: 8 }),
        fc.constantFrom('splice', 'delete', 'insert', 'link'),
      )
      .map(([which, a, b, junk, how]) => {
        const token = tokens()[which] ?? '';
        const start = a % (token.length + 1);
        const end = Math.min(token.length, start + (b % 12));
        if (how === 'splice') return token.slice(0, start) + junk + token.slice(end);
        if (how === 'delete') return token.slice(0, start) + token.slice(Math.max(end, start + 1));
        if (how === 'insert') return token.slice(0, start) + (junk || '0') + token.slice(start);
        const inner = token.slice(0, start) + junk + token.slice(end);
        try {
          return `https://elicence.test/verify#${encodeURIComponent(inner)}`;
        } catch {
          return `https://elicence.test/verify#${inner}`; // lone surrogates: the link carries them as they are
        }
      });

  it('never throw and are never valid unless they are the token itself', exhaustive, async () => {
    const tokens = () => [credential, presentation];
    const scans = fc.oneof(
      fc.string({ maxLength: 600 }),
      fc.string({ unit: 'binary', maxLength: 300 }),
      fc
        .string({ unit: fc.constantFrom(...base45Alphabet), maxLength: 500 })
        .map((s) => presentationPrefix + s),
      fc
        .array(fc.string({ unit: fc.constantFrom(...base64urlAlphabet), maxLength: 200 }), {
          minLength: 3,
          maxLength: 3,
        })
        .map((parts) => parts.join('.')),
      fc.uint8Array({ maxLength: 300 }).map((bytes) => presentationPrefix + base45Encode(bytes)),
      mutated(tokens),
      fc.anything(),
    );
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(scans, async (scan) => {
        runs++;
        const result = await verdictOn(scan, true);
        if (result.verdict === 'valid') {
          // Only the token itself, bare, with spaces around, or in a link, may be valid.
          const text =
            typeof scan === 'string' && scan.startsWith('https://')
              ? decodeURIComponent(scan.slice(scan.indexOf('#') + 1))
              : scan;
          expect([credential, presentation]).toContain(typeof text === 'string' ? text.trim() : text);
        }
      }),
      { numRuns: 10_000 },
    );
    expect(runs).toBe(10_000);
  });
});
