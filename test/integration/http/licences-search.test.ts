import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IssuerApi } from '../../../shared/web/console/issuer-api.js';
import { expectProblem } from '../../support/http-api.js';
import {
  businessLicenceBody,
  drivingLicenceBody,
  expectJson,
  getWithToken,
  issued,
  newIdNumber,
  searchLicences,
  type LicenceJson,
} from '../../support/licences.js';
import { clientCredentialsToken, startTestRuntime, type TestRuntime } from '../../support/runtime.js';

/**
 * Privacy review L1: a holder's ID number never travels in a URL (CloudFront, WAF and API Gateway access
 * logs keep query strings). `GET /licences?holder=` is refused with a code naming the route to use; the
 * search by holder is `POST /licences/search`, with the same filters, paging and authorisation.
 */
let runtime: TestRuntime;
let token: string;
const idNumber = newIdNumber('110105');
const ids: string[] = [];

beforeAll(async () => {
  runtime = await startTestRuntime();
  token = await clientCredentialsToken(runtime, runtime.credentials.issuer, 'licences:issue');
  for (let i = 0; i < 3; i++) ids.push((await issued(runtime, token, drivingLicenceBody(idNumber))).id);
});
afterAll(() => runtime?.close());

describe('the search by holder', () => {
  it('refuses GET /licences?holder= or ?holderName= (400 holder_not_in_url, naming each), whatever else it asks', async () => {
    for (const query of [`holder=${idNumber}`, `status=valid&holder=${idNumber}`, 'holder=']) {
      const response = await getWithToken(runtime, `/licences?${query}`, token);
      const text = await response.clone().text();
      const problem = await expectProblem(response, 400, 'holder_not_in_url');
      expect(problem.errors?.map((error) => error.path)).toEqual(['holder']);
      expect(problem.detail).toContain('POST /licences/search');
      expect(text).not.toContain(idNumber);
    }
    // A holder's name is refused alike (privacy review L1): a name in a URL is in the access logs too.
    for (const [query, paths] of [
      ['holderName=%E6%9D%8E', ['holderName']],
      ['status=valid&holderName=', ['holderName']],
      [`holder=${idNumber}&holderName=%E6%9D%8E`, ['holder', 'holderName']],
    ] as const) {
      const response = await getWithToken(runtime, `/licences?${query}`, token);
      const problem = await expectProblem(response, 400, 'holder_not_in_url');
      expect(problem.errors?.map((error) => error.path)).toEqual(paths);
      expect(problem.detail).toContain('POST /licences/search');
    }
    // The other filters still work on the GET.
    const page = await expectJson<{ items: LicenceJson[] }>(
      await getWithToken(runtime, '/licences?status=valid&type=driving-licence&limit=5', token),
      200,
    );
    expect(page.items.length).toBeGreaterThan(0);
  });

  it('finds the holder’s licences by POST, a page at a time, with the other filters and a total', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page: { items: LicenceJson[]; cursor?: string; total?: { count: number } } = await expectJson(
        await searchLicences(runtime, token, {
          holder: idNumber,
          status: 'valid',
          limit: 2,
          total: true,
          ...(cursor ? { cursor } : {}),
        }),
        200,
      );
      expect(page.total).toEqual({ count: 3, capped: false });
      seen.push(...page.items.map((item) => item.id));
      cursor = page.cursor;
    } while (cursor);
    expect(seen.sort()).toEqual([...ids].sort());
    const none = await expectJson<{ items: LicenceJson[] }>(
      await searchLicences(runtime, token, { holder: idNumber, status: 'revoked' }),
      200,
    );
    expect(none.items).toEqual([]);
  });

  it('names the bad field of a posted search (400), and asks the issuer’s token as the GET does', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ holder: idNumber, limit: '2' }, 'limit'],
      [{ holder: idNumber, limit: 101 }, 'limit'],
      [{ holder: idNumber, total: 'yes' }, 'total'],
      [{ holder: 42 }, 'holder'],
      [{ holder: idNumber, colour: 'red' }, 'colour'],
    ];
    for (const [body, path] of cases) {
      const response = await fetch(`${runtime.baseUrl}/licences/search`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const problem = await expectProblem(response, 400, 'invalid_request');
      expect(problem.errors?.map((error) => error.path)).toEqual([path]);
    }
    const anonymous = await fetch(`${runtime.baseUrl}/licences/search`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ holder: idNumber }),
    });
    expect(anonymous.status).toBe(401);
    const verifier = await clientCredentialsToken(runtime, runtime.credentials.verifier, 'licences:verify');
    expect((await searchLicences(runtime, verifier, { holder: idNumber })).status).toBe(403);
  });

  it('is how the console’s client searches by holder: no number or name in any URL it asks', async () => {
    const urls: string[] = [];
    const recording: typeof fetch = (input, init) => {
      urls.push(String(input instanceof Request ? input.url : input));
      return fetch(input, init);
    };
    const api = new IssuerApi(runtime.baseUrl, token, recording);
    const page = await api.list({
      holder: idNumber,
      holderName: '李',
      status: 'valid',
      limit: 20,
      total: true,
    });
    expect(page.items.map((item) => item.id).sort()).toEqual([...ids].sort());
    expect(urls).toEqual([`${runtime.baseUrl}/licences/search`]);
    // Without a holder's filter it lists by GET, as before.
    await api.list({ status: 'valid', limit: 5 });
    expect(urls.at(-1)).toMatch(/\/licences\?status=valid&limit=5$/);
  });
});

