import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem } from '../../support/http-api.js';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.js';

interface LicenceTypeEntry {
  code: string;
  name: string;
  nameEn: string;
  holderKind: string;
  fields: Record<string, unknown>;
  defaultValidityYears: number | null;
  defaultValidityDays: number | null;
}

let runtime: TestRuntime;

beforeAll(async () => {
  runtime = await startTestRuntime();
});
afterAll(() => runtime?.close());

describe('GET /licence-types', () => {
  it('answers the public catalogue, cacheable, without a token', async () => {
    const response = await fetch(`${runtime.baseUrl}/licence-types`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(response.headers.get('cache-control')).toBe('public, max-age=300');

    const catalogue = (await response.json()) as LicenceTypeEntry[];
    expect(catalogue.length).toBeGreaterThanOrEqual(8);
    expect(catalogue.map((entry) => entry.code)).toEqual(
      expect.arrayContaining([
        'business-licence',
        'production-operation-permit',
        'driving-licence',
        'social-security-card',
        'degree-certificate',
        'professional-qualification',
        'marriage-certificate',
        'real-estate-title',
      ]),
    );
    for (const entry of catalogue) {
      expect(entry).toEqual({
        code: expect.stringMatching(/^[a-z-]+$/),
        name: expect.stringMatching(/\p{Script=Han}/u),
        nameEn: expect.any(String),
        holderKind: expect.stringMatching(/^(person|entity)$/),
        fields: expect.objectContaining({
          $schema: 'https://json-schema.org/draft/2020-12/schema',
          type: 'object',
          properties: expect.any(Object),
          additionalProperties: false,
        }),
        // The fields as a licence returns them (masked numbers in place of the issued ones).
        licenceFields: expect.objectContaining({
          $schema: 'https://json-schema.org/draft/2020-12/schema',
          type: 'object',
          properties: expect.any(Object),
          additionalProperties: false,
        }),
        defaultValidityYears: entry.defaultValidityYears === null ? null : expect.any(Number),
        // Deprecated since review R60: the years in days, as before.
        defaultValidityDays:
          entry.defaultValidityYears === null ? null : Math.round(entry.defaultValidityYears * 365.25),
        minAssurance: 'urn:elicence:loa:3',
        regional: expect.any(Boolean),
      });
    }
    expect(catalogue.find((entry) => entry.code === 'business-licence')).toMatchObject({
      name: '营业执照',
      holderKind: 'entity',
      fields: { properties: { legalRepresentativeIdNumber: { writeOnly: true } } },
      regional: true,
    });
  });

  it('answers one type at GET /licence-types/{code}, the URI a credential names as its vct', async () => {
    const all = (await (await fetch(`${runtime.baseUrl}/licence-types`)).json()) as LicenceTypeEntry[];
    const response = await fetch(`${runtime.baseUrl}/licence-types/driving-licence`);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('public, max-age=300');
    expect(await response.json()).toEqual(all.find((entry) => entry.code === 'driving-licence'));
    await expectProblem(
      await fetch(`${runtime.baseUrl}/licence-types/fishing-licence`),
      404,
      'licence_type_not_found',
    );
    // Outside the shape of a code: refused at the edge, the same 404.
    await expectProblem(
      await fetch(`${runtime.baseUrl}/licence-types/Driving_Licence`),
      404,
      'licence_type_not_found',
    );
  });

  it('refuses other methods', async () => {
    const response = await fetch(`${runtime.baseUrl}/licence-types`, { method: 'POST' });
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
  });
});
