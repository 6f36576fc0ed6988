import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dependencies } from '../../../functions/composition/dependencies.js';
import { createPresentation } from '../../../shared/licence/presentation.js';
import { onlineVerdicts as verdicts } from '../../../packages/verifier/src/verdict.js';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.js';
import { demoTokens, issueDrivingLicence } from '../verify/helpers.js';

let runtime: TestRuntime;
let tokens: Awaited<ReturnType<typeof demoTokens>>;
let credential: string;
let presentation: string;

beforeAll(async () => {
  runtime = await startTestRuntime();
  tokens = await demoTokens(runtime);
  const licence = await issueDrivingLicence(runtime, tokens.issuer);
  credential = licence.credential;
  const deps = dependencies();
  const record = await deps.licences.get(licence.id);
  presentation = (
    await createPresentation(
      licence.id,
      { disclose: ['vehicleClass'], ttlSeconds: 600 },
      { holderLookupKeys: [record?.holder.lookupKey ?? ''], level: 3, actor: 'test-holder' },
      deps,
    )
  ).token;
});
afterAll(() => runtime?.close());

const base45 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:';

/** Scanner text: random, shaped like our tokens, or one of our tokens changed. */
const scans = fc.oneof(
  fc.string({ maxLength: 400 }),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.string({ unit: fc.constantFrom(...base45), maxLength: 500 }).map((text) => `EL1:${text}`),
  fc
    .tuple(fc.constantFrom(0, 1), fc.nat(), fc.nat({ max: 12 }), fc.string({ maxLength: 6 }))
    .map(([which, at, cut, junk]) => {
      const token = which === 0 ? credential : presentation;
      const start = at % token.length;
      const changed = token.slice(0, start) + junk + token.slice(start + cut);
      return changed === token ? `${token}0` : changed;
    }),
);

/** POSTs every body with `concurrency` requests in flight; answers the statuses and bodies. */
async function postAll(bodies: string[], concurrency: number) {
  const answers: Array<{ status: number; text: string; body: string }> = [];
  let next = 0;
  const worker = async () => {
    while (next < bodies.length) {
      const body = bodies[next++] ?? '';
      const response = await fetch(`${runtime.baseUrl}/verify`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      answers.push({ status: response.status, text: await response.text(), body });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return answers;
}

describe('POST /verify under 10,000 random and mutated scans', () => {
  it('answers 200 with a verdict every time, never valid, never a 500', { timeout: 600_000 }, async () => {
    const samples = fc.sample(scans, { numRuns: 10_000, seed: 20_250_601 });
    const answers = await postAll(
      samples.map((qr) => JSON.stringify({ qr })),
      16,
    );
    expect(answers).toHaveLength(10_000);
    const counts: Record<string, number> = {};
    for (const answer of answers) {
      if (answer.status !== 200)
        expect.fail(`${answer.status} for ${answer.body.slice(0, 80)}: ${answer.text}`);
      const { verdict } = JSON.parse(answer.text) as { verdict: (typeof verdicts)[number] };
      if (!verdicts.includes(verdict) || verdict === 'valid')
        expect.fail(`${verdict} for ${answer.body.slice(0, 80)}`);
      counts[verdict] = (counts[verdict] ?? 0) + 1;
    }
    expect(Object.keys(counts)).toEqual(expect.arrayContaining(['malformed', 'invalid_signature']));
  });

  it(
    'answers a problem, never a 500, to bodies that are not { qr: string }',
    { timeout: 120_000 },
    async () => {
      const bodies = fc.sample(
        fc.oneof(
          fc.string({ maxLength: 200 }),
          fc.json({ maxDepth: 3 }),
          fc.record({ qr: fc.anything() }).map((value) => JSON.stringify(value) ?? '{}'),
        ),
        { numRuns: 1_000, seed: 7 },
      );
      const answers = await postAll(bodies, 16);
      for (const answer of answers) {
        if (answer.status >= 500)
          expect.fail(`${answer.status} for ${answer.body.slice(0, 80)}: ${answer.text}`);
        expect([200, 400]).toContain(answer.status);
      }
    },
  );
});