describe('a holder’s number valid as both an ID number and a credit code (review R56-3)', () => {
  // A public institution's `12`, a Beijing region, then what reads as a birth date (1990-01-01): valid as
  // both, with both check characters right.
  const both = '121101199001017391';
  const items = async (filters: Record<string, string | number | boolean>) =>
    (await expectJson<{ items: LicenceJson[] }>(await searchLicences(runtime, token, filters), 200)).items;

  it('finds the entity’s licences (it was read as an ID number only), and says which kind each holder is', async () => {
    const licence = await issued(runtime, token, businessLicenceBody(both, newIdNumber()));
    const found = await items({ holder: both });
    expect(found.map((item) => item.id)).toEqual([licence.id]);
    expect(found[0]!.holder.kind).toBe('entity');
    // Said as a credit code, the same; said as an ID number, that person's (none).
    expect((await items({ holder: both, holderKind: 'entity' })).map((item) => item.id)).toEqual([
      licence.id,
    ]);
    expect(await items({ holder: both, holderKind: 'person' })).toEqual([]);
  });

  it('asks which (400 ambiguous_holder naming holderKind) when a person and an entity under it both hold licences', async () => {
    const driving = await issued(runtime, token, drivingLicenceBody(both));
    const problem = await expectProblem(
      await searchLicences(runtime, token, { holder: both }),
      400,
      'ambiguous_holder',
    );
    expect(problem.errors?.map((error) => error.path)).toEqual(['holderKind']);
    expect(JSON.stringify(problem)).not.toContain(both);
    const person = await items({ holder: both, holderKind: 'person' });
    expect(person.map((item) => item.id)).toEqual([driving.id]);
    expect(person[0]!.holder.kind).toBe('person');
  });

  it('reads the holder as the kind said: an ID number typo that is a credit code is refused as an ID number', async () => {
    // A wrong ID check character, which happens to make a valid credit code.
    const typo = '121101199001000319';
    expect(await items({ holder: typo })).toEqual([]);
    const refused = await expectProblem(
      await searchLicences(runtime, token, { holder: typo, holderKind: 'person' }),
      400,
      'invalid_id_number',
    );
    expect(refused.errors?.map((error) => error.path)).toEqual(['holder']);
    const alone = await expectProblem(await searchLicences(runtime, token, { holderKind: 'person' }), 400);
    expect(alone.errors?.map((error) => error.path)).toEqual(['holderKind']);
  });
});
