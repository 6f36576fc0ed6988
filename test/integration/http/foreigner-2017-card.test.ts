import { randomInt } from 'node:crypto';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idNumberCheckCharacter } from '../../../shared/identifiers/id-number.js';
import { expectProblem, postJson } from '../../support/http-api.js';
import {
  drivingLicenceBody,
  expectJson,
  issued,
  issueLicence,
  type LicenceJson,
  searchLicences,
} from '../../support/licences.js';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.js';
import { demoTokens, verified } from '../verify/helpers.js';

/**
 * The 2017 foreigner's permanent residence card (15 characters: ISO 3166-1 alpha-3 nationality, a 4-digit
 * accepting place whose first two digits are the province, `YYMMDD`, a sequence digit, a check digit) is
 * still carried by holders whose card has not expired: they were refused at every ID number field
 * ("must be 18 characters"). And a 2023 card's nationality digits were never checked.
 */
let runtime: TestRuntime;
let tokens: Awaited<ReturnType<typeof demoTokens>>;
beforeAll(async () => {
  runtime = await startTestRuntime();
  tokens = await demoTokens(runtime);
}, 60_000);
afterAll(() => runtime?.close());

/** ICAO 9303 check digit (weights 7, 3, 1; A = 10 … Z = 35), as the published sample's last digit is. */
function icaoCheckDigit(text: string): string {
  let sum = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    sum += (c >= 65 ? c - 55 : c - 48) * ([7, 3, 1][i % 3] ?? 0);
  }
  return String(sum % 10);
}

/** A made-up 2017-card number: Canada, Guangdong (44) place 01, born 1985-06-15, a random sequence digit. */
function card2017(): string {
  const first14 = `CAN4401850615${randomInt(0, 10)}`;
  return first14 + icaoCheckDigit(first14);
}

describe('a 2017 foreigner’s permanent residence card holder', () => {
  it('is issued a licence keyed by the number, masked to the province and last two, found by search', async () => {
    const idNumber = card2017();
    // Typed in lower case: normalised to capitals, like a resident's x.
    const licence = await issued(runtime, tokens.issuer, drivingLicenceBody(idNumber.toLowerCase()));
    const masked = `***44********${idNumber.slice(13)}`;
    expect(licence.holder.masked).toBe(masked);
    expect((decodeJwt(licence.credential) as { hol: { m: string } }).hol.m).toBe(masked);
    expect(JSON.stringify(licence)).not.toContain('CAN');
    const online = await verified(runtime, licence.credential, tokens.verifier);
    expect(online).toMatchObject({ verdict: 'valid', licence: { holder: { masked } } });

    const found = await expectJson<{ items: LicenceJson[] }>(
      await searchLicences(runtime, tokens.issuer, { holder: idNumber }),
      200,
    );
    expect(found.items.map((item) => item.id)).toEqual([licence.id]);
  });

  it('with a malformed number is refused 400 naming holder.idNumber and the rule', async () => {
    const problem = await expectProblem(
      await issueLicence(runtime, tokens.issuer, drivingLicenceBody('CAN99018506151X')),
      400,
      'invalid_id_number',
    );
    expect(problem.errors).toEqual([
      {
        path: 'holder.idNumber',
        message:
          'a 15-character ID number (2017 foreigner’s permanent residence card) must be 3 letters followed by 12 digits',
        code: 'invalid_format',
      },
    ]);
  });
});

describe('a foreigner’s permanent residence number’s nationality code', () => {
  it.each([
    ['2017 card, unassigned letters', 'ZZX440185061510', 'ZZX'],
    ['2017 card, China’s own code', 'CHN440185061510', 'CHN'],
    [
      '2023 card, unassigned digits',
      (() => {
        const first17 = '94499919850615001';
        return first17 + idNumberCheckCharacter(first17);
      })(),
      '999',
    ],
  ])(
    'is refused when not a foreign country’s (%s): 400 naming holder.idNumber',
    async (_what, idNumber, code) => {
      const problem = await expectProblem(
        await issueLicence(runtime, tokens.issuer, drivingLicenceBody(idNumber)),
        400,
        'invalid_id_number',
      );
      expect(problem.errors).toEqual([
        {
          path: 'holder.idNumber',
          message: `nationality code ${code} is not an assigned ISO 3166-1 code of a country other than China`,
          code: 'invalid_nationality',
          params: { nationality: code },
        },
      ]);
      expect(problem.detail).toContain('holder.idNumber');
      expect(JSON.stringify(problem)).not.toContain(idNumber);
    },
  );
});

describe('POST /accounts with a 2017 card', () => {
  const register = (idNumber: string, name: string) =>
    postJson(runtime, '/accounts', undefined, { idNumber, name, password: 'Maple-Leaf-2026', consent: true });

  it('registers the holder (self-asserted, masked), and refuses a child on the card’s birth date', async () => {
    const idNumber = card2017();
    const created = await expectJson<Record<string, unknown>>(await register(idNumber, 'SMITH JOHN'), 201);
    expect(created).toEqual({
      masked: `***44********${idNumber.slice(13)}`,
      name: 'SMITH JOHN',
      assurance: 'self-asserted',
    });
    // Born 2015-03-01 (`150301`, read 2015: the card was last issued in 2023): under 14.
    const first14 = `DEU3101150301${randomInt(0, 10)}`;
    const problem = await expectProblem(
      await register(first14 + icaoCheckDigit(first14), 'MUELLER ANNA'),
      400,
      'guardian_required',
    );
    expect(problem.errors).toEqual([
      expect.objectContaining({ path: 'idNumber', code: 'guardian_required' }),
    ]);
  });
});
